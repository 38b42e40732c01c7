import type { EngineInfo } from '../../../shared/api';
import type { InstallerError } from '../../../shared/errors';
import type { RequirementCheck, RequirementId } from '../../../shared/system';
import type { Branding, RequirementPolicy } from '../branding';

/** What the engine is asked to check, from the branding and what the engine offers to install. */
export function requirementParams(b: Pick<Branding, 'requirements' | 'defaultImage'>, info: EngineInfo | null) {
  // Only the image's own fields: the check's image is strict, and the offer's deployer is not one of them.
  const { reference, transport } = info?.offeredImage ?? b.defaultImage;
  return {
    minimumMemory: b.requirements.memory.minimum ?? 0,
    firmware: b.requirements.firmware.require ?? 'any',
    image: { reference, transport },
  } as const;
}

export interface RequirementsState {
  readonly checks: readonly RequirementCheck[] | null;
  readonly loading: boolean;
  readonly error: InstallerError | null;
}

/**
 * Whether "Install" may be pressed, and why not:
 * - checking: no answer yet, so wait (a few hundred milliseconds);
 * - blocked: a check the branding marks blocking failed;
 * - error: the engine could not check; the person may go on, warned, rather than be stuck;
 * - warn: a non-blocking check failed, or a check could not be measured;
 * - ok: every check passed or did not apply.
 */
export type RequirementsGate =
  | { readonly kind: 'checking'; readonly canInstall: false }
  | { readonly kind: 'blocked'; readonly canInstall: false; readonly ids: readonly RequirementId[] }
  | { readonly kind: 'error'; readonly canInstall: true }
  | { readonly kind: 'warn'; readonly canInstall: true; readonly ids: readonly RequirementId[] }
  | { readonly kind: 'ok'; readonly canInstall: true };

export function isBlocking(check: RequirementCheck, policies: Readonly<Record<RequirementId, RequirementPolicy>>): boolean {
  return check.status === 'failed' && policies[check.id].blocking;
}

export function requirementsGate(state: RequirementsState, policies: Readonly<Record<RequirementId, RequirementPolicy>>): RequirementsGate {
  if (state.loading) return { kind: 'checking', canInstall: false };
  // A failed re-check keeps the old answer out of the decision: the engine's error is what is known now.
  if (state.error) return { kind: 'error', canInstall: true };
  if (!state.checks) return { kind: 'checking', canInstall: false };
  const blocking = state.checks.filter((c) => isBlocking(c, policies)).map((c) => c.id);
  if (blocking.length > 0) return { kind: 'blocked', canInstall: false, ids: blocking };
  const warnings = state.checks.filter((c) => c.status === 'failed' || c.status === 'unknown').map((c) => c.id);
  return warnings.length > 0 ? { kind: 'warn', canInstall: true, ids: warnings } : { kind: 'ok', canInstall: true };
}
