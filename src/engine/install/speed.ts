/**
 * How much slower (factor above 1) or faster (below 1) this machine runs than the expected
 * durations of activity.ts, learned from the commands this run has finished. The runner scales
 * the expected time of every action by it when the action starts, and the later actions' times in
 * the ETA: under emulation (QEMU's TCG, about 5x slower than an ordinary PC) the initramfs rebuild
 * that follows a slow boot loader command then gets a 5x expectation, so its bar moves at the pace
 * it really goes and its time left is not a number the clock has already contradicted.
 *
 * Only commands whose time is a property of the machine teach it (ActionProfile.calibrates: the
 * initramfs builders, grub, bootctl; not the unpack, whose time is the image's size, nor a wait
 * such as udevadm settle), only those expected to take long enough for start-up costs not to
 * dominate, and none for more than a minute's worth, so one long command does not speak for the
 * machine alone. The factor is the weighted mean of measured / expected time, each ratio clamped.
 */

/** Commands expected to take less than this teach nothing: their time is mostly process start-up. */
export const MIN_SAMPLE_MS = 3000;
/** No command counts for more than this much expected time in the mean. */
const MAX_SAMPLE_WEIGHT_MS = 60_000;
/**
 * Evidence that the machine is faster than expected is weighed against this much expected time
 * at 1x. Too short an expectation costs more than too long a one (the command is flagged late and
 * its bar crawls; too long, and the bar jumps when it ends), so a fast machine is believed slowly,
 * a slow one at once.
 */
const FASTER_PRIOR_MS = 60_000;
/** The factor's range: beyond it a measurement says more about the command than about the machine. */
export const SPEED_MIN = 0.25;
export const SPEED_MAX = 20;

const clamp = (x: number): number => Math.min(SPEED_MAX, Math.max(SPEED_MIN, x));

export class SpeedCalibration {
  private weighted = 0;
  private weight = 0;
  private count = 0;

  /** `fixed`: a factor that never learns (the figures' "before", with 1). */
  constructor(private readonly fixed: number | null = null) {}

  static fixed(factor: number): SpeedCalibration {
    return new SpeedCalibration(clamp(factor));
  }

  /** A command that ran to its end: what it was expected to take on an ordinary machine, and what it took. */
  record(expectedMs: number, tookMs: number): void {
    if (this.fixed !== null || !(expectedMs >= MIN_SAMPLE_MS) || !Number.isFinite(tookMs) || tookMs < 0) return;
    const w = Math.min(expectedMs, MAX_SAMPLE_WEIGHT_MS);
    this.weighted += w * clamp(tookMs / expectedMs);
    this.weight += w;
    this.count++;
  }

  /** 1 until something was learned. */
  get factor(): number {
    if (this.fixed !== null) return this.fixed;
    if (this.weight === 0) return 1;
    const mean = this.weighted / this.weight;
    return clamp(mean >= 1 ? mean : (this.weighted + FASTER_PRIOR_MS) / (this.weight + FASTER_PRIOR_MS));
  }

  /** How many commands it learned from. */
  get samples(): number {
    return this.count;
  }
}
