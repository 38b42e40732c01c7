import type { InstallerError, Result } from '../../../shared/errors';
import type { InstallState, ProgressEvent } from '../../../shared/install';
import { settleSteps } from '../install/model';
import type { AppState, InstallSlice, Slice } from './types';

/** How many log lines the progress page keeps; older ones are in the log bundle. */
export const LOG_CAP = 2000;

type Install = AppState['install'];

const terminal = (phase: InstallState['phase']): boolean => phase === 'finished' || phase === 'failed' || phase === 'cancelled';

function capLog(lines: readonly string[]): string[] {
  return lines.length > LOG_CAP ? lines.slice(lines.length - LOG_CAP) : [...lines];
}

/** The state as shown: the failed step marked failed (see settleSteps), the log capped. */
function settle(state: InstallState): InstallState {
  return { ...state, steps: settleSteps(state), log: capLog(state.log) };
}

/** Folds one event into a state this UI already holds; null when the event does not fit it. */
export function foldProgress(state: InstallState, ev: ProgressEvent): InstallState | null {
  const plan = state.plan;
  if (!plan) return null;
  const running = state.phase === 'running' || state.phase === 'cancelling';
  switch (ev.kind) {
    case 'log':
      return { ...state, log: capLog([...state.log, `${ev.time} ${ev.level.toUpperCase()} ${ev.message}`]) };
    case 'step-started':
      if (!running || ev.index < 0 || ev.index >= plan.steps.length) return null;
      return { ...state, currentStep: ev.index, overall: ev.overall, activity: null, steps: state.steps.map((s, i) => (i === ev.index ? 'running' : s)) };
    case 'step-progress':
      return running ? { ...state, overall: ev.overall, activity: ev.activity ?? null } : null;
    case 'step-finished': {
      if (!running) return null;
      const index = plan.steps.findIndex((s) => s.id === ev.step);
      return { ...state, overall: ev.overall, activity: null, steps: state.steps.map((s, i) => (i === index ? 'done' : s)) };
    }
    case 'finished':
      return { ...state, phase: 'finished', overall: ev.overall, activity: null, outcome: ev, steps: state.steps.map((s) => (s === 'running' ? 'done' : s)) };
    case 'failed':
      return settle({ ...state, phase: ev.cancelled ? 'cancelled' : 'failed', overall: ev.overall, activity: null, outcome: ev });
  }
}

/**
 * The install as the engine reports it. Snapshots (getInstallState and the answers of start, cancel
 * and retry) replace the state whole; progress events are folded in between. An event that does not
 * fit what this UI holds (an install it has not seen, a retry started elsewhere) makes it ask the
 * engine again rather than guess.
 */
export const installSlice: Slice<InstallSlice> = ({ api }) => (set, get) => {
  let loads = 0;
  let inflight = 0;

  const patch = (p: Partial<Install>): void => set((s) => ({ install: { ...s.install, ...p } }));

  /** A new state from the engine; an install running again is no longer dismissed. */
  const adopt = (state: InstallState, extra: Partial<Install> = {}): void =>
    set((s) => ({
      install: { ...s.install, ...extra, state: settle(state), dismissed: terminal(state.phase) ? s.install.dismissed : false },
    }));

  const request = async (call: () => Promise<Result<InstallState>>): Promise<void> => {
    patch({ busy: true, error: null });
    const r = await call();
    if (r.ok) adopt(r.value, { busy: false, error: null });
    else patch({ busy: false, error: r.error });
  };

  return {
    install: { state: null, error: null, busy: false, dismissed: false },

    async loadInstallState() {
      const mine = ++loads;
      inflight++;
      const r = await api.getInstallState({}).finally(() => inflight--);
      // Only the newest answer counts: an older snapshot must not overwrite a newer one.
      if (mine !== loads) return;
      if (r.ok) adopt(r.value, { error: null });
      else patch({ error: r.error as InstallerError });
    },

    beginInstall: (planId) => request(() => api.startInstall({ planId })),
    cancelInstall: () => request(() => api.cancelInstall({})),
    retryInstall: () => request(() => api.retryInstall({})),

    dismissInstall() {
      patch({ dismissed: true });
    },

    listSaveTargets: () => api.listSaveTargets({}),
    saveLogBundle: (target) => api.saveFile({ kind: 'log-bundle', target }),
    power: (action) => api.power({ action }),

    applyProgress(event) {
      const current = get().install.state;
      const next = current ? foldProgress(current, event) : null;
      if (next) adopt(next);
      // A snapshot on its way covers this event: the engine answers in order with its events.
      else if (inflight === 0) void get().loadInstallState();
    },
  };
};
