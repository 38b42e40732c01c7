import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommandError, type Exec } from '../../src/engine/exec';
import { NOT_ROOT_NOTICE, defaultDemoCacheDir, parseLosetupList, setUpDemoDisks } from '../../src/engine/demo';
import { GiB, makeError } from '../../src/shared';

/** A fake losetup: records argv, hands out loop numbers, and knows what is already attached. */
function fakeLosetup(attached: Record<string, string> = {}, failAttach = false): { exec: Exec; calls: string[][] } {
  const calls: string[][] = [];
  let next = 20;
  const exec: Exec = async (argv) => {
    calls.push([...argv]);
    const ok = (stdout: string) => ({ exitCode: 0, stdout, stderr: '', durationMs: 1 });
    if (argv[1] === '--json') {
      const entries = Object.entries(attached).map(([file, name]) => ({ name, 'back-file': file, ro: false }));
      return ok(entries.length === 0 ? '' : JSON.stringify({ loopdevices: entries }));
    }
    if (argv[1] === '--find') {
      if (failAttach && next > 20) throw new CommandError(makeError('command-failed', 'losetup exited with code 1.'));
      return ok(`/dev/loop${next++}\n`);
    }
    return ok('');
  };
  return { exec, calls };
}

describe('demo disks', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pi-demo-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('attaches nothing and explains why when not root', async () => {
    const { exec, calls } = fakeLosetup();
    const demo = await setUpDemoDisks({ exec, cacheDir: dir, isRoot: false });
    expect(demo.disks).toEqual([]);
    expect(demo.notice).toBe(NOT_ROOT_NOTICE);
    expect(calls).toEqual([]);
  });

  it('makes sparse images once and attaches them, then detaches exactly those', async () => {
    const { exec, calls } = fakeLosetup();
    const demo = await setUpDemoDisks({ exec, cacheDir: dir, isRoot: true });
    expect(demo.disks).toEqual(['/dev/loop20', '/dev/loop21']);
    expect(demo.notice).toBeUndefined();
    const img1 = statSync(join(dir, 'virtual-disk-1.img'));
    expect(img1.size).toBe(64 * GiB);
    expect(img1.blocks * 512).toBeLessThan(1024 * 1024); // sparse: no real space used
    expect(statSync(join(dir, 'virtual-disk-2.img')).size).toBe(20 * GiB);
    expect(calls[1]).toEqual(['losetup', '--find', '--show', '--partscan', join(dir, 'virtual-disk-1.img')]);

    calls.length = 0;
    await demo.teardown();
    await demo.teardown();
    expect(calls).toEqual([
      ['losetup', '--detach', '/dev/loop21'],
      ['losetup', '--detach', '/dev/loop20'],
    ]);
  });

  it('reuses a loop device already attached to an image and leaves it attached', async () => {
    const { exec, calls } = fakeLosetup({ [join(dir, 'virtual-disk-1.img')]: '/dev/loop3' });
    const demo = await setUpDemoDisks({ exec, cacheDir: dir, isRoot: true });
    expect(demo.disks).toEqual(['/dev/loop3', '/dev/loop20']);
    expect(demo.attached).toEqual(['/dev/loop20']);
    calls.length = 0;
    await demo.teardown();
    expect(calls).toEqual([['losetup', '--detach', '/dev/loop20']]);
  });

  it('falls back to read-only with a notice when losetup fails, undoing what it attached', async () => {
    const { exec, calls } = fakeLosetup({}, true);
    const demo = await setUpDemoDisks({ exec, cacheDir: dir, isRoot: true });
    expect(demo.disks).toEqual([]);
    expect(demo.notice).toMatch(/Could not create virtual disks .*read-only/);
    expect(calls.at(-1)).toEqual(['losetup', '--detach', '/dev/loop20']);
  });

  it('parses losetup --json output, ignoring deleted backing files', () => {
    const out = JSON.stringify({
      loopdevices: [
        { name: '/dev/loop0', 'back-file': '/a.img' },
        { name: '/dev/loop1', 'back-file': '/b.img (deleted)' },
      ],
    });
    expect([...parseLosetupList(out)]).toEqual([['/a.img', '/dev/loop0']]);
    expect(parseLosetupList('').size).toBe(0);
  });

  it('puts images under XDG_CACHE_HOME when it is set', () => {
    expect(defaultDemoCacheDir({ XDG_CACHE_HOME: '/var/cache/x' })).toBe('/var/cache/x/particle-installer/demo');
    expect(defaultDemoCacheDir({ HOME: '/h' })).toMatch(/\.cache\/particle-installer\/demo$/);
  });
});
