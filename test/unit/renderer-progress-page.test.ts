import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { I18nextProvider } from 'react-i18next';
import { describe, expect, it } from 'vitest';
import type { InstallerApi } from '../../src/shared/api';
import { makePlan } from '../support/make-plan';
import { ACTIVITY_IDS, type InstallState, type ProgressEvent } from '../../src/shared/install';
import { App } from '../../src/renderer/src/App';
import { RESOURCES, createI18n } from '../../src/renderer/src/i18n';
import { LOCALES, type LocaleCode } from '../../src/renderer/src/i18n/locales';
import { formatDuration, formatEta, formatProgressPercent } from '../../src/renderer/src/install/model';
import { createAppStore } from '../../src/renderer/src/store';
import { StoreContext } from '../../src/renderer/src/store/react';

// The Progress page while a command runs long: what it is doing, and "taking longer than expected"
// in place of a time left that would be stale.

const STEP_IDS = ['format', 'deploy', 'bootloader', 'teardown'] as const;
const PLAN = makePlan(
  STEP_IDS.map((id) => ({ id, title: `English ${id}`, weight: 1, destructive: false, resumable: true, actions: [] })),
  { id: 'plan-1', disk: '/dev/loop0', serial: null },
);

const running = (patch: Partial<InstallState>): InstallState => ({
  phase: 'running',
  plan: PLAN,
  currentStep: 2,
  overall: { fraction: 0.86, etaSeconds: 35 },
  steps: ['done', 'done', 'running', 'pending'],
  outcome: null,
  log: [],
  ...patch,
});

/** The page's text after the engine reported `state`, then `events`. */
async function page(state: InstallState, code: LocaleCode = 'en', events: ProgressEvent[] = []): Promise<string> {
  const api = {
    getInstallState: async () => ({ ok: true, value: state }),
    listSaveTargets: async () => ({ ok: true, value: { targets: [] } }),
    on: () => () => {},
  } as unknown as InstallerApi;
  const s = createAppStore({ api, stepCount: 6 });
  await s.getState().loadInstallState();
  s.setState({ engine: { status: 'ready', info: null, error: null }, locale: code });
  for (const ev of events) s.getState().applyProgress(ev);
  const now = { ...s, getInitialState: s.getState };
  const html = renderToStaticMarkup(createElement(StoreContext.Provider, { value: now }, createElement(I18nextProvider, { i18n: createI18n(code) }, createElement(App, { browser: false }))));
  return html.replace(/<[^>]+>/g, ' ').replace(/&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/\s+/g, ' ');
}

describe('Progress page: a long command', () => {
  it('says the time left while on time, and "taking longer than expected" instead of it once late, in every language', async () => {
    for (const { code } of LOCALES) {
      const t = RESOURCES[code].install;
      const left = t.progress.eta.replace('{{time}}', formatEta(35, code)).replace(/\s+/g, ' ');
      const onTime = await page(running({ activity: 'initramfs', overall: { fraction: 0.86, etaSeconds: 35 } }), code);
      expect(onTime, code).toContain(left);
      expect(onTime, code).not.toContain(t.progress.etaOverrun);
      expect(onTime, code).toContain(t.activity.initramfs);

      const late = await page(running({ activity: 'initramfs', overall: { fraction: 0.87, etaSeconds: 35, overrun: true } }), code);
      expect(late, code).toContain(t.progress.etaOverrun);
      expect(late, code).not.toContain(left);
      expect(late, code).toContain(t.activity.initramfs);
      expect(late, code).toContain(t.progress.current.replace('{{step}}', RESOURCES[code].planStep.bootloader));

      // With how long the command has run, from an engine that says.
      const soFar = await page(running({ activity: 'initramfs', overall: { fraction: 0.87, etaSeconds: 35, overrun: true, runningSeconds: 190 } }), code);
      expect(soFar, code).toContain(t.progress.etaOverrunFor.replace('{{time}}', formatDuration(190_000, code)).replace(/\s+/g, ' '));
      expect(soFar, code).not.toContain(left);
    }
  });

  it('shows the percent in tenths, cut down, so a step too small for the bar still shows', async () => {
    expect(formatProgressPercent(0.7949, 'en')).toBe('79.4%');
    expect(formatProgressPercent(0.795, 'en')).toBe('79.5%');
    expect(formatProgressPercent(0.9999, 'en')).toBe('99.9%');
    expect(formatProgressPercent(1, 'en')).toBe('100.0%');
    expect(formatProgressPercent(0.7949, 'de')).toMatch(/^79,4\s?%$/);
    const text = await page(running({ overall: { fraction: 0.8612, etaSeconds: 35 } }));
    expect(text).toContain('86.1% done');
  });

  it('follows the events: the activity and the overrun come and go with them', async () => {
    const en = RESOURCES.en.install;
    const late: ProgressEvent = { kind: 'step-progress', step: 'bootloader', fraction: 0.4, activity: 'initramfs', overall: { fraction: 0.87, etaSeconds: 40, overrun: true } };
    const text = await page(running({}), 'en', [late]);
    expect(text).toContain(en.progress.etaOverrun);
    expect(text).toContain(en.activity.initramfs);
    const next: ProgressEvent = { kind: 'step-progress', step: 'bootloader', fraction: 0.6, activity: 'boot-menu', overall: { fraction: 0.9, etaSeconds: 20 } };
    const after = await page(running({}), 'en', [late, next]);
    expect(after).not.toContain(en.progress.etaOverrun);
    expect(after).toContain('About 20 seconds left');
    expect(after).toContain(en.activity['boot-menu']);
    const finished: ProgressEvent = { kind: 'step-finished', step: 'bootloader', durationMs: 1000, overall: { fraction: 0.95, etaSeconds: 5 } };
    expect(await page(running({}), 'en', [late, next, finished])).not.toContain(en.activity['boot-menu']);
  });

  it('has every activity and the overrun text translated, not copied from English', () => {
    for (const { code } of LOCALES) {
      const t = RESOURCES[code].install;
      for (const id of ACTIVITY_IDS) expect(t.activity[id], `${code} ${id}`).toMatch(/\S/);
      expect(t.progress.etaOverrun, code).toMatch(/\S/);
      expect(t.progress.etaOverrunFor, code).toContain('{{time}}');
      if (code === 'en') continue;
      expect(t.progress.etaOverrun, code).not.toBe(RESOURCES.en.install.progress.etaOverrun);
      expect(t.progress.etaOverrunFor, code).not.toBe(RESOURCES.en.install.progress.etaOverrunFor);
      for (const id of ACTIVITY_IDS) expect(t.activity[id], `${code} ${id}`).not.toBe(RESOURCES.en.install.activity[id]);
    }
  });
});
