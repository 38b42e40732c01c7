import type { ProgressEvent } from '../../shared/install';

/**
 * Overall progress from step weights (Calamares-style): finished steps count whole, the running
 * one by its own fraction. The time left is what the running step still expects (StepOutlook: its
 * command's measured rate where the command reports progress, else the command's expected time
 * counted down, plus its later commands' expected times, all scaled to this machine's speed) and
 * the later steps' weights at the seconds per weight this run has measured so far. It is smoothed
 * over a few seconds, because the measured rate swings when one step (deploy) is much slower per
 * unit of weight than the others. The runner asks again every TICK_MS while a step runs, so it is
 * never older than that.
 *
 * The fraction shown never stands still for long (STILL_MS): when the steps' own progress has not
 * moved it by VISIBLE_STEP for that long (a command far past even its calibrated expectation), a
 * floor moves it by VISIBLE_STEP, at most to half the way left ahead of the steps' progress. That
 * lead is kept in proportion to the way left as the steps go on, so the two meet at the end. The
 * room is finite: at 80 % the floor alone keeps the bar moving for about 15 minutes, after which a
 * stuck command stands still (its "taking longer than expected" still counts the minutes). And it
 * follows the step weights: where a step takes far longer than its weight's share of the bar (the
 * boot loader and finalize steps at 20x), no floor can keep a visible change every 10 s to the end.
 */

export interface Overall {
  fraction: number;
  etaSeconds: number | null;
  /** Present (true) only while the running command is late; see OverallSchema. */
  overrun?: true;
  /** With overrun: whole seconds the late command has been running. */
  runningSeconds?: number;
}

/** What the running step still expects: StepProgress.outlook. */
export interface StepOutlook {
  /** Milliseconds the step's rest is expected to take; for a late command, without the rest of it. */
  readonly remainingMs: number;
  /** The running command is late: the remaining time is only a lower bound. */
  readonly late: boolean;
  /** How long the running command has been running (0 between commands). */
  readonly runningMs: number;
}

/**
 * The least change of the overall fraction a person can see: the Progress page shows the percent
 * with one decimal (ProgressPage.tsx, formatProgressPercent), so a tenth of a percent. The bar
 * itself would move 0.6 px on a 600 px track, which nobody sees: the number is the visible part.
 */
export const VISIBLE_STEP = 0.001;
/**
 * The longest the fraction may go without a visible change before the floor moves it. The floor
 * acts when the runner asks (every TICK_MS), and events may wait up to PROGRESS_INTERVAL_MS, so a
 * visible change comes at least every STILL_MS + TICK_MS + PROGRESS_INTERVAL_MS = 9.2 s, under 10 s.
 */
export const STILL_MS = 8000;
/** Which VISIBLE_STEP a fraction shows: cut down, as the Progress page's formatProgressPercent does. */
const visibleUnit = (f: number): number => Math.floor(f / VISIBLE_STEP + 1e-9);
/** How far the floor may move the bar ahead of the steps' own progress: this share of the way left. */
const MAX_LEAD = 0.5;
/** Below this much progress the extrapolation is noise: show no ETA rather than a wrong one. */
const ETA_MIN_FRACTION = 0.05;
/** Time constant (ms) of the ETA's smoothing: a new estimate has pulled it ~63 % of the way after this long. */
const ETA_SMOOTHING_MS = 4000;

export interface OverallOptions {
  /** Indexes finished by an earlier run (resume); they count as done from the start. */
  readonly alreadyDone?: readonly number[];
  /** False turns the floor off: only for the figures of what the bar did without it. */
  readonly floor?: boolean;
}

export class OverallProgress {
  private readonly weights: number[];
  private readonly total: number;
  private readonly floor: boolean;
  private done = 0;
  /** The steps' own progress, never lower than an earlier answer. */
  private raw = 0;
  /** What is shown: raw, plus what the floor added, kept in proportion to the way left. */
  private shown = 0;
  /** The last visible change: the tenth of a percent shown then (see visibleUnit), and when. */
  private visibleFrom = 0;
  private visibleAt: number;
  private readonly startedAt: number;
  private readonly baseline: number;
  private eta: number | null = null;
  private etaAt = 0;

  constructor(
    weights: readonly number[],
    private readonly now: () => number,
    options: OverallOptions = {},
  ) {
    // All-zero weights would divide by zero; count steps equally instead.
    const sum = weights.reduce((a, w) => a + w, 0);
    this.weights = sum > 0 ? [...weights] : weights.map(() => 1);
    this.total = this.weights.reduce((a, w) => a + w, 0);
    this.floor = options.floor ?? true;
    for (const i of options.alreadyDone ?? []) this.done += this.weights[i] ?? 0;
    this.raw = this.clamp(this.done / this.total);
    this.shown = this.raw;
    this.visibleFrom = visibleUnit(this.raw);
    this.baseline = this.raw;
    this.startedAt = now();
    this.visibleAt = this.startedAt;
    this.etaAt = this.startedAt;
  }

  finish(index: number): void {
    this.done += this.weights[index] ?? 0;
  }

  /**
   * Overall progress while step `index` is at `stepFraction`; never lower than an earlier answer.
   * `outlook`: what the running step still expects; without it the step's rest is counted at the
   * measured rate like the steps after it.
   */
  at(index: number | null, stepFraction = 0, outlook?: StepOutlook): Overall {
    const weight = index === null ? 0 : (this.weights[index] ?? 0);
    const current = weight * Math.min(1, Math.max(0, stepFraction));
    const raw = Math.max(this.raw, this.clamp((this.done + current) / this.total));
    const t = this.now();
    const fraction = this.show(raw, t);
    const after = outlook ? this.total - this.done - weight : null;
    const eta = this.estimate(raw, t, outlook && after !== null ? { ...outlook, afterShare: Math.max(0, after) / this.total } : null);
    // Work remains until complete(): never "done" before that.
    const etaSeconds = eta === null ? null : Math.max(1, eta);
    return outlook?.late ? { fraction, etaSeconds, overrun: true, runningSeconds: Math.floor(outlook.runningMs / 1000) } : { fraction, etaSeconds };
  }

  complete(): Overall {
    this.raw = 1;
    this.shown = 1;
    this.eta = 0;
    return { fraction: 1, etaSeconds: 0 };
  }

  private show(raw: number, t: number): number {
    if (raw > this.raw) {
      // The floor's lead shrinks with the way left: the steps' progress moves what is shown proportionally.
      this.shown = Math.min(1, this.shown + ((raw - this.raw) * (1 - this.shown)) / (1 - this.raw));
      this.raw = raw;
    }
    this.shown = Math.max(this.shown, raw);
    if (visibleUnit(this.shown) > this.visibleFrom) {
      this.visibleFrom = visibleUnit(this.shown);
      this.visibleAt = t;
    } else if (this.floor && t - this.visibleAt >= STILL_MS) {
      // Just into the next tenth, so that what is shown changes by one.
      const next = (this.visibleFrom + 1) * VISIBLE_STEP + VISIBLE_STEP / 1000;
      if (next <= raw + (1 - raw) * MAX_LEAD) {
        this.shown = Math.max(this.shown, next);
        this.visibleFrom = visibleUnit(this.shown);
        this.visibleAt = t;
      }
    }
    return this.shown;
  }

  private estimate(fraction: number, t: number, outlook: (StepOutlook & { afterShare: number }) | null): number | null {
    const made = fraction - this.baseline;
    if (fraction <= ETA_MIN_FRACTION || made <= 0) return this.eta === null ? null : Math.round(this.eta);
    // Seconds per unit of overall fraction, as this run has measured them.
    const rate = (t - this.startedAt) / 1000 / made;
    const raw = outlook ? outlook.remainingMs / 1000 + rate * outlook.afterShare : rate * (1 - fraction);
    const dt = Math.max(0, t - this.etaAt);
    if (this.eta === null) {
      this.eta = raw;
    } else if (outlook?.late) {
      // A late command: what is left is at least the rest, and the number no longer counts down.
      this.eta = Math.max(this.eta, raw);
    } else {
      // Count the previous estimate down by the time that passed, then move it toward the new one,
      // as far as the time that passed allows (the same whether updates come 5 or 0.2 times a second).
      const predicted = Math.max(0, this.eta - dt / 1000);
      this.eta = predicted + (1 - Math.exp(-dt / ETA_SMOOTHING_MS)) * (raw - predicted);
    }
    this.etaAt = t;
    return Math.max(0, Math.round(this.eta));
  }

  private clamp(f: number): number {
    return Number.isFinite(f) ? Math.min(1, Math.max(0, f)) : 0;
  }
}

/** How often a running step is reported again although nothing new was heard: the bar moves, the ETA is fresh. */
export const TICK_MS = 1000;
/** After a command reported its own progress, how long the bar waits for more before moving by time again. */
export const QUIET_MS = 3000;
/** A command is late once it has been silent this much longer than the time it was still expected to take. */
export const LATE_GRACE_MS = 5000;
/** The shortest expected time: nothing is expected to be instant. */
const MIN_EXPECTED_MS = 50;

/**
 * The share of an action's remaining way still left after `silentMs` without news, when it was
 * expected to take `expectedMs`: exponential up to the expected time (63 % of the way covered
 * then), after it shrinking as 1/t, slower and slower but never reaching 0: time alone never
 * finishes an action, and a fraction computed from it only ever grows.
 */
export function remainingShare(silentMs: number, expectedMs: number): number {
  const e = Math.max(MIN_EXPECTED_MS, expectedMs);
  const s = Math.max(0, silentMs);
  return s <= e ? Math.exp(-s / e) : Math.exp(-1) * (e / s);
}

/**
 * One action's fraction (0..1). What the command says (`measured`: stage lines, counted lines,
 * bytes) moves it; between two such readings, and for a command that says nothing at all, `tick`
 * moves it by time against what the action is expected to take. Measured progress below the
 * displayed fraction (time ran ahead) still moves it, proportionally over the way left, so the
 * two meet at the end. Only a reading of 1 reaches the end.
 */
export class ActionProgress {
  private shown = 0;
  private reading = 0;
  private anchorAt: number;
  private anchorShown = 0;
  private quietMs = 0;
  private overrun = false;

  /** `expectedMs`: already scaled to this machine's speed (SpeedCalibration). */
  constructor(
    private readonly expectedMs: number,
    readonly startedAt: number,
  ) {
    this.anchorAt = startedAt;
  }

  get fraction(): number {
    return this.shown;
  }

  /** Silent for longer than it was still expected to take (plus grace); stays so until the action ends. */
  get late(): boolean {
    return this.overrun;
  }

  measured(f: number, now: number): void {
    const m = Number.isFinite(f) ? Math.min(1, Math.max(0, f)) : 0;
    if (m <= this.reading) return;
    const carried = this.shown + ((m - this.reading) * (1 - this.shown)) / (1 - this.reading);
    this.shown = Math.min(1, Math.max(this.shown, m, carried));
    this.reading = m;
    this.anchorAt = now;
    this.anchorShown = this.shown;
    this.quietMs = QUIET_MS;
  }

  tick(now: number): void {
    if (this.shown >= 1) return;
    const silent = now - this.anchorAt;
    const expected = this.expectedRemainingMs();
    if (silent > this.quietMs + expected + LATE_GRACE_MS) this.overrun = true;
    if (silent <= this.quietMs) return;
    const gap = (1 - this.anchorShown) * remainingShare(silent - this.quietMs, expected);
    this.shown = Math.max(this.shown, 1 - gap);
  }

  /**
   * Milliseconds this action still needs: its expected time counted down since the last news, to
   * the moment it would be called late (so a time left reaches its end only when "taking longer
   * than expected" takes its place, never stands at a number the clock has passed), and, once the
   * command has reported a tenth of its way over at least 5 s, its own measured rate too, counting
   * the more the further it says it is (a reading from counted lines is rougher than one from
   * bytes, and both get better toward the end). Null when late: nobody knows.
   */
  remainingMs(now: number): number | null {
    if (this.overrun) return null;
    if (this.shown >= 1) return 0;
    const since = now - this.anchorAt;
    const expected = Math.max(0, this.quietMs + this.expectedRemainingMs() + LATE_GRACE_MS - since);
    const measuredFor = this.anchorAt - this.startedAt;
    if (this.reading < 0.1 || measuredFor < 5000) return expected;
    const measured = Math.max(0, (measuredFor * (1 - this.reading)) / this.reading - since);
    return this.reading * measured + (1 - this.reading) * expected;
  }

  /** What is left of the expected time, pro rata of the way left when the last news came. */
  private expectedRemainingMs(): number {
    return Math.max(MIN_EXPECTED_MS, this.expectedMs * (1 - this.anchorShown));
  }
}

/**
 * A step's fraction from its actions, each owning a share of the step as large as its expected
 * time: a mount takes none of the bar, an initramfs rebuild most of it. `speed` is this machine's
 * factor at the time of asking (SpeedCalibration): an action gets its expected time times the
 * factor when it starts, and the later actions count at the factor of now. The shares stay those
 * of the ordinary machine, since one factor scales them all alike.
 */
export class StepProgress {
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  private action: ActionProgress | null = null;
  private index = -1;
  private floor = 0;
  private last = 0;

  constructor(
    private readonly expectedMs: readonly number[],
    private readonly speed: () => number = () => 1,
  ) {
    const spans = expectedMs.map((e) => Math.max(MIN_EXPECTED_MS, Number.isFinite(e) ? e : 0));
    const total = spans.reduce((a, e) => a + e, 0);
    let at = 0;
    for (const [k, e] of spans.entries()) {
      this.starts.push(at / total);
      at += e;
      this.ends.push(k === spans.length - 1 ? 1 : at / total);
    }
  }

  start(k: number, now: number): void {
    this.index = k;
    this.floor = Math.max(this.floor, this.starts[k] ?? 0);
    this.action = new ActionProgress((this.expectedMs[k] ?? 0) * this.speed(), now);
  }

  measured(f: number, now: number): void {
    this.action?.measured(f, now);
  }

  tick(now: number): void {
    this.action?.tick(now);
  }

  finish(k: number): void {
    this.action = null;
    this.floor = Math.max(this.floor, this.ends[k] ?? 1);
  }

  /** 0..1, never lower than an earlier answer. */
  fraction(): number {
    const span = (this.ends[this.index] ?? 0) - (this.starts[this.index] ?? 0);
    const within = this.action ? (this.starts[this.index] ?? 0) + span * this.action.fraction : 0;
    this.last = Math.min(1, Math.max(this.last, this.floor, within));
    return this.last;
  }

  get late(): boolean {
    return this.action?.late ?? false;
  }

  /** What the step still expects: the running action's remaining time and the later actions' expected times. */
  outlook(now: number): StepOutlook {
    const later = this.expectedMs.slice(this.index + 1).reduce((a, e) => a + Math.max(0, e), 0) * this.speed();
    const own = this.action?.remainingMs(now) ?? 0;
    return { remainingMs: own + later, late: this.late, runningMs: this.action ? Math.max(0, now - this.action.startedAt) : 0 };
  }
}

type StepProgressEvent = Extract<ProgressEvent, { kind: 'step-progress' }>;

/** At most five step-progress events a second: a UI gains nothing from more, and IPC pays for each. */
export const PROGRESS_INTERVAL_MS = 200;

/**
 * Rate limit for step-progress. An update inside the interval is held, not dropped: the held one
 * goes out when the interval ends (timer) or when the step ends (`flush`), so the last value shown
 * before step-finished is always the latest.
 */
export class ProgressThrottle {
  private lastSent = Number.NEGATIVE_INFINITY;
  private pending: StepProgressEvent | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly now: () => number,
    private readonly deliver: (ev: StepProgressEvent) => void,
    private readonly intervalMs = PROGRESS_INTERVAL_MS,
  ) {}

  offer(ev: StepProgressEvent): void {
    const wait = this.lastSent + this.intervalMs - this.now();
    if (wait <= 0) {
      this.send(ev);
      return;
    }
    this.pending = ev;
    this.timer ??= setTimeout(() => {
      this.timer = null;
      this.flush();
    }, wait);
  }

  /** Delivers the held update, if any; call before step-finished and failed. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const ev = this.pending;
    if (ev) this.send(ev);
  }

  private send(ev: StepProgressEvent): void {
    this.pending = null;
    this.lastSent = this.now();
    this.deliver(ev);
  }
}
