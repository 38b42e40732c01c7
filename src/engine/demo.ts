import { closeSync, mkdirSync, openSync, realpathSync, statSync, ftruncateSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { GiB } from '../shared';
import type { Exec } from './exec';

/**
 * Demo mode: virtual disks made of sparse files attached as loop devices, so the whole wizard
 * can be tried (and tested end to end) without risking a real disk.
 */

export interface DemoDiskSpec {
  /** File name under the cache directory. */
  readonly file: string;
  /** Apparent size in bytes; the file is sparse and uses no space until written. */
  readonly size: number;
}

export const DEFAULT_DEMO_DISKS: readonly DemoDiskSpec[] = [
  { file: 'virtual-disk-1.img', size: 64 * GiB },
  { file: 'virtual-disk-2.img', size: 20 * GiB },
];

export const NOT_ROOT_NOTICE = "Not running as root: demo mode shows this machine's disks read-only.";

export interface DemoOptions {
  readonly exec: Exec;
  /** Where the image files live; default `${XDG_CACHE_HOME:-~/.cache}/particle-installer/demo`. */
  readonly cacheDir?: string;
  readonly specs?: readonly DemoDiskSpec[];
  /** Defaults to whether this process runs as root. */
  readonly isRoot?: boolean;
}

export interface DemoDisks {
  /** Loop device paths (/dev/loopN) the demo offers, in spec order. */
  readonly disks: string[];
  /** The subset this call attached (and so teardown will detach); the rest were already attached. */
  readonly attached: readonly string[];
  /** Detaches exactly the devices this call attached. Safe to call twice. */
  teardown(): Promise<void>;
  /** Why demo mode is limited, for front ends to show. */
  readonly notice?: string;
}

/** The default cache directory for demo images. */
export function defaultDemoCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(cache, 'particle-installer', 'demo');
}

/** Creates the sparse file if missing, or grows it to `size`; never shrinks or rewrites data. */
function ensureSparseFile(path: string, size: number): void {
  let current = -1;
  try {
    current = statSync(path).size;
  } catch {
    /* missing: create below */
  }
  if (current >= size) return;
  const fd = openSync(path, 'a', 0o600);
  try {
    ftruncateSync(fd, size);
  } finally {
    closeSync(fd);
  }
}

/** Loop device attached to each backing file, from `losetup --json --list`. */
export function parseLosetupList(stdout: string): Map<string, string> {
  const byFile = new Map<string, string>();
  if (stdout.trim() === '') return byFile; // losetup prints nothing at all when no loop is in use
  const doc = JSON.parse(stdout) as { loopdevices?: Array<Record<string, unknown>> };
  for (const dev of doc.loopdevices ?? []) {
    const name = dev.name;
    const file = dev['back-file'];
    // A deleted backing file is shown with a " (deleted)" suffix; such a loop is no longer ours to reuse.
    if (typeof name === 'string' && typeof file === 'string' && !file.endsWith(' (deleted)')) byFile.set(file, name);
  }
  return byFile;
}

/** Makes (once) and attaches the demo disks; see DemoDisks. */
export async function setUpDemoDisks(options: DemoOptions): Promise<DemoDisks> {
  const isRoot = options.isRoot ?? (typeof process.getuid === 'function' && process.getuid() === 0);
  if (!isRoot) return { disks: [], attached: [], teardown: async () => {}, notice: NOT_ROOT_NOTICE };

  const { exec } = options;
  const dir = options.cacheDir ?? defaultDemoCacheDir();
  const disks: string[] = [];
  const attached: string[] = [];
  const teardown = async (): Promise<void> => {
    // Detach in reverse and forget each as it goes, so a second call does nothing.
    while (attached.length > 0) {
      const dev = attached.pop()!;
      await exec(['losetup', '--detach', dev]).catch(() => undefined);
    }
  };
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const list = await exec(['losetup', '--json', '--list']);
    const inUse = parseLosetupList(list.stdout);
    for (const spec of options.specs ?? DEFAULT_DEMO_DISKS) {
      const file = join(dir, spec.file);
      ensureSparseFile(file, spec.size);
      const real = realpathSync(file);
      const existing = inUse.get(real) ?? inUse.get(file);
      if (existing !== undefined) {
        disks.push(existing);
        continue;
      }
      const r = await exec(['losetup', '--find', '--show', '--partscan', real]);
      const dev = r.stdout.trim();
      if (!/^\/dev\/loop\d+$/.test(dev)) throw new Error(`losetup printed "${dev}" instead of a loop device`);
      attached.push(dev);
      disks.push(dev);
    }
  } catch (e) {
    // Demo mode must still start (read-only) when loop devices are unavailable, e.g. in a container.
    await teardown();
    const why = e instanceof Error ? e.message : String(e);
    return { disks: [], attached: [], teardown, notice: `Could not create virtual disks (${why}): demo mode shows this machine's disks read-only.` };
  }
  return { disks, attached: [...attached], teardown };
}
