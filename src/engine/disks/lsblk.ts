/**
 * Pure parser for `lsblk --json --bytes` output.
 *
 * Support bundles hold output from many util-linux versions, so this accepts both the typed JSON of
 * util-linux >= 2.33 (booleans, numbers, and since 2.37 a `mountpoints` array that may hold null)
 * and the older all-strings JSON ("0"/"1", sizes as strings, one `mountpoint` key), with either our
 * pinned column list or `--output-all`. Missing and unknown columns are tolerated; only NAME (or
 * KNAME) is required.
 */

/**
 * Columns the engine asks lsblk for. All exist in util-linux 2.38 (Debian bookworm). PARTN is left out
 * on purpose: it only appeared in 2.39, and asking for an unknown column makes lsblk fail, so the
 * partition number is derived from the kernel name instead (and read from `partn` when present).
 */
export const LSBLK_COLUMNS = [
  'NAME',
  'KNAME',
  'PATH',
  'MAJ:MIN',
  'TYPE',
  'SIZE',
  'RO',
  'RM',
  'HOTPLUG',
  'ROTA',
  'TRAN',
  'SUBSYSTEMS',
  'MODEL',
  'VENDOR',
  'SERIAL',
  'WWN',
  'LOG-SEC',
  'PHY-SEC',
  'PTTYPE',
  'PTUUID',
  'START',
  'PARTTYPE',
  'PARTTYPENAME',
  'PARTLABEL',
  'PARTUUID',
  'FSTYPE',
  'LABEL',
  'UUID',
  'MOUNTPOINTS',
  'PKNAME',
] as const;

/** One block device from lsblk, normalised; `children` are partitions and stacked devices. */
export interface LsblkDevice {
  /** NAME: for device-mapper this is the mapper name (vg-data), not dm-0. */
  readonly name: string;
  /** KNAME: kernel name (sda1, dm-0). */
  readonly kname: string;
  /** Device node; derived from the name when lsblk is too old to have PATH. */
  readonly path: string;
  readonly majMin: string | null;
  /** disk, part, loop, rom, lvm, crypt, raid1, md… */
  readonly type: string;
  /** Bytes. */
  readonly size: number;
  readonly readOnly: boolean;
  /** RM: removable media flag. */
  readonly removable: boolean;
  readonly hotplug: boolean;
  readonly rotational: boolean;
  readonly transport: string | null;
  /** SUBSYSTEMS, e.g. "block:virtio:pci"; lets us name virtio disks, for which TRAN is empty. */
  readonly subsystems: string | null;
  readonly model: string | null;
  readonly vendor: string | null;
  readonly serial: string | null;
  readonly wwn: string | null;
  readonly logicalSectorSize: number | null;
  readonly physicalSectorSize: number | null;
  readonly ptType: string | null;
  readonly ptUuid: string | null;
  /** Partition number from PARTN, else from the kernel name; null for non-partitions. */
  readonly partNumber: number | null;
  /** Partition start in bytes (lsblk prints START in 512-byte sectors, whatever the sector size). */
  readonly start: number | null;
  /** Lower-case GPT type GUID or MBR type ("0x83"). */
  readonly partType: string | null;
  readonly partTypeName: string | null;
  readonly partLabel: string | null;
  readonly partUuid: string | null;
  readonly fsType: string | null;
  readonly label: string | null;
  readonly uuid: string | null;
  /** Mountpoints, "[SWAP]" for active swap; never contains null. */
  readonly mountpoints: readonly string[];
  readonly pkname: string | null;
  readonly children: readonly LsblkDevice[];
}

type Raw = Record<string, unknown>;

/** Device-mapper types whose NAME lives under /dev/mapper. */
const MAPPER_TYPES = new Set(['lvm', 'crypt', 'dm', 'mpath']);

function isRecord(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | null {
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string') return null;
  // Old lsblk copied sysfs verbatim, so MODEL and VENDOR carry the padding spaces of the SCSI inquiry.
  const t = v.trim();
  return t === '' ? null : t;
}

function bool(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v.trim() === '1' || v.trim().toLowerCase() === 'true';
  return false;
}

function int(v: unknown, column: string, device: string): number | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : null;
  if (typeof v !== 'string' || v.trim() === '') return null;
  if (!/^\d+$/.test(v.trim())) {
    // "476.9G" means the output was taken without --bytes; guessing the size would be worse than failing.
    throw new Error(`lsblk: ${column} of ${device} is "${v}", not a byte count (was --bytes given?)`);
  }
  return Number(v.trim());
}

function mountpointsOf(raw: Raw): string[] {
  const out: string[] = [];
  const add = (v: unknown): void => {
    const s = typeof v === 'string' && v !== '' ? v : null;
    if (s !== null && !out.includes(s)) out.push(s);
  };
  if (Array.isArray(raw.mountpoints)) raw.mountpoints.forEach(add);
  add(raw.mountpoint);
  return out;
}

/** "nvme0n1p2" under "nvme0n1" is 2; "sda10" under "sda" is 10; "mmcblk0p1" under "mmcblk0" is 1. */
export function partNumberFromName(kname: string, parentKname: string | null): number | null {
  if (parentKname && kname.startsWith(parentKname)) {
    const m = /^p?(\d+)$/.exec(kname.slice(parentKname.length));
    if (m?.[1]) return Number(m[1]);
  }
  const m = /(\d+)$/.exec(kname);
  return m?.[1] ? Number(m[1]) : null;
}

function parseDevice(raw: unknown, parent: LsblkDevice | null): LsblkDevice {
  if (!isRecord(raw)) throw new Error('lsblk: a block device entry is not an object');
  const name = str(raw.name) ?? str(raw.kname);
  if (name === null) throw new Error('lsblk: a block device has neither NAME nor KNAME');
  const kname = str(raw.kname) ?? name;
  const type = str(raw.type) ?? 'disk';
  const pkname = str(raw.pkname) ?? parent?.kname ?? null;
  const path = str(raw.path) ?? (MAPPER_TYPES.has(type) ? `/dev/mapper/${name}` : `/dev/${name}`);
  const startSectors = int(raw.start, 'START', name);
  const isPart = type === 'part';
  const partType = str(raw.parttype);

  const device: LsblkDevice = {
    name,
    kname,
    path,
    majMin: str(raw['maj:min']),
    type,
    size: int(raw.size, 'SIZE', name) ?? 0,
    readOnly: bool(raw.ro),
    removable: bool(raw.rm),
    hotplug: bool(raw.hotplug),
    rotational: bool(raw.rota),
    transport: str(raw.tran),
    subsystems: str(raw.subsystems),
    model: str(raw.model),
    vendor: str(raw.vendor),
    serial: str(raw.serial),
    wwn: str(raw.wwn),
    logicalSectorSize: int(raw['log-sec'], 'LOG-SEC', name),
    physicalSectorSize: int(raw['phy-sec'], 'PHY-SEC', name),
    ptType: str(raw.pttype),
    ptUuid: str(raw.ptuuid),
    partNumber: isPart ? (int(raw.partn, 'PARTN', name) ?? partNumberFromName(kname, pkname)) : null,
    start: startSectors === null ? null : startSectors * 512,
    partType: partType === null ? null : partType.toLowerCase(),
    partTypeName: str(raw.parttypename),
    partLabel: str(raw.partlabel),
    partUuid: str(raw.partuuid),
    fsType: str(raw.fstype),
    label: str(raw.label),
    uuid: str(raw.uuid),
    mountpoints: mountpointsOf(raw),
    pkname,
    children: [],
  };
  const children = Array.isArray(raw.children) ? raw.children.map((c) => parseDevice(c, device)) : [];
  return { ...device, children };
}

/**
 * Parses `lsblk --json --bytes` output (the parsed object, or the JSON text) into a tree of whole
 * devices. Throws when the input is not lsblk JSON at all.
 */
export function parseLsblk(json: unknown): LsblkDevice[] {
  const doc: unknown = typeof json === 'string' ? JSON.parse(json) : json;
  if (!isRecord(doc) || !Array.isArray(doc.blockdevices)) {
    throw new Error('lsblk: expected an object with a "blockdevices" array');
  }
  return doc.blockdevices.map((d) => parseDevice(d, null));
}

/** The device and everything below it, depth first. */
export function walk(device: LsblkDevice): LsblkDevice[] {
  return [device, ...device.children.flatMap(walk)];
}
