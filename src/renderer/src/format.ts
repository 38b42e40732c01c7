import type { Disk } from '../../shared/disk';

/** Binary units, as disk tools and partitioners count: 1 GiB = 1024³ bytes. */
export const SIZE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;
export type SizeUnit = (typeof SIZE_UNITS)[number];

export interface SplitSize {
  readonly value: number;
  readonly unit: SizeUnit;
}

/** Picks the largest unit that keeps the value at 1 or more. */
export function splitSize(bytes: number): SplitSize {
  let value = Math.max(0, bytes);
  let i = 0;
  while (value >= 1024 && i < SIZE_UNITS.length - 1) {
    value /= 1024;
    i++;
  }
  return { value, unit: SIZE_UNITS[i]! };
}

/**
 * "64 GiB", "1,5 TiB", "٥١٢ MiB": digits and separators follow the locale, the unit comes from the
 * translation (French writes Gio). Whole numbers drop the decimal so round sizes read cleanly.
 */
export function formatSize(bytes: number, locale: string, unitLabel: (unit: SizeUnit) => string = (u) => u): string {
  const { value, unit } = splitSize(bytes);
  const digits = unit === 'B' || value >= 100 || Number.isInteger(value) ? 0 : 1;
  const number = new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(value);
  // A no-break space keeps the number and its unit on one line.
  return `${number}\u00a0${unitLabel(unit)}`;
}

/** Transport names as people know them from the box, not the kernel's lower-case spelling. */
const BUS_NAMES: Readonly<Record<string, string>> = {
  nvme: 'NVMe',
  sata: 'SATA',
  ata: 'ATA',
  usb: 'USB',
  virtio: 'VirtIO',
  scsi: 'SCSI',
  sas: 'SAS',
  mmc: 'SD/MMC',
  ieee1394: 'FireWire',
  fc: 'Fibre Channel',
  iscsi: 'iSCSI',
};

export function busName(transport: string): string {
  return BUS_NAMES[transport.toLowerCase()] ?? transport.toUpperCase();
}

/**
 * Vendor and model as people read them. Some vendor strings say nothing to them: sysfs ids such as
 * virtio's "0x1af4", and the "ATA" the SCSI layer reports for every SATA disk.
 */
export function diskModel(disk: Pick<Disk, 'vendor' | 'model'>): string | null {
  const raw = disk.vendor?.trim() ?? '';
  const vendor = raw !== '' && !/^0x[0-9a-f]+$/i.test(raw) && raw.toUpperCase() !== 'ATA' ? raw : null;
  const model = disk.model?.trim() || null;
  if (vendor && model && !model.toLowerCase().startsWith(vendor.toLowerCase())) return `${vendor} ${model}`;
  return model ?? vendor;
}
