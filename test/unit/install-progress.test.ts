import { makePlan } from '../support/make-plan';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProgressEventSchema, type InstallPlan, type PlanAction, type PlanStep, type ProgressEvent, type StepId } from '../../src/shared/install';
import type { ExecOptions, ExecResult } from '../../src/engine/exec';
import { InstallLog, runPlan, type ExecStreaming, type RunContext } from '../../src/engine/install';
import { actionProfile, commandName, dracutReader, grubInstallReader, grubMkconfigReader, lineCounter } from '../../src/engine/install/activity';
import { ActionProgress, LATE_GRACE_MS, OverallProgress, STILL_MS, StepProgress, TICK_MS, VISIBLE_STEP, remainingShare } from '../../src/engine/install/progress';
import { MIN_SAMPLE_MS, SPEED_MAX, SPEED_MIN, SpeedCalibration } from '../../src/engine/install/speed';

// Issue 15, item 3: during the install progress never stands still for more than 10 s and the time
// left is never stale, even while a command in the target prints nothing for minutes (the initramfs
// rebuild under QEMU sat at 86 % with "About 35 seconds left" for over three minutes).

const T = '/run/particle/target';
const run = (argv: string[], extra: Omit<Extract<PlanAction, { kind: 'run' }>, 'kind' | 'argv'> = {}): PlanAction => ({ kind: 'run', argv, ...extra });
const step = (id: StepId, actions: PlanAction[], weight: number): PlanStep => ({ id, title: `Doing ${id}`, weight, destructive: false, resumable: true, actions });

/** Shaped like an oci-rootfs plan's second half: the unpack is done, the boot loader step is next. */
function plan(initramfs: string[]): InstallPlan {
  return makePlan(
    [
      step('format', [run(['mkfs.ext4', '-F', '/dev/vdb2'])], 4),
      step('deploy', [run(['long-copy', '/images/debian', T])], 40),
      step('configure', [{ kind: 'write', path: `${T}/etc/hostname`, content: 'box\n', mode: '0644' }], 4),
      step(
        'bootloader',
        [
          { kind: 'mkdir', path: `${T}/boot/efi`, mode: '0755' },
          run(['mount', '/dev/vdb1', `${T}/boot/efi`]),
          run(['mount', '-t', 'proc', 'proc', `${T}/proc`]),
          run(['chroot', T, ...initramfs]),
          run(['chroot', T, 'grub-install', '--target=x86_64-efi', '--removable']),
          run(['chroot', T, 'grub-mkconfig', '-o', '/boot/grub/grub.cfg']),
        ],
        12,
      ),
      step('finalize', [run(['sync'])], 3),
      step('teardown', [run(['umount', '--recursive', T])], 1),
    ],
    { id: 'plan-progress' },
  );
}

/** How long each fake command takes, by its name inside chroot, and what it prints meanwhile. */
interface Script {
  readonly ms: Record<string, number>;
  readonly lines?: Record<string, readonly (readonly [number, string])[]>;
}

interface Seen {
  readonly at: number;
  readonly ev: ProgressEvent;
}

/** Runs the plan on fake timers (Date too), stepping the clock a second at a time. */
async function runWithClock(p: InstallPlan, script: Script): Promise<{ seen: Seen[]; commands: Map<string, { from: number; to: number }> }> {
  const seen: Seen[] = [];
  const commands = new Map<string, { from: number; to: number }>();
  const execute = async (argv: readonly string[], options: ExecOptions, onOutput: (chunk: string) => void): Promise<ExecResult> => {
    const name = commandName(argv);
    const from = Date.now();
    const ms = script.ms[name] ?? 200;
    for (const [at, line] of script.lines?.[name] ?? []) setTimeout(() => onOutput(`${line}\n`), at);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      options.signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(new Error('aborted'));
      });
    });
    commands.set(name, { from, to: Date.now() });
    return { exitCode: 0, stdout: '', stderr: '', durationMs: ms };
  };
  const execStreaming: ExecStreaming = (argv, options) => execute(argv, options, options.onOutput);
  const ctx: RunContext = {
    exec: (argv, options = {}) => execute(argv, options, () => {}),
    execStreaming,
    secrets: new Map(),
    signal: new AbortController().signal,
    emit: (ev) => seen.push({ at: Date.now(), ev }),
    log: new InstallLog({ now: () => Date.now() }),
    fs: { writeFile: async () => {}, symlink: async () => {}, mkdir: async () => {}, rm: async () => {}, readFile: async () => null, test: async () => true },
    now: () => Date.now(),
    targetRoot: T,
    findDeployment: async () => null,
    isMounted: async () => true,
    mapperExists: async () => false,
    swapActive: async () => false,
  };
  let done = false;
  const outcome = runPlan(p, ctx).finally(() => (done = true));
  for (let i = 0; i < 3600 && !done; i++) await vi.advanceTimersByTimeAsync(1000);
  expect((await outcome).ok).toBe(true);
  return { seen, commands };
}

type StepEvent = Extract<ProgressEvent, { kind: 'step-progress' }>;
const during = (seen: readonly Seen[], span: { from: number; to: number }) => seen.filter((s) => s.at > span.from && s.at < span.to);
const progressOf = (seen: readonly Seen[]) => seen.filter((s): s is { at: number; ev: StepEvent } => s.ev.kind === 'step-progress');

describe('a long silent command', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('moves the bar at least every 10 s, below the action end, with a fresh ETA that turns into "longer than expected"', async () => {
    // update-initramfs prints nothing for three minutes (expected: 45 s).
    const { seen, commands } = await runWithClock(plan(['update-initramfs', '-u', '-k', 'all']), { ms: { 'mkfs.ext4': 8_000, 'long-copy': 60_000, 'update-initramfs': 180_000, 'grub-install': 4_000, 'grub-mkconfig': 3_000 } });
    for (const { ev } of seen) expect(ProgressEventSchema.safeParse(ev).success, JSON.stringify(ev)).toBe(true);
    const silent = commands.get('update-initramfs')!;
    expect(silent.to - silent.from).toBe(180_000);
    const window = progressOf(during(seen, silent));

    // Never more than 10 s (in fact one tick) without an event.
    const times = [silent.from, ...window.map((s) => s.at), silent.to];
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(10_000);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(TICK_MS + 200);
    expect(window.length).toBeGreaterThanOrEqual(170);

    // Strictly increasing, both the step's fraction and the overall one, and never the action's end:
    // the first event after the command ended (grub-install starting) is further still.
    const steps = window.map((s) => s.ev.fraction);
    const overall = window.map((s) => s.ev.overall.fraction);
    for (let i = 1; i < window.length; i++) {
      expect(steps[i]!, `step fraction at ${i}`).toBeGreaterThan(steps[i - 1]!);
      expect(overall[i]!, `overall fraction at ${i}`).toBeGreaterThan(overall[i - 1]!);
    }
    const after = progressOf(seen).find((s) => s.at >= silent.to && s.ev.step === 'bootloader')!;
    expect(steps.at(-1)!).toBeLessThan(after.ev.fraction);
    expect(steps.at(-1)!).toBeLessThan(1);
    const stepEnd = seen.find((s) => s.ev.kind === 'step-finished' && s.ev.step === 'bootloader')!.ev as Extract<ProgressEvent, { kind: 'step-finished' }>;
    expect(overall.at(-1)!).toBeLessThan(stepEnd.overall.fraction);
    // It says what it is doing.
    for (const s of window) expect(s.ev).toMatchObject({ step: 'bootloader', activity: 'initramfs', message: 'Building the initramfs' });

    // The time left: counted down and recomputed while the command is within its estimate (45 s),
    // then "taking longer than expected", with a number that grows instead of a stale one.
    const lateFrom = window.findIndex((s) => s.ev.overall.overrun === true);
    expect(lateFrom).toBeGreaterThan(0);
    const lateAt = window[lateFrom]!.at - silent.from;
    expect(lateAt).toBeGreaterThan(45_000);
    expect(lateAt).toBeLessThanOrEqual(45_000 + LATE_GRACE_MS + TICK_MS);
    const early = window.slice(0, lateFrom);
    const late = window.slice(lateFrom);
    for (const s of late) expect(s.ev.overall.overrun).toBe(true);
    for (const s of early) expect(s.ev.overall.overrun).toBeUndefined();
    const etas = (list: typeof window) => list.map((s) => s.ev.overall.etaSeconds!);
    for (const e of etas(window)) expect(e).toBeGreaterThan(0);
    // Within every 10 s of the estimate, the number changed.
    for (let i = 0; i + 10 < early.length; i++) expect(new Set(etas(early.slice(i, i + 10))).size, `ETA stale from ${i}`).toBeGreaterThan(1);
    const lateEtas = etas(late);
    for (let i = 1; i < lateEtas.length; i++) expect(lateEtas[i]!).toBeGreaterThanOrEqual(lateEtas[i - 1]!);
    expect(lateEtas.at(-1)!).toBeGreaterThan(lateEtas[0]!);

    // Once the command is done, it is no longer late, and the next command says what it does.
    expect(after.ev.overall.overrun).toBeUndefined();
    expect(progressOf(seen).find((s) => s.at >= silent.to && s.ev.activity !== 'initramfs')?.ev.activity).toBe('bootloader');

    // Figures for the report.
    const pick = (s: number) => window.find((w) => w.at - silent.from >= s * 1000)!;
    const row = (s: number) => {
      const w = pick(s);
      return `${s}s step ${w.ev.fraction.toFixed(4)} overall ${w.ev.overall.fraction.toFixed(4)} eta ${w.ev.overall.etaSeconds}${w.ev.overall.overrun ? ' overrun' : ''}`;
    };
    console.info(`silent update-initramfs (180 s, expected 45 s), ${window.length} events, largest gap ${Math.max(...gaps)} ms\n  ${[1, 10, 30, 45, 51, 60, 90, 120, 179].map(row).join('\n  ')}\n  after: step ${after.ev.fraction.toFixed(4)} overall ${after.ev.overall.fraction.toFixed(4)} eta ${after.ev.overall.etaSeconds}`);
  }, 60_000);

  it('follows the output where there is some: dracut module lines, then its stage lines', async () => {
    const modules = Array.from({ length: 40 }, (_, i) => [1_000 + i * 2_000, `dracut: *** Including module: mod${i} ***`] as const);
    const lines = [
      ...modules,
      [82_000, 'dracut: *** Including modules done ***'],
      [84_000, 'dracut: *** Installing kernel module dependencies ***'],
      [90_000, "dracut: *** Creating image file '/boot/initramfs-6.12.img' ***"],
      [99_000, "dracut: *** Creating initramfs image file '/boot/initramfs-6.12.img' done ***"],
    ] as const;
    const { seen, commands } = await runWithClock(plan(['dracut', '--force', '--regenerate-all']), { ms: { 'long-copy': 30_000, dracut: 100_000 }, lines: { dracut: lines } });
    const span = commands.get('dracut')!;
    const window = progressOf(during(seen, span));
    const times = [span.from, ...window.map((s) => s.at), span.to];
    expect(Math.max(...times.slice(1).map((t, i) => t - times[i]!))).toBeLessThanOrEqual(TICK_MS + 200);
    for (let i = 1; i < window.length; i++) expect(window[i]!.ev.fraction).toBeGreaterThanOrEqual(window[i - 1]!.ev.fraction);
    // The lines kept it going: it never was late, although dracut ran more than its 60 s estimate.
    for (const s of window) expect(s.ev.overall.overrun).toBeUndefined();
    for (const s of window) expect(s.ev.activity).toBe('initramfs');
    // Each module line moved it; the "done" line took it nearly to the action's end.
    const at = (ms: number) => window.filter((s) => s.at - span.from <= ms).at(-1)!.ev.fraction;
    expect(at(3_500)).toBeGreaterThan(at(1_500));
    expect(at(41_500)).toBeGreaterThan(at(39_500));
    const after = progressOf(seen).find((s) => s.at >= span.to && s.ev.step === 'bootloader')!.ev.fraction;
    const before = progressOf(seen).filter((s) => s.at <= span.from && s.ev.step === 'bootloader').at(-1)!.ev.fraction;
    expect((at(99_500) - before) / (after - before)).toBeGreaterThan(0.98);
  }, 60_000);
});

describe('progress model', () => {
  it('time alone covers 63 % of the way in the expected time, then ever less, never all of it', () => {
    expect(remainingShare(0, 10_000)).toBe(1);
    expect(remainingShare(10_000, 10_000)).toBeCloseTo(Math.exp(-1), 10);
    let last = 1;
    for (const s of [1, 5, 10, 20, 60, 600, 3600, 6 * 3600].map((x) => x * 1000)) {
      const r = remainingShare(s, 10_000);
      expect(r).toBeLessThan(last);
      expect(r).toBeGreaterThan(0);
      last = r;
    }
    // Six hours into a command expected to take 45 s, there is still way left to show.
    expect(1 - remainingShare(6 * 3600_000, 45_000)).toBeLessThan(1);
  });

  it('a measured reading moves an action; a reading below what time showed still moves it, proportionally', () => {
    const a = new ActionProgress(10_000, 0);
    a.measured(0.5, 1_000);
    expect(a.fraction).toBe(0.5);
    // Time after the quiet period moves it on.
    a.tick(20_000);
    const timed = a.fraction;
    expect(timed).toBeGreaterThan(0.5);
    expect(timed).toBeLessThan(1);
    // The command says 0.6: behind what is shown, but progress all the same.
    a.measured(0.6, 21_000);
    expect(a.fraction).toBeGreaterThan(timed);
    expect(a.fraction).toBeLessThan(1);
    a.measured(1, 22_000);
    expect(a.fraction).toBe(1);
  });

  it('an action is late once silent past its expected time plus grace, and stays late', () => {
    const a = new ActionProgress(10_000, 0);
    a.tick(10_000 + LATE_GRACE_MS);
    expect(a.late).toBe(false);
    a.tick(10_001 + LATE_GRACE_MS);
    expect(a.late).toBe(true);
    a.measured(0.99, 20_000);
    expect(a.late).toBe(true);
  });

  it('gives each action a share of its step as large as its expected time', () => {
    const s = new StepProgress([500, 45_000, 15_000]);
    s.start(0, 0);
    s.finish(0);
    const afterMount = s.fraction();
    expect(afterMount).toBeLessThan(0.01);
    s.start(1, 0);
    s.measured(1, 1);
    expect(s.fraction()).toBeCloseTo((500 + 45_000) / 60_500, 10);
    s.finish(1);
    s.start(2, 2);
    s.finish(2);
    expect(s.fraction()).toBe(1);
  });
});

describe("this machine's speed", () => {
  it('starts at 1 and learns a slow machine from a few commands, weighted by their expected time', () => {
    const s = new SpeedCalibration();
    expect(s.factor).toBe(1);
    // Five times slower, give or take: the initramfs rebuild, then grub.
    s.record(45_000, 45_000 * 5 * 1.15);
    expect(s.factor).toBeCloseTo(5.75, 5);
    s.record(15_000, 15_000 * 5 * 0.8);
    s.record(15_000, 15_000 * 5 * 0.9);
    expect(s.factor).toBeGreaterThan(4.5);
    expect(s.factor).toBeLessThan(5.5);
    expect(s.samples).toBe(3);
    // A command too short to say anything (a mount, a wipefs) is left out.
    s.record(MIN_SAMPLE_MS - 1, 100 * MIN_SAMPLE_MS);
    expect(s.samples).toBe(3);
  });

  it('believes a faster machine slowly and keeps the factor in its range', () => {
    const fast = new SpeedCalibration();
    // One initramfs rebuild in half its expected time: still most of the way to 1.
    fast.record(45_000, 22_500);
    expect(fast.factor).toBeGreaterThan(0.75);
    expect(fast.factor).toBeLessThan(1);
    for (let i = 0; i < 10; i++) fast.record(45_000, 22_500);
    expect(fast.factor).toBeLessThan(0.6);
    const instant = new SpeedCalibration();
    for (let i = 0; i < 50; i++) instant.record(60_000, 0);
    expect(instant.factor).toBeGreaterThanOrEqual(SPEED_MIN);
    const hung = new SpeedCalibration();
    hung.record(15_000, 3600_000);
    expect(hung.factor).toBe(SPEED_MAX);
    // A fixed one never learns (the figures' "before").
    const fixed = SpeedCalibration.fixed(1);
    fixed.record(45_000, 450_000);
    expect(fixed.factor).toBe(1);
  });

  it("scales an action's expected time by the factor when it starts, and the later actions' by the factor of now", () => {
    let factor = 1;
    const s = new StepProgress([10_000, 20_000], () => factor);
    factor = 5;
    s.start(0, 0);
    s.tick(10_000);
    // 10 s into a 50 s expectation: a fifth of the way on the exponential, not 63 %.
    expect(s.fraction()).toBeCloseTo((1 / 3) * (1 - Math.exp(-0.2)), 6);
    // The rest: 40 s of the running one, up to where it would be late, and 5 x 20 s after it.
    expect(s.outlook(10_000)).toEqual({ remainingMs: 40_000 + LATE_GRACE_MS + 100_000, late: false, runningMs: 10_000 });
    factor = 2;
    expect(s.outlook(10_000).remainingMs).toBe(40_000 + LATE_GRACE_MS + 40_000);
    // Late only past its own 50 s (and grace), and then it says for how long it has run.
    s.tick(50_000 + LATE_GRACE_MS);
    expect(s.late).toBe(false);
    s.tick(50_001 + LATE_GRACE_MS);
    expect(s.outlook(60_000)).toMatchObject({ late: true, runningMs: 60_000 });
  });
});

describe('the overall fraction never stands still', () => {
  /** Asks every TICK_MS, as the runner does, with the step stuck at `stepFraction`. */
  const stuck = (o: OverallProgress, clock: { t: number }, ms: number, stepFraction: number, late = false) => {
    const seen: { t: number; fraction: number; eta: number | null }[] = [];
    for (const end = clock.t + ms; clock.t < end; ) {
      clock.t += TICK_MS;
      const r = o.at(0, stepFraction, { remainingMs: 0, late, runningMs: clock.t });
      seen.push({ t: clock.t, fraction: r.fraction, eta: r.etaSeconds });
    }
    return seen;
  };
  const tenth = (f: number) => Math.floor(f / VISIBLE_STEP + 1e-9);

  it('moves by a tenth of a percent at least every STILL_MS + TICK_MS, up to half the way left ahead of the steps', () => {
    const clock = { t: 0 };
    const o = new OverallProgress([1, 1], () => clock.t);
    const seen = stuck(o, clock, 3600_000, 0.5, true);
    // The steps say 25 %; the bar may go to 25 % + half of the 75 % left.
    const ceiling = 0.25 + 0.75 / 2;
    let since = 0;
    let last = tenth(seen[0]!.fraction);
    let longest = 0;
    for (const s of seen) {
      expect(s.fraction).toBeLessThanOrEqual(ceiling + VISIBLE_STEP);
      if (tenth(s.fraction) !== last) {
        longest = Math.max(longest, s.t - since);
        since = s.t;
        last = tenth(s.fraction);
      }
      if (s.fraction < ceiling - VISIBLE_STEP) expect(s.t - since).toBeLessThanOrEqual(STILL_MS + TICK_MS);
    }
    expect(longest).toBeLessThanOrEqual(STILL_MS + TICK_MS);
    expect(seen.at(-1)!.fraction).toBeGreaterThan(ceiling - 2 * VISIBLE_STEP);
    // Then the steps move on: what is shown moves too, never back, and meets them at the end.
    clock.t += TICK_MS;
    const next = o.at(0, 0.8).fraction;
    expect(next).toBeGreaterThan(seen.at(-1)!.fraction);
    expect(next).toBeLessThan(1);
    o.finish(0);
    o.finish(1);
    expect(o.at(null).fraction).toBe(1);
  });

  it('without the floor it stands still as before, and the time left never says done while work remains', () => {
    const clock = { t: 0 };
    const o = new OverallProgress([1, 1], () => clock.t, { floor: false });
    const seen = stuck(o, clock, 120_000, 0.5);
    expect(new Set(seen.map((s) => s.fraction)).size).toBe(1);
    for (const s of seen) if (s.eta !== null) expect(s.eta).toBeGreaterThanOrEqual(1);
    expect(o.complete()).toEqual({ fraction: 1, etaSeconds: 0 });
    // The last step with nothing left to expect: still not "done" until it is.
    const end = new OverallProgress([1], () => clock.t);
    for (let i = 0; i < 30; i++) {
      clock.t += TICK_MS;
      expect(end.at(0, 0.999, { remainingMs: 0, late: false, runningMs: 0 }).etaSeconds).toBeGreaterThanOrEqual(1);
    }
  });
});

describe('what commands are and say', () => {
  it('names commands inside chroot and knows the long ones', () => {
    expect(commandName(['chroot', T, '/usr/sbin/update-initramfs', '-u'])).toBe('update-initramfs');
    const p = (argv: string[]) => actionProfile({ kind: 'run', argv });
    expect(p(['chroot', T, 'update-initramfs', '-u', '-k', 'all'])).toMatchObject({ activity: 'initramfs', expectedMs: 45_000, calibrates: true });
    // The machine's speed is learned from what the machine decides, not the image or a wait.
    expect(p(['chroot', T, 'grub-install', '--target=x86_64-efi']).calibrates).toBe(true);
    expect(p(['mkfs.xfs', '-f', '/dev/vdb2']).calibrates).toBe(false);
    expect(p(['udevadm', 'settle']).calibrates).toBe(false);
    expect(p(['podman', 'pull', 'quay.io/x']).calibrates).toBe(false);
    expect(actionProfile({ kind: 'unpack', source: { transport: 'oci', path: '/x' }, target: T, protect: [] }).calibrates).toBe(false);
    expect(p(['chroot', T, 'dracut', '--force'])).toMatchObject({ activity: 'initramfs' });
    expect(p(['chroot', T, 'grub-install', '--target=i386-pc', '/dev/vdb'])).toMatchObject({ activity: 'bootloader' });
    expect(p(['chroot', T, 'grub-mkconfig', '-o', '/boot/grub/grub.cfg'])).toMatchObject({ activity: 'boot-menu' });
    expect(p(['chroot', T, 'kernel-install', 'add', '6.12', '/boot/vmlinuz-6.12'])).toMatchObject({ activity: 'kernel' });
    expect(p(['mount', '/dev/vdb1', '/t'])).toMatchObject({ activity: null });
    expect(actionProfile({ kind: 'mkdir', path: '/t/x', mode: '0755' }).expectedMs).toBeLessThan(100);
  });

  it('reads grub-install and grub-mkconfig by their stage lines, other lines a little at a time', () => {
    const g = grubInstallReader();
    expect(g('Installing for x86_64-efi platform.')).toBe(0.2);
    expect(g('Installation finished. No error reported.')).toBe(0.98);
    const m = grubMkconfigReader();
    expect(m('Generating grub configuration file ...')).toBe(0.05);
    const found = m('Found linux image: /boot/vmlinuz-6.12.1-amd64') as number;
    expect(found).toBeGreaterThan(0.05);
    expect(m('Found initrd image: /boot/initrd.img-6.12.1-amd64') as number).toBeGreaterThan(found);
    expect(m('Adding boot menu entry for UEFI Firmware Settings ...')).toBe(0.85);
    expect(m('done')).toBe(0.98);
    // A counted line never passes the next stage.
    const d = dracutReader();
    let last = 0;
    for (let i = 0; i < 500; i++) last = (d(`dracut: *** Including module: m${i} ***`) as number | null) ?? last;
    expect(last).toBeLessThan(0.6);
    expect(d('dracut: *** Including modules done ***')).toBe(0.6);
    const c = lineCounter();
    const first = c('x') as number;
    expect(c('y') as number).toBeGreaterThan(first);
  });
});
