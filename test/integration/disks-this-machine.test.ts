import { existsSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MINIMUM_DISK_SIZE, DiskSchema, type Disk } from '../../src/shared/disk';
import { classifyDisks, parseLsblk, probeDisks, takeSnapshot } from '../../src/engine/disks';
import type { ClassifyOptions } from '../../src/engine/disks/types';
import { createExec } from '../../src/engine/exec';

const DEFAULTS: ClassifyOptions = { minimumSize: DEFAULT_MINIMUM_DISK_SIZE, allowLoop: 'none' };

function byPath(disks: readonly Disk[], path: string): Disk {
  const d = disks.find((x) => x.path === path);
  if (!d) throw new Error(`no disk ${path} among ${disks.map((x) => x.path).join(', ')}`);
  return d;
}

const codes = (d: Disk): string[] => d.reasons.map((r) => r.code).sort();

describe('this machine', () => {
  const hasLsblk = ['/usr/bin/lsblk', '/bin/lsblk', '/usr/sbin/lsblk'].some((p) => existsSync(p));
  if (!hasLsblk || process.platform !== 'linux') console.warn('[integration] probing this machine skipped: lsblk is not installed or this is not Linux');

  it.skipIf(!hasLsblk || process.platform !== 'linux')('probes for real, and refuses the disk that holds /', async (ctx) => {
    const exec = createExec();
    const snapshot = await takeSnapshot({ exec });
    const disks = classifyDisks(snapshot, DEFAULTS);
    expect(disks.length).toBeGreaterThan(0);
    for (const d of disks) DiskSchema.parse(d);
    expect((await probeDisks({ exec }, DEFAULTS)).map((d) => d.path).filter((p) => !p.startsWith('/dev/loop'))).toEqual(
      disks.map((d) => d.path).filter((p) => !p.startsWith('/dev/loop')),
    );

    // Find the device holding / from its device number, independently of the snapshot's mount table.
    const dev = statSync('/').dev;
    const majMin = `${Math.floor(dev / 256) & 0xfff}:${(dev & 0xff) | ((dev >> 12) & 0xfff00)}`;
    const tops = parseLsblk(snapshot.lsblk);
    const holding = tops.find((top) => {
      const walk = (d: (typeof tops)[number]): boolean => d.majMin === majMin || d.children.some(walk);
      return walk(top);
    });
    if (!holding) {
      const why = `/ is on ${majMin}, not a block device lsblk lists (overlay or network root)`;
      console.warn(`[integration] refusing the disk that holds / not checked: ${why}`);
      ctx.skip(why);
    }
    const disk = byPath(disks, holding!.path);
    expect(disk.verdict).toBe('refused');
    expect(codes(disk).some((c) => c === 'mounted' || c === 'live-medium')).toBe(true);
  });
});
