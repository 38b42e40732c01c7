import type { InstallerError } from '../../shared/errors';
import type { ActivityId, PlanAction, PlanStep } from '../../shared/install';
import { Placeholders, StepFailure, runAction } from './actions';
import type { RunContext } from './types';

/**
 * Teardown undoes what the install set up (mounts, open LUKS volumes, swap) so the disk is free
 * again. It runs after success, failure and cancel alike, so most of the time some of its
 * resources were never created: an action whose resource is gone is skipped rather than failed,
 * and a failing action does not stop the rest (an unmounted /boot is still worth having if
 * closing LUKS failed).
 */

export type TeardownCheck =
  | { readonly kind: 'mount'; readonly path: string }
  | { readonly kind: 'mapper'; readonly name: string }
  | { readonly kind: 'swap'; readonly device: string }
  | { readonly kind: 'always' };

/** Arguments that are not options (umount -R /x → ["/x"]). */
function operands(argv: readonly string[]): string[] {
  return argv.slice(1).filter((a) => !a.startsWith('-'));
}

/** Which resource an action releases, so it can be skipped when that resource no longer exists. */
export function teardownCheck(action: PlanAction): TeardownCheck {
  if (action.kind !== 'run') return { kind: 'always' };
  const [cmd] = action.argv;
  const args = operands(action.argv);
  const last = args[args.length - 1];
  if (cmd === 'umount' && last !== undefined) return { kind: 'mount', path: last };
  if (cmd === 'swapoff' && last !== undefined) return { kind: 'swap', device: last };
  if (cmd === 'cryptsetup') {
    // Both spellings: "cryptsetup close NAME" and the older "cryptsetup luksClose NAME".
    const verb = args.findIndex((a) => a === 'close' || a === 'luksClose');
    const name = verb >= 0 ? args[verb + 1] : undefined;
    if (name !== undefined) return { kind: 'mapper', name };
  }
  return { kind: 'always' };
}

async function stillThere(check: TeardownCheck, ctx: RunContext): Promise<boolean> {
  switch (check.kind) {
    case 'mount':
      return ctx.isMounted(check.path);
    case 'mapper':
      return ctx.mapperExists(check.name);
    case 'swap':
      return ctx.swapActive(check.device);
    case 'always':
      return true;
  }
}

export interface TeardownResult {
  /** The first failure; the others are in the log. */
  readonly error: InstallerError | null;
}

/** How teardown's progress is followed: each action as it starts and ends, and what its command reports. */
export interface TeardownProgress {
  started(index: number): void;
  onFraction(fraction: number, message?: string, activity?: ActivityId): void;
  finished(index: number): void;
}

export async function runTeardown(step: PlanStep, ctx: RunContext, placeholders: Placeholders, progress: TeardownProgress): Promise<TeardownResult> {
  // Teardown must finish even when the install was cancelled: it gets a signal nobody aborts.
  const signal = new AbortController().signal;
  let first: InstallerError | null = null;
  for (const [i, action] of step.actions.entries()) {
    progress.started(i);
    try {
      const resolved = await resolveCheck(action, step, placeholders);
      if (resolved === null || !(await stillThere(teardownCheck(resolved), ctx))) {
        ctx.log.message('debug', `skipped ${describe(action)}: already released`, step.id);
      } else {
        await runAction(step, action, { ctx, placeholders, signal, onFraction: progress.onFraction });
      }
    } catch (e) {
      const error = e instanceof StepFailure ? e.error : { code: 'internal' as const, kind: 'bug' as const, message: String(e), step: step.id };
      ctx.log.message('error', `teardown: ${error.message}`, step.id);
      first ??= error;
    }
    progress.finished(i);
  }
  return { error: first };
}

/**
 * Resolves placeholders in a run action's argv so the probes see real paths; null when the action
 * names a deployment that was never made, so there is nothing of it to release.
 */
async function resolveCheck(action: PlanAction, step: PlanStep, placeholders: Placeholders): Promise<PlanAction | null> {
  if (action.kind !== 'run' || !action.argv.some((a) => Placeholders.uses(a))) return action;
  const argv: string[] = [];
  for (const a of action.argv) {
    const r = await placeholders.tryResolve(a, step);
    if (r === null) return null;
    argv.push(r);
  }
  return { ...action, argv };
}

function describe(action: PlanAction): string {
  if (action.kind === 'run') return action.argv.join(' ');
  if (action.kind === 'preflight') return `pre-flight: ${action.checks.length} checks`;
  if (action.kind === 'relabel') return `relabel ${action.paths.join(' ')} (SELinux, policy of ${action.root})`;
  return action.kind === 'unpack' ? `unpack ${action.source.path} onto ${action.target}` : `${action.kind} ${action.path}`;
}
