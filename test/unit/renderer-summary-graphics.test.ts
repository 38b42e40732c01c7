import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { I18nextProvider } from 'react-i18next';
import { describe, expect, it } from 'vitest';
import type { InstallerApi } from '../../src/shared/api';
import type { Machine } from '../../src/shared/system';
import { RESOURCES, createI18n } from '../../src/renderer/src/i18n';
import { LOCALES, type LocaleCode } from '../../src/renderer/src/i18n/locales';
import { SummaryPage } from '../../src/renderer/src/pages/SummaryPage';
import { createAppStore } from '../../src/renderer/src/store';
import { StoreContext } from '../../src/renderer/src/store/react';

// The summary's Graphics row: the graphics cards the engine found and, when the live session started
// with safe graphics, the arguments the installed system inherits. The demo engine reads a host
// without a GPU, so the browser tests never see the row; here the page is rendered with the facts an
// engine on a laptop would report.
const LAPTOP: Machine = {
  vendor: 'LENOVO',
  model: 'ThinkPad P14s',
  virtual: false,
  name: 'LENOVO ThinkPad P14s',
  graphics: ['NVIDIA GA107GLM [RTX A500 Laptop GPU]', 'Intel Alder Lake-P GT2'],
  safeGraphics: ['nomodeset', 'nouveau.modeset=0'],
};

function summaryText(machine: Machine | null, code: LocaleCode): string {
  const api = { on: () => () => {} } as unknown as InstallerApi;
  const s = createAppStore({ api, stepCount: 8 });
  s.setState({ engine: { status: 'ready', info: null, error: null }, locale: code, requirements: { checks: [], machine, loading: false, error: null } });
  const now = { ...s, getInitialState: s.getState };
  const html = renderToStaticMarkup(createElement(StoreContext.Provider, { value: now }, createElement(I18nextProvider, { i18n: createI18n(code) }, createElement(SummaryPage))));
  return html.replace(/<[^>]+>/g, ' ').replace(/&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/\s+/g, ' ');
}

describe('the summary names the graphics and the safe-graphics arguments', () => {
  it('lists each card and says, in every language, that the installed system inherits the arguments', () => {
    for (const { code } of LOCALES) {
      const text = summaryText(LAPTOP, code);
      const t = RESOURCES[code].summary;
      expect(text, code).toContain(t.choices.graphics);
      for (const card of LAPTOP.graphics) expect(text, code).toContain(card);
      expect(text, code).toContain(t.safeGraphics.replace(/\{\{args\}\}/g, 'nomodeset nouveau.modeset=0').replace(/\s+/g, ' '));
    }
  });

  it('shows no row without cards or arguments, and no hint without arguments', () => {
    const t = RESOURCES.en.summary;
    expect(summaryText({ ...LAPTOP, graphics: [], safeGraphics: [] }, 'en')).not.toContain(t.choices.graphics);
    expect(summaryText(null, 'en')).not.toContain(t.choices.graphics);
    const cardsOnly = summaryText({ ...LAPTOP, safeGraphics: [] }, 'en');
    expect(cardsOnly).toContain(t.choices.graphics);
    expect(cardsOnly).not.toContain('nomodeset');
    // Arguments with no card found (a GPU the live system could not name): the hint alone.
    expect(summaryText({ ...LAPTOP, graphics: [] }, 'en')).toContain('nomodeset nouveau.modeset=0');
  });
});
