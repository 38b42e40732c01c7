import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../vm/proc';

/**
 * What a bootc install from the live ISO left on the target disk image, read on the host: the
 * filesystem holding an ostree sysroot found and mounted, and ostree itself asked where the
 * deployment is (it writes only its lock file). The bootc test image does not boot, so this is where its
 * install is checked.
 */

export interface BootcTargetReport {
  /** ostree/deploy/<stateroot>/deploy/<commit>.0, as `ostree admin --print-current-dir` names it. */
  readonly deployment: string;
  /** The origin's container-image-reference: where the installed system updates from. */
  readonly origin: string;
  readonly hostname: string;
  /** The account exists in the deployment's passwd with a SHA-512 crypt hash in its shadow. */
  readonly userWithPassword: boolean;
  /** The loader entry's kernel arguments. */
  readonly options: string;
  /** The filesystem type of the root. */
  readonly rootFsType: string;
}

interface Part {
  /** The loop device over the partition. */
  readonly path: string;
  /** The partition as the table names it. */
  readonly name: string;
  readonly fstype: string | null;
}

/**
 * Reads the bootc install on the raw disk image `image`; detaches and unmounts whatever it attached.
 * Each partition gets its own loop device at its offset (from the partition table), which needs no
 * partition scan of the loop device (not every kernel here makes its partition nodes).
 */
export async function readBootcTarget(image: string, user: string): Promise<BootcTargetReport> {
  const table = JSON.parse(await run(['sfdisk', '--json', image])) as { partitiontable: { sectorsize?: number; partitions?: { node: string; start: number; size: number }[] } };
  const sector = table.partitiontable.sectorsize ?? 512;
  const loops: string[] = [];
  const mnt = mkdtempSync(join(tmpdir(), 'particle-qa-bootc-'));
  let mounted = false;
  try {
    const all: Part[] = [];
    for (const p of table.partitiontable.partitions ?? []) {
      const loop = (await run(['losetup', '--find', '--show', '--offset', String(p.start * sector), '--sizelimit', String(p.size * sector), image])).trim();
      loops.push(loop);
      all.push({ path: loop, name: p.node, fstype: (await run(['blkid', '-p', '-o', 'value', '-s', 'TYPE', loop]).catch(() => '')).trim() || null });
    }
    const parts = all.filter((p) => p.fstype === 'xfs' || p.fstype === 'ext4' || p.fstype === 'btrfs');
    let root: Part | null = null;
    for (const p of parts) {
      // The erase layout puts btrfs's root in the @ subvolume.
      // Read-write: ostree takes its sysroot lock (ostree/lock) even to say where the deployment is.
      const options = p.fstype === 'btrfs' ? 'subvol=@' : 'defaults';
      try {
        await run(['mount', '-o', options, p.path, mnt]);
      } catch {
        continue;
      }
      mounted = true;
      if (existsSync(join(mnt, 'ostree/repo'))) {
        root = p;
        break;
      }
      await run(['umount', mnt]);
      mounted = false;
    }
    if (!root) throw new Error(`no filesystem on the target (${all.map((p) => `${p.name} ${p.fstype ?? 'no filesystem'}`).join(', ') || 'no partitions'}) holds an ostree sysroot`);
    const deployment = (await run(['ostree', 'admin', `--sysroot=${mnt}`, '--print-current-dir'])).trim();
    const text = (rel: string): string => readFileSync(join(deployment, rel), 'utf8');
    const origin = /^container-image-reference=(.*)$/m.exec(readFileSync(`${deployment}.origin`, 'utf8'))?.[1] ?? '';
    const hash = new RegExp(`^${user}:([^:]*):`, 'm').exec(text('etc/shadow'))?.[1] ?? '';
    const entries = join(mnt, 'boot/loader/entries');
    const entry = existsSync(entries) ? readdirSync(entries).filter((f) => f.endsWith('.conf')).sort()[0] : undefined;
    const options = entry ? (/^options (.*)$/m.exec(readFileSync(join(entries, entry), 'utf8'))?.[1] ?? '') : '';
    return {
      deployment: deployment.slice(mnt.length + 1),
      origin,
      hostname: text('etc/hostname').trim(),
      userWithPassword: new RegExp(`^${user}:`, 'm').test(text('etc/passwd')) && hash.startsWith('$6$'),
      options,
      rootFsType: root.fstype ?? '',
    };
  } finally {
    if (mounted) await run(['umount', mnt]).catch(() => '');
    rmSync(mnt, { recursive: true, force: true });
    for (const loop of loops) await run(['losetup', '--detach', loop]).catch(() => '');
  }
}
