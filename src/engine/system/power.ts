import type { ApplyResult, EngineMode, InstallState } from '../../shared';
import type { Exec } from '../exec';
import { EngineFailure } from '../failure';

/** Reboot or power off once the install is over; never while one runs, never in demo or test mode. */
export async function power(action: 'reboot' | 'poweroff', deps: { mode: EngineMode; exec: Exec; installPhase: () => InstallState['phase'] }): Promise<ApplyResult> {
  const phase = deps.installPhase();
  if (phase === 'running' || phase === 'cancelling') {
    throw EngineFailure.of('invalid-input', `An install is ${phase === 'running' ? 'running' : 'being cancelled'}; wait until it has ended before you ${action === 'reboot' ? 'restart' : 'power off'}.`);
  }
  if (deps.mode === 'demo') return { applied: false, detail: 'Demo mode does not reboot or power off this computer.' };
  if (deps.mode === 'test') return { applied: false, detail: 'Test mode does not reboot or power off this computer.' };
  await deps.exec(['systemctl', action], { timeoutMs: 30_000 });
  return { applied: true, detail: `systemctl ${action}` };
}
