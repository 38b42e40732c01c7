/**
 * Turns a ProbeSnapshot into the Disk list the installer offers, each with a verdict and every
 * reason behind it. Pure: everything it looks at is in the snapshot, so saved machines replay exactly.
 */
import { REFUSAL_CODES, WARNING_CODES, type Disk, type Partition, type ReasonCode, type VerdictReason } from '../../shared/disk';
import { GPT, describePartition, formatBytes, isEsp, listAnd, partitionTypeName, plural } from './format';
import { parseLsblk, type LsblkDevice } from './lsblk';
import type { ClassifyOptions, ProbeSnapshot } from './types';
import { Usage, type Use } from './usage';

const CODE_ORDER: readonly ReasonCode[] = [...REFUSAL_CODES, ...WARNING_CODES];
const REFUSALS: ReadonlySet<ReasonCode> = new Set(REFUSAL_CODES);

/** Classifies every whole device (disk, loop, rom, zram…) in the snapshot. */
export function classifyDisks(snapshot: ProbeSnapshot, options: ClassifyOptions): Disk[] {
  const tree = parseLsblk(snapshot.lsblk);
  const usage = new Usage(snapshot, tree);
  return tree.filter((d) => d.type !== 'part').map((d) => classifyOne(d, snapshot, usage, options));
}

function classifyOne(dev: LsblkDevice, snapshot: ProbeSnapshot, usage: Usage, options: ClassifyOptions): Disk {
  const partDevs = dev.children.filter((c) => c.type === 'part');
  const partitions = partDevs.map((p) => toPartition(p, usage));
  const reasons: VerdictReason[] = [];
  const add = (code: ReasonCode, message: string, subject?: string): void => {
    reasons.push(subject === undefined ? { code, message } : { code, message, subject });
  };

  // Refusals.
  const live = usage.liveMedium(dev);
  if (live) add('live-medium', live.message, live.subject);
  for (const unit of [dev, ...partDevs]) {
    const uses = usage.uses(unit);
    if (uses.length > 0) add('mounted', `${unit.path} is mounted on ${listAnd(uses.map(describeUse))}.`, unit.path);
    const swap = usage.swapUse(unit);
    if (swap) add('swap', `${unit.path} is in use as swap${swap.via ? ` through ${swap.via.name}` : ''}.`, unit.path);
    const holders = usage.holders(unit);
    if (holders.length > 0) {
      const names = holders.map((k) => describeHolder(k, usage));
      add('held', `${unit.path} is in use by ${listAnd(names)}.`, unit.path);
    }
  }
  if (dev.readOnly) add('read-only', `${dev.path} is read-only.`);
  if (dev.size > 0 && dev.size < options.minimumSize) {
    add('too-small', `${dev.path} is ${formatBytes(dev.size)}; at least ${formatBytes(options.minimumSize)} is needed.`);
  }
  const virtual = virtualKind(dev);
  if (virtual && !(virtual === 'loop' && loopAllowed(dev, options))) {
    const backing = snapshot.loopBacking[dev.kname];
    const what = virtual === 'loop' ? `a loop device${backing ? ` backed by ${backing}` : ''}` : virtual === 'zram' ? 'a compressed RAM device (zram)' : 'a RAM disk';
    add('virtual-device', `${dev.path} is ${what}, not a real disk.`);
  }
  const optical = dev.type === 'rom' || /^sr\d+$/.test(dev.kname);
  if (optical) add('optical', `${dev.path} is an optical drive.`);
  if (dev.size === 0) add('no-media', `${dev.path} has no medium (it reports a size of 0 bytes).`);
  if (options.restrictTo && !options.restrictTo.includes(dev.path) && !options.restrictTo.includes(`/dev/${dev.kname}`)) {
    add('demo-only', `${dev.path} is not one of the demo disks.`);
  }

  // Warnings.
  if (partitions.length > 0) {
    add('existing-partitions', `${dev.path} has ${plural(partitions.length, 'partition')}: ${partitions.map(describePartition).join(', ')}.`);
  } else if (dev.fsType && !optical && virtual !== 'zram' && virtual !== 'ram') {
    add('existing-partitions', `${dev.path} has no partitions but holds ${dev.fsType} data on the whole disk.`);
  }
  for (const unit of [dev, ...partDevs]) {
    const os = usage.os(unit);
    if (os) add('existing-os', `${os} on ${unit.path}.`, unit.path);
  }
  const windows = windowsEvidence(dev, partitions, usage);
  if (windows) add('windows', windows.message, windows.subject);
  for (const p of partitions) {
    if (isEsp(p.typeGuid)) add('esp', `${p.path} is an EFI System Partition (${formatBytes(p.size)}) that other systems may boot from.`, p.path);
  }
  for (const p of [dev, ...partDevs]) {
    if (p.fsType === 'BitLocker') add('bitlocker', `${p.path} is encrypted with BitLocker; its data is lost for good when the disk is erased.`, p.path);
  }
  if (dev.removable) add('removable', `${dev.path} is removable media.`);
  if (dev.transport === 'usb') add('usb', `${dev.path} is connected over USB.`);

  reasons.sort((a, b) => CODE_ORDER.indexOf(a.code) - CODE_ORDER.indexOf(b.code));
  const verdict = reasons.some((r) => REFUSALS.has(r.code)) ? 'refused' : reasons.length > 0 ? 'warn' : 'ok';

  return {
    path: dev.path,
    name: dev.kname,
    byIdPath: snapshot.byId[dev.kname] ?? null,
    model: dev.model,
    vendor: dev.vendor,
    serial: dev.serial,
    wwn: dev.wwn,
    diskSeq: snapshot.diskSeq?.[dev.kname] ?? null,
    size: dev.size,
    logicalSectorSize: positive(dev.logicalSectorSize),
    physicalSectorSize: positive(dev.physicalSectorSize ?? dev.logicalSectorSize),
    rotational: dev.rotational,
    removable: dev.removable,
    readOnly: dev.readOnly,
    transport: transportOf(dev),
    type: dev.type,
    partitionTable: dev.ptType === 'gpt' || dev.ptType === 'dos' ? dev.ptType : null,
    ptUuid: dev.ptUuid,
    partitions,
    fsType: dev.fsType,
    mountpoints: [...usage.ownMounts(dev), ...(usage.isSwap(dev) ? ['[SWAP]'] : [])],
    holders: usage.holders(dev),
    verdict,
    reasons,
  };
}

function toPartition(p: LsblkDevice, usage: Usage): Partition {
  const mountpoints = usage.uses(p).map((u) => u.target);
  if (usage.swapUse(p)) mountpoints.push('[SWAP]');
  return {
    path: p.path,
    name: p.kname,
    number: p.partNumber,
    start: p.start,
    size: p.size,
    typeGuid: p.partType,
    typeName: partitionTypeName(p.partType, p.partTypeName),
    partLabel: p.partLabel,
    fsType: p.fsType,
    label: p.label,
    uuid: p.uuid,
    mountpoints,
    holders: usage.holders(p),
    os: usage.os(p),
  };
}

function describeUse(u: Use): string {
  return u.via ? `${u.target} (through ${u.via.name})` : u.target;
}

const HOLDER_KINDS: Readonly<Record<string, string>> = {
  lvm: 'an LVM logical volume',
  crypt: 'an opened encrypted volume',
  dm: 'a device-mapper device',
  mpath: 'a multipath device',
};

/** "vg-data (an LVM logical volume)", "md0 (a RAID1 array)"; the bare kernel name when lsblk did not list it. */
function describeHolder(kname: string, usage: Usage): string {
  const h = usage.device(kname);
  if (!h) return kname;
  const raid = /^raid(\w+)$/.exec(h.type);
  const kind = raid ? `a RAID${raid[1]?.toUpperCase()} array` : h.type === 'md' ? 'a RAID array' : HOLDER_KINDS[h.type];
  return kind ? `${h.name} (${kind})` : h.name;
}

function virtualKind(d: LsblkDevice): 'loop' | 'zram' | 'ram' | null {
  if (d.type === 'loop' || /^loop\d+$/.test(d.kname)) return 'loop';
  if (/^zram\d+$/.test(d.kname)) return 'zram';
  if (/^ram\d+$/.test(d.kname)) return 'ram';
  return null;
}

function loopAllowed(d: LsblkDevice, options: ClassifyOptions): boolean {
  if (options.allowLoop === 'all') return true;
  if (options.allowLoop === 'none') return false;
  return options.allowLoop.includes(d.path) || options.allowLoop.includes(`/dev/${d.kname}`);
}

/** lsblk leaves TRAN empty for virtio and often for MMC; the kernel name and subsystems still say. */
function transportOf(d: LsblkDevice): string | null {
  if (d.transport) return d.transport;
  if (d.subsystems?.split(':').includes('virtio') || /^vd[a-z]+$/.test(d.kname)) return 'virtio';
  if (/^mmcblk\d+$/.test(d.kname)) return 'mmc';
  return null;
}

function positive(n: number | null): number {
  return n !== null && n > 0 ? n : 512;
}

/** Windows is there if a probe said so, or its telltale partitions are: NTFS, BitLocker, MSR, WinRE. */
function windowsEvidence(dev: LsblkDevice, partitions: readonly Partition[], usage: Usage): { message: string; subject: string } | null {
  for (const unit of [dev, ...dev.children.filter((c) => c.type === 'part')]) {
    const os = usage.os(unit);
    if (os && /windows/i.test(os)) return { message: `${dev.path} holds ${os} (on ${unit.path}).`, subject: unit.path };
  }
  const telltale = partitions.filter(
    (p) => p.fsType === 'ntfs' || p.fsType === 'BitLocker' || p.typeGuid === GPT.msr || p.typeGuid === GPT.winRecovery,
  );
  if (telltale.length === 0 && dev.fsType !== 'ntfs') return null;
  const paths = telltale.length > 0 ? telltale.map((p) => p.path) : [dev.path];
  return { message: `${dev.path} appears to hold Windows (${listAnd(paths)}).`, subject: paths[0] ?? dev.path };
}
