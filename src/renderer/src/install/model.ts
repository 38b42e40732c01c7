import type { TFunction } from 'i18next';
import type { InstallState, ProgressEvent } from '../../../shared/install';

/**
 * Pure rules of the install pages: which view an install state calls for, what each step's status
 * is once the install has ended, when a screen reader is told about progress, and how long is left
 * in words. Kept out of the components so unit tests can check them without a DOM.
 */

export type InstallView = 'progress' | 'done' | 'failure';
export type StepStatus = InstallState['steps'][number];
export type FailedOutcome = Extract<ProgressEvent, { kind: 'failed' }>;

/** Where the person is: null while there is no install to show (the wizard is shown). */
export function installView(state: InstallState | null, dismissed: boolean): InstallView | null {
  if (!state) return null;
  switch (state.phase) {
    case 'idle':
      return null;
    case 'running':
    case 'cancelling':
      return 'progress';
    case 'finished':
      return 'done';
    case 'failed':
    case 'cancelled':
      return dismissed ? null : 'failure';
  }
}

export function failedOutcome(state: InstallState | null): FailedOutcome | null {
  return state?.outcome?.kind === 'failed' ? state.outcome : null;
}

/**
 * Step statuses as a person should read them. The runner tears down (a step of its own) before it
 * reports the failure, so by then the engine's "current step" is teardown and the step that really
 * failed may still say running: the failure's own `error.step` names it.
 */
export function settleSteps(state: InstallState): InstallState['steps'] {
  const failed = failedOutcome(state);
  if (!failed || !state.plan) return state.steps;
  const named = failed.error.step ? state.plan.steps.findIndex((s) => s.id === failed.error.step) : -1;
  return state.steps.map((status, i) => (i === named || status === 'running' ? 'failed' : status));
}

/** Whether cancelling now still leaves the disk as it was: nothing destructive has started. */
export function beforePointOfNoReturn(state: InstallState): boolean {
  const plan = state.plan;
  if (!plan) return true;
  const pnr = plan.pointOfNoReturn;
  if (state.currentStep === null || state.currentStep < pnr) return true;
  return state.currentStep === pnr && (state.steps[pnr] ?? 'pending') === 'pending';
}

/**
 * What the engine's loss means for the target disk, judged from the last install state this UI saw:
 * untouched when no install ran (or one ended leaving the disk as it was); interrupted when an
 * install was running or being cancelled, since the engine may have written the disk before its last
 * event arrived (even before the point of no return); ended when an install had ended with the disk
 * written, which its own page already explained.
 */
export type EngineLoss = 'untouched' | 'interrupted' | 'ended';

export function engineLoss(state: InstallState | null): EngineLoss {
  if (!state) return 'untouched';
  switch (state.phase) {
    case 'idle':
      return 'untouched';
    case 'running':
    case 'cancelling':
      return 'interrupted';
    case 'finished':
      return 'ended';
    case 'failed':
    case 'cancelled':
      return failedOutcome(state)?.diskState === 'untouched' ? 'untouched' : 'ended';
  }
}

/** Progress is announced in tenths: 0.37 → 30. */
export function announcedPercent(fraction: number): number {
  return Math.min(100, Math.max(0, Math.floor(fraction * 10) * 10));
}

/** The unit and amount an ETA is said in: minutes from 90 s on, else seconds in steps of 5. */
export function etaParts(seconds: number): { unit: 'minute' | 'second'; value: number } {
  if (seconds >= 90) return { unit: 'minute', value: Math.round(seconds / 60) };
  if (seconds >= 60) return { unit: 'minute', value: 1 };
  return { unit: 'second', value: Math.max(5, Math.ceil(seconds / 5) * 5) };
}

/** "3 minutes", "٤٥ ثانية", "45 Sekunden": Intl does the words and digits. */
export function formatEta(seconds: number, locale: string): string {
  const { unit, value } = etaParts(seconds);
  return new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'long' }).format(value);
}

export function formatPercent(fraction: number, locale: string): string {
  return new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 }).format(Math.min(1, Math.max(0, fraction)));
}

/**
 * The Progress page's number: tenths of a percent, the engine's VISIBLE_STEP (progress.ts), so a
 * step of the bar too small to see on the track still changes what is read ("79.4%" → "79.5%").
 * Cut down rather than rounded: 99.96 % of the way is not "100.0%".
 */
export function formatProgressPercent(fraction: number, locale: string): string {
  const tenths = Math.floor(Math.min(1, Math.max(0, fraction)) * 1000 + 1e-9) / 1000;
  return new Intl.NumberFormat(locale, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(tenths);
}

/**
 * The time left in words: unknown at first, then "about N left", "almost done" at the end, and
 * "taking longer than expected (3 minutes so far)" while a command has overrun its estimate (the
 * number would be stale).
 */
export function etaText(overall: InstallState['overall'], locale: string, t: TFunction): string {
  const { etaSeconds, overrun, runningSeconds } = overall;
  if (overrun) return runningSeconds === undefined ? t('install.progress.etaOverrun') : t('install.progress.etaOverrunFor', { time: formatDuration(runningSeconds * 1000, locale) });
  if (etaSeconds === null) return t('install.progress.etaUnknown');
  if (etaSeconds < 1) return t('install.progress.etaDone');
  return t('install.progress.eta', { time: formatEta(etaSeconds, locale) });
}

/** How long something took, in whole seconds below two minutes, else whole minutes. */
export function formatDuration(ms: number, locale: string): string {
  const seconds = Math.max(1, Math.round(ms / 1000));
  const [unit, value] = seconds < 120 ? (['second', seconds] as const) : (['minute', Math.round(seconds / 60)] as const);
  return new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'long' }).format(value);
}

/** Status words and icons for a step, as the person should read them once the install has ended. */
export type StepLabel = 'pending' | 'running' | 'done' | 'failed' | 'skipped' | 'notRun' | 'stopped';

export function stepLabel(status: StepStatus, phase: InstallState['phase']): StepLabel {
  const ended = phase === 'failed' || phase === 'cancelled';
  if (status === 'pending' && ended) return 'notRun';
  if (status === 'failed' && phase === 'cancelled') return 'stopped';
  return status;
}
