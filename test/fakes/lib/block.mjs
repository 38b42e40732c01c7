// Block-device facts the fake needs: mounts from /proc/self/mountinfo, which disk holds a filesystem
// (through device-mapper slaves for LUKS), the ESP on that disk, and the to-disk partitioning.
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { fail, run, sleep } from './common.mjs';

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

/** Partition node n of a disk: loop0 → loop0p1, vda → vda1 (a trailing digit needs the `p`). */
export const partNode = (disk, n) => (/\d$/.test(disk) ? `${disk}p${n}` : `${disk}${n}`);

/**
 * Tells the kernel about a new table and waits for the nodes: there is no udevd on these machines,
 * so `partx -u` (update) and then `partx -a` (add) stand in for bootc's `udevadm settle`.
 */
export async function settlePartitions(disk, count) {
  run(['partx', '-d', disk]);
  run(['partx', '-u', disk]);
  if (!existsSync(partNode(disk, count))) run(['partx', '-a', disk]);
  for (let i = 0; i < 100 && !existsSync(partNode(disk, count)); i++) await sleep(50);
  if (!existsSync(partNode(disk, count))) fail(`Installing to disk: Creating rootfs: ${partNode(disk, count)} did not appear after partx (test fake)`);
}

/**
 * inspect_filesystem (crates/mount/src/mount.rs:68-98@534c76ea): findmnt's view of the mount at
 * `path` ({ source, target, fstype, options, uuid }), or null when findmnt finds none.
 */
export function inspectFilesystem(path) {
  const r = run(['findmnt', '-J', '-v', '--output=SOURCE,TARGET,MAJ:MIN,FSTYPE,OPTIONS,UUID', '--mountpoint', path]);
  if (r.status !== 0) return null;
  return JSON.parse(r.stdout).filesystems?.[0] ?? null;
}

/** find_mount_option (crates/lib/src/utils.rs:59-68): the value of `name=` in a mount's options. */
export function findMountOption(options, name) {
  for (const kv of options.split(',')) {
    const eq = kv.indexOf('=');
    if (eq >= 0 && kv.slice(0, eq) === name) return kv.slice(eq + 1);
  }
  return null;
}

/** lsblk's view of a device as bootc_blockdev::list_dev reads it: size in bytes, serial, model, children. */
export function listDev(dev) {
  const r = run(['lsblk', '-J', '-b', '-o', 'NAME,PATH,SIZE,SERIAL,MODEL,PARTTYPE', dev]);
  if (r.status !== 0) return null;
  const d = JSON.parse(r.stdout).blockdevices?.[0];
  if (!d) return null;
  return { path: d.path, size: Number(d.size), serial: d.serial ?? null, model: d.model ?? null, children: (d.children ?? []).map((c) => c.path) };
}

/**
 * is_mounted_in_pid1_mountns (crates/mount/src/mount.rs:119-127, 170-184): any mount whose source
 * contains the device path, a substring test, so mounted partitions count too.
 */
export const isDeviceMounted = (dev) => mounts().some((m) => m.source.includes(dev));

const ARCH = { x64: 'x86_64', arm64: 'aarch64' }[process.arch] ?? process.arch;

/** DPS root partition type of this architecture (discoverable_partition_specification.rs:510-530). */
export const ROOT_TYPE = { x86_64: ROOT_X86_64_TYPE, aarch64: 'b921b045-1df0-41c3-af44-4c6f280d3fae' }[ARCH] ?? ROOT_X86_64_TYPE;

/**
 * The sfdisk script of install_create_rootfs (install/baseline.rs:282-350@534c76ea): a random
 * label-id, BIOS boot on x86_64, the 512 MiB ESP, /boot only for tpm2-luks, root on the rest or
 * `rootSizeMiB`. Returns { script, esp, boot, root } partition numbers.
 */
export function partitionScript({ withBoot, rootSizeMiB, labelId }) {
  const lines = ['label: gpt', `label-id: ${labelId}`];
  let partno = 0;
  if (ARCH === 'x86_64') {
    partno++;
    lines.push(`size=1MiB, bootable, type=${BIOS_BOOT_TYPE.toUpperCase()}, name="BIOS-BOOT"`);
  }
  const esp = ++partno;
  lines.push(`size=512MiB, type=${ESP_TYPE}, name="EFI-SYSTEM"`);
  let boot = null;
  if (withBoot) {
    boot = ++partno;
    lines.push('size=510MiB, name="boot"');
  }
  const root = partno + 1;
  lines.push(`${rootSizeMiB === null ? '' : `size=${rootSizeMiB}MiB, `}type=${ROOT_TYPE}, name="root"`);
  return { script: `${lines.join('\n')}\n`, esp, boot, root };
}
