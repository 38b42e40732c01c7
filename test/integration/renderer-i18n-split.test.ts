import { resolve } from 'node:path';
import { createElement, type ComponentType } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { RESOURCES } from '../../src/renderer/src/i18n';
import { LOCALES } from '../../src/renderer/src/i18n/locales';
import { deferred } from '../../src/renderer/src/wizard/deferred';
import { I18N_PREFIX, i18nPerLocale } from '../../scripts/i18n-per-locale';

// The built wizard carries English only and fetches another language's strings when it is chosen:
// the build makes one module per language from the translators' files. Every string must survive.

const REPO = resolve(import.meta.dirname, '../..');

/** Runs the plugin's hooks as Vite would, collecting the files it watches. */
async function loadLocaleModule(code: string): Promise<{ source: string; watched: string[] }> {
  const plugin = i18nPerLocale(REPO);
  const watched: string[] = [];
  const context = {
    addWatchFile: (f: string) => watched.push(f),
    error: (message: string) => {
      throw new Error(message);
    },
  };
  const id = (plugin.resolveId as (id: string) => string | null)(`${I18N_PREFIX}${code}`);
  expect(id).toBe(`\0${I18N_PREFIX}${code}`);
  const source = await (plugin.load as unknown as (this: typeof context, id: string) => Promise<string>).call(context, id!);
  return { source, watched };
}

describe('one strings module per language', () => {
  for (const { code } of LOCALES) {
    it(`${code}: holds exactly that language's strings`, async () => {
      const { source, watched } = await loadLocaleModule(code);
      const json = /^export default JSON\.parse\((".*")\);$/s.exec(source)?.[1];
      expect(json, 'a JSON string literal').toBeDefined();
      expect(JSON.parse(JSON.parse(json!) as string)).toEqual(RESOURCES[code]);
      // Editing any translation file rebuilds the modules.
      expect(watched).toContain(resolve(REPO, 'src/renderer/src/i18n/ns/welcome.ts'));
      expect(watched).toContain(resolve(REPO, `src/renderer/src/i18n/locales/${code}.ts`));
    });
  }

  it('refuses a language the UI does not have', async () => {
    await expect(loadLocaleModule('xx')).rejects.toThrow(/no such UI language/);
  });

  it('leaves other modules to Vite', () => {
    const plugin = i18nPerLocale(REPO);
    expect((plugin.resolveId as (id: string) => string | null)('react')).toBeNull();
  });
});

describe('a deferred page', () => {
  it('renders its component without suspending once preloaded', async () => {
    const Page: ComponentType<{ name: string }> = ({ name }) => createElement('p', { 'data-testid': 'page' }, `hello ${name}`);
    let loads = 0;
    const d = deferred(async () => {
      loads++;
      return Page;
    });
    await d.preload();
    await d.preload();
    expect(loads).toBe(1);
    expect(renderToStaticMarkup(createElement(d.Component, { name: 'x' }))).toBe('<p data-testid="page">hello x</p>');
  });
});
