import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { EngineInfo, InstallerApi } from '../../src/shared/api';
import { makeError, type Result } from '../../src/shared/errors';
import type { ApplyResult, KeyboardChoice, KeyboardLayout, KeyboardLayouts } from '../../src/shared/system';
import { SetupListbox } from '../../src/renderer/src/components/SetupListbox';
import { filterLayouts, filterVariants, isNonLatin, preselectKeyboard, sortLayouts } from '../../src/renderer/src/keyboard/filter';
import { createI18n } from '../../src/renderer/src/i18n';
import { applyStatusText } from '../../src/renderer/src/keyboard/status';
import { createAppStore } from '../../src/renderer/src/store';
import type { Translate } from '../../src/renderer/src/summary/describe';

const layout = (name: string, description: string, variants: Array<[string, string]> = []): KeyboardLayout => ({
  name,
  description,
  languages: [],
  countries: [],
  variants: variants.map(([n, d]) => ({ name: n, description: d })),
});

const LAYOUTS: KeyboardLayout[] = [
  layout('us', 'English (US)', [['intl', 'English (US, intl., with dead keys)'], ['dvorak', 'English (Dvorak)']]),
  layout('de', 'German', [['nodeadkeys', 'German (no dead keys)'], ['neo', 'German (Neo 2)']]),
  layout('fr', 'French', [['bepo', 'French (BEPO)']]),
  layout('es', 'Spanish'),
  layout('br', 'Portuguese (Brazil)', [['dvorak', 'Portuguese (Brazil, Dvorak)']]),
  layout('ara', 'Arabic', [['azerty', 'Arabic (AZERTY)']]),
  layout('cn', 'Chinese'),
  layout('jp', 'Japanese'),
  layout('ru', 'Russian', [['phonetic', 'Russian (phonetic)']]),
  layout('rs', 'Serbian', [['latin', 'Serbian (Latin)']]),
];

describe('keyboard search', () => {
  it('finds layouts by description and name, ignoring case and accents', () => {
    expect(filterLayouts(LAYOUTS, 'german').map((l) => l.name)).toEqual(['de']);
    expect(filterLayouts(LAYOUTS, 'DE').map((l) => l.name)).toContain('de');
    expect(filterLayouts(LAYOUTS, 'portugues brazil').map((l) => l.name)).toEqual(['br']);
    expect(filterLayouts(LAYOUTS, '')).toHaveLength(LAYOUTS.length);
  });

  it('finds layouts through their variants and narrows the variants to those', () => {
    expect(filterLayouts(LAYOUTS, 'dvorak').map((l) => l.name)).toEqual(['us', 'br']);
    expect(filterVariants(LAYOUTS[0]!, 'dvorak').map((v) => v.name)).toEqual(['dvorak']);
    // When the layout itself matches, every variant stays.
    expect(filterVariants(LAYOUTS[1]!, 'german').map((v) => v.name)).toEqual(['nodeadkeys', 'neo']);
    expect(filterLayouts(LAYOUTS, 'no dead keys').map((l) => l.name)).toEqual(['de']);
  });

  it('sorts by description', () => {
    expect(sortLayouts(LAYOUTS)[0]!.name).toBe('ara');
  });

  it('flags layouts that do not type Latin letters', () => {
    expect(isNonLatin({ layout: 'ara' })).toBe(true);
    expect(isNonLatin({ layout: 'ru', variant: 'phonetic' })).toBe(true);
    expect(isNonLatin({ layout: 'rs', variant: 'latin' })).toBe(false);
    expect(isNonLatin({ layout: 'de' })).toBe(false);
    expect(isNonLatin({ layout: 'jp' })).toBe(false);
  });

  it('filters 200 layouts with 1000 variants and renders a 1000-option list quickly', () => {
    const many = Array.from({ length: 200 }, (_, i) =>
      layout(`l${i}`, `Layout number ${i}`, Array.from({ length: 5 }, (_, j) => [`v${j}`, `Layout number ${i} (variant ${j} with dead keys)`] as [string, string])),
    );
    let t0 = performance.now();
    for (let i = 0; i < 10; i++) filterLayouts(many, 'variant 3 dead');
    const filterMs = (performance.now() - t0) / 10;

    const options = Array.from({ length: 1000 }, (_, i) => ({ key: `k${i}`, label: `Option ${i}`, hint: `k${i}` }));
    const render = () =>
      renderToStaticMarkup(createElement(SetupListbox, { id: 'l', labelledBy: 'x', options, selectedKey: 'k500', onSelect: () => {}, emptyText: '' }));
    render(); // warm up
    t0 = performance.now();
    const html = render();
    const renderMs = performance.now() - t0;
    expect(html.match(/role="option"/g)).toHaveLength(1000);
    console.info(`keyboard list: filter 200 layouts/1000 variants ${filterMs.toFixed(2)} ms; render 1000 options ${renderMs.toFixed(1)} ms`);
    expect(filterMs).toBeLessThan(50);
    // Loose: React development build, two shared cores. Production renders are several times faster.
    expect(renderMs).toBeLessThan(1000);
  });
});

describe('keyboard preselection', () => {
  const list = (current: KeyboardChoice | null = null): KeyboardLayouts => ({ layouts: LAYOUTS, current });

  it('maps each UI language to its usual layout', () => {
    const expected = { en: 'us', de: 'de', fr: 'fr', es: 'es', 'pt-BR': 'br', ar: 'ara', 'zh-CN': 'cn', ja: 'jp' } as const;
    for (const [locale, name] of Object.entries(expected)) expect(preselectKeyboard(locale as keyof typeof expected, list(), 'demo')).toEqual({ layout: name });
  });

  it('prefers the live layout on a real machine only', () => {
    expect(preselectKeyboard('en', list({ layout: 'de', variant: 'nodeadkeys' }), 'normal')).toEqual({ layout: 'de', variant: 'nodeadkeys' });
    expect(preselectKeyboard('en', list({ layout: 'de' }), 'demo')).toEqual({ layout: 'us' });
    // A live layout the list does not know is ignored.
    expect(preselectKeyboard('fr', list({ layout: 'xx' }), 'normal')).toEqual({ layout: 'fr' });
  });

  it('falls back to US English when the language has no layout in the list', () => {
    expect(preselectKeyboard('ja', { layouts: [LAYOUTS[0]!], current: null }, 'demo')).toEqual({ layout: 'us' });
  });
});

const INFO: EngineInfo = { version: '0.1.0', protocol: 1, mode: 'demo', root: true, firmware: 'uefi', arch: 'x64', tpm2: false };

function fakeApi(opts: { layouts?: Result<KeyboardLayouts>; apply?: (c: KeyboardChoice) => Promise<Result<ApplyResult>>; info?: EngineInfo } = {}) {
  const applied: KeyboardChoice[] = [];
  const api = {
    getInfo: async () => ({ ok: true, value: opts.info ?? INFO }),
    listKeyboardLayouts: async () => opts.layouts ?? { ok: true, value: { layouts: LAYOUTS, current: { layout: 'us' } } },
    setKeyboard: async (c: KeyboardChoice) => {
      applied.push(c);
      return opts.apply ? opts.apply(c) : { ok: true, value: { applied: true, detail: 'setxkbmap' } };
    },
    on: () => () => {},
  } as unknown as InstallerApi;
  return { api, applied };
}

describe('keyboard slice', () => {
  it('preselects from the UI language at once and follows language changes until chosen by hand', async () => {
    const { api, applied } = fakeApi();
    const store = createAppStore({ api, stepCount: 3, locale: 'de' });
    expect(store.getState().keyboard.choice).toEqual({ layout: 'de' });
    await store.getState().loadEngineInfo();
    await store.getState().loadKeyboardLayouts();
    // Demo mode: the live "us" does not count; German is applied to the session.
    expect(store.getState().keyboard.choice).toEqual({ layout: 'de' });
    expect(applied).toEqual([{ layout: 'de' }]);
    expect(store.getState().keyboard.apply).toMatchObject({ status: 'done', result: { applied: true } });

    store.getState().setLocale('fr');
    expect(store.getState().keyboard.choice).toEqual({ layout: 'fr' });
    await Promise.resolve();
    expect(applied.at(-1)).toEqual({ layout: 'fr' });

    await store.getState().chooseKeyboard({ layout: 'de', variant: 'nodeadkeys' });
    expect(store.getState().keyboard).toMatchObject({ choice: { layout: 'de', variant: 'nodeadkeys' }, chosenByHand: true });
    store.getState().setLocale('ja');
    expect(store.getState().keyboard.choice).toEqual({ layout: 'de', variant: 'nodeadkeys' });
  });

  it('keeps the live layout on a real machine without switching it', async () => {
    const { api, applied } = fakeApi({ info: { ...INFO, mode: 'normal' }, layouts: { ok: true, value: { layouts: LAYOUTS, current: { layout: 'fr', variant: 'bepo' } } } });
    const store = createAppStore({ api, stepCount: 3, locale: 'en' });
    await store.getState().loadEngineInfo();
    await store.getState().loadKeyboardLayouts();
    expect(store.getState().keyboard.choice).toEqual({ layout: 'fr', variant: 'bepo' });
    expect(applied).toEqual([]);
    expect(store.getState().keyboard.apply.status).toBe('idle');
  });

  it('refuses layouts and variants the list does not have', async () => {
    const { api } = fakeApi();
    const store = createAppStore({ api, stepCount: 3 });
    await store.getState().loadKeyboardLayouts();
    await store.getState().chooseKeyboard({ layout: 'xx' });
    await store.getState().chooseKeyboard({ layout: 'de', variant: 'nope' });
    expect(store.getState().keyboard.choice).toEqual({ layout: 'us' });
    expect(store.getState().keyboard.chosenByHand).toBe(false);
  });

  it('keeps errors as data: a list that fails to load, a switch that is refused or fails', async () => {
    const failing = fakeApi({ layouts: { ok: false, error: makeError('internal', 'listKeyboardLayouts is not implemented yet') } });
    const store = createAppStore({ api: failing.api, stepCount: 3 });
    await store.getState().loadKeyboardLayouts();
    expect(store.getState().keyboard).toMatchObject({ list: null, loading: false, error: { message: 'listKeyboardLayouts is not implemented yet' } });

    const refused = fakeApi({ apply: async () => ({ ok: true, value: { applied: false, detail: 'demo mode leaves this computer alone' } }) });
    const s2 = createAppStore({ api: refused.api, stepCount: 3 });
    await s2.getState().loadKeyboardLayouts();
    await s2.getState().chooseKeyboard({ layout: 'es' });
    expect(s2.getState().keyboard.apply).toEqual({ status: 'done', choice: { layout: 'es' }, result: { applied: false, detail: 'demo mode leaves this computer alone' } });

    const broken = fakeApi({ apply: async () => ({ ok: false, error: makeError('command-failed', 'setxkbmap failed') }) });
    const s3 = createAppStore({ api: broken.api, stepCount: 3 });
    await s3.getState().loadKeyboardLayouts();
    await s3.getState().chooseKeyboard({ layout: 'es' });
    expect(s3.getState().keyboard.apply).toMatchObject({ status: 'failed', choice: { layout: 'es' }, error: { code: 'command-failed' } });
  });

  it('collapses quick choices into one call for the latest, and shows only its answer', async () => {
    const waiting: Array<() => void> = [];
    const { api, applied } = fakeApi({
      apply: (c) => new Promise((resolve) => waiting.push(() => resolve({ ok: true, value: { applied: true, detail: c.layout } }))),
    });
    const store = createAppStore({ api, stepCount: 3 });
    const loading = store.getState().loadKeyboardLayouts();
    await Promise.resolve();
    await Promise.resolve();
    void store.getState().chooseKeyboard({ layout: 'de' });
    void store.getState().chooseKeyboard({ layout: 'fr' });
    void store.getState().chooseKeyboard({ layout: 'es' });
    expect(store.getState().keyboard.apply).toEqual({ status: 'applying', choice: { layout: 'es' } });
    while (waiting.length > 0) {
      waiting.shift()!();
      await new Promise((r) => setTimeout(r, 0));
    }
    await loading;
    expect(applied.length).toBeLessThanOrEqual(2);
    expect(applied.at(-1)).toEqual({ layout: 'es' });
    expect(store.getState().keyboard.apply).toEqual({ status: 'done', choice: { layout: 'es' }, result: { applied: true, detail: 'es' } });
  });
});

describe('keyboard status line', () => {
  const tr = (locale: 'en' | 'de'): Translate => {
    const i18n = createI18n(locale);
    return i18n.t.bind(i18n) as unknown as Translate;
  };
  const done = (result: ApplyResult) => ({ status: 'done' as const, choice: { layout: 'de' }, result });

  it('says applied only when the engine switched the running session', () => {
    expect(applyStatusText(done({ applied: true, saved: true, detail: 'Applied … with swaymsg' }), tr('en'))).toBe('Applied to this session: the keyboard now types with this layout.');
  });

  it('says "saved for new sessions, not applied to this screen" in the person’s language, not the engine’s English', () => {
    const saved = done({ applied: false, saved: true, detail: 'Saved for new sessions with localectl, not applied to this screen.' });
    expect(applyStatusText(saved, tr('en'))).toMatch(/^Saved for new sessions, not applied to this screen: /);
    expect(applyStatusText(saved, tr('de'))).toMatch(/^Für neue Sitzungen gespeichert, auf diesem Bildschirm nicht übernommen: /);
    expect(applyStatusText(saved, tr('de'))).not.toContain('localectl');
  });

  it('shows the engine’s reason when nothing was saved or switched, and the other states', () => {
    expect(applyStatusText(done({ applied: false, detail: 'Demo mode leaves this computer’s keyboard as it is.' }), tr('en'))).toBe('Not applied to this session: Demo mode leaves this computer’s keyboard as it is.');
    expect(applyStatusText({ status: 'idle' }, tr('en'))).toBe('');
    expect(applyStatusText({ status: 'applying', choice: { layout: 'de' } }, tr('en'))).toBe('Switching the keyboard…');
    expect(applyStatusText({ status: 'failed', choice: { layout: 'de' }, error: makeError('internal', 'boom') }, tr('en'))).toBe('The keyboard could not be switched: boom');
  });
});

