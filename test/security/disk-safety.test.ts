import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyDisks } from '../../src/engine/disks';
import type { ProbeSnapshot } from '../../src/engine/disks/types';
import { createEngine, type Engine } from '../../src/engine/engine';
import { CommandError } from '../../src/engine/exec';
import { Installer } from '../../src/engine/installer';
import { DEFAULT_MINIMUM_DISK_SIZE, type Disk, type InstallerError } from '../../src/shared';
import { attachLoop, ensurePartitionNode, loopUnavailableReason, run, sparseFile, tryRun } from '../support/loop';
import { countWhenPassed } from './counts';

// Nothing reaches a disk without a confirmed plan for exactly that disk. Real loop devices and the
// real engine (test mode: loop devices may be offered) for the swaps and mounts; saved probes of
// real machines for the live medium, which cannot be faked on this host without lying about /run.
const why = loopUnavailableReason(['sfdisk', 'mkfs.ext4', 'partx', 'blkid']);
if (why) console.warn(`[security] disk-safety tests on loop devices skipped: ${why}`);

const GiB = 1024 ** 3;
const MACHINES = resolve(import.meta.dirname, '../fixtures/machines');

function request(disk: Record<string, unknown>): Record<string, unknown> {
  return {
    version: 1,
    disk,
    layout: { type: 'erase', filesystem: 'xfs' },
    image: { reference: 'quay.io/example/os:42' },
    hostname: 'safe-box',
    users: [{ name: 'anna', password: 'a long enough password', admin: true }],
  };
}

/** The InstallerError a promise was refused with (the engine refuses as data inside a CommandError). */
async function refusal(p: Promise<unknown>): Promise<InstallerError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof CommandError) return e.error;
    throw e;
  }
  throw new Error('expected a refusal, but the call succeeded');
}

function hasTable(dev: string): boolean {
  return spawnSync('sfdisk', ['--dump', dev], { stdio: 'ignore' }).status === 0;
}

describe.skipIf(why !== null)('disk safety on loop devices (root)', () => {
  let dir: string;
  let engine: Engine;
  const loops: string[] = [];
  const mounts: string[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'particle-disksafety-'));
    engine = createEngine({ mode: 'test', minimumSize: GiB, runRoot: join(dir, 'run'), logDir: join(dir, 'log') });
  });

  afterAll(() => {
    for (const m of mounts.reverse()) tryRun(['umount', m]);
    for (const l of loops) {
      tryRun(['partx', '--delete', l]);
      tryRun(['losetup', '--detach', l]);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A 4 GiB disk with a DOS table and an ext4 filesystem holding a file we can look for afterwards. */
  async function diskWithData(name: string): Promise<{ dev: string; file: string; part: string }> {
    const file = join(dir, `${name}.img`);
    sparseFile(file, 4 * GiB);
    const dev = attachLoop(file);
    loops.push(dev);
    run(['sfdisk', '--quiet', dev], 'label: dos\n,,L\n');
    const part = await ensurePartitionNode(dev, 1);
    run(['mkfs.ext4', '-q', '-F', part]);
    const mnt = join(dir, `${name}-mnt`);
    mkdirSync(mnt);
    run(['mount', part, mnt]);
    writeFileSync(join(mnt, 'precious.txt'), 'family photos\n');
    run(['umount', mnt]);
    return { dev, file, part };
  }

  function dataStillThere(part: string): boolean {
    const mnt = mkdtempSync(join(dir, 'check-'));
    run(['mount', '-o', 'ro', part, mnt]);
    try {
      return readFileSync(join(mnt, 'precious.txt'), 'utf8') === 'family photos\n';
    } finally {
      tryRun(['umount', mnt]);
    }
  }

  it('a disk swapped at the same loop path between plan and install is refused, and neither file is written', async () => {
    const a = await diskWithData('swap-a');
    const plan = await engine.handlers.planInstall({ request: request({ path: a.dev }) as never });
    expect(plan.disk.diskSeq, 'this kernel gives loop devices a disk sequence number').not.toBeNull();

    // Detach the planned disk and attach another file of the same size at the very same path.
    const other = join(dir, 'swap-b.img');
    sparseFile(other, 4 * GiB);
    run(['losetup', '--detach', a.dev]);
    run(['losetup', a.dev, other]);
    expect(readFileSync(`/sys/block/${a.dev.slice(5)}/loop/backing_file`, 'utf8').trim()).toBe(other);

    const err = await refusal(engine.handlers.startInstall({ planId: plan.id }));
    expect(err.code).toBe('disk-changed');
    expect(err.message).toContain(a.dev);
    expect(err.message).toMatch(/disk sequence number/);
    expect(err.message).toMatch(/Nothing was written/);
    expect(engine.installer!.getState().phase).toBe('idle');
    expect(hasTable(a.dev), 'the other file got no partition table').toBe(false);
    countWhenPassed('disk-safety-refused');

    // Put the original back: even the same file, attached again, is a new attachment and refused.
    run(['losetup', '--detach', a.dev]);
    run(['losetup', a.dev, a.file]);
    tryRun(['partx', '--add', a.dev]);
    const again = await refusal(engine.handlers.startInstall({ planId: plan.id }));
    expect(again.code).toBe('disk-changed');
    expect(dataStillThere(a.part)).toBe(true);
    countWhenPassed('disk-safety-refused');
  });

  it('a partition mounted after the plan was made is refused at install time, and its data kept', async () => {
    const d = await diskWithData('mounted-later');
    const plan = await engine.handlers.planInstall({ request: request({ path: d.dev }) as never });
    const mnt = join(dir, 'mounted-later-mnt');
    run(['mount', d.part, mnt]);
    mounts.push(mnt);
    const err = await refusal(engine.handlers.startInstall({ planId: plan.id }));
    expect(err.code).toBe('disk-refused');
    expect(err.message).toContain(d.part);
    expect(err.message).toMatch(/mounted/);
    expect(readFileSync(join(mnt, 'precious.txt'), 'utf8')).toBe('family photos\n');
    countWhenPassed('disk-safety-refused');
    run(['umount', mnt]);
    mounts.pop();
  });

  it('hand-crafted requests for refused disks are refused before anything runs', async () => {
    // A mounted disk, a read-only one, a partition instead of a disk, a path that is no disk.
    const mountedDisk = await diskWithData('mounted-now');
    const mnt = join(dir, 'mounted-now-mnt');
    run(['mount', mountedDisk.part, mnt]);
    mounts.push(mnt);
    const roFile = join(dir, 'ro.img');
    sparseFile(roFile, 4 * GiB);
    const ro = run(['losetup', '--find', '--show', '--read-only', roFile]).trim();
    loops.push(ro);

    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ path: mountedDisk.dev }, 'disk-refused', /mounted/],
      [{ path: ro }, 'disk-refused', /read-only/],
      [{ path: mountedDisk.part }, 'disk-not-found', /No disk matches/],
      [{ path: '/dev/null' }, 'disk-not-found', /No disk matches/],
      [{ path: '/dev/../etc/passwd' }, 'invalid-answer-file', /disk\.path/],
      [{ path: '/etc/passwd' }, 'invalid-answer-file', /under \/dev/],
      [{ serial: 'NO-SUCH-SERIAL' }, 'disk-not-found', /serial/],
    ];
    for (const [disk, code, message] of cases) {
      const err = await refusal(engine.handlers.planInstall({ request: request(disk) as never }));
      expect(err.code, JSON.stringify(disk)).toBe(code);
      expect(err.message, JSON.stringify(disk)).toMatch(message);
      countWhenPassed('disk-safety-refused');
    }
    // A plan id nobody was shown cannot be started.
    const forged = await refusal(engine.handlers.startInstall({ planId: '00000000-0000-4000-8000-000000000000' }));
    expect(forged.message).toMatch(/No such plan/);
    countWhenPassed('disk-safety-refused');
    expect(readFileSync(join(mnt, 'precious.txt'), 'utf8')).toBe('family photos\n');
    run(['umount', mnt]);
    mounts.pop();
  });

  it('an engine in normal mode refuses loop devices even when a request names one', async () => {
    const file = join(dir, 'normal.img');
    sparseFile(file, 20 * GiB);
    const dev = attachLoop(file);
    loops.push(dev);
    const normal = createEngine({ mode: 'normal', runRoot: join(dir, 'run-normal'), logDir: join(dir, 'log') });
    const err = await refusal(normal.handlers.planInstall({ request: request({ path: dev }) as never }));
    expect(err.code).toBe('disk-refused');
    expect(err.message).toMatch(/loop|virtual/i);
    expect(hasTable(dev)).toBe(false);
    countWhenPassed('disk-safety-refused');
  });
});

describe('the live medium cannot be installed to (saved probes of real live sessions)', () => {

  function installerFor(machine: string): { installer: Installer; disks: Disk[] } {
    const snapshot = JSON.parse(readFileSync(join(MACHINES, machine, 'snapshot.json'), 'utf8')) as ProbeSnapshot;
    const disks = classifyDisks(snapshot, { minimumSize: DEFAULT_MINIMUM_DISK_SIZE, allowLoop: 'none' });
    const installer = new Installer({
      exec: async () => {
        throw new Error('nothing may run');
      },
      probe: async () => disks,
      facts: () => ({ firmware: 'uefi', arch: 'x64', tpm: false, memoryBytes: 8 * GiB, consoleArgs: [] }),
      runRoot: join(tmpdir(), 'particle-never-used'),
      emit: () => {},
    });
    return { installer, disks };
  }

  it.each(['live-usb-boot', 'iso-loopback-usb'])('%s: every way of naming the live medium is refused', async (machine) => {
    const { installer, disks } = installerFor(machine);
    const live = disks.filter((d) => d.reasons.some((r) => r.code === 'live-medium'));
    expect(live.length).toBeGreaterThan(0);
    for (const d of live) {
      const selectors: Record<string, unknown>[] = [{ path: d.path }];
      if (d.byIdPath) selectors.push({ byId: d.byIdPath });
      if (d.serial) selectors.push({ serial: d.serial });
      if (d.wwn) selectors.push({ wwn: d.wwn });
      for (const sel of selectors) {
        const err = await refusal(installer.plan(request(sel)));
        expect(err.code, JSON.stringify(sel)).toBe('disk-refused');
        expect(err.message).toMatch(/live/i);
        countWhenPassed('disk-safety-refused');
      }
    }
    // "The largest eligible disk" never picks it either.
    const auto = await installer.plan(request({ largestEligible: true })).then(
      (p) => p.disk.path,
      (e: unknown) => (e instanceof CommandError ? e.error.code : String(e)),
    );
    expect(live.map((d) => d.path)).not.toContain(auto);
  });
});
