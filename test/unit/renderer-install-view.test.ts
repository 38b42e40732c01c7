import { describe, expect, it } from 'vitest';
import { ERROR_CODES, makeError } from '../../src/shared/errors';
import { DiskStateSchema, STEP_IDS, type InstallState } from '../../src/shared/install';
import { RESOURCES } from '../../src/renderer/src/i18n';
import { LOCALES } from '../../src/renderer/src/i18n/locales';
import {
  announcedPercent,
  beforePointOfNoReturn,
  etaParts,
  formatEta,
  formatPercent,
  installView,
  settleSteps,
  stepLabel,
} from '../../src/renderer/src/install/model';
import { brandCss, brandVariables, contrastWithWhite } from '../../src/renderer/src/theme';
import raw from '../../resources/branding/particleos/branding.json';

const base: InstallState = { phase: 'running', plan: null, currentStep: null, overall: { fraction: 0, etaSeconds: null }, steps: [], outcome: null, log: [] };

describe('install translations', () => {
  for (const { code } of LOCALES) {
    it(`${code} names every step id, error code and disk state`, () => {
      const ns = RESOURCES[code].install;
      for (const id of STEP_IDS) expect(RESOURCES[code].planStep[id], id).toMatch(/\S/);
      for (const c of ERROR_CODES) expect(ns.errors[c], c).toMatch(/\S/);
      for (const d of DiskStateSchema.options) expect(ns.diskState[d], d).toMatch(/\S/);
    });
  }

  it('are translations, not English copies', () => {
    for (const { code } of LOCALES.filter((l) => l.code !== 'en')) {
      const same = STEP_IDS.filter((id) => RESOURCES[code].planStep[id] === RESOURCES.en.planStep[id]);
      expect(same, code).toEqual([]);
      expect(RESOURCES[code].install.cancelDialog.after).not.toBe(RESOURCES.en.install.cancelDialog.after);
    }
  });
});

describe('install view rules', () => {
  it('picks the view from the phase; a dismissed failure shows the wizard', () => {
    expect(installView(null, false)).toBeNull();
    expect(installView({ ...base, phase: 'idle' }, false)).toBeNull();
    expect(installView({ ...base, phase: 'running' }, false)).toBe('progress');
    expect(installView({ ...base, phase: 'cancelling' }, true)).toBe('progress');
    expect(installView({ ...base, phase: 'finished' }, false)).toBe('done');
    expect(installView({ ...base, phase: 'failed' }, false)).toBe('failure');
    expect(installView({ ...base, phase: 'cancelled' }, false)).toBe('failure');
    expect(installView({ ...base, phase: 'failed' }, true)).toBeNull();
  });

  it('knows the point of no return', () => {
    const plan = { pointOfNoReturn: 1 } as InstallState['plan'];
    expect(beforePointOfNoReturn({ ...base, plan, currentStep: 0, steps: ['running', 'pending'] })).toBe(true);
    expect(beforePointOfNoReturn({ ...base, plan, currentStep: 1, steps: ['done', 'pending'] })).toBe(true);
    expect(beforePointOfNoReturn({ ...base, plan, currentStep: 1, steps: ['done', 'running'] })).toBe(false);
    expect(beforePointOfNoReturn({ ...base, plan, currentStep: 2, steps: ['done', 'done', 'running'] })).toBe(false);
  });

  it('names the failed step from the error when teardown came last', () => {
    const plan = { steps: [{ id: 'format' }, { id: 'deploy' }, { id: 'teardown' }] } as unknown as InstallState['plan'];
    const outcome = { kind: 'failed', error: makeError('command-failed', 'x', { step: 'deploy' }), diskState: 'partially-written', retry: { from: 'deploy', reason: '' }, cancelled: false, overall: base.overall } as const;
    expect(settleSteps({ ...base, phase: 'failed', plan, steps: ['done', 'running', 'done'], outcome })).toEqual(['done', 'failed', 'done']);
    expect(stepLabel('pending', 'failed')).toBe('notRun');
    expect(stepLabel('failed', 'cancelled')).toBe('stopped');
    expect(stepLabel('running', 'running')).toBe('running');
  });

  it('announces in tenths and says the time left in minutes or seconds', () => {
    expect([0, 0.09, 0.1, 0.37, 0.999, 1].map(announcedPercent)).toEqual([0, 0, 10, 30, 90, 100]);
    expect(etaParts(3)).toEqual({ unit: 'second', value: 5 });
    expect(etaParts(42)).toEqual({ unit: 'second', value: 45 });
    expect(etaParts(75)).toEqual({ unit: 'minute', value: 1 });
    expect(etaParts(200)).toEqual({ unit: 'minute', value: 3 });
    expect(formatEta(200, 'en')).toBe('3 minutes');
    expect(formatEta(42, 'de')).toBe('45 Sekunden');
    expect(formatPercent(0.42, 'en')).toBe('42%');
    expect(formatPercent(0.42, 'ar')).toMatch(/42|٤٢/);
  });
});

describe('brand colours', () => {
  it('feeds the shipped accent into the variables app.css reads', () => {
    const vars = brandVariables(raw.colors);
    expect(vars['--primary']).toBe(raw.colors.accent.toLowerCase());
    expect(vars['--accent-dark']).toBe(raw.colors.accentDark);
    expect(vars['--primary-hover']).toMatch(/^#[0-9a-f]{6}$/);
    expect(brandCss(raw.colors)).toMatch(/^:root \{ .*--primary: #1f4e8c;/);
  });

  it('refuses an accent white text cannot be read on', () => {
    expect(contrastWithWhite('#ffff00')!).toBeLessThan(4.5);
    expect(brandVariables({ accent: '#ffff00', accentDark: '#000000' })['--primary']).toBeUndefined();
    expect(brandVariables({ accent: 'not a colour', accentDark: 'nope' })).toEqual({});
  });
});
