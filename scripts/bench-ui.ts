// UI figures for npm run bench: the renderer's initial JS and CSS gzipped, and the time from
// navigation to an interactive Welcome page in Debian's Chromium (median of 10, each in a fresh
// browser context so nothing is cached), served by the real engine's `serve`; then the start-up
// figures of bench-start.ts (the engine's start, and the page on one slowed CPU).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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

/** CPU seconds used so far by process `root` and every process below it (utime + stime, /proc). */
function treeCpuSeconds(root: number): number {
  const parent = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const fields = readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1]!.split(' ');
      parent.set(Number(name), Number(fields[1]));
      ticks.set(Number(name), Number(fields[11]) + Number(fields[12]));
    } catch {
      // gone meanwhile
    }
  }
  const inTree = (pid: number): boolean => {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = parent.get(p)) if (p === root) return true;
    return false;
  };
  let sum = 0;
  for (const [pid, t] of ticks) if (inTree(pid)) sum += t;
  return sum / 100; // USER_HZ
}

/**
 * The progress page's moving parts as shipped (the built stylesheet), alone on a page for 10 s in
 * Chromium without a GPU, as the kiosk draws it: the CPU share of the whole browser with the bar and
 * the running step's icon as shipped (still), then with drifting stripes on the bar and then with a
 * spinner as the running step's icon, for comparison (what each had before). Returns the three
 * shares, or why not.
 */
export async function progressBarCpu(seconds = 10): Promise<{ shipped: number; drifting: number; spinner: number } | string> {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing (apt-get install chromium)`;
  const css = readdirSync('out/renderer/assets').filter((f) => f.endsWith('.css')).map((f) => readFileSync(join('out/renderer/assets', f), 'utf8')).join('\n');
  const drift = '.progress-fill{animation:bench-drift 1.2s linear infinite}@keyframes bench-drift{to{background-position:28px 0}}';
  const step = (icon: string): string => `<ol><li class="install-step install-step-running"><span class="install-step-icon">${icon}</span><span class="install-step-name">Installing the system image</span></li></ol>`;
  const page = (extra: string, icon = '●'): string =>
    `<!doctype html><style>${css}${extra}</style><div class="progress-card"><div class="progress-track"><div class="progress-fill" style="inline-size:40%"></div></div><p class="progress-percent">40 %</p></div>${step(icon)}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  try {
    // The browser process: the launcher's child that Playwright started (its pid is not exposed).
    const share = async (html: string): Promise<number> => {
      const tab = await browser.newPage({ viewport: { width: 1024, height: 768 } });
      await tab.setContent(html);
      await tab.waitForTimeout(1000);
      const root = browserPid();
      const c0 = treeCpuSeconds(root);
      const t0 = performance.now();
      await tab.waitForTimeout(seconds * 1000);
      const used = treeCpuSeconds(root) - c0;
      await tab.close();
      return (100 * used) / ((performance.now() - t0) / 1000);
    };
    return { shipped: await share(page('')), drifting: await share(page(drift)), spinner: await share(page('', '<span class="spinner small"></span>')) };
  } finally {
    await browser.close();
  }
}

/** The newest Chromium started by this process (Playwright's launch), by its parent pid. */
function browserPid(): number {
  let found = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const fields = readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1]!.split(' ');
      if (Number(fields[1]) === process.pid && readFileSync(`/proc/${name}/cmdline`, 'utf8').includes('chromium')) found = Math.max(found, Number(name));
    } catch {
      // gone meanwhile
    }
  }
  if (found === 0) throw new Error('the Chromium this benchmark launched was not found among its children');
  return found;
}

export async function uiFigures(): Promise<void> {
  const js = initialAssets('js');
  const css = initialAssets('css');
  console.log(`renderer initial JS:  ${(js.raw / 1024).toFixed(1)} KiB raw, ${(js.gzip / 1000).toFixed(1)} KB gzipped in ${js.files.length} file(s) (target <= 250 KB) ${js.gzip <= 250_000 ? 'OK' : 'OVER TARGET'}`);
  console.log(`renderer initial CSS: ${(css.raw / 1024).toFixed(1)} KiB raw, ${(css.gzip / 1000).toFixed(1)} KB gzipped in ${css.files.length} file(s) (target <= 50 KB) ${css.gzip <= 50_000 ? 'OK' : 'OVER TARGET'}`);
  const times = await welcomeInteractive();
  if (typeof times === 'string') console.log(`welcome page interactive: skipped: ${times}`);
  else console.log(`welcome page interactive in Chromium (median of ${times.length}, fresh context each): ${median(times).toFixed(0)} ms (min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)})`);
  const bar = await progressBarCpu();
  if (typeof bar === 'string') console.log(`progress page CPU: skipped: ${bar}`);
  else console.log(`progress page CPU in Chromium without a GPU (10 s, whole browser): ${bar.shipped.toFixed(1)} % of a core as shipped (still bar and step icon), ${bar.drifting.toFixed(1)} % with drifting stripes, ${bar.spinner.toFixed(1)} % with a spinning step icon`);
  // The same on one CPU with the page's CPU slowed 20 times (a stand-in for the live ISO under
  // emulation), with the engine's own start: bench-start.ts.
  await startFigures({ runs: 5, engineRuns: 10 });
}
