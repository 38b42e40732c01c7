import type { InstallPlan, PlanStep } from '../../shared/install';
import { conditionsHold, type Placeholders } from './actions';
import type { RunContext } from './types';

/**
 * The plan's warnings whose conditions are checked before `step` (what the unpacked image carries),
 * for those that hold: the English sentence to log, with the conditions that made it a fact.
 */
export async function warningsBefore(plan: InstallPlan, step: PlanStep, ctx: RunContext, placeholders: Placeholders): Promise<string[]> {
  const out: string[] = [];
  for (const w of plan.warnings) {
    if (w.checkBefore !== step.id) continue;
    const c = await conditionsHold(w, step, { ctx, placeholders });
    if (!c.ok) continue;
    const why = w.when ? ` (${w.when.map((x) => `${x.test} ${x.path}`).join(', ')})` : '';
    out.push(`${w.message} This image is such a case${why}.`);
  }
  return out;
}
