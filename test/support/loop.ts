import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, openSync } from 'node:fs';

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

/** Makes the kernel's partition nodes for a loop device appear (there is no udevd to do it). */
export async function ensurePartitionNode(disk: string, n = 1): Promise<string> {
  const node = `${disk}p${n}`;
  if (!existsSync(node)) tryRun(['partx', '-a', disk]);
  for (let i = 0; i < 50 && !existsSync(node); i++) await new Promise((r) => setTimeout(r, 100));
  if (!existsSync(node)) throw new Error(`${node} did not appear after partx -a`);
  return node;
}
