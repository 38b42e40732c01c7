import { makeError, type InstallerError } from '../../shared/errors';
import type { ActivityId, InstallPlan, PlanStep, ProgressEvent } from '../../shared/install';
import { Placeholders, StepFailure, runAction, type ActionRun } from './actions';
import { ACTIVITY_MESSAGE, actionProfile } from './activity';
import { diskStateAfterStop, retryAdvice, writesDisk } from './advice';
import type { LogLevel } from './log';
import { OverallProgress, ProgressThrottle, StepProgress, TICK_MS } from './progress';
import { redactDeep } from './scrub';
import { SpeedCalibration } from './speed';
import { runTeardown } from './teardown';
import { warningsBefore } from './warnings';
import type { RunContext, RunOptions, RunOutcome } from './types';

/**
 * Carries out an InstallPlan: steps in order, actions in order, progress as weighted fractions,
 * cancel through ctx.signal, and teardown (the plan's step with id "teardown") always last, after
 * success, failure or cancel. While a step runs it is reported at least every TICK_MS, moved by the
 * command's output or, where there is none, by time (progress.ts) against expected times scaled to
 * this machine's speed as the run learns it (speed.ts), with what it is doing now. The
 * outcome and the final `finished`/`failed` event tell the truth about the disk: untouched until
 * the first disk-writing action has started, partially written after that unless every step
 * succeeded.
 */

interface Stop {
  readonly index: number;
  readonly error: InstallerError;
  readonly cancelled: boolean;
}

export async function runPlan(plan: InstallPlan, ctx: RunContext, options: RunOptions = {}): Promise<RunOutcome> {
  const startedAt = ctx.now();
  ctx.log.addSecrets(ctx.secrets.values());
  const redactString = (s: string): string => ctx.log.redact(s);
  // Events should never hold a secret anyway; scrubbing them is cheap insurance for stderr tails.
  const send = (ev: ProgressEvent): void => ctx.emit(redactDeep(ev, redactString));
  const note = (level: LogLevel, message: string, step?: string): void => {
    ctx.log.message(level, message, step);
    send({ kind: 'log', level, message: redactString(message), time: new Date(ctx.now()).toISOString() });
  };

  const teardownIndex = plan.steps.findIndex((s) => s.id === 'teardown');
  const mainIndexes = plan.steps.map((_, i) => i).filter((i) => i !== teardownIndex);
  const resumeFrom = options.resumeFrom ?? 0;
  if (!Number.isInteger(resumeFrom) || resumeFrom < 0 || resumeFrom >= plan.steps.length || resumeFrom === teardownIndex) {
    // A caller bug, not a user error: the engine only offers resume points from a failed event.
    throw new RangeError(`resumeFrom ${resumeFrom} is not a step of this plan`);
  }
  const earlier = mainIndexes.filter((i) => i < resumeFrom);
  // Resuming means an earlier run already wrote whatever the earlier steps write.
  let touched = earlier.some((i) => writesDisk(plan, i));

  const progress = new OverallProgress(
    plan.steps.map((s) => s.weight),
    () => ctx.now(),
    { alreadyDone: earlier, ...(options.progressFloor === undefined ? {} : { floor: options.progressFloor }) },
  );
  const speed = options.speed ?? new SpeedCalibration();
  const throttle = new ProgressThrottle(() => ctx.now(), send);
  const placeholders = new Placeholders(ctx);

  const cancelledAt = (index: number, cause?: InstallerError): Stop => {
    const step = plan.steps[index];
    const error = makeError('cancelled', `The install was cancelled during step ${step?.id ?? index}.`, {
      ...(step ? { step: step.id } : {}),
      ...(cause?.command ? { command: cause.command } : {}),
    });
    return { index, error, cancelled: true };
  };

  const stopFrom = (index: number, e: unknown): Stop => {
    if (ctx.signal.aborted) return cancelledAt(index, e instanceof StepFailure ? e.error : undefined);
    const step = plan.steps[index]?.id;
    const error = e instanceof StepFailure ? e.error : makeError('internal', e instanceof Error ? e.message : String(e));
    return { index, error: { ...error, ...(step ? { step } : {}) }, cancelled: false };
  };

  /**
   * Progress of one running step: actions as they start and end, what their commands report, and a
   * tick every TICK_MS that moves a silent command by time and refreshes the ETA. Call `stop` when
   * the step ends, however it ends.
   */
  const trackStep = (index: number, step: PlanStep) => {
    const profiles = step.actions.map(actionProfile);
    const tracker = new StepProgress(
      profiles.map((p) => p.expectedMs),
      () => speed.factor,
    );
    let actionStartedAt = ctx.now();
    let message: string | undefined;
    let activity: ActivityId | undefined;
    const report = (): void => {
      const fraction = tracker.fraction();
      throttle.offer({
        kind: 'step-progress',
        step: step.id,
        fraction,
        ...(message === undefined ? {} : { message }),
        ...(activity === undefined ? {} : { activity }),
        overall: progress.at(index, fraction, tracker.outlook(ctx.now())),
      });
    };
    const timer = setInterval(() => {
      tracker.tick(ctx.now());
      report();
    }, TICK_MS);
    return {
      started(k: number): void {
        actionStartedAt = ctx.now();
        tracker.start(k, actionStartedAt);
        const named = profiles[k]?.activity ?? undefined;
        const changed = named !== activity;
        activity = named;
        message = named === undefined ? undefined : ACTIVITY_MESSAGE[named];
        // A new activity is shown at once, not at the next tick.
        if (changed && named !== undefined) report();
      },
      onFraction(f: number, said?: string, named?: ActivityId): void {
        tracker.measured(f, ctx.now());
        if (named !== undefined) {
          activity = named;
          message = ACTIVITY_MESSAGE[named];
        }
        if (said !== undefined) message = said;
        report();
      },
      /** `run`: whether the action ran (a skipped one says nothing of the machine's speed). */
      finished(k: number, run?: ActionRun): void {
        const profile = profiles[k];
        if (run === 'ran' && profile?.calibrates) speed.record(profile.expectedMs, ctx.now() - actionStartedAt);
        tracker.finish(k);
        report();
      },
      stop(): void {
        clearInterval(timer);
      },
    };
  };

  const runStep = async (index: number, step: PlanStep): Promise<void> => {
    const t0 = ctx.now();
    send({ kind: 'step-started', step: step.id, index, title: step.title, overall: progress.at(index, 0) });
    ctx.log.stepStarted(step.id, step.title);
    for (const w of await warningsBefore(plan, step, ctx, placeholders)) note('warn', w, step.id);
    const track = trackStep(index, step);
    try {
      for (const [k, action] of step.actions.entries()) {
        if (ctx.signal.aborted) throw new StepFailure(cancelledAt(index).error);
        // Marked before the action starts: a write cut short has still changed the disk.
        if (writesDisk(plan, index)) touched = true;
        track.started(k);
        const run = await runAction(step, action, { ctx, placeholders, signal: ctx.signal, onFraction: track.onFraction });
        // The command may have finished although the cancel came while it ran: stop here all the same.
        if (ctx.signal.aborted) throw new StepFailure(cancelledAt(index).error);
        track.finished(k, run);
      }
    } finally {
      track.stop();
    }
    throttle.flush();
    progress.finish(index);
    const durationMs = ctx.now() - t0;
    ctx.log.stepEnded(step.id, 'finished', durationMs);
    // For whoever tunes activity.ts's expected times from a log.
    if (speed.samples > 0) ctx.log.message('debug', `this machine runs at ${speed.factor.toFixed(2)}x the expected durations (from ${speed.samples} commands)`, step.id);
    send({ kind: 'step-finished', step: step.id, durationMs, overall: progress.at(null) });
  };

  let stop: Stop | null = null;
  let current = resumeFrom;
  try {
    if (resumeFrom > 0) {
      note('info', `resuming at step ${plan.steps[resumeFrom]?.id}: reopening encrypted volumes and remounting first`);
      await reestablish(plan, earlier, ctx, placeholders, (i) => (current = i));
    }
    for (const index of mainIndexes.filter((i) => i >= resumeFrom)) {
      current = index;
      const step = plan.steps[index];
      if (step) await runStep(index, step);
    }
  } catch (e) {
    throttle.flush();
    stop = stopFrom(current, e);
    ctx.log.stepEnded(plan.steps[current]?.id ?? String(current), 'failed');
    note(stop.cancelled ? 'warn' : 'error', stop.error.message, stop.error.step);
  }

  let teardownError: InstallerError | null = null;
  const teardown = plan.steps[teardownIndex];
  if (teardown) {
    const t0 = ctx.now();
    send({ kind: 'step-started', step: teardown.id, index: teardownIndex, title: teardown.title, overall: progress.at(teardownIndex, 0) });
    ctx.log.stepStarted(teardown.id, teardown.title);
    const track = trackStep(teardownIndex, teardown);
    let result: Awaited<ReturnType<typeof runTeardown>>;
    try {
      result = await runTeardown(teardown, ctx, placeholders, track);
    } finally {
      track.stop();
    }
    throttle.flush();
    progress.finish(teardownIndex);
    const durationMs = ctx.now() - t0;
    teardownError = result.error;
    ctx.log.stepEnded(teardown.id, teardownError ? 'failed' : 'finished', durationMs);
    send({ kind: 'step-finished', step: teardown.id, durationMs, overall: progress.at(null) });
  } else {
    note('warn', 'the plan has no teardown step; nothing is unmounted or closed');
  }

  const durationMs = ctx.now() - startedAt;
  if (stop === null && teardownError === null) {
    note('info', `install finished in ${Math.round(durationMs / 1000)} s`);
    send({ kind: 'finished', durationMs, reboot: true, overall: progress.complete() });
    return { ok: true, cancelled: false, diskState: 'installed', failedStep: null, durationMs };
  }

  // Everything but teardown succeeded: the system is installed, yet the disk may still be in use.
  const final: Stop = stop ?? {
    index: teardownIndex,
    error: { ...(teardownError as InstallerError), step: 'teardown' },
    cancelled: false,
  };
  const diskState = stop === null ? 'installed' : diskStateAfterStop(touched);
  const error = redactDeep(final.error, redactString);
  send({
    kind: 'failed',
    error,
    diskState,
    retry: retryAdvice(plan, final.index, touched),
    cancelled: final.cancelled,
    overall: progress.at(null),
  });
  return { ok: false, cancelled: final.cancelled, diskState, failedStep: final.index, error, durationMs };
}

/**
 * Resuming at step i assumes what the earlier steps wrote is still on the disk, but what lived
 * only in the kernel is gone: teardown closed the LUKS volumes and unmounted everything when the
 * failed run ended (or the machine restarted). So, in plan order, re-run the `cryptsetup open`
 * commands of the steps before i and every action of the mount step if it is before i. Nothing
 * else of the earlier steps is repeated; in particular nothing that writes to the disk.
 */
async function reestablish(
  plan: InstallPlan,
  earlier: readonly number[],
  ctx: RunContext,
  placeholders: Placeholders,
  at: (index: number) => void,
): Promise<void> {
  for (const index of earlier) {
    const step = plan.steps[index];
    if (!step) continue;
    at(index);
    for (const action of step.actions) {
      const reopen = action.kind === 'run' && action.argv[0] === 'cryptsetup' && action.argv.some((a) => a === 'open' || a === 'luksOpen');
      if (step.id !== 'mount' && !reopen) continue;
      if (ctx.signal.aborted) throw new StepFailure(makeError('cancelled', 'The install was cancelled.', { step: step.id }));
      await runAction(step, action, { ctx, placeholders, signal: ctx.signal, onFraction: () => {} });
    }
  }
}
