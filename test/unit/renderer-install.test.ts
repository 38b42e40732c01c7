import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { I18nextProvider } from 'react-i18next';
import { describe, expect, it } from 'vitest';
import type { InstallerApi } from '../../src/shared/api';
import { makeError, type Result } from '../../src/shared/errors';
import type { InstallPlan, InstallState, ProgressEvent } from '../../src/shared/install';
import { App } from '../../src/renderer/src/App';
import { RESOURCES, createI18n } from '../../src/renderer/src/i18n';
import { LOCALES } from '../../src/renderer/src/i18n/locales';
import { engineLoss } from '../../src/renderer/src/install/model';
import { createAppStore } from '../../src/renderer/src/store';
import { LOG_CAP } from '../../src/renderer/src/store/install';
import { StoreContext } from '../../src/renderer/src/store/react';

const STEP_IDS = ['wipe', 'partition', 'format', 'mount', 'deploy', 'teardown'] as const;

const PLAN: InstallPlan = {
  id: 'plan-1',
  createdAt: '2026-01-01T00:00:00Z',
  disk: { path: '/dev/loop0', serial: null, wwn: null, size: 64 * 1024 ** 3, byIdPath: null, diskSeq: null, ptUuid: null },
  firmware: 'uefi',
  arch: 'x64',
  layout: 'erase',
  partitions: [],
  kernelArgs: [],
  sourceImgref: 'docker://quay.io/example/os:42',
  targetImgref: null,
  steps: STEP_IDS.map((id) => ({ id, title: `English ${id}`, weight: 1, destructive: id !== 'mount' && id !== 'teardown', resumable: id === 'deploy', actions: [] })),
  pointOfNoReturn: 0,
  summary: [],
  warnings: [],
};

const overall = (fraction: number, etaSeconds: number | null = null) => ({ fraction, etaSeconds });

function state(patch: Partial<InstallState> = {}): InstallState {
  return { phase: 'running', plan: PLAN, currentStep: 0, overall: overall(0), steps: STEP_IDS.map(() => 'pending'), outcome: null, log: [], ...patch };
}

const IDLE: InstallState = { phase: 'idle', plan: null, currentStep: null, overall: overall(0), steps: [], outcome: null, log: [] };

const started = (index: number, fraction = index / STEP_IDS.length): ProgressEvent => ({ kind: 'step-started', step: STEP_IDS[index]!, index, title: 'x', overall: overall(fraction) });
const finished = (index: number, fraction = (index + 1) / STEP_IDS.length): ProgressEvent => ({ kind: 'step-finished', step: STEP_IDS[index]!, durationMs: 10, overall: overall(fraction) });
const failedAt = (step: string, cancelled = false): ProgressEvent => ({
  kind: 'failed',
  error: makeError(cancelled ? 'cancelled' : 'command-failed', 'bootc failed', { step, command: ['podman', 'run'], stderrTail: 'error: deploy: injected failure' }),
  diskState: 'partially-written',
  retry: { from: 'deploy', reason: 'the deployment can be redone' },
  cancelled,
  overall: overall(0.6),
});

/** A fake engine: each method answers from a script; calls are recorded. */
function fakeApi(script: Partial<Record<'getInstallState' | 'startInstall' | 'cancelInstall' | 'retryInstall', Array<Result<InstallState>>>>) {
  const calls: string[] = [];
  const answer = (name: keyof typeof script) => async (): Promise<Result<InstallState>> => {
    calls.push(name);
    return script[name]?.shift() ?? { ok: false, error: makeError('internal', `no answer for ${name}`) };
  };
  const api = {
    getInstallState: answer('getInstallState'),
    startInstall: answer('startInstall'),
    cancelInstall: answer('cancelInstall'),
    retryInstall: answer('retryInstall'),
    listSaveTargets: async () => ({ ok: true, value: { targets: [] } }),
    on: () => () => {},
  } as unknown as InstallerApi;
  return { api, calls };
}

const store = (api: InstallerApi) => createAppStore({ api, stepCount: 6 });
const flush = () => new Promise((r) => setTimeout(r, 0));

describe('install slice', () => {
  it('shows a reloaded page the install that is running, then follows its events', async () => {
    const { api } = fakeApi({ getInstallState: [{ ok: true, value: state({ currentStep: 2, steps: ['done', 'done', 'running', 'pending', 'pending', 'pending'], overall: overall(0.4, 120), log: ['old line'] }) }] });
    const s = store(api);
    expect(s.getState().install.state).toBeNull();
    await s.getState().loadInstallState();
    expect(s.getState().install.state).toMatchObject({ phase: 'running', currentStep: 2, overall: { fraction: 0.4, etaSeconds: 120 } });

    s.getState().applyProgress(finished(2, 0.5));
    s.getState().applyProgress(started(3, 0.5));
    s.getState().applyProgress({ kind: 'step-progress', step: 'mount', fraction: 0.5, overall: overall(0.55, 90) });
    s.getState().applyProgress({ kind: 'log', level: 'info', message: 'mounted', time: '2026-01-01T00:00:01Z' });
    const st = s.getState().install.state!;
    expect(st.steps).toEqual(['done', 'done', 'done', 'running', 'pending', 'pending']);
    expect(st.currentStep).toBe(3);
    expect(st.overall).toEqual(overall(0.55, 90));
    expect(st.log).toEqual(['old line', '2026-01-01T00:00:01Z INFO mounted']);
  });

  it('asks the engine again when an event arrives for an install it has not seen', async () => {
    const { api, calls } = fakeApi({ getInstallState: [{ ok: true, value: IDLE }, { ok: true, value: state({ currentStep: 1, steps: ['done', 'running', 'pending', 'pending', 'pending', 'pending'] }) }] });
    const s = store(api);
    await s.getState().loadInstallState();
    expect(s.getState().install.state?.phase).toBe('idle');
    // Started from another front end: this page learns of it from the events.
    s.getState().applyProgress(started(1));
    s.getState().applyProgress(finished(1));
    await flush();
    expect(calls.filter((c) => c === 'getInstallState')).toHaveLength(2);
    expect(s.getState().install.state).toMatchObject({ phase: 'running', currentStep: 1 });
  });

  it('keeps only the newest snapshot when answers overlap', async () => {
    let release!: (r: Result<InstallState>) => void;
    const slow = new Promise<Result<InstallState>>((r) => (release = r));
    const answers = [slow, Promise.resolve<Result<InstallState>>({ ok: true, value: state({ phase: 'finished' }) })];
    const api = { getInstallState: () => answers.shift()!, on: () => () => {} } as unknown as InstallerApi;
    const s = store(api);
    const first = s.getState().loadInstallState();
    await s.getState().loadInstallState();
    release({ ok: true, value: state({ phase: 'running' }) });
    await first;
    expect(s.getState().install.state?.phase).toBe('finished');
  });

  it('starts an install from a plan and finishes it', async () => {
    const { api, calls } = fakeApi({ getInstallState: [{ ok: true, value: IDLE }], startInstall: [{ ok: true, value: state({ steps: ['running', 'pending', 'pending', 'pending', 'pending', 'pending'] }) }] });
    const s = store(api);
    await s.getState().loadInstallState();
    const begun = s.getState().beginInstall('plan-1');
    expect(s.getState().install.busy).toBe(true);
    await begun;
    expect(calls).toContain('startInstall');
    expect(s.getState().install).toMatchObject({ busy: false, error: null, state: { phase: 'running' } });
    for (let i = 0; i < STEP_IDS.length; i++) {
      if (i > 0) s.getState().applyProgress(started(i));
      s.getState().applyProgress(finished(i));
    }
    s.getState().applyProgress({ kind: 'finished', durationMs: 1000, reboot: true, overall: overall(1, 0) });
    expect(s.getState().install.state).toMatchObject({ phase: 'finished', overall: { fraction: 1 }, outcome: { kind: 'finished' } });
    expect(s.getState().install.state!.steps.every((x) => x === 'done')).toBe(true);
  });

  it('keeps a refused start as data next to the button', async () => {
    const { api } = fakeApi({ startInstall: [{ ok: false, error: makeError('disk-changed', 'the disk changed') }] });
    const s = store(api);
    await s.getState().beginInstall('plan-1');
    expect(s.getState().install).toMatchObject({ busy: false, state: null, error: { code: 'disk-changed' } });
  });

  it('marks the failed step although teardown ran after it, and retries from the advice', async () => {
    const { api, calls } = fakeApi({
      getInstallState: [{ ok: true, value: state({ currentStep: 4, steps: ['done', 'done', 'done', 'done', 'running', 'pending'] }) }],
      retryInstall: [{ ok: true, value: state({ currentStep: 4, steps: ['done', 'done', 'done', 'done', 'pending', 'pending'] }) }],
    });
    const s = store(api);
    await s.getState().loadInstallState();
    // The runner tears down first and reports the failure after: teardown is the current step by then.
    s.getState().applyProgress(started(5));
    s.getState().applyProgress(finished(5));
    s.getState().applyProgress(failedAt('deploy'));
    let st = s.getState().install.state!;
    expect(st.phase).toBe('failed');
    expect(st.steps).toEqual(['done', 'done', 'done', 'done', 'failed', 'done']);
    expect(st.outcome).toMatchObject({ kind: 'failed', retry: { from: 'deploy' }, error: { command: ['podman', 'run'] } });

    await s.getState().retryInstall();
    expect(calls).toContain('retryInstall');
    st = s.getState().install.state!;
    expect(st).toMatchObject({ phase: 'running', outcome: null });
    s.getState().applyProgress(started(4));
    s.getState().applyProgress(finished(4));
    s.getState().applyProgress(started(5));
    s.getState().applyProgress(finished(5));
    s.getState().applyProgress({ kind: 'finished', durationMs: 5, reboot: true, overall: overall(1, 0) });
    expect(s.getState().install.state?.phase).toBe('finished');
  });

  it('settles a failed snapshot the same way (a page reloaded after the failure)', async () => {
    const outcome = failedAt('deploy') as Extract<ProgressEvent, { kind: 'failed' }>;
    const { api } = fakeApi({ getInstallState: [{ ok: true, value: state({ phase: 'failed', currentStep: 5, steps: ['done', 'done', 'done', 'done', 'running', 'done'], outcome }) }] });
    const s = store(api);
    await s.getState().loadInstallState();
    expect(s.getState().install.state!.steps[4]).toBe('failed');
  });

  it('cancels: cancelling, then the cancelled outcome; dismiss shows the wizard until an install runs again', async () => {
    const { api } = fakeApi({
      getInstallState: [{ ok: true, value: state({ currentStep: 4, steps: ['done', 'done', 'done', 'done', 'running', 'pending'] }) }],
      cancelInstall: [{ ok: true, value: state({ phase: 'cancelling', currentStep: 4, steps: ['done', 'done', 'done', 'done', 'running', 'pending'] }) }],
      retryInstall: [{ ok: true, value: state({ currentStep: 0 }) }],
    });
    const s = store(api);
    await s.getState().loadInstallState();
    await s.getState().cancelInstall();
    expect(s.getState().install.state?.phase).toBe('cancelling');
    // Teardown still reports progress while cancelling.
    s.getState().applyProgress(started(5));
    expect(s.getState().install.state?.phase).toBe('cancelling');
    s.getState().applyProgress(finished(5));
    s.getState().applyProgress(failedAt('deploy', true));
    expect(s.getState().install.state).toMatchObject({ phase: 'cancelled', outcome: { cancelled: true } });
    expect(s.getState().install.state!.steps[4]).toBe('failed');

    s.getState().dismissInstall();
    expect(s.getState().install.dismissed).toBe(true);
    await s.getState().retryInstall();
    expect(s.getState().install.dismissed).toBe(false);
  });

  it('keeps at most LOG_CAP log lines', async () => {
    const { api } = fakeApi({ getInstallState: [{ ok: true, value: state() }] });
    const s = store(api);
    await s.getState().loadInstallState();
    for (let i = 0; i < LOG_CAP + 25; i++) s.getState().applyProgress({ kind: 'log', level: 'debug', message: `line ${i}`, time: 't' });
    const log = s.getState().install.state!.log;
    expect(log).toHaveLength(LOG_CAP);
    expect(log.at(-1)).toBe(`t DEBUG line ${LOG_CAP + 24}`);
    expect(log[0]).toBe('t DEBUG line 25');
  });

  it('reports a failed getInstallState as data', async () => {
    const { api } = fakeApi({ getInstallState: [{ ok: false, error: makeError('internal', 'gone', { kind: 'system' }) }] });
    const s = store(api);
    await s.getState().loadInstallState();
    expect(s.getState().install).toMatchObject({ state: null, error: { message: 'gone' } });
  });
});

describe('engine lost', () => {
  const LOST = makeError('internal', 'The connection to the installer engine was lost (code 1006).', { kind: 'system' });
  const failed = (diskState: 'untouched' | 'partially-written', cancelled = false): InstallState =>
    state({ phase: cancelled ? 'cancelled' : 'failed', outcome: { ...(failedAt('wipe', cancelled) as Extract<ProgressEvent, { kind: 'failed' }>), diskState } });

  it('judges the disk from the last install state seen', () => {
    expect(engineLoss(null)).toBe('untouched');
    expect(engineLoss(IDLE)).toBe('untouched');
    expect(engineLoss(state())).toBe('interrupted');
    // Before the point of no return too: the step's start may have been the event that never came.
    expect(engineLoss(state({ currentStep: null }))).toBe('interrupted');
    expect(engineLoss(state({ phase: 'cancelling' }))).toBe('interrupted');
    expect(engineLoss(failed('untouched', true))).toBe('untouched');
    expect(engineLoss(failed('partially-written'))).toBe('ended');
    expect(engineLoss(state({ phase: 'finished' }))).toBe('ended');
  });

  /** The App's markup once the engine is gone, after the engine reported `last`. */
  async function lostScreen(last: InstallState | null, code: (typeof LOCALES)[number]['code'] = 'en'): Promise<string> {
    const { api } = fakeApi({ getInstallState: last ? [{ ok: true, value: last }] : [] });
    const s = store(api);
    if (last) await s.getState().loadInstallState();
    s.getState().engineLost(LOST);
    const i18n = createI18n(code);
    // Server rendering reads zustand's initial state; hand it the current one instead.
    const now = { ...s, getInitialState: s.getState };
    return renderToStaticMarkup(
      createElement(StoreContext.Provider, { value: now }, createElement(I18nextProvider, { i18n }, createElement(App, { browser: false }))),
    );
  }
  const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&');

  it('says nothing was changed only when no install wrote the disk', async () => {
    const en = RESOURCES.en.engine;
    for (const last of [null, IDLE, failed('untouched', true)]) {
      const html = text(await lostScreen(last));
      expect(html).toContain(en.errorTitle);
      expect(html).toContain(en.unchanged);
      expect(html).not.toContain(en.interrupted);
    }
    for (const last of [failed('partially-written'), state({ phase: 'finished' })]) {
      const html = text(await lostScreen(last));
      expect(html).toContain(en.errorBody);
      expect(html).not.toContain(en.unchanged);
      expect(html).not.toContain(en.interrupted);
    }
  });

  it('tells an interrupted install how things stand, in every language, in the same alert', async () => {
    for (const { code } of LOCALES) {
      const t = RESOURCES[code].engine;
      const html = await lostScreen(state({ currentStep: 3, steps: ['done', 'done', 'done', 'running', 'pending', 'pending'] }), code);
      expect(html, code).toMatch(/<section[^>]*role="alert"[^>]*aria-labelledby="engine-error-title"/);
      const plain = text(html);
      expect(plain, code).toContain(t.errorTitle);
      expect(plain, code).toContain(t.interrupted);
      expect(plain, code).toContain(t.interruptedNext.replace('{{retry}}', t.retry));
      expect(plain, code).not.toContain(t.unchanged);
      expect(plain, code).toContain(LOST.message);
    }
  });

  it('has the interrupted-install text translated, not copied from English', () => {
    for (const { code } of LOCALES.filter((l) => l.code !== 'en')) {
      for (const key of ['unchanged', 'interrupted', 'interruptedNext'] as const) expect(RESOURCES[code].engine[key], `${code} ${key}`).not.toBe(RESOURCES.en.engine[key]);
    }
  });
});
