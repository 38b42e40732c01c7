import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { fakeEnv } from '../fakes';
import type { LineClient, Reply } from '../support/line-client';
import { mountsUnder } from '../support/mounts';
import { installToEnd, RecoveryScratch } from '../support/recovery-harness';
import { documentedStates, startServiceChild, type ServiceChild } from '../support/service-child';
import { loopUnavailableReason, run, tryRun } from '../support/loop';
import { countWhenPassed } from './counts';

// kill -9 of the real engine service (a child process, as the live session runs it) at every step
// boundary of an erase-disk install on a loop device, then a fresh start of the service: it must
// release what the dead one left (from its state file) before it accepts an install, and the disk
// must be in the state docs/recovery.md names for that boundary. bootc and podman are the contract
// fake; the rest (sfdisk, mkfs, mount) is real.
const why = loopUnavailableReason(['sfdisk', 'mkfs.xfs', 'mkfs.vfat', 'mkfs.ext4', 'wipefs', 'partx', 'blkid']);
if (why) console.warn(`[security] recovery tests skipped: ${why}`);

const REPO = resolve(import.meta.dirname, '../..');
const HOSTNAME = 'recovered-box';

const DOCUMENTED = documentedStates(REPO);

type Service = ServiceChild;

/** Processes whose environment names this test's fake storage: the fake's bootc/podman runs (not the services themselves). */
function strayFakes(storage: string, services: readonly ChildProcess[] = []): number[] {
  const found: number[] = [];
  const mine = new Set(services.map((c) => c.pid));
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || mine.has(Number(e))) continue;
    try {
      if (readFileSync(`/proc/${e}/environ`, 'utf8').split('\0').includes(`PARTICLE_FAKE_STORAGE=${storage}`)) found.push(Number(e));
    } catch {
      /* gone, or not ours to read */
    }
  }
  return found;
}

describe.skipIf(why !== null)('recovery after the engine is killed (root, loop devices)', () => {
  let scratch: RecoveryScratch;
  let dir: string;
  let runRoot: string;
  let storage: string;
  let children: ChildProcess[];

  beforeAll(() => {
    scratch = RecoveryScratch.create('particle-recovery-');
    dir = scratch.dir;
    children = scratch.children;
    runRoot = join(dir, 'run');
    storage = join(dir, 'storage');
  });

  afterAll(() => scratch?.release(() => {
    for (const pid of strayFakes(storage, children)) tryRun(['kill', '-KILL', String(pid)]);
  }));

  function startService(extra: Record<string, string> = {}): Service {
    const svc = startServiceChild(['--import', 'tsx', 'src/cli/main.ts'], runRoot, REPO, fakeEnv({ storage, payloadMiB: 2, extra }));
    children.push(svc.child);
    return svc;
  }

  const stop = (svc: Service): Promise<void> => RecoveryScratch.stop(svc);
  const usedDisk = (name: string): Promise<string> => scratch.usedDisk(name);

  function request(disk: string): Record<string, unknown> {
    return {
      version: 1,
      disk: { path: disk },
      layout: { type: 'erase', filesystem: 'xfs' },
      image: { reference: 'quay.io/example/os:42' },
      hostname: HOSTNAME,
      users: [{ name: 'anna', password: 'a long enough password', admin: true }],
    };
  }

  async function plan(client: LineClient, disk: string): Promise<Reply> {
    const r = await client.call('planInstall', { request: request(disk) }, 60_000);
    expect(r.error, JSON.stringify(r.error)).toBeUndefined();
    return r.result;
  }

  const blkid = (dev: string, tag: string): string | null => {
    const r = spawnSync('blkid', ['-p', '-o', 'value', '-s', tag, dev], { encoding: 'utf8' });
    const v = r.stdout.trim();
    return r.status === 0 && v !== '' ? v : null;
  };

  /** Mounts the root read-only and hands its path to `look`. */
  function withRoot<T>(root: string, look: (mnt: string) => T): T {
    const mnt = mkdtempSync(join(dir, 'look-'));
    run(['mount', '-o', 'ro', root, mnt]);
    try {
      return look(mnt);
    } finally {
      tryRun(['umount', mnt]);
      rmSync(mnt, { recursive: true, force: true });
    }
  }

  function deployedEtc(mnt: string): string | null {
    const deployRoot = join(mnt, 'ostree/deploy/default/deploy');
    if (!existsSync(deployRoot)) return null;
    const dep = readdirSync(deployRoot).find((d) => d.endsWith('.0'));
    return dep === undefined ? null : join(deployRoot, dep, 'etc');
  }

  /** Checks the disk against one of the states docs/recovery.md names. */
  function expectDiskState(state: string, disk: string, p: Reply, before: string): void {
    const table = spawnSync('sfdisk', ['--json', disk], { encoding: 'utf8' });
    if (state === 'untouched') {
      expect(spawnSync('sfdisk', ['--dump', disk], { encoding: 'utf8' }).stdout, 'the partition table is as it was').toBe(before);
      return;
    }
    if (state === 'blank') {
      expect(table.status, 'no partition table is left').not.toBe(0);
      expect(blkid(disk, 'PTTYPE'), 'no table signature').toBeNull();
      expect(blkid(disk, 'TYPE'), 'no filesystem signature').toBeNull();
      return;
    }
    expect(table.status, table.stderr).toBe(0);
    const parsed = JSON.parse(table.stdout).partitiontable;
    expect(parsed.label).toBe('gpt');
    expect(parsed.partitions.map((x: { type: string }) => x.type.toLowerCase())).toEqual(p.partitions.map((x: { typeGuid: string }) => x.typeGuid));
    run(['partx', '--update', disk]);
    const root = p.partitions.at(-1) as { path: string; uuid: string };
    if (state === 'partitioned') {
      expect(blkid(root.path, 'TYPE'), 'the root partition has no filesystem yet').toBeNull();
      return;
    }
    expect(blkid(root.path, 'TYPE')).toBe('xfs');
    expect(blkid(root.path, 'UUID')).toBe(root.uuid);
    const etc = withRoot(root.path, (mnt) => {
      const e = deployedEtc(mnt);
      const log = join(mnt, 'ostree/deploy/default/var/log/particle-installer/install.log');
      return {
        deployed: e !== null,
        hostname: e !== null && existsSync(join(e, 'hostname')) ? readFileSync(join(e, 'hostname'), 'utf8') : null,
        entries: readdirSync(mnt),
        log: existsSync(log) ? readFileSync(log, 'utf8') : null,
      };
    });
    if (state === 'formatted') {
      expect(etc.deployed, `an empty filesystem, found ${etc.entries.join(', ')}`).toBe(false);
      return;
    }
    expect(etc.deployed, 'the image is deployed').toBe(true);
    if (state === 'deployed') {
      expect(etc.hostname, 'not configured yet').not.toBe(`${HOSTNAME}\n`);
      return;
    }
    expect(['configured', 'installed']).toContain(state);
    expect(etc.hostname).toBe(`${HOSTNAME}\n`);
    // Only an install that reached its last step keeps its log on the system.
    if (state === 'configured') {
      expect(etc.log, 'no install log before finalize').toBeNull();
      return;
    }
    expect(etc.log, 'finalize kept the install log in the system').toMatch(/STEP.*finalize/);
  }

  it('the documentation names a state for every step an erase install has', async () => {
    const disk = await usedDisk('steps');
    const svc = startService();
    const p = await plan(svc.client, disk);
    await stop(svc);
    const steps = (p.steps as { id: string }[]).map((s) => s.id).filter((id) => id !== 'teardown' && id !== 'verify-disk');
    expect(steps.length).toBeGreaterThan(5);
    for (const id of steps) expect(DOCUMENTED.get(id), `docs/recovery.md has no row for step ${id}`).toBeDefined();
  }, 120_000);

  // Every row of the table; a step this plan does not have (encryption, a separate boot-loader step)
  // is said so and skipped.
  it.for([...DOCUMENTED.keys()])('killed right after step %s: the next start releases everything and the disk is as documented', { timeout: 180_000 }, async (stepId: string, ctx: TestContext) => {
    const disk = await usedDisk(`kill-${stepId}`);
    const before = spawnSync('sfdisk', ['--dump', disk], { encoding: 'utf8' }).stdout;
    const svc = startService({ PARTICLE_TEST_KILL_AFTER_STEP: stepId });
    const p = await plan(svc.client, disk);
    const ids = (p.steps as { id: string }[]).map((s) => s.id);
    if (!ids.includes(stepId)) {
      console.warn(`[security] recovery after "${stepId}" skipped: an unencrypted bootc erase plan has no such step (its steps: ${ids.join(', ')})`);
      svc.child.kill('SIGKILL');
      await svc.exited;
      ctx.skip();
      return;
    }
    const pid = svc.child.pid!;
    void svc.client.call('startInstall', { planId: p.id }).catch(() => {});
    const ended = await svc.exited;
    expect(ended.signal, `the engine was to kill itself after ${stepId}: ${svc.stderr()}`).toBe('SIGKILL');

    // What the dead engine left: its state file names the step; from mount on, the target is still mounted.
    const stateFile = join(runRoot, `engine-${pid}.json`);
    const record = JSON.parse(readFileSync(stateFile, 'utf8'));
    expect(record.install.step).toBe(stepId);
    expect(record.install.disk).toBe(disk);
    const mountedFrom = ids.indexOf('mount');
    if (ids.indexOf(stepId) >= mountedFrom) expect(mountsUnder(runRoot).length, 'the dead engine left its target mounted').toBeGreaterThan(0);

    const next = startService();
    const info = await next.client.call('getInfo', {}, 60_000);
    expect(info.result.mode).toBe('test');
    // Recovery is done before the service answers at all.
    expect(next.stderr()).toContain(`recovered after engine ${pid} stopped unexpectedly during step "${stepId}"`);
    expect(mountsUnder(runRoot)).toEqual([]);
    expect(existsSync(stateFile)).toBe(false);
    expect(existsSync(record.install.runDir)).toBe(false);
    // Recovery does not write to the disk: it is exactly where the dead engine left it.
    expectDiskState(DOCUMENTED.get(stepId)!, disk, p, before);
    // And the new engine accepts an install on it.
    const again = await plan(next.client, disk);
    expect(again.disk.path).toBe(disk);
    await stop(next);
    countWhenPassed('recovery-passed', 1);
  });

  it('kill -9 in the middle of the deploy: a stray bootc is stopped, the target released, and a new install completes', async () => {
    const disk = await usedDisk('kill-mid-deploy');
    const svc = startService({ PARTICLE_FAKE_HANG: 'deploy' });
    const p = await plan(svc.client, disk);
    const deployIndex = (p.steps as { id: string }[]).findIndex((s) => s.id === 'deploy');
    void svc.client.call('startInstall', { planId: p.id }).catch(() => {});
    // Wait until the deploy has started and the fake is running on the mounted target.
    const until = Date.now() + 60_000;
    while (Date.now() < until && !(svc.client.notifications.some((n) => n.params?.kind === 'step-started' && n.params.index === deployIndex) && strayFakes(storage, children).length > 0)) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(strayFakes(storage, children).length, `the deploy did not start: ${svc.stderr()}`).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 500));
    const pid = svc.child.pid!;
    svc.child.kill('SIGKILL');
    await svc.exited;
    const stray = strayFakes(storage, children);
    expect(stray.length, 'killing the engine leaves its bootc running').toBeGreaterThan(0);
    expect(mountsUnder(runRoot).length).toBeGreaterThan(0);

    const next = startService();
    await next.client.call('getInfo', {}, 60_000);
    expect(next.stderr()).toContain(`recovered after engine ${pid} stopped unexpectedly during step "deploy"`);
    // The stray deploy is stopped by removing its container (podman rm --force stops what runs in
    // it) or, if something still holds the target after that, by stopping the process: which one
    // does it depends on how fast the removal is. Either way the recovery says what it did, and no
    // stray is left (below).
    expect(next.stderr()).toMatch(/stopped process \d+|podman [^;]* rm --force --ignore particle-deploy-/);
    const describeProc = (pid: number): string => {
      try {
        return `${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ')} (${/^State:.*$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[0]})`;
      } catch {
        return `${pid}: gone`;
      }
    };
    expect(strayFakes(storage, children).map(describeProc), next.stderr()).toEqual([]);
    expect(mountsUnder(runRoot)).toEqual([]);

    const fresh = await plan(next.client, disk);
    const state = await installToEnd(next.client, fresh.id, 150_000);
    expect(state.outcome?.kind, JSON.stringify(state.outcome)).toBe('finished');
    expectDiskState('installed', disk, fresh, '');
    expect(readdirSync(runRoot).filter((f) => f.startsWith('engine-')), 'a finished install leaves no state file').toEqual([]);
    await stop(next);
    countWhenPassed('recovery-passed', 1);
  }, 240_000);

  it('while something cannot be released, every install is refused with what is held', async () => {
    const disk = await usedDisk('refused');
    // A state file that cannot be read: its engine (a pid above the kernel's maximum) is gone.
    const bad = join(runRoot, 'engine-99999999.json');
    writeFileSync(bad, '{"version": 1, "pid": 99999999, "loops": [tru', { mode: 0o600 });
    try {
      const svc = startService();
      const r = await svc.client.call('planInstall', { request: request(disk) }, 60_000);
      expect(r.error?.data?.code).toBe('disk-refused');
      expect(r.error.data.message).toContain('engine-99999999.json');
      expect(r.error.data.message).toMatch(/restart the computer/);
      await stop(svc);
    } finally {
      rmSync(bad, { force: true });
    }
    countWhenPassed('recovery-passed', 1);
  }, 120_000);
});
