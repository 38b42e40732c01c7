import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';

/**
 * Root-only helpers for integration tests on loop devices. Every one runs argv directly (no
 * shell) and each returns what must be undone, so afterAll can clean up whatever got made.
 */

/** Why loop-device tests cannot run here, or null when they can. */
export function loopUnavailableReason(tools: readonly string[] = []): string | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'not running as root';
  if (!existsSync('/dev/loop-control')) return 'no /dev/loop-control (loop module missing)';
  const probe = spawnSync('losetup', ['--find'], { encoding: 'utf8' });
  if (probe.status !== 0) return `losetup --find failed: ${(probe.stderr || String(probe.error)).trim()}`;
  for (const tool of tools) {
    if (spawnSync('sh', ['-c', 'command -v "$1"', 'sh', tool]).status !== 0) return `${tool} is not installed`;
  }
  return null;
}

/** Makes a sparse file of `size` bytes. */
export function sparseFile(path: string, size: number): void {
  const fd = openSync(path, 'w', 0o600);
  try {
    ftruncateSync(fd, size);
  } finally {
    closeSync(fd);
  }
}

/** Runs a command, returning stdout; throws with its stderr on failure. */
export function run(argv: readonly string[], input?: string): string {
  return execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Runs a command for cleanup: never throws, so one failure does not stop the rest. */
export function tryRun(argv: readonly string[]): boolean {
  return spawnSync(argv[0]!, argv.slice(1), { stdio: 'ignore' }).status === 0;
}

/** Attaches a file as a loop device and returns /dev/loopN. */
export function attachLoop(file: string): string {
  const dev = run(['losetup', '--find', '--show', file]).trim();
  if (!/^\/dev\/loop\d+$/.test(dev)) throw new Error(`losetup printed ${dev}`);
  return dev;
}

/**
 * Makes the kernel's partition nodes for a loop device match its new table (there is no udevd to do
 * it). The kernel is told the table whatever /dev holds (`partx --update`): a node left from an
 * earlier user of the same loop device can exist while the kernel still has that user's partitions,
 * and mkfs on it then fails with an I/O error past the end of the new, smaller file. A node whose
 * device number is not the kernel's is made again.
 */
export async function ensurePartitionNode(disk: string, n = 1): Promise<string> {
  const node = `${disk}p${n}`;
  const name = node.replace('/dev/', '');
  tryRun(['partx', '--update', disk]);
  for (let i = 0; i < 50 && !existsSync(`/sys/class/block/${name}/dev`); i++) await new Promise((r) => setTimeout(r, 100));
  if (!existsSync(`/sys/class/block/${name}/dev`)) throw new Error(`the kernel has no ${name} after partx --update`);
  const [major, minor] = readFileSync(`/sys/class/block/${name}/dev`, 'utf8').trim().split(':').map(Number);
  const st = existsSync(node) ? statSync(node) : null;
  if (st === null || !st.isBlockDevice() || Math.floor(st.rdev / 256) % 4096 !== major || (st.rdev & 0xff) + ((st.rdev >> 12) & 0xfff00) !== minor) {
    rmSync(node, { force: true });
    run(['mknod', '-m', '0660', node, 'b', String(major), String(minor)]);
  }
  return node;
}
