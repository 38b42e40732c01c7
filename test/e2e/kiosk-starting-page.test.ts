import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, launchChromium } from './browser';

/**
 * The live kiosk's first page (live-iso/.../starting.html): the browser shows it while the engine
 * still starts, until the kiosk hands it the wizard's address. It must say so in every UI language,
 * in each one's direction, count the seconds, and load nothing from anywhere.
 */
const PAGE = pathToFileURL(join(import.meta.dirname, '../../live-iso/rootfs/usr/lib/particle-installer/live/starting.html')).href;
const why = existsSync(CHROMIUM) ? null : `${CHROMIUM} is missing (apt-get install chromium)`;
if (why) console.warn(`[e2e] kiosk starting page skipped: ${why}`);

describe.skipIf(why !== null)('the kiosk starting page', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('says the installer is starting in all 8 languages and counts the seconds, requesting nothing', { timeout: 60_000 }, async () => {
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(PAGE);
    const status = page.getByRole('status');
    const langs = await status.locator('p[lang]').evaluateAll((ps) => ps.map((p) => `${p.getAttribute('lang')}${p.getAttribute('dir') === 'rtl' ? ':rtl' : ''}`));
    expect(langs).toEqual(['en', 'de', 'fr', 'es', 'pt-BR', 'ar:rtl', 'zh-CN', 'ja']);
    expect(await status.locator('p[lang="en"]').textContent()).toBe('Starting the installer…');
    const first = Number((await page.locator('#elapsed').textContent())?.replace(' s', ''));
    await page.waitForTimeout(2500);
    const later = Number((await page.locator('#elapsed').textContent())?.replace(' s', ''));
    expect(later).toBeGreaterThanOrEqual(first + 2);
    expect(requests).toEqual([PAGE]);
    await page.close();
  });
});
