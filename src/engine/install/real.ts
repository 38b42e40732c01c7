import { constants } from 'node:fs';
import { access, chmod, mkdir, readFile, readdir, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseMountinfo, parseSwaps } from '../disks';
import type { DeploymentPaths, FsOps } from './types';

/**
 * The real side effects behind RunContext. `root` prefixes every system path, so the host
 * integration tests can point the probes at a saved copy of /proc and /dev.
 */

export const realFs: FsOps = {
  async writeFile(path, content, mode) {
    await writeFile(path, content, { mode });
    // The mode given at creation is masked by the umask and ignored for an existing file.
    await chmod(path, mode);
  },
  async symlink(target, path) {
    // Replacing keeps a re-run (resume) idempotent; a symlink can't be overwritten in place.
    await rm(path, { force: true });
    await symlink(target, path);
  },
  async mkdir(path, mode) {
    await mkdir(path, { mode, recursive: true });
  },
  async rm(path) {
    await rm(path, { recursive: true, force: true });
  },
  async readFile(path) {
    try {
      return await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  },
  async test(path, test) {
    const can = (mode: number): Promise<boolean> => access(path, mode).then(() => true, () => false);
    switch (test) {
      case 'exists':
        return can(constants.F_OK);
      case 'missing':
        return !(await can(constants.F_OK));
      // access(2) answers EROFS for a read-only mount even to root, which is what matters for efivars.
      case 'writable':
        return can(constants.W_OK);
      case 'not-writable':
        return !(await can(constants.W_OK));
    }
  },
};

/** Compares kernel versions the way sort -V roughly does: numeric runs as numbers. */
function versionCompare(a: string, b: string): number {
  const pa = a.split(/(\d+)/);
  const pb = b.split(/(\d+)/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    if (x === y) continue;
    const nx = Number(x);
    const ny = Number(y);
    if (x !== '' && y !== '' && Number.isInteger(nx) && Number.isInteger(ny)) return nx - ny;
    return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * The kernel an unpacked image boots: the newest directory under usr/lib/modules (lib/modules on
 * images without merged /usr) that has a kernel image, in the directory (Fedora) or in /boot (Debian).
 */
export async function findKernel(targetRoot: string): Promise<string | null> {
  const found: string[] = [];
  for (const dir of ['usr/lib/modules', 'lib/modules']) {
    for (const v of await dirsIn(join(targetRoot, dir))) {
      const image = [join(targetRoot, dir, v, 'vmlinuz'), join(targetRoot, 'boot', `vmlinuz-${v}`)];
      for (const p of image) {
        if (await stat(p).then((s) => s.isFile(), () => false)) {
          found.push(v);
          break;
        }
      }
    }
  }
  return found.sort(versionCompare).pop() ?? null;
}

async function canonical(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return path;
  }
}

const trimSlash = (p: string): string => (p.length > 1 ? p.replace(/\/+$/, '') : p);

export interface Probes {
  isMounted(path: string): Promise<boolean>;
  mapperExists(name: string): Promise<boolean>;
  swapActive(device: string): Promise<boolean>;
}

export function realProbes(root = ''): Probes {
  return {
    async isMounted(path) {
      const text = await readFile(`${root}/proc/self/mountinfo`, 'utf8');
      const want = trimSlash(await canonical(path));
      return parseMountinfo(text).some((m) => m.target === want || m.target === trimSlash(path));
    },
    async mapperExists(name) {
      try {
        await access(`${root}/dev/mapper/${name}`);
        return true;
      } catch {
        return false;
      }
    },
    async swapActive(device) {
      const text = await readFile(`${root}/proc/swaps`, 'utf8');
      // /proc/swaps names the kernel's node (/dev/sda3); the plan may use a by-uuid link.
      const want = new Set([device, await canonical(device)]);
      for (const d of parseSwaps(text)) if (want.has(d) || want.has(await canonical(d))) return true;
      return false;
    },
  };
}

async function dirsIn(path: string): Promise<string[]> {
  try {
    return (await readdir(path, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

/**
 * Finds the deployment bootc made: TARGET/ostree/deploy/<stateroot>/deploy/<checksum>.0 (next to
 * it sits a `<checksum>.0.origin` file, which is not a directory). A fresh install has exactly one.
 */
export async function findDeployment(targetRoot: string): Promise<DeploymentPaths | null> {
  const deployRoot = join(targetRoot, 'ostree', 'deploy');
  for (const stateroot of await dirsIn(deployRoot)) {
    const deployments = (await dirsIn(join(deployRoot, stateroot, 'deploy'))).filter((d) => d.endsWith('.0'));
    const first = deployments[0];
    if (first === undefined) continue;
    const staterootVar = join(deployRoot, stateroot, 'var');
    const varStat = await stat(staterootVar).catch(() => null);
    if (!varStat?.isDirectory()) continue;
    return { deployment: join(deployRoot, stateroot, 'deploy', first), staterootVar };
  }
  return null;
}
