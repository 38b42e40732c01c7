/**
 * Gathers a ProbeSnapshot from the running system. The only impure part of disk discovery: it runs
 * lsblk and reads sysfs, procfs and udev's /dev/disk/by-id, all under deps.root so tests can point it
 * at a fake tree. Facts that are missing (no udev, no loop devices) leave their field empty; they never
 * fail the probe. Nothing is mounted: OSes are only detected on filesystems that already are.
 */
import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { LSBLK_COLUMNS, parseLsblk, walk, type LsblkDevice } from './lsblk';
import type { ProbeDeps, ProbeSnapshot } from './types';

type Mount = ProbeSnapshot['mounts'][number];

/** Runs the probe. Throws only when lsblk itself cannot be run or prints something that is not lsblk JSON. */
export async function takeSnapshot(deps: ProbeDeps): Promise<ProbeSnapshot> {
  const root = deps.root ?? '';
  // lsblk is the slow part (a process); the kernel's pseudo-files are read while it runs. They are
  // read synchronously on purpose: each read is microseconds, far less than a thread-pool round trip.
  const pending = runLsblk(deps);
  const holders: Record<string, string[]> = {};
  const loopBacking: Record<string, string> = {};
  for (const name of list(`${root}/sys/class/block`)) {
    const h = list(`${root}/sys/class/block/${name}/holders`);
    if (h.length > 0) holders[name] = h;
    if (/^loop\d+$/.test(name)) {
      const file = read(`${root}/sys/block/${name}/loop/backing_file`);
      if (file !== null && file.trim() !== '') loopBacking[name] = file.trim();
    }
  }
  const diskSeq: Record<string, number> = {};
  for (const name of list(`${root}/sys/block`)) {
    const seq = read(`${root}/sys/block/${name}/diskseq`)?.trim();
    if (seq !== undefined && /^\d+$/.test(seq)) diskSeq[name] = Number(seq);
  }
  const swaps = parseSwaps(read(`${root}/proc/swaps`) ?? '');
  const mounts = resolveMounts(parseMountinfo(read(`${root}/proc/self/mountinfo`) ?? ''), root);
  const byId = pickByIdLinks(readLinks(`${root}/dev/disk/by-id`));

  const lsblk = await pending;
  await fillFromBlkid(lsblk, deps);
  const os = detectOs(mounts, parseLsblk(lsblk), root);
  return { lsblk, holders, swaps, mounts, byId, loopBacking, diskSeq, os };
}

/**
 * The pinned column list first; if this lsblk rejects a column (util-linux older than 2.37 has no
 * MOUNTPOINTS), `--output-all` still gives whatever it knows, which the parser understands too.
 */
async function runLsblk(deps: ProbeDeps): Promise<unknown> {
  try {
    const r = await deps.exec(['lsblk', '--json', '--bytes', '--output', LSBLK_COLUMNS.join(',')]);
    return JSON.parse(r.stdout) as unknown;
  } catch (first) {
    try {
      const r = await deps.exec(['lsblk', '--json', '--bytes', '--output-all']);
      return JSON.parse(r.stdout) as unknown;
    } catch {
      throw first;
    }
  }
}

/** lsblk's JSON columns filled from blkid's export keys when udev has not recorded them. */
const BLKID_KEYS: ReadonlyArray<[string, string]> = [
  ['parttype', 'PART_ENTRY_TYPE'],
  ['partlabel', 'PART_ENTRY_NAME'],
  ['partuuid', 'PART_ENTRY_UUID'],
  ['fstype', 'TYPE'],
  ['uuid', 'UUID'],
  ['label', 'LABEL'],
];

/**
 * lsblk takes partition types and filesystems from udev's database. Where no udevd runs (containers,
 * minimal rescue systems) those are null, and an ESP or a BitLocker volume would go unnamed; blkid
 * probes the partitions themselves. Only partitions lacking a type are probed, and only as root.
 */
async function fillFromBlkid(lsblk: unknown, deps: ProbeDeps): Promise<void> {
  if (deps.root || process.getuid?.() !== 0) return;
  const missing = new Map<string, Record<string, unknown>>();
  const visit = (dev: unknown): void => {
    if (dev === null || typeof dev !== 'object') return;
    const d = dev as Record<string, unknown>;
    if (d.type === 'part' && (d.parttype === null || d.parttype === undefined) && typeof d.path === 'string') missing.set(d.path, d);
    if (Array.isArray(d.children)) d.children.forEach(visit);
  };
  const top = (lsblk as { blockdevices?: unknown[] } | null)?.blockdevices;
  if (Array.isArray(top)) top.forEach(visit);
  if (missing.size === 0) return;
  let out: string;
  try {
    out = (await deps.exec(['blkid', '--probe', '--output', 'export', ...missing.keys()], { okExitCodes: [0, 2] })).stdout;
  } catch {
    return;
  }
  for (const block of out.split(/\n\s*\n/)) {
    const kv = new Map(block.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]));
    const dev = missing.get(kv.get('DEVNAME') ?? '');
    if (!dev) continue;
    for (const [column, key] of BLKID_KEYS) if ((dev[column] === null || dev[column] === undefined) && kv.has(key)) dev[column] = kv.get(key);
  }
}

/** Undoes the octal escapes the kernel uses in /proc/self/mountinfo and /proc/swaps ("\040" is a space). */
export function decodeOctal(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parsed /proc/self/mountinfo line: major:minor is kept so "/dev/root" can be resolved. */
export interface MountinfoEntry extends Mount {
  readonly majMin: string;
}

/** Parses /proc/self/mountinfo (see proc(5)); malformed lines are skipped. */
export function parseMountinfo(text: string): MountinfoEntry[] {
  const out: MountinfoEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    // Optional fields (shared:N, master:N…) vary in number, so the fstype is found after the "-".
    const dash = fields.indexOf('-', 6);
    const majMin = fields[2];
    const target = fields[4];
    const fstype = fields[dash + 1];
    const source = fields[dash + 2];
    if (dash < 0 || !majMin || !target || !fstype || source === undefined) continue;
    out.push({ majMin, target: decodeOctal(target), fstype: decodeOctal(fstype), source: decodeOctal(source) });
  }
  return out;
}

/** Device paths (and swap files) from /proc/swaps, header skipped. */
export function parseSwaps(text: string): string[] {
  return text
    .split('\n')
    .slice(1)
    .map((l) => l.split(/\s+/)[0] ?? '')
    .filter((f) => f !== '')
    .map(decodeOctal);
}

/**
 * Keeps mounts of block devices only. The kernel may show the root filesystem as "/dev/root" (or
 * another name that is no device node), so such sources are resolved through /sys/dev/block/MAJ:MIN.
 */
function resolveMounts(entries: readonly MountinfoEntry[], root: string): Mount[] {
  const out: Mount[] = [];
  for (const e of entries) {
    let source = e.source;
    if ((!source.startsWith('/dev/') || source === '/dev/root') && !e.majMin.startsWith('0:')) {
      const link = readlinkOrNull(`${root}/sys/dev/block/${e.majMin}`);
      if (link) source = `/dev/${basename(link)}`;
    }
    if (source.startsWith('/dev/')) out.push({ source, target: e.target, fstype: e.fstype });
  }
  return out;
}

/**
 * Ranks /dev/disk/by-id names for a disk. Names built from bus, model and serial (ata-, nvme-, usb-,
 * virtio-, mmc-) come first: they are as stable as wwn-/eui. names and a person can tell which disk
 * they mean in an answer file or log. WWN/EUI come next; the legacy scsi-0/1/S variants last.
 * Lower is better; partition links (-partN) are never used for a disk.
 */
export function byIdRank(name: string): number {
  if (/-part\d+$/.test(name)) return Number.POSITIVE_INFINITY;
  if (/^nvme-(eui\.|nvme\.)/.test(name)) return 3;
  if (/^(ata|nvme|usb|virtio|mmc|ieee1394|memstick)-/.test(name)) return 1;
  if (name.startsWith('wwn-')) return 2;
  if (name.startsWith('scsi-')) return 4;
  return 5;
}

/** Picks one by-id link per kernel name from (link name → kernel name) pairs. */
export function pickByIdLinks(links: ReadonlyMap<string, string>): Record<string, string> {
  const best = new Map<string, string>();
  for (const [name, kname] of links) {
    const rank = byIdRank(name);
    if (!Number.isFinite(rank)) continue;
    const current = best.get(kname);
    // Among equals the shorter name wins: udev's newer nvme-…_1 namespace links duplicate the plain one.
    if (current === undefined || rank < byIdRank(current) || (rank === byIdRank(current) && (name.length < current.length || (name.length === current.length && name < current)))) {
      best.set(kname, name);
    }
  }
  return Object.fromEntries([...best].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => [k, `/dev/disk/by-id/${n}`]));
}

/** OS names by kernel name, from os-release (or a Windows directory) on filesystems that are mounted already. */
function detectOs(mounts: readonly Mount[], tree: readonly LsblkDevice[], root: string): Record<string, string> {
  const byPath = new Map<string, LsblkDevice>();
  for (const top of tree) for (const d of walk(top)) for (const p of [d.path, `/dev/${d.kname}`]) byPath.set(p, d);
  const os: Record<string, string> = {};
  for (const m of mounts) {
    const dev = byPath.get(m.source);
    if (!dev || os[dev.kname]) continue;
    const dir = `${root}${m.target === '/' ? '' : m.target}`;
    const release = read(`${dir}/etc/os-release`) ?? read(`${dir}/usr/lib/os-release`);
    const name = release === null ? null : prettyName(release);
    if (name) os[dev.kname] = name;
    else if (isDir(`${dir}/Windows/System32`)) os[dev.kname] = 'Windows';
  }
  return os;
}

/** PRETTY_NAME (or NAME) from os-release text, unquoted. */
export function prettyName(text: string): string | null {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined) values.set(m[1], m[2].replace(/^(["'])(.*)\1$/, '$2'));
  }
  return values.get('PRETTY_NAME') || values.get('NAME') || null;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function readlinkOrNull(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Symlinks in a directory as (link name → basename of the target, i.e. the kernel name). */
function readLinks(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of list(dir)) {
    const target = readlinkOrNull(`${dir}/${name}`);
    if (target) out.set(name, basename(target));
  }
  return out;
}
