import type { DiskState, InstallPlan, PlanStep, StepId } from '../../shared/install';

/**
 * What to tell a person after an install stopped: what the disk now holds, and where a retry
 * has to start. Both follow from which steps had started, not from what we hoped they did.
 */

export interface RetryAdvice {
  from: StepId;
  reason: string;
}

/** Whether starting step `index` changes the disk: a destructive step, or anything past the point of no return. */
export function writesDisk(plan: InstallPlan, index: number): boolean {
  const step = plan.steps[index];
  return step !== undefined && step.id !== 'teardown' && (step.destructive || index >= plan.pointOfNoReturn);
}

export function diskStateAfterStop(touched: boolean): DiskState {
  return touched ? 'partially-written' : 'untouched';
}

/** The first step that lays the disk out anew: where every non-resumable failure must restart. */
function firstDestructive(plan: InstallPlan): PlanStep | undefined {
  return plan.steps.find((s) => s.destructive);
}

export function retryAdvice(plan: InstallPlan, failedIndex: number, touched: boolean): RetryAdvice {
  const first = plan.steps[0];
  const failed = plan.steps[failedIndex];
  if (!touched || failed === undefined) {
    return { from: first?.id ?? 'verify-disk', reason: 'nothing was written to the disk; the install can start again from the beginning' };
  }
  if (failed.id === 'teardown') {
    return { from: 'teardown', reason: 'the system is installed, but its filesystems are still in use: unmount them (or restart) before using the disk' };
  }
  if (failed.resumable) {
    return { from: failed.id, reason: `the filesystems are intact; the install resumes at ${failed.id}` };
  }
  const restart = firstDestructive(plan) ?? first;
  const from = restart?.id ?? 'wipe';
  if (failed.id === 'deploy') {
    return { from, reason: 'bootc does not roll back: the target holds a half-written repository and must be wiped' };
  }
  return { from, reason: `the disk was left half-prepared during ${failed.id} and must be erased and laid out again` };
}
