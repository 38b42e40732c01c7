import { makePlan } from '../support/make-plan';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TFunction } from 'i18next';
import { ProgressEventSchema, type InstallPlan, type PlanAction, type PlanStep, type ProgressEvent, type StepId } from '../../src/shared/install';
import type { ExecOptions, ExecResult } from '../../src/engine/exec';
import { InstallLog, SpeedCalibration, runPlan, type ExecStreaming, type RunContext, type RunOptions } from '../../src/engine/install';
import { actionProfile, commandName } from '../../src/engine/install/activity';
import { STILL_MS, TICK_MS, VISIBLE_STEP } from '../../src/engine/install/progress';
import { SPEED_MAX } from '../../src/engine/install/speed';
import { createI18n } from '../../src/renderer/src/i18n';
import { etaParts, etaText, formatProgressPercent } from '../../src/renderer/src/install/model';

// The whole runner on a simulated machine 1, 5 or 20 times slower than the expected durations of
// activity.ts, on fake timers ticking every TICK_MS: what the Progress page would show (its percent
// and its time-left words, from the renderer's own model.ts) at every event. This proves the engine's
// progress and the page's wording against a stand-in for the commands, not the commands themselves:
// each takes its expected time times the machine's slowness times a fixed spread, and prints what the
// real one prints (the stage lines activity.ts reads).

const T = '/run/particle/target';
const run = (argv: string[], extra: Omit<Extract<PlanAction, { kind: 'run' }>, 'kind' | 'argv'> = {}): PlanAction => ({ kind: 'run', argv, ...extra });
const chroot = (...argv: string[]): string[] => ['chroot', T, ...argv];
const exists = (path: string) => ({ path, test: 'exists' as const });
const step = (id: StepId, weight: number, actions: PlanAction[]): PlanStep => ({ id, title: `Doing ${id}`, weight, destructive: false, resumable: true, actions });

/**
 * Shaped like planInstall's oci-rootfs erase plan (src/engine/plan/rootfs.ts; the step list and weights
 * test/unit/planner-rootfs.test.ts checks), for an image with initramfs-tools and GRUB: dracut,
 * systemd-boot and kernel-install are skipped on their `when` conditions, as on the QA machine.
 */
function ociRootfsPlan(): InstallPlan {
  const disk = '/dev/vdb';
  return makePlan(
    [
      step('wipe', 1, [1, 2, 3, ''].map((p) => run(['wipefs', '--all', '--force', `${disk}${p}`]))),
      step('partition', 2, [run(['sfdisk', '--wipe', 'always', disk], { stdin: 'label: gpt\n' })]),
      step('settle', 1, [run(['udevadm', 'settle']), run(['partx', '--delete', disk]), run(['partx', '--add', disk]), run(['udevadm', 'settle']), run(['lsblk', '--nodeps', `${disk}1`])]),
      step('format', 4, [run(['mkfs.vfat', '-F', '32', `${disk}1`]), run(['mkfs.xfs', '-f', `${disk}2`])]),
      step('mount', 1, [{ kind: 'mkdir', path: T, mode: '0755' }, run(['mount', `${disk}2`, T])]),
      step('deploy', 40, [{ kind: 'unpack', source: { transport: 'oci', path: '/images/debian' }, target: T, protect: [] }]),
      step('configure', 4, [
        { kind: 'write', path: `${T}/etc/hostname`, content: 'box\n', mode: '0644' },
        run(['groupadd', '-R', T, '-f', 'wheel']),
        run(['useradd', '-R', T, '-m', 'anna']),
        run(['rm', '-f', `${T}/etc/localtime`]),
        { kind: 'symlink', path: `${T}/etc/localtime`, target: '../usr/share/zoneinfo/UTC' },
      ]),
      step('bootloader', 12, [
        ...['boot/efi', 'dev', 'proc', 'sys', 'run'].map((d) => run(['mount', '--bind', `/${d}`, `${T}/${d}`])),
        run(chroot('update-initramfs', '-u', '-k', 'all'), { when: [exists(`${T}/usr/sbin/update-initramfs`)] }),
        run(chroot('dracut', '--force', '--regenerate-all'), { when: [exists(`${T}/usr/bin/dracut`)] }),
        run(chroot('grub-install', '--target=x86_64-efi', '--removable'), { when: [exists(`${T}/usr/lib/grub/x86_64-efi`)] }),
        run(chroot('grub-install', '--target=x86_64-efi'), { when: [exists(`${T}/usr/lib/grub/x86_64-efi`)] }),
        run(chroot('grub-install', '--target=i386-pc', disk), { when: [exists(`${T}/usr/lib/grub/i386-pc`)] }),
        run(chroot('grub-mkconfig', '-o', '/boot/grub/grub.cfg'), { when: [exists(`${T}/usr/lib/grub/x86_64-efi`)] }),
        run(chroot('bootctl', 'install', '--esp-path=/boot/efi'), { when: [exists(`${T}/usr/lib/systemd/boot/efi`)] }),
        run(chroot('kernel-install', 'add', '6.12', '/boot/vmlinuz-6.12'), { when: [exists(`${T}/usr/lib/systemd/boot/efi`)] }),
      ]),
      step('finalize', 3, [run(['fstrim', '--verbose', T]), run(['sync']), run(['mount', '-o', 'remount,ro', T])]),
      step('teardown', 1, [run(['umount', '--recursive', T])]),
    ],
    { id: 'plan-speed', disk, size: 20 * 1024 ** 3 },
  );
}

/** What the image carries: initramfs-tools and GRUB for EFI. */
const IN_IMAGE = new Set([`${T}/usr/sbin/update-initramfs`, `${T}/usr/lib/grub/x86_64-efi`]);

/** What each command prints, at which share of its run time (the lines activity.ts's readers know). */
const PRINTS: Readonly<Record<string, readonly (readonly [number, string])[]>> = {
  'update-initramfs': [[0.01, 'update-initramfs: Generating /boot/initrd.img-6.12.48+deb13-amd64']],
  'grub-install': [
    [0.1, 'Installing for x86_64-efi platform.'],
    [0.98, 'Installation finished. No error reported.'],
  ],
  'grub-mkconfig': [
    [0.02, 'Generating grub configuration file ...'],
    [0.3, 'Found linux image: /boot/vmlinuz-6.12.48+deb13-amd64'],
    [0.4, 'Found initrd image: /boot/initrd.img-6.12.48+deb13-amd64'],
    [0.85, 'Adding boot menu entry for UEFI Firmware Settings ...'],
    [0.98, 'done'],
  ],
  fstrim: [[0.99, `${T}: 18.2 GiB (19541532672 bytes) trimmed on /dev/vdb2`]],
};

/** Commands are not all equally slow: each takes its expected time times the machine's slowness times the next of these. */
const SPREAD = [1, 0.8, 1.25, 0.9, 1.15, 1.05, 0.85, 1.2];
/** The unpack on an ordinary machine: the image decides, not activity.ts's 300 s guess. */
const UNPACK_MS = 120_000;

interface Shown {
  readonly at: number;
  readonly ev: ProgressEvent & { overall: { fraction: number; etaSeconds: number | null; overrun?: boolean; runningSeconds?: number } };
}

interface Simulation {
  readonly shown: Shown[];
  /** The machine's factor as the runner knew it when each step ended. */
  readonly factors: { step: StepId; factor: number; samples: number }[];
  readonly speed: SpeedCalibration;
  readonly durationMs: number;
  /** When the first command the speed is learned from ended (null: none did). */
  readonly learnedAt: number | null;
}

/** Runs the plan on a machine `slowness` times slower than the expected durations, stepping the fake clock by TICK_MS. */
async function simulate(slowness: number, options: RunOptions = {}): Promise<Simulation> {
  const p = ociRootfsPlan();
  const speed = options.speed ?? new SpeedCalibration();
  const shown: Shown[] = [];
  const factors: Simulation['factors'] = [];
  let learnedAt: number | null = null;
  let nth = 0;
  const execute = async (argv: readonly string[], o: ExecOptions, onOutput: (chunk: string) => void): Promise<ExecResult> => {
    const ms = actionProfile({ kind: 'run', argv: [...argv] }).expectedMs * slowness * SPREAD[nth++ % SPREAD.length]!;
    for (const [share, line] of PRINTS[commandName(argv)] ?? []) setTimeout(() => onOutput(`${line}\n`), share * ms);
    await new Promise<void>((resolve, reject) => {
      const abort = (): void => {
        clearTimeout(timer);
        reject(new Error('aborted'));
      };
      const timer = setTimeout(() => {
        o.signal?.removeEventListener('abort', abort);
        resolve();
      }, ms);
      o.signal?.addEventListener('abort', abort, { once: true });
    });
    return { exitCode: 0, stdout: '', stderr: '', durationMs: ms };
  };
  const execStreaming: ExecStreaming = (argv, o) => execute(argv, o, o.onOutput);
  const ctx: RunContext = {
    exec: (argv, o = {}) => execute(argv, o, () => {}),
    execStreaming,
    secrets: new Map(),
    signal: new AbortController().signal,
    emit: (ev) => {
      if ('overall' in ev) shown.push({ at: Date.now(), ev } as Shown);
      if (learnedAt === null && speed.samples > 0) learnedAt = Date.now();
      if (ev.kind === 'step-finished') factors.push({ step: ev.step, factor: speed.factor, samples: speed.samples });
    },
    log: new InstallLog({ now: () => Date.now() }),
    fs: { writeFile: async () => {}, symlink: async () => {}, mkdir: async () => {}, rm: async () => {}, readFile: async () => null, test: async (path) => IN_IMAGE.has(path) },
    now: () => Date.now(),
    targetRoot: T,
    findDeployment: async () => null,
    isMounted: async () => true,
    mapperExists: async () => false,
    swapActive: async () => false,
    unpack: async (request) => {
      const total = 1.2e9;
      const ms = UNPACK_MS * slowness;
      for (let t = 500; t < ms; t += 500) {
        await new Promise((r) => setTimeout(r, 500));
        request.onProgress({ bytesDone: (total * t) / ms, bytesTotal: total, layer: t < ms / 2 ? 1 : 2, layers: 2 });
      }
      await new Promise((r) => setTimeout(r, ms % 500 || 500));
      request.onProgress({ bytesDone: total, bytesTotal: total, layer: 2, layers: 2 });
      return { manifestDigest: 'sha256:00', layers: 2, compressedBytes: 4e8, uncompressedBytes: total };
    },
  };
  const t0 = Date.now();
  let done = false;
  const outcome = runPlan(p, ctx, { ...options, speed }).finally(() => (done = true));
  for (let i = 0; i < 6 * 3600 && !done; i++) await vi.advanceTimersByTimeAsync(TICK_MS);
  expect((await outcome).ok).toBe(true);
  return { shown, factors, speed, durationMs: Date.now() - t0, learnedAt };
}

let t: TFunction;

/** The longest time (ms) the text stood still, from the first event to the last ("finished"). */
function longestStill(shown: readonly Shown[], text: (s: Shown) => string): number {
  let longest = 0;
  let from = shown[0]!.at;
  let last = text(shown[0]!);
  for (const s of shown) {
    const now = text(s);
    if (now === last) continue;
    longest = Math.max(longest, s.at - from);
    from = s.at;
    last = now;
  }
  return Math.max(longest, shown.at(-1)!.at - from);
}

/** How long (ms) "taking longer than expected" was shown from `from` on. */
function lateFor(shown: readonly Shown[], from = 0): number {
  let ms = 0;
  for (let i = 1; i < shown.length; i++) if (shown[i - 1]!.ev.overall.overrun && shown[i - 1]!.at >= from) ms += shown[i]!.at - shown[i - 1]!.at;
  return ms;
}

/** The most any time left in numbers stayed on screen beyond the time it named: 0 means never contradicted. */
function contradicted(shown: readonly Shown[]): number {
  let worst = 0;
  let i = 0;
  while (i < shown.length) {
    const text = etaText(shown[i]!.ev.overall, 'en', t);
    let j = i;
    while (j < shown.length && etaText(shown[j]!.ev.overall, 'en', t) === text) j++;
    const { etaSeconds, overrun } = shown[i]!.ev.overall;
    if (!overrun && etaSeconds !== null && etaSeconds >= 1 && j < shown.length) {
      const { unit, value } = etaParts(etaSeconds);
      // "About 35 seconds" is at most 35 s; "about 3 minutes" at most 3.5; "about 1 minute" covers 60 to 90 s.
      const named = unit === 'second' ? value : value === 1 ? 90 : (value + 0.5) * 60;
      worst = Math.max(worst, shown[j]!.at - shown[i]!.at - named * 1000);
    }
    i = j;
  }
  return worst;
}

const percentText = (s: Shown): string => formatProgressPercent(s.ev.overall.fraction, 'en');
/** What the page showed before: whole percents. */
const wholePercent = (s: Shown): string => String(Math.round(s.ev.overall.fraction * 100));
const etaWords = (s: Shown): string => etaText(s.ev.overall, 'en', t);
/** What the page said before: "Taking longer than expected…" without how long so far. */
const etaWordsBefore = (s: Shown): string => etaText({ ...s.ev.overall, runningSeconds: undefined }, 'en', t);

/** The checks every simulated run must pass; `steadyUntil`: the step from which (a) need not hold. */
function expectSteadyAndTruthful(sim: Simulation, label: string, steadyUntil?: StepId): void {
  const { shown } = sim;
  for (const { ev } of shown) expect(ProgressEventSchema.safeParse(ev).success, JSON.stringify(ev)).toBe(true);
  // (a) A visible change of the overall fraction (one decimal of the percent) at least every 10 s.
  const end = steadyUntil === undefined ? shown.length : shown.findIndex((s) => s.ev.kind === 'step-started' && s.ev.step === steadyUntil) + 1;
  expect(longestStill(shown.slice(0, end), percentText), `${label}: bar still`).toBeLessThanOrEqual(10_000);
  // Only ever up, and 100 % only at the end.
  for (let i = 1; i < shown.length; i++) expect(shown[i]!.ev.overall.fraction, `${label} at ${i}`).toBeGreaterThanOrEqual(shown[i - 1]!.ev.overall.fraction);
  const working = shown.filter((s) => s.ev.kind !== 'finished');
  for (const s of working) if (s.ev.kind === 'step-progress' && s.ev.fraction < 1) expect(percentText(s), label).not.toBe(formatProgressPercent(1, 'en'));
  // (b) The time left: never below 0, never "almost done" while work remains, never a number the clock
  // has already contradicted; while late, how long the command has been running.
  for (const s of working) {
    const { etaSeconds } = s.ev.overall;
    if (etaSeconds !== null) expect(etaSeconds, label).toBeGreaterThanOrEqual(1);
    expect(etaWords(s), label).not.toBe(t('install.progress.etaDone'));
  }
  expect(contradicted(shown), `${label}: a number shown beyond the time it named (ms)`).toBeLessThanOrEqual(0);
  const late = working.filter((s) => s.ev.overall.overrun);
  for (const s of late) expect(etaWords(s), label).toMatch(/^Taking longer than expected \(\d+ (second|minute)s? so far\)$/);
}

describe('progress on a slow machine (fake clock, simulated commands)', () => {
  beforeEach(async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) });
    t = createI18n('en').t;
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('5x slower: the bar changes visibly at least every 10 s, the time left is never stale, and the factor is learned near 5', async () => {
    const sim = await simulate(5);
    expectSteadyAndTruthful(sim, '5x');
    // (c) Learned from the boot loader step's commands (the initramfs rebuild first), near 5 from then on.
    const learned = sim.factors.filter((f) => f.samples > 0);
    expect(learned.length).toBeGreaterThan(0);
    expect(sim.factors.find((f) => f.step === 'configure')!.factor).toBe(1);
    for (const f of learned) expect(Math.abs(f.factor - 5), `${f.step}: ${f.factor}`).toBeLessThan(0.75);
    // Skipped commands (dracut, bootctl, kernel-install) taught nothing: four commands ran.
    expect(sim.speed.samples).toBe(4);
    // Once learned (the initramfs rebuild ended), grub, fstrim and sync get 5x expectations: "taking
    // longer than expected" for a few seconds where the spread makes one slower than the mean, not
    // for minutes as at 1x expectations.
    vi.setSystemTime(Date.UTC(2026, 0, 1));
    const before = await simulate(5, { speed: SpeedCalibration.fixed(1), progressFloor: false });
    // The same commands take the same time in both runs: from the same moment on.
    expect(lateFor(before.shown, before.shown[0]!.at + sim.learnedAt! - sim.shown[0]!.at)).toBeGreaterThan(200_000);
    expect(lateFor(sim.shown, sim.learnedAt!)).toBeLessThan(30_000);
  }, 60_000);

  it('20x slower: no stale number; a visible change every 10 s until the boot loader step, and shorter stills after it', async () => {
    const sim = await simulate(20);
    // The boot loader, finalize and teardown steps get 16 of the plan's 69 weight (23 % of the bar)
    // for 45 of the 97 minutes: 0.1 % per 12 s even if the bar moved perfectly evenly there. No bar
    // that follows the step weights can keep the promise; the floor keeps it until its room (half
    // the way left) is used, in the initramfs rebuild that ran 20 times its expected 45 s.
    expectSteadyAndTruthful(sim, '20x', 'bootloader');
    const before = await simulate(20, { speed: SpeedCalibration.fixed(1), progressFloor: false });
    expect(longestStill(before.shown, percentText)).toBeGreaterThan(360_000);
    expect(longestStill(sim.shown, percentText)).toBeLessThan(240_000);
    expect(sim.speed.factor).toBeGreaterThan(0.9 * SPEED_MAX);
  }, 120_000);

  it('at the expected speed nothing changes materially: factor about 1, the same bar within 1 % and the same time left', async () => {
    const now = await simulate(1);
    expectSteadyAndTruthful(now, '1x');
    expect(now.speed.factor).toBeGreaterThan(0.85);
    expect(now.speed.factor).toBeLessThan(1.2);
    vi.setSystemTime(Date.UTC(2026, 0, 1));
    const before = await simulate(1, { speed: SpeedCalibration.fixed(1), progressFloor: false });
    expect(now.durationMs).toBe(before.durationMs);
    // Event for event, at the same times: the fraction within a percent, the ETA within 10 % or 5 s.
    const at = (sim: Simulation, ms: number) => sim.shown.filter((s) => s.at - sim.shown[0]!.at <= ms).at(-1)!.ev.overall;
    let worstFraction = 0;
    let worstEta = 0;
    for (let ms = 0; ms < now.durationMs; ms += TICK_MS) {
      const a = at(now, ms);
      const b = at(before, ms);
      worstFraction = Math.max(worstFraction, Math.abs(a.fraction - b.fraction));
      if (a.etaSeconds !== null && b.etaSeconds !== null && !a.overrun && !b.overrun) worstEta = Math.max(worstEta, Math.abs(a.etaSeconds - b.etaSeconds) - Math.max(5, 0.1 * b.etaSeconds));
    }
    expect(worstFraction).toBeLessThan(0.01);
    expect(worstEta).toBeLessThanOrEqual(0);
  }, 60_000);

  it('figures: the longest still stretch of the bar and of the time left, before (factor 1, no floor) and after', async () => {
    const rows: string[] = [];
    const s = (ms: number) => `${(ms / 1000).toFixed(0)} s`.padStart(7);
    for (const slowness of [1, 5, 20]) {
      const runs = {
        before: await simulate(slowness, { speed: SpeedCalibration.fixed(1), progressFloor: false }),
        calibrated: await simulate(slowness, { progressFloor: false }),
        after: await simulate(slowness),
      };
      for (const [name, sim] of Object.entries(runs)) {
        const words = name === 'before' ? etaWordsBefore : etaWords;
        rows.push(
          `${`${slowness}x`.padStart(3)} ${name.padEnd(10)} ${s(sim.durationMs)} ${s(longestStill(sim.shown, wholePercent))} ${s(longestStill(sim.shown, percentText))} ${s(longestStill(sim.shown, words))} ${s(Math.max(0, contradicted(sim.shown)))} ${s(lateFor(sim.shown))}  ${sim.speed.factor.toFixed(2)}`,
        );
      }
    }
    console.info(
      [
        `bar still = longest time without a visible change of the percent (whole percents as the page showed before, tenths as now; the floor moves it ${VISIBLE_STEP * 100} % after ${STILL_MS / 1000} s)`,
        'mach run        install  bar still  bar still  eta still  eta stale  late for  factor',
        '                         (whole %)  (tenths)   (text)     (beyond named)',
        ...rows,
      ].join('\n'),
    );
  }, 300_000);
});
