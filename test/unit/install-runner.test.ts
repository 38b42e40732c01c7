import { describe, expect, it } from 'vitest';
import { ProgressEventSchema, type InstallPlan, type ProgressEvent, type StepId } from '../../src/shared/install';
import { runPlan, teardownCheck, type RunContext, type RunOutcome } from '../../src/engine/install';

import { T0, ROOT, DEPLOYMENT, STATEROOT_VAR, PASSPHRASE, run, testPlan, indexOf, Harness, harness } from '../support/runner-harness';

const DESTRUCTIVE = /^(wipefs|sfdisk|partx|cryptsetup luksFormat|mkfs|mkswap|podman|useradd|bootc)/;

function expectValidEvents(events: readonly ProgressEvent[]): void {
  for (const ev of events) expect(ProgressEventSchema.safeParse(ev).success, JSON.stringify(ev)).toBe(true);
  const fractions = events.flatMap((ev) => ('overall' in ev ? [ev.overall.fraction] : []));
  for (let i = 1; i < fractions.length; i++) expect(fractions[i]).toBeGreaterThanOrEqual(fractions[i - 1] as number);
}

const final = (events: readonly ProgressEvent[]) => events.filter((e) => e.kind === 'finished' || e.kind === 'failed');
const failedEvent = (events: readonly ProgressEvent[]) => {
  const ev = events.at(-1);
  if (ev?.kind !== 'failed') throw new Error(`last event is ${ev?.kind}, not failed`);
  return ev;
};

// ---- success -----------------------------------------------------------------------------------

describe('runPlan: a successful install', () => {
  it('runs every action in order with placeholders resolved, then tears down', async () => {
    const h = harness();
    const outcome = await runPlan(testPlan(), h.ctx);
    expect(outcome).toMatchObject({ ok: true, cancelled: false, diskState: 'installed', failedStep: null });
    expect(h.machine.argvs()).toEqual([
      'blockdev --getsize64 /dev/vdb',
      'wipefs --all /dev/vdb',
      'sfdisk /dev/vdb',
      'partx -u /dev/vdb',
      'cryptsetup luksFormat --batch-mode --key-file - /dev/vdb3',
      'cryptsetup open --key-file - /dev/vdb3 root',
      'mkfs.vfat /dev/vdb1',
      'mkswap /dev/vdb2',
      'mkfs.xfs -f /dev/mapper/root',
      `mount /dev/mapper/root ${ROOT}`,
      `mount /dev/vdb1 ${ROOT}/boot/efi`,
      'swapon /dev/vdb2',
      'podman run --rm example.org/os:latest bootc install to-filesystem /target',
      `useradd -R ${DEPLOYMENT} -m ada`,
      `bootc install finalize ${ROOT}`,
      'swapoff /dev/vdb2',
      `umount ${ROOT}/boot/efi`,
      `umount --recursive ${ROOT}`,
      'cryptsetup close root',
    ]);
    expect(h.machine.calls.filter((c) => c.input !== undefined).map((c) => [c.argv[1], c.input])).toEqual([
      ['/dev/vdb', 'label: gpt\n'],
      ['luksFormat', PASSPHRASE],
      ['open', PASSPHRASE],
    ]);
    expect(h.machine.files.get(`${DEPLOYMENT}/etc/hostname`)).toEqual({ content: 'ada-laptop\n', mode: 0o644 });
    expect(h.machine.dirs.get(`${STATEROOT_VAR}/home/ada`)).toBe(0o700);
    expect(h.machine.links.get(`${DEPLOYMENT}/etc/localtime`)).toBe('../usr/share/zoneinfo/Europe/Paris');
    expect(h.machine.mounted.size + h.machine.mappers.size + h.machine.swaps.size).toBe(0);
    // The log so far, on the installed system: its directory made, 0600, every step up to finalize
    // in it, the passphrase nowhere.
    expect(h.machine.dirs.has(`${STATEROOT_VAR}/log/particle-installer`)).toBe(true);
    const kept = h.machine.files.get(`${STATEROOT_VAR}/log/particle-installer/install.log`);
    expect(kept?.mode).toBe(0o600);
    expect(kept?.content).toContain('bootc install finalize');
    expect(kept?.content).toMatch(/STEP.*configure/);
    expect(kept?.content).not.toContain(PASSPHRASE);
  });

  it('emits schema-valid events: fractions rise from 0 to 1, the ETA appears, finished comes last', async () => {
    const h = harness();
    const plan = testPlan();
    await runPlan(plan, h.ctx);
    expectValidEvents(h.events);
    const withOverall = h.events.filter((e) => e.kind !== 'log');
    expect(withOverall[0]).toMatchObject({ kind: 'step-started', step: 'verify-disk', index: 0, overall: { fraction: 0, etaSeconds: null } });
    expect(h.events.at(-1)).toMatchObject({ kind: 'finished', reboot: true, overall: { fraction: 1, etaSeconds: 0 } });
    expect(final(h.events)).toHaveLength(1);
    const started = h.events.flatMap((e) => (e.kind === 'step-started' ? [e.step] : []));
    const finished = h.events.flatMap((e) => (e.kind === 'step-finished' ? [e.step] : []));
    expect(started).toEqual(plan.steps.map((s) => s.id));
    expect(finished).toEqual(started);
    const etas = withOverall.flatMap((e) => ('overall' in e && e.overall.fraction > 0.05 && e.overall.fraction < 1 ? [e.overall.etaSeconds] : []));
    expect(etas.length).toBeGreaterThan(0);
    for (const eta of etas) expect(eta).not.toBeNull();
    expect(h.events.some((e) => e.kind === 'log')).toBe(true);
  });

  it('weights the running step by its own fraction, fed by an output parser', async () => {
    const h = harness();
    const ctx: RunContext = {
      ...h.ctx,
      execStreaming: h.machine.execStreaming,
      progressFor: (s) => {
        if (s.id !== 'deploy') return null;
        return (line) => {
          const m = /^stage (\d+)\/4$/.exec(line);
          return m ? { fraction: Number(m[1]) / 4, message: `stage ${m[1]}` } : null;
        };
      },
    };
    // Chunks split lines anywhere; they arrive far apart in time, so none is held by the throttle.
    h.machine.output = (argv) => (argv[0] === 'podman' ? ['stage 1/', '4\n', 'noise\r', 'stage 2/4\r\n', 'stage 3/4\n'] : []);
    h.machine.chunkGapMs = 500;
    await runPlan(testPlan(), ctx);
    const deploy = h.events.flatMap((e) => (e.kind === 'step-progress' && e.step === 'deploy' ? [e.fraction] : []));
    expect(deploy).toEqual([0.25, 0.5, 0.75, 1]);
    const messages = h.events.flatMap((e) => (e.kind === 'step-progress' && e.step === 'deploy' ? [e.message] : []));
    expect(messages).toEqual(['stage 1', 'stage 2', 'stage 3', 'stage 3']);
    expectValidEvents(h.events);
  });

  it('throttles step-progress to about five a second, delivering the latest before step-finished', async () => {
    const h = harness();
    const lines: string[] = [];
    h.machine.output = (argv) => (argv[0] === 'podman' ? Array.from({ length: 1000 }, (_, i) => `progress ${i + 1}/1000\n`) : []);
    const ctx: RunContext = {
      ...h.ctx,
      execStreaming: h.machine.execStreaming,
      onCommandOutput: (s, line) => lines.push(`${s}:${line}`),
      progressFor: (s) => (s.id === 'deploy' ? (line) => Number(/(\d+)\/1000/.exec(line)?.[1] ?? NaN) / 1000 : null),
    };
    await runPlan(testPlan(), ctx);
    expect(lines).toHaveLength(1000);
    expect(lines[0]).toBe('deploy:progress 1/1000');
    const idx = h.events.map((e, i) => (e.kind === 'step-progress' && e.step === 'deploy' ? i : -1)).filter((i) => i >= 0);
    // 1000 updates over one second of fake time, plus the command's own completion a second later.
    expect(idx.length).toBeGreaterThanOrEqual(2);
    expect(idx.length).toBeLessThanOrEqual(8);
    const times = idx.map((i) => h.eventTimes[i] as number);
    const perSecond = new Map<number, number>();
    for (const t of times) perSecond.set(Math.floor((t - T0) / 1000), (perSecond.get(Math.floor((t - T0) / 1000)) ?? 0) + 1);
    for (const n of perSecond.values()) expect(n).toBeLessThanOrEqual(6);
    const last = h.events[idx.at(-1) as number];
    expect(last).toMatchObject({ kind: 'step-progress', fraction: 1 });
    expect(h.events[(idx.at(-1) as number) + 1]).toMatchObject({ kind: 'step-finished', step: 'deploy' });
    expectValidEvents(h.events);
  });
});

// ---- failure at each step ----------------------------------------------------------------------

const FAIL_AT: Record<string, string> = {
  'verify-disk': 'blockdev',
  wipe: 'wipefs',
  partition: 'sfdisk',
  encrypt: 'cryptsetup luksFormat',
  format: 'mkfs.xfs',
  mount: `mount /dev/vdb1`,
  deploy: 'podman',
  configure: 'useradd',
  finalize: 'bootc install finalize',
};

const EXPECTED_RETRY: Record<string, string> = {
  'verify-disk': 'verify-disk',
  wipe: 'wipe',
  partition: 'wipe',
  encrypt: 'wipe',
  format: 'wipe',
  mount: 'mount',
  deploy: 'wipe',
  configure: 'configure',
  finalize: 'finalize',
};

describe("runPlan: bootc's own reason for failing", () => {
  it("puts bootc's error line and what to do into the message a person reads", async () => {
    const h = harness();
    // bootc's empty-root check, as its main prints it (crates/utils/src/lib.rs:59-63; the causes at
    // crates/lib/src/install.rs:2240-2290, bootc-dev/bootc 534c76ea474a356aa288f6767635e579ea2614d5).
    h.machine.failStderr = 'error: Installing to filesystem: Verifying empty rootfs: Requiring directory contains only mount points: Found entry in boot: grub2';
    h.machine.failOn = (argv) => argv.join(' ').startsWith(FAIL_AT.deploy!);
    const outcome = await runPlan(testPlan(), h.ctx);
    expect(outcome.error?.message).toBe(
      `${outcome.error?.command?.[0]} exited with code 1: Installing to filesystem: Verifying empty rootfs: Requiring directory contains only mount points: Found entry in boot: grub2 The target file system is not empty (perhaps from an earlier failed attempt): format it and try again.`,
    );
    expect(outcome.error?.stderrTail).toContain('Found entry in boot: grub2');
  });

  it('leaves other commands\' messages alone', async () => {
    const h = harness();
    h.machine.failStderr = 'error: something';
    h.machine.failOn = (argv) => argv.join(' ').startsWith(FAIL_AT.format!);
    const outcome = await runPlan(testPlan(), h.ctx);
    expect(outcome.error?.message).toMatch(/^mkfs\.\S+ exited with code 1\.$/);
  });
});

describe('runPlan: a command fails', () => {
  for (const [stepId, prefix] of Object.entries(FAIL_AT)) {
    it(`at ${stepId}: stops, tears down what exists, names the step and the command, advises a retry`, async () => {
      const h = harness();
      h.machine.failOn = (argv) => argv.join(' ').startsWith(prefix);
      const plan = testPlan();
      const outcome = await runPlan(plan, h.ctx);
      const i = indexOf(plan, stepId as StepId);
      expect(outcome).toMatchObject({ ok: false, cancelled: false, failedStep: i, diskState: stepId === 'verify-disk' ? 'untouched' : 'partially-written' });
      expect(outcome.error).toMatchObject({ code: 'command-failed', step: stepId, exitCode: 1 });
      expect(outcome.error?.command?.join(' ').startsWith(prefix)).toBe(true);
      expect(outcome.error?.stderrTail).toBe('bad key ***');

      const ev = failedEvent(h.events);
      expect(ev).toMatchObject({ cancelled: false, diskState: outcome.diskState, retry: { from: EXPECTED_RETRY[stepId] }, error: { step: stepId } });
      if (stepId === 'deploy') expect(ev.retry.reason).toMatch(/bootc does not roll back/);
      if (stepId === 'configure') expect(ev.retry.reason).toBe('the filesystems are intact; the install resumes at configure');
      expectValidEvents(h.events);

      // Nothing after the failed command ran but teardown, and teardown released only what existed.
      const argvs = h.machine.argvs();
      const failedAt = argvs.findIndex((a) => a.startsWith(prefix));
      const after = argvs.slice(failedAt + 1);
      const teardownSteps = h.events.filter((e) => e.kind === 'step-started' && e.step === 'teardown');
      expect(teardownSteps).toHaveLength(1);
      for (const a of after) expect(a).toMatch(/^(swapoff|umount|cryptsetup close)/);
      const opened = argvs.slice(0, failedAt).some((a) => a.startsWith('cryptsetup open'));
      expect(after.includes('cryptsetup close root')).toBe(opened);
      expect(after.includes(`umount --recursive ${ROOT}`)).toBe(argvs.slice(0, failedAt).includes(`mount /dev/mapper/root ${ROOT}`));
      expect(after.includes('swapoff /dev/vdb2')).toBe(argvs.slice(0, failedAt).includes('swapon /dev/vdb2'));
      expect(h.machine.mounted.size + h.machine.mappers.size + h.machine.swaps.size).toBe(0);
    });
  }

  it('reports an unresolved placeholder as an error naming the step', async () => {
    const h = harness({ findDeployment: async () => null });
    const outcome = await runPlan(testPlan(), h.ctx);
    expect(outcome.error).toMatchObject({ step: 'configure' });
    expect(outcome.error?.message).toMatch(/configure needs the deployment/);
  });

  it('keeps tearing down after a teardown action fails, and fails an otherwise good install', async () => {
    const h = harness();
    h.machine.failOn = (argv) => argv[0] === 'umount' && argv[1] === `${ROOT}/boot/efi`;
    const outcome = await runPlan(testPlan(), h.ctx);
    expect(h.machine.argvs().slice(-3)).toEqual([`umount ${ROOT}/boot/efi`, `umount --recursive ${ROOT}`, 'cryptsetup close root']);
    expect(outcome).toMatchObject({ ok: false, cancelled: false, diskState: 'installed', error: { step: 'teardown' } });
    expect(failedEvent(h.events).retry.from).toBe('teardown');
    expect(h.log.toText()).toMatch(/ERROR \[teardown\]/);
  });

  it('knows which resource each teardown action releases', () => {
    expect(teardownCheck(run(['umount', '--recursive', '/t']))).toEqual({ kind: 'mount', path: '/t' });
    expect(teardownCheck(run(['cryptsetup', 'luksClose', 'root']))).toEqual({ kind: 'mapper', name: 'root' });
    expect(teardownCheck(run(['swapoff', '/dev/vdb2']))).toEqual({ kind: 'swap', device: '/dev/vdb2' });
    expect(teardownCheck(run(['losetup', '-d', '/dev/loop0']))).toEqual({ kind: 'always' });
  });
});

// ---- cancel, resume, secrets -------------------------------------------------------------------

describe('runPlan: cancel', () => {
  it('before the point of no return runs nothing destructive and leaves the disk untouched', async () => {
    const h = harness();
    h.machine.blockOn = (argv) => argv[0] === 'blockdev';
    h.machine.onBlocked = () => h.controller.abort();
    const outcome = await runPlan(testPlan(), h.ctx);
    expect(outcome).toMatchObject({ ok: false, cancelled: true, diskState: 'untouched', failedStep: 0, error: { code: 'cancelled', step: 'verify-disk' } });
    expect(h.machine.calls[0]?.aborted).toBe(true);
    for (const a of h.machine.argvs()) expect(a).not.toMatch(DESTRUCTIVE);
    expect(failedEvent(h.events)).toMatchObject({ cancelled: true, diskState: 'untouched', retry: { from: 'verify-disk' } });
    expectValidEvents(h.events);
  });

  it('already aborted: runs no command but still tears down (nothing to release)', async () => {
    const h = harness();
    h.controller.abort();
    const outcome = await runPlan(testPlan(), h.ctx);
    expect(outcome).toMatchObject({ cancelled: true, diskState: 'untouched' });
    expect(h.machine.calls).toHaveLength(0);
    expect(h.events.some((e) => e.kind === 'step-finished' && e.step === 'teardown')).toBe(true);
  });

  it('during deploy stops the command, tears down, and reports a partially written disk', async () => {
    const h = harness();
    h.machine.blockOn = (argv) => argv[0] === 'podman';
    h.machine.onBlocked = () => setTimeout(() => h.controller.abort(), 5);
    const outcome: RunOutcome = await runPlan(testPlan(), h.ctx);
    expect(outcome).toMatchObject({ ok: false, cancelled: true, diskState: 'partially-written', error: { code: 'cancelled', step: 'deploy' } });
    expect(h.machine.calls.find((c) => c.argv[0] === 'podman')?.aborted).toBe(true);
    expect(h.machine.argvs().slice(-4)).toEqual(['swapoff /dev/vdb2', `umount ${ROOT}/boot/efi`, `umount --recursive ${ROOT}`, 'cryptsetup close root']);
    expect(failedEvent(h.events)).toMatchObject({ cancelled: true, diskState: 'partially-written', retry: { from: 'wipe' } });
    expect(h.machine.argvs().some((a) => a.startsWith('useradd'))).toBe(false);
    expectValidEvents(h.events);
  });
});

describe('runPlan: resume', () => {
  it('from configure reopens LUKS and remounts, then runs configure onwards', async () => {
    const h = harness();
    h.machine.deployed = true;
    const plan = testPlan();
    const outcome = await runPlan(plan, h.ctx, { resumeFrom: indexOf(plan, 'configure') });
    expect(outcome).toMatchObject({ ok: true, diskState: 'installed' });
    expect(h.machine.argvs()).toEqual([
      'cryptsetup open --key-file - /dev/vdb3 root',
      `mount /dev/mapper/root ${ROOT}`,
      `mount /dev/vdb1 ${ROOT}/boot/efi`,
      'swapon /dev/vdb2',
      `useradd -R ${DEPLOYMENT} -m ada`,
      `bootc install finalize ${ROOT}`,
      'swapoff /dev/vdb2',
      `umount ${ROOT}/boot/efi`,
      `umount --recursive ${ROOT}`,
      'cryptsetup close root',
    ]);
    expect(h.machine.calls[0]?.input).toBe(PASSPHRASE);
    const first = h.events.find((e) => e.kind === 'step-started');
    expect(first).toMatchObject({ step: 'configure' });
    // The steps done before count as done: progress starts where the earlier run got to.
    expect(first && 'overall' in first ? first.overall.fraction : 0).toBeGreaterThan(0.8);
    expectValidEvents(h.events);
  });

  it('refuses a resume point that is not a step', async () => {
    await expect(runPlan(testPlan(), harness().ctx, { resumeFrom: 99 })).rejects.toThrow(RangeError);
  });
});

// ---- SELinux labels for what the installer wrote --------------------------------------------------

describe('runPlan: SELinux labels', () => {
  const relabelPlan = (): InstallPlan => {
    const plan = testPlan();
    const configure = plan.steps[indexOf(plan, 'configure')]!;
    configure.actions.push({ kind: 'relabel', root: '{deployment}', paths: ['{deployment}/etc', '{deployment}/var/home'] });
    return plan;
  };
  const setfilesCalls = (h: Harness) => h.machine.calls.filter((c) => c.argv[0] === 'setfiles').map((c) => c.argv);

  it('an image without /etc/selinux/config: nothing is labelled, and the log says why', async () => {
    const h = harness();
    const outcome = await runPlan(relabelPlan(), h.ctx);
    expect(outcome.error).toBeUndefined();
    expect(setfilesCalls(h)).toEqual([]);
    expect(h.log.toText()).toContain('skipped SELinux labelling: the image has no /etc/selinux/config');
  });

  it('SELINUX=disabled: nothing is labelled', async () => {
    const h = harness();
    h.machine.files.set(`${DEPLOYMENT}/etc/selinux/config`, { content: '# comment\nSELINUX=disabled\nSELINUXTYPE=targeted\n', mode: 0o644 });
    await runPlan(relabelPlan(), h.ctx);
    expect(setfilesCalls(h)).toEqual([]);
    expect(h.log.toText()).toContain('the image sets SELINUX=disabled');
  });

  it("labels the paths that exist from the policy the image's config names, as the booted system sees them", async () => {
    const h = harness();
    const fc = `${DEPLOYMENT}/etc/selinux/mls/contexts/files/file_contexts`;
    h.machine.files.set(`${DEPLOYMENT}/etc/selinux/config`, { content: 'SELINUX = permissive # for now\nSELINUXTYPE="mls"\n', mode: 0o644 });
    h.machine.files.set(fc, { content: '/.* system_u:object_r:default_t:s0\n', mode: 0o644 });
    h.machine.dirs.set(`${DEPLOYMENT}/etc`, 0o755);
    const outcome = await runPlan(relabelPlan(), h.ctx);
    expect(outcome.error).toBeUndefined();
    // var/home is not there in this plan, so only /etc is given; -r makes the lookups without the prefix.
    expect(setfilesCalls(h)).toEqual([['setfiles', '-r', DEPLOYMENT, fc, `${DEPLOYMENT}/etc`]]);
  });

  it('SELinux on but the policy files missing: the install fails naming the file and what to do, and tears down', async () => {
    const h = harness();
    h.machine.files.set(`${DEPLOYMENT}/etc/selinux/config`, { content: 'SELINUX=enforcing\n', mode: 0o644 });
    h.machine.dirs.set(`${DEPLOYMENT}/etc`, 0o755);
    const outcome = await runPlan(relabelPlan(), h.ctx);
    expect(outcome.error?.code).toBe('image-invalid');
    expect(outcome.error?.step).toBe('configure');
    expect(outcome.error?.message).toContain('/etc/selinux/targeted/contexts/files/file_contexts');
    expect(outcome.error?.detail).toMatch(/policy package|SELINUX=disabled/);
    expect(setfilesCalls(h)).toEqual([]);
    expect(h.machine.mounted.size).toBe(0);
  });

  it('a policy name that is not a plain directory name is refused, not joined into a path', async () => {
    const h = harness();
    h.machine.files.set(`${DEPLOYMENT}/etc/selinux/config`, { content: 'SELINUXTYPE=../../../tmp/x\n', mode: 0o644 });
    const outcome = await runPlan(relabelPlan(), h.ctx);
    expect(outcome.error?.code).toBe('image-invalid');
    expect(setfilesCalls(h)).toEqual([]);
  });
});
