import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createElement, type ComponentType } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { RESOURCES } from '../../src/renderer/src/i18n';
import { LOCALES } from '../../src/renderer/src/i18n/locales';
import { deferred } from '../../src/renderer/src/wizard/deferred';

// The built wizard carries English only and fetches another language's strings when it is chosen:
// each src/shared/locales/<code>.json is its own chunk of the build. Every string must survive.

const REPO = resolve(import.meta.dirname, '../..');
const ASSETS = join(REPO, 'out/renderer/assets');
const built = existsSync(join(REPO, 'out/renderer/index.html'));
if (!built) console.warn('[integration] the built wizard is not checked: out/renderer is missing (npm run build makes it; npm test builds first)');

describe.skipIf(!built)('the built wizard: one strings chunk per language', () => {
  const html = built ? readFileSync(join(REPO, 'out/renderer/index.html'), 'utf8') : '';
  const entry = /<script[^>]+src="\.?\/?assets\/([^"]+\.js)"/.exec(html)?.[1];
  const chunks = built ? readdirSync(ASSETS).filter((f) => f.endsWith('.js')) : [];
  // A string as it appears inside the JSON.parse('…') literal of a chunk.
  const inChunk = (file: string, text: string) => readFileSync(join(ASSETS, file), 'utf8').includes(JSON.stringify(text).slice(1, -1));

  it('the first page carries English and no other language', () => {
    expect(entry, 'index.html names its entry script').toBeDefined();
    expect(inChunk(entry!, RESOURCES.en.app.skipLink)).toBe(true);
    for (const { code } of LOCALES.filter((l) => l.code !== 'en')) expect(inChunk(entry!, RESOURCES[code].app.skipLink), code).toBe(false);
  });

  for (const { code } of LOCALES.filter((l) => l.code !== 'en')) {
    it(`${code}: one chunk holds exactly that language's strings, parsed from a JSON string`, async () => {
      const mine = chunks.filter((f) => inChunk(f, RESOURCES[code].app.skipLink) && inChunk(f, RESOURCES[code].install.heading.done));
      expect(mine).toHaveLength(1);
      expect(readFileSync(join(ASSETS, mine[0]!), 'utf8')).toMatch(/^const \w+=JSON\.parse\('/);
      const module = (await import(pathToFileURL(join(ASSETS, mine[0]!)).href)) as { default: unknown };
      expect(module.default).toEqual(RESOURCES[code]);
    });
  }
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
