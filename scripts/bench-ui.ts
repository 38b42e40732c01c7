// UI figures for npm run bench: the renderer's initial JS and CSS gzipped, and the time from
// navigation to an interactive Welcome page in Debian's Chromium (median of 10, each in a fresh
// browser context so nothing is cached), served by the real engine's `serve`; then the start-up
// figures of bench-start.ts (the engine's start, and the page on one slowed CPU).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright';
import { median, startFigures, startServe } from './bench-start';

const CHROMIUM = '/usr/bin/chromium';
const RUNS = 10;

export interface AssetSizes {
  readonly files: string[];
  readonly raw: number;
  readonly gzip: number;
}

/** What index.html loads before first paint: scripts and module preloads, or stylesheets. */
export function initialAssets(kind: 'js' | 'css', dir = 'out/renderer'): AssetSizes {
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const pattern =
    kind === 'js'
      ? /<(?:script[^>]*src|link[^>]*rel="modulepreload"[^>]*href)="([^"]+\.js)"/g
      : /<link[^>]*rel="stylesheet"[^>]*href="([^"]+\.css)"/g;
  const files = [...html.matchAll(pattern)].map((m) => m[1]!);
  let raw = 0;
  let gzip = 0;
  for (const ref of files) {
    const data = readFileSync(join(dir, ref.replace(/^\.?\//, '')));
    raw += data.length;
    gzip += gzipSync(data, { level: 9 }).length;
  }
  return { files, raw, gzip };
}

/**
 * Milliseconds from navigation start until the Welcome page is interactive: the engine answered
 * (the wizard replaced the loading screen) and the language choices can be clicked.
 */
export async function welcomeInteractive(): Promise<number[] | string> {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing (apt-get install chromium)`;
  const dir = mkdtempSync(join(tmpdir(), 'particle-bench-ui-'));
  const server = await startServe(['--port', '0', '--token-file', join(dir, 'token'), '--run-root', join(dir, 'run')]);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  const times: number[] = [];
  try {
    // The token link sets the session cookie; every fresh context gets it by following the link.
    for (let i = 0; i < RUNS + 1; i++) {
      const context = await browser.newContext({ locale: 'en-US' });
      const page = await context.newPage();
      await page.goto(server.url);
      await page.locator('input[name="locale"]').first().waitFor({ state: 'visible' });
      await page.locator('input[name="locale"]').first().isEnabled();
      // Navigation start is 0 on the page's own clock; the redirect that trades the token is included.
      const ms = await page.evaluate(() => performance.now());
      if (i > 0) times.push(ms); // the first run warms the server and the disk cache
      await context.close();
    }
  } finally {
    await browser.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return times;
}

export async function uiFigures(): Promise<void> {
  const js = initialAssets('js');
  const css = initialAssets('css');
  console.log(`renderer initial JS:  ${(js.raw / 1024).toFixed(1)} KiB raw, ${(js.gzip / 1000).toFixed(1)} KB gzipped in ${js.files.length} file(s) (target <= 250 KB) ${js.gzip <= 250_000 ? 'OK' : 'OVER TARGET'}`);
  console.log(`renderer initial CSS: ${(css.raw / 1024).toFixed(1)} KiB raw, ${(css.gzip / 1000).toFixed(1)} KB gzipped in ${css.files.length} file(s) (target <= 50 KB) ${css.gzip <= 50_000 ? 'OK' : 'OVER TARGET'}`);
  const times = await welcomeInteractive();
  if (typeof times === 'string') console.log(`welcome page interactive: skipped: ${times}`);
  else console.log(`welcome page interactive in Chromium (median of ${times.length}, fresh context each): ${median(times).toFixed(0)} ms (min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)})`);
  // The same on one CPU with the page's CPU slowed 20 times (a stand-in for the live ISO under
  // emulation), with the engine's own start: bench-start.ts.
  await startFigures({ runs: 5, engineRuns: 10 });
}
