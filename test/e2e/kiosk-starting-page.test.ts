import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, launchChromium } from './browser';

/**
 * The live kiosk's first page (live-iso/.../starting.html): the browser opens it with the engine's
 * URL after '#' while the engine still starts; it must say so, wait, and go to the wizard once that
 * address answers, and never follow anything but a local engine URL.
 */
const PAGE = pathToFileURL(join(import.meta.dirname, '../../live-iso/rootfs/usr/lib/particle-installer/live/starting.html')).href;
const TOKEN = 'ab'.repeat(16);
const why = existsSync(CHROMIUM) ? null : `${CHROMIUM} is missing (apt-get install chromium)`;
if (why) console.warn(`[e2e] kiosk starting page skipped: ${why}`);

describe.skipIf(why !== null)('the kiosk starting page', () => {
  let browser: Browser;
  let server: Server | undefined;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    server?.close();
    await browser?.close();
  });

  /** A free loopback port: bound, then released. */
  const freePort = (): Promise<number> =>
    new Promise((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as AddressInfo;
        s.close(() => resolve(port));
      });
    });

  it('shows the notice while the address does not answer, then opens the engine URL once it does', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const target = `http://127.0.0.1:${port}/?token=${TOKEN}`;
    const page = await browser.newPage();
    await page.goto(`${PAGE}#${target}`);
    await page.waitForTimeout(2500);
    expect(page.url().startsWith('file:')).toBe(true);
    await expect(page.getByRole('status').textContent()).resolves.toContain('Starting the installer');
    const seen: string[] = [];
    server = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(req.url === `/?token=${TOKEN}` ? 200 : 401, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><title>wizard</title>');
    }).listen(port, '127.0.0.1');
    await page.waitForURL((u) => u.href === target, { timeout: 20_000 });
    expect(await page.title()).toBe('wizard');
    // The probe carries no token; only the navigation does.
    expect(seen.filter((u) => u.includes('token')).length).toBe(1);
    await page.close();
  });

  it.each([
    ['another host', `http://192.0.2.1:8080/?token=${TOKEN}`],
    ['no token', 'http://127.0.0.1:8080/'],
    ['a script URL', 'javascript:alert(1)'],
  ])('stays put for %s', { timeout: 30_000 }, async (_what, target) => {
    const page = await browser.newPage();
    await page.goto(`${PAGE}#${target}`);
    await page.waitForTimeout(2500);
    expect(page.url().startsWith('file:')).toBe(true);
    await page.close();
  });
});
