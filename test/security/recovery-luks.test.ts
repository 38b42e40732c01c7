import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstallPlan } from '../../src/shared';
import { bundleGuestScript, guestResults, killAllVms, runInVm, vmImage, vmUnavailable, type RunInVmResult } from '../vm/index';
import { countWhenPassed } from './counts';
import { documentedStates } from '../support/service-child';

// The LUKS half of test/security/recovery.test.ts: the host kernel has no device-mapper, so the
// kill -9 at the boundaries around encryption runs in the VM (test/vm/guest/recovery-luks.ts). There
// the real engine service, a child over stdio, installs with LUKS2 onto a blank virtio disk and kills
// itself right after one step; a second start must close the LUKS mapping and release the mounts it
// left before it answers, and the disk must be in the state docs/recovery.md names for that step.
// The guest reports facts as JSON lines; this file judges them.
const why = vmUnavailable();
if (why) console.warn(`[security] LUKS recovery tests skipped: ${why}`);

const REPO = resolve(import.meta.dirname, '../..');
const STEPS = ['encrypt', 'mount', 'deploy'] as const;
const HOSTNAME = 'recovered-luks';

const DOCUMENTED = documentedStates(REPO);

interface Inside {
  openExit: number;
  openError?: string;
  blkid: Record<string, string>;
  deployments?: string[];
  deployedHostname?: string | null;
  mountError?: string;
  closed: boolean;
}

interface GuestResult {
  variant: string;
  exception?: string;
  dev: string;
  pid: number;
  plan: InstallPlan;
  steps: string[];
  rootFsUuid: string | null;
  killedSeconds: number;
  recoverySeconds: number;
  seconds: number;
  before: {
    exit: { code: number | null; signal: string | null };
    startInstallError: unknown;
    stateFile: boolean;
    stateStep: string | null;
    stateDisk: string | null;
    passphraseInStateFile: boolean;
    runDir: string | null;
    runDirExists: boolean;
    mappers: string[];
    mounts: string[];
    stderrTail: string;
  };
  after: {
    infoMode: string | null;
    infoError: unknown;
    recoveredLines: string[];
    passphraseInStderr: boolean;
    mappers: string[];
    mounts: string[];
    stateFileGone: boolean;
    runDirGone: boolean;
    rootPart: string;
    rootIsLuks2: boolean;
    inside: Inside;
  };
  newPlan: { error?: unknown; diskPath?: string | null; id?: string | null };
  stop: { code: number | null; signal: string | null; error?: string };
  stopStderrTail: string;
}

describe.skipIf(why !== null)('recovery after the engine is killed during a LUKS2 install (VM, real engine service, bootc fake)', () => {
  let r: RunInVmResult;
  let results: Map<string, GuestResult>;
  const figures: string[] = [];

  beforeAll(async () => {
    await vmImage();
    r = await runInVm(`HOME=/tmp PARTICLE_ENGINE_CLI=${await bundleGuestScript('cli', 'src/cli/main.ts')} node ${await bundleGuestScript('recovery-luks')}`, {
      disks: STEPS.map((step) => ({ serial: `rec-${step}`, size: '20G' })),
      memoryMiB: 3072,
      timeoutMs: 1_500_000,
    });
    figures.push(`boot-to-command (${r.accel}): ${r.bootSeconds.toFixed(1)} s; whole VM run: ${r.totalSeconds.toFixed(1)} s`);
    try {
      results = guestResults<GuestResult>(r.output);
    } catch (e) {
      throw new Error(`could not parse the guest's results (${(e as Error).message}); guest output:\n${r.output}`);
    }
    for (const res of results.values()) {
      if (typeof res.seconds !== 'number') continue;
      figures.push(
        `in-guest after ${res.variant}: ${res.seconds.toFixed(1)} s (install until the kill ${res.killedSeconds.toFixed(1)} s, restart with recovery until getInfo answered ${res.recoverySeconds.toFixed(1)} s)`,
      );
      for (const line of res.after?.recoveredLines ?? []) figures.push(`  ${line.replace(/^.*?(recovered after)/, '$1')}`);
    }
  }, 1_600_000);

  afterAll(() => {
    killAllVms();
    console.log(`[security] LUKS recovery figures:\n  ${figures.join('\n  ')}`);
  });

  /** The result for `step`, failing with the guest's whole output when it is missing or threw. */
  const result = (step: string): GuestResult => {
    const res = results.get(step);
    if (!res || res.exception) throw new Error(`no result for ${step}${res?.exception ? ` (exception: ${res.exception})` : ''}; guest output:\n${r.output}`);
    return res;
  };

  it('the guest ran every kill and recovery without an unexpected exception', () => {
    expect(r.exitCode, r.output).toBe(0);
    expect([...results.keys()].sort(), r.output).toEqual([...STEPS].sort());
  });

  it.each(STEPS)('killed right after step %s: the next start closes LUKS, releases the mounts, and the disk is as documented', (step) => {
    const res = result(step);
    const { plan, before, after } = res;
    const ctx = JSON.stringify({ before, after, newPlan: res.newPlan, stop: res.stop }, null, 1);
    const mapper = `particle-${plan.id.slice(0, 8)}`;
    const state = DOCUMENTED.get(step);
    expect(state, `docs/recovery.md has no row for step ${step}`).toBeDefined();

    // The plan is the encrypted erase layout on the disk chosen by serial, and has the step.
    expect(plan.disk.path).toBe(res.dev);
    expect(plan.disk.serial).toBe(`rec-${step}`);
    expect(res.steps).toContain('encrypt');
    expect(res.steps).toContain(step);

    // The engine killed itself right after the step; its state file names the step and the disk.
    expect(before.exit.signal, `the engine was to kill itself after ${step}:\n${before.stderrTail}`).toBe('SIGKILL');
    expect(before.startInstallError, ctx).toBeNull();
    expect(before.stateFile, ctx).toBe(true);
    expect(before.stateStep).toBe(step);
    expect(before.stateDisk).toBe(res.dev);
    expect(before.passphraseInStateFile, 'the state file holds no passphrase').toBe(false);
    expect(before.runDirExists).toBe(true);
    // What it left: the LUKS mapping from encrypt on, the target mounted from mount on.
    expect(before.mappers, ctx).toEqual([mapper]);
    if (step === 'mount' || step === 'deploy') expect(before.mounts.length, ctx).toBeGreaterThan(0);
    else expect(before.mounts, ctx).toEqual([]);

    // The next start released it all before it answered, and said so in one line.
    expect(after.infoError, ctx).toBeNull();
    expect(after.infoMode).toBe('test');
    expect(after.recoveredLines, ctx).toHaveLength(1);
    const line = after.recoveredLines[0]!;
    expect(line).toContain(`recovered after engine ${res.pid} stopped unexpectedly during step "${step}"`);
    expect(line).toContain(`cryptsetup close ${mapper}`);
    if (step === 'mount' || step === 'deploy') expect(line).toMatch(/umount --recursive \S+\/target/);
    expect(line).not.toMatch(/Still held/);
    expect(after.passphraseInStderr, 'the passphrase is never logged').toBe(false);
    expect(after.mappers, ctx).toEqual([]);
    expect(after.mounts, ctx).toEqual([]);
    expect(after.stateFileGone, ctx).toBe(true);
    expect(after.runDirGone, ctx).toBe(true);

    // Recovery never writes to the disk: the root partition is still the plan's LUKS2 volume, and
    // what is inside it is the documented state for this step.
    const rootPart = plan.partitions.find((p) => p.mountpoint === '/')!;
    expect(after.rootPart).toBe(rootPart.path);
    expect(after.rootIsLuks2, ctx).toBe(true);
    const inside = after.inside;
    expect(inside.openExit, inside.openError).toBe(0);
    expect(inside.closed, 'the check closed what it opened').toBe(true);
    if (state === 'partitioned') {
      expect(inside.blkid.TYPE, `nothing inside the LUKS volume yet: ${JSON.stringify(inside.blkid)}`).toBeUndefined();
    } else {
      expect(inside.blkid.TYPE, ctx).toBe('xfs');
      expect(inside.blkid.UUID).toBe(res.rootFsUuid);
      expect(inside.mountError, ctx).toBeUndefined();
      if (state === 'formatted') {
        expect(inside.deployments, 'an empty filesystem').toEqual([]);
      } else {
        expect(state).toBe('deployed');
        expect(inside.deployments?.length, ctx).toBe(1);
        expect(inside.deployedHostname, 'not configured yet').not.toBe(`${HOSTNAME}\n`);
      }
    }

    // The new engine accepts an install on the same disk, and stops in order.
    expect(res.newPlan.error, ctx).toBeUndefined();
    expect(res.newPlan.diskPath).toBe(res.dev);
    expect(res.stop.code, res.stopStderrTail).toBe(0);
    countWhenPassed('recovery-passed', 1);
  });
});
