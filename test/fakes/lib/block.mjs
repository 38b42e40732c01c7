// Block-device facts the fake needs: mounts from /proc/self/mountinfo, which disk holds a filesystem
// (through device-mapper slaves for LUKS), the ESP on that disk, and the to-disk partitioning.
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { fail, must, run, sleep } from './common.mjs';

const unescape = (s) => s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));

/** All mounts, in mount order: { mountpoint, root (path inside the fs), fstype, source, options }. */
export function mounts() {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [pre, post] = line.split(' - ');
      const f = pre.split(' ');
      const p = post.split(' ');
      return { root: unescape(f[3]), mountpoint: unescape(f[4]), options: f[5], fstype: p[0], source: unescape(p[1] ?? ''), superOptions: p[2] ?? '' };
    });
}

/** The mount at exactly `path` (the topmost one when mounts are stacked), or null. */
export function mountAt(path) {
  let real;
  try {
    real = realpathSync(path);
  } catch {
    return null;
  }
  return mounts().filter((m) => m.mountpoint === real).pop() ?? null;
}

export const isMountpoint = (path) => mountAt(path) !== null;

/** /dev/loop0p3 → loop0p3; /dev/mapper/root → dm-0 */
function kernelName(dev) {
  try {
    return basename(realpathSync(dev));
  } catch {
    return basename(dev);
  }
}

/** The whole disks under a block device: a partition's parent, or a dm device's slaves' disks. */
export function disksOf(dev) {
  const name = kernelName(dev);
  const sys = `/sys/class/block/${name}`;
  if (!existsSync(sys)) return [];
  const slaves = `${sys}/slaves`;
  if (existsSync(slaves) && readdirSync(slaves).length > 0) {
    return readdirSync(slaves).flatMap((s) => disksOf(`/dev/${s}`));
  }
  if (existsSync(`${sys}/partition`)) return [`/dev/${basename(dirname(realpathSync(sys)))}`];
  return [`/dev/${name}`];
}

export const ESP_TYPE = 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b';
export const BIOS_BOOT_TYPE = '21686148-6449-6e6f-744e-656564454649';
export const ROOT_X86_64_TYPE = '4f68bce3-e8cd-4db1-96e7-fbcaf984b709';
export const LINUX_DATA_TYPE = '0fc63daf-8483-4772-8e79-3d69d8477de4';

/** The partitions sfdisk reads from a disk's table: [{ node, type (lowercase GUID) }]; [] without a table. */
export function partitionsOf(disk) {
  const r = run(['sfdisk', '--json', disk]);
  if (r.status !== 0) return [];
  try {
    const table = JSON.parse(r.stdout).partitiontable;
    return (table.partitions ?? []).map((p) => ({ node: p.node, type: String(p.type).toLowerCase() }));
  } catch {
    return [];
  }
}

/** The ESP bootupd would pick on `disk`: a partition of the ESP type whose content probes as vfat. */
export function findEsp(disk) {
  for (const p of partitionsOf(disk)) {
    if (p.type !== ESP_TYPE || !existsSync(p.node)) continue;
    const type = run(['blkid', '-p', '-o', 'value', '-s', 'TYPE', p.node]).stdout.trim();
    if (type === 'vfat') return p.node;
  }
  return null;
}

export function fsUuid(dev) {
  return run(['blkid', '-p', '-o', 'value', '-s', 'UUID', dev]).stdout.trim() || null;
}

/** Partition node n of a disk: loop0 → loop0p1, vda → vda1 (a trailing digit needs the `p`). */
export const partNode = (disk, n) => (/\d$/.test(disk) ? `${disk}p${n}` : `${disk}${n}`);

/**
 * Tells the kernel about a new table and waits for the nodes: there is no udevd on these machines,
 * so `partx -u` (update) and then `partx -a` (add) stand in for it.
 */
export async function settlePartitions(disk, count) {
  run(['partx', '-u', disk]);
  if (!existsSync(partNode(disk, count))) run(['partx', '-a', disk]);
  for (let i = 0; i < 100 && !existsSync(partNode(disk, count)); i++) await sleep(50);
  if (!existsSync(partNode(disk, count))) fail(`Installing to disk: ${partNode(disk, count)} did not appear after partx`);
}

/**
 * The default to-disk layout from the reference: BIOS boot 1 MiB, ESP 512 MiB, /boot 510 MiB only
 * with tpm2-luks, root on the rest (or --root-size). Returns the partition nodes.
 */
export async function partitionDisk(disk, { withBoot, rootSize }) {
  const lines = [
    'label: gpt',
    `size=1MiB, type=${BIOS_BOOT_TYPE.toUpperCase()}, name="BIOS-BOOT"`,
    `size=512MiB, type=${ESP_TYPE.toUpperCase()}, name="EFI-SYSTEM"`,
  ];
  if (withBoot) lines.push(`size=510MiB, type=${LINUX_DATA_TYPE.toUpperCase()}, name="boot"`);
  const size = rootSize ? `size=${/\d$/.test(rootSize) ? `${rootSize}M` : rootSize}, ` : '';
  lines.push(`${size}type=${ROOT_X86_64_TYPE.toUpperCase()}, name="root"`);
  must(['sfdisk', '--quiet', '--wipe', 'always', '--wipe-partitions', 'always', '--no-reread', '--no-tell-kernel', disk], 'Installing to disk: Partitioning', `${lines.join('\n')}\n`);
  const count = withBoot ? 4 : 3;
  // Drop nodes of an older, longer table before adding the new ones.
  run(['partx', '-d', disk]);
  await settlePartitions(disk, count);
  return {
    bios: partNode(disk, 1),
    esp: partNode(disk, 2),
    boot: withBoot ? partNode(disk, 3) : null,
    root: partNode(disk, count),
  };
}

/** mkfs for the root filesystem types bootc supports. */
export function mkfs(fstype, dev, label) {
  const argv = {
    xfs: ['mkfs.xfs', '-f', '-q', '-L', label, dev],
    ext4: ['mkfs.ext4', '-q', '-F', '-L', label, dev],
    btrfs: ['mkfs.btrfs', '-q', '-f', '-L', label, dev],
    vfat: ['mkfs.vfat', '-F', '32', '-n', label.toUpperCase(), dev],
  }[fstype];
  must(argv, `Installing to disk: Formatting ${dev}`);
}

/** Devices (the disk itself or its partitions) that are mounted: to-disk must not touch those. */
export function mountedParts(disk) {
  const name = kernelName(disk);
  return mounts()
    .map((m) => m.source)
    .filter((src) => src.startsWith('/dev/') && (kernelName(src) === name || disksOf(src).includes(`/dev/${name}`)));
}
