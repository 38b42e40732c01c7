import type { ProgressEvent } from '../../shared/install';

/**
 * Overall progress from step weights (Calamares-style): finished steps count whole, the running
 * one by its own fraction. The ETA is extrapolated from the time this run has taken for the
 * progress it made, then smoothed, because raw extrapolation swings wildly when one step
 * (deploy) is much slower per unit of weight than the others.
 */

export interface Overall {
  fraction: number;
  etaSeconds: number | null;
}

/** Below this much progress the extrapolation is noise: show no ETA rather than a wrong one. */
const ETA_MIN_FRACTION = 0.05;
/** How far each new estimate pulls the shown ETA toward itself. */
const ETA_SMOOTHING = 0.3;

export class OverallProgress {
  private readonly weights: number[];
  private readonly total: number;
  private done = 0;
  private last = 0;
  private readonly startedAt: number;
  private readonly baseline: number;
  private eta: number | null = null;
  private etaAt = 0;

  /** `alreadyDone`: indexes finished by an earlier run (resume); they count as done from the start. */
  constructor(
    weights: readonly number[],
    private readonly now: () => number,
    alreadyDone: readonly number[] = [],
  ) {
    // All-zero weights would divide by zero; count steps equally instead.
    const sum = weights.reduce((a, w) => a + w, 0);
    this.weights = sum > 0 ? [...weights] : weights.map(() => 1);
    this.total = this.weights.reduce((a, w) => a + w, 0);
    for (const i of alreadyDone) this.done += this.weights[i] ?? 0;
    this.last = this.clamp(this.done / this.total);
    this.baseline = this.last;
    this.startedAt = now();
  }

  finish(index: number): void {
    this.done += this.weights[index] ?? 0;
  }

  /** Overall progress while step `index` is at `stepFraction`; never lower than an earlier answer. */
  at(index: number | null, stepFraction = 0): Overall {
    const current = index === null ? 0 : (this.weights[index] ?? 0) * Math.min(1, Math.max(0, stepFraction));
    const fraction = Math.max(this.last, this.clamp((this.done + current) / this.total));
    this.last = fraction;
    return { fraction, etaSeconds: this.estimate(fraction) };
  }

  complete(): Overall {
    this.last = 1;
    this.eta = 0;
    return { fraction: 1, etaSeconds: 0 };
  }

  private estimate(fraction: number): number | null {
    const t = this.now();
    const made = fraction - this.baseline;
    if (fraction <= ETA_MIN_FRACTION || made <= 0) return this.eta === null ? null : Math.round(this.eta);
    const elapsedS = (t - this.startedAt) / 1000;
    const raw = (elapsedS * (1 - fraction)) / made;
    if (this.eta === null) {
      this.eta = raw;
    } else {
      // Count the previous estimate down by the time that passed, then move it part way to the new one.
      const predicted = Math.max(0, this.eta - (t - this.etaAt) / 1000);
      this.eta = predicted + ETA_SMOOTHING * (raw - predicted);
    }
    this.etaAt = t;
    return Math.max(0, Math.round(this.eta));
  }

  private clamp(f: number): number {
    return Number.isFinite(f) ? Math.min(1, Math.max(0, f)) : 0;
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
