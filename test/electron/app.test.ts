import { existsSync } from 'node:fs';
import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import { _electron, type ElectronApplication, type Page } from 'playwright';
import { METHOD_NAMES } from '../../src/shared/api';
import { electronBinary } from '../support/electron-binary';

// Runs the real Electron app; where no binary can be installed this level reports itself skipped.
const bin = electronBinary();
const built = existsSync('out/main/index.js') && existsSync('out/preload/index.cjs');
const skipReason = 'reason' in bin ? bin.reason : !built ? 'the app is not built (npm run build)' : '';
if (skipReason) console.warn(`[electron] skipped: ${skipReason}`);

describe.skipIf(skipReason !== '')('Electron shell', () => {
  let app: ElectronApplication;
  let page: Page;

  beforeAll(async () => {
    app = await _electron.launch({
      executablePath: 'path' in bin ? bin.path : '',
      args: ['--no-sandbox', 'out/main/index.js', '--demo'],
      env: { ...process.env, XDG_CACHE_HOME: '/tmp/particle-electron-test-cache' },
    });
    page = await app.firstWindow();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('the window is sandboxed, isolated and without Node', async () => {
    const prefs = await app.evaluate(({ BrowserWindow }) => {
      const w = BrowserWindow.getAllWindows()[0]!;
      const p = (w.webContents as unknown as { getLastWebPreferences(): Record<string, unknown> }).getLastWebPreferences();
      return { sandbox: p.sandbox, contextIsolation: p.contextIsolation, nodeIntegration: p.nodeIntegration, webSecurity: p.webSecurity };
    });
    expect(prefs).toEqual({ sandbox: true, contextIsolation: true, nodeIntegration: false, webSecurity: true });
    expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
    expect(await page.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined');
  });

  it('the preload exposes exactly the API functions', async () => {
    const keys = await page.evaluate(() => Object.keys((window as unknown as { installer: object }).installer).sort());
    expect(keys).toEqual([...METHOD_NAMES, 'on'].sort());
  });

  it('refuses window.open and navigation away from the app', async () => {
    const before = await app.windows().length;
    await page.evaluate(() => window.open('https://example.com/'));
    await page.waitForTimeout(500);
    expect(app.windows().length).toBe(before);
    const url = page.url();
    await page.evaluate(() => {
      window.location.href = 'https://example.com/';
    });
    await page.waitForTimeout(500);
    expect(page.url()).toBe(url);
  });

  it('lists disks through the engine', async () => {
    const r = await page.evaluate(() => (window as unknown as { installer: { listDisks(p: object): Promise<{ ok: boolean }> } }).installer.listDisks({}));
    expect(r.ok).toBe(true);
  });
});
