/**
 * The wizard's start in Chromium on a slowed CPU, for bench-start.ts: navigation start → first paint
 * (index.html's own "Starting the installer") → the wizard's code has run → the Welcome heading →
 * Install enabled, with the JS and CSS fetched before then and each engine call on the way; and, as
 * a figure the machine's load moves less, the CPU time of the same load unthrottled.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright';
import { median } from './bench-start';

/** One throttled load of the wizard, in milliseconds from navigation start. */
export interface WelcomeRun {
  readonly firstPaint: number | null;
  /** The wizard's code has run: React replaced the static text with its own loading view. */
  readonly appRendered: number | null;
  /** The Welcome page's heading is in the page. */
  readonly welcome: number | null;
  /** Install is enabled (the requirement checks have answered), and a frame has been drawn since. */
  readonly installEnabled: number | null;
  readonly jsBytes: number;
  readonly cssBytes: number;
  readonly files: readonly string[];
  /** Engine calls made before Install was enabled: sent at, answered after (ms). */
  readonly rpc: readonly { method: string; sentAt: number; ms: number }[];
}

/** Marks the page's own milestones as they happen (MutationObserver, so no polling slows the page). */
const MARKER = `(() => {
  const marks = (window.__startMarks = {});
  const check = () => {
    if (marks.appRendered === undefined && document.querySelector('[data-testid="page-loading"], main[data-testid^="page-"]')) marks.appRendered = performance.now();
    if (marks.welcome === undefined && document.querySelector('main[data-testid="page-language"] #page-heading')) marks.welcome = performance.now();
    const install = document.querySelector('[data-testid="welcome-install"]');
    if (marks.enabledDom === undefined && install && !install.disabled) {
      marks.enabledDom = performance.now();
      requestAnimationFrame(() => setTimeout(() => (marks.installEnabled = performance.now())));
    }
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['disabled'] });
})();`;

/** Loads the wizard once, in a fresh context, with the page's CPU slowed `rate` times. */
export async function welcomeRun(url: string, rate: number, browser: Browser): Promise<WelcomeRun> {
  const context = await browser.newContext({ locale: 'en-US' });
  try {
    const page = await context.newPage();
    await page.addInitScript(MARKER);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Emulation.setCPUThrottlingRate', { rate });
    // WebSocket frames are reported by the page's own (throttled) thread, so an answer's time
    // includes the page being busy when it arrived: what the person waits for, not the engine alone.
    let navStart: number | null = null;
    const sent = new Map<number, { method: string; at: number }>();
    const rpc: { method: string; sentAt: number; ms: number }[] = [];
    const lines = (payload: string): { id?: number; method?: string }[] =>
      payload.split('\n').flatMap((line) => {
        try {
          return [JSON.parse(line) as { id?: number; method?: string }];
        } catch {
          return [];
        }
      });
    cdp.on('Network.requestWillBeSent', (e) => {
      if (navStart === null && e.type === 'Document') navStart = e.timestamp * 1000;
    });
    cdp.on('Network.webSocketFrameSent', (e) => {
      for (const msg of lines(e.response.payloadData)) if (typeof msg.id === 'number' && msg.method) sent.set(msg.id, { method: msg.method, at: e.timestamp * 1000 });
    });
    cdp.on('Network.webSocketFrameReceived', (e) => {
      for (const msg of lines(e.response.payloadData)) {
        const call = typeof msg.id === 'number' ? sent.get(msg.id) : undefined;
        if (call) rpc.push({ method: call.method, sentAt: call.at - (navStart ?? call.at), ms: e.timestamp * 1000 - call.at });
      }
    });
    await page.goto(url);
    await page.waitForFunction(() => (window as unknown as { __startMarks: { installEnabled?: number } }).__startMarks.installEnabled !== undefined, null, {
      polling: 500,
      timeout: 600_000,
    });
    const { marks, paint, resources } = await page.evaluate(() => {
      const marks = (window as unknown as { __startMarks: Record<string, number | undefined> }).__startMarks;
      const paint = performance.getEntriesByType('paint').find((p) => p.name === 'first-contentful-paint')?.startTime ?? null;
      const resources = (performance.getEntriesByType('resource') as PerformanceResourceTiming[])
        .filter((r) => /\.(js|css)$/.test(new URL(r.name).pathname) && r.startTime < (marks.installEnabled ?? Infinity))
        .map((r) => ({ name: new URL(r.name).pathname, bytes: r.encodedBodySize }));
      return { marks, paint, resources };
    });
    const cutoff = marks.installEnabled ?? Infinity;
    return {
      firstPaint: paint,
      appRendered: marks.appRendered ?? null,
      welcome: marks.welcome ?? null,
      installEnabled: marks.installEnabled ?? null,
      jsBytes: resources.filter((r) => r.name.endsWith('.js')).reduce((a, r) => a + r.bytes, 0),
      cssBytes: resources.filter((r) => r.name.endsWith('.css')).reduce((a, r) => a + r.bytes, 0),
      files: resources.map((r) => r.name),
      rpc: rpc.filter((r) => r.sentAt < cutoff).sort((a, b) => a.sentAt - b.sentAt),
    };
  } finally {
    await context.close();
  }
}

/** What one unthrottled load cost the page's process, in CPU milliseconds per thread kind, from a trace. */
export interface WelcomeCpu {
  /** The page's main thread (script, style, layout, paint), navigation to Install enabled. */
  readonly main: number;
  /** Every thread of Chromium's processes together (browser, compositor, script streaming…). */
  readonly all: number;
  readonly wall: number;
}

/**
 * The CPU time behind one load: unlike the throttled clock it does not move with the machine's load,
 * and Chromium's throttling spins rather than sleeps, so only an unthrottled trace tells it.
 */
export async function welcomeCpu(url: string, browser: Browser): Promise<WelcomeCpu> {
  const context = await browser.newContext({ locale: 'en-US' });
  const dir = mkdtempSync(join(tmpdir(), 'particle-bench-trace-'));
  try {
    const page = await context.newPage();
    await page.addInitScript(MARKER);
    await browser.startTracing(page, { path: join(dir, 'trace.json'), categories: ['toplevel', 'disabled-by-default-devtools.timeline'] });
    const t0 = performance.now();
    await page.goto(url);
    await page.waitForFunction(() => (window as unknown as { __startMarks: { installEnabled?: number } }).__startMarks.installEnabled !== undefined, null, { polling: 100, timeout: 120_000 });
    const wall = performance.now() - t0;
    await browser.stopTracing();
    const trace = JSON.parse(readFileSync(join(dir, 'trace.json'), 'utf8')) as { traceEvents: { name: string; ph: string; pid: number; tid: number; tdur?: number; args?: { name?: string } }[] };
    const threadNames = new Map(trace.traceEvents.filter((e) => e.name === 'thread_name').map((e) => [`${e.pid}:${e.tid}`, e.args?.name ?? '']));
    let main = 0;
    let all = 0;
    for (const e of trace.traceEvents) {
      if (e.ph !== 'X' || (e.name !== 'RunTask' && e.name !== 'ThreadPool_RunTask') || !e.tdur) continue;
      all += e.tdur / 1000;
      if (threadNames.get(`${e.pid}:${e.tid}`) === 'CrRendererMain') main += e.tdur / 1000;
    }
    return { main, all, wall };
  } finally {
    await context.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One UI's loads: throttled timelines and unthrottled CPU times. */
export interface WelcomeFigures {
  readonly throttled: WelcomeRun[];
  readonly cpu: WelcomeCpu[];
}

/**
 * `runs` throttled loads and `runs` traced unthrottled loads of each URL (one per built UI), taking
 * turns, so a change in the machine's load (other processes) falls on every build alike. A first,
 * uncounted round warms the server and the disk cache.
 */
export async function welcomeRuns(urls: readonly string[], runs: number, rate: number, browser: Browser): Promise<WelcomeFigures[]> {
  const out: WelcomeFigures[] = urls.map(() => ({ throttled: [], cpu: [] }));
  for (let i = 0; i < runs + 1; i++) {
    for (const [k, url] of urls.entries()) {
      const throttled = await welcomeRun(url, rate, browser);
      const cpu = await welcomeCpu(url, browser);
      if (i === 0) continue;
      out[k]!.throttled.push(throttled);
      out[k]!.cpu.push(cpu);
    }
  }
  return out;
}

export const f0 = (n: number | null): string => (n === null || Number.isNaN(n) ? '-' : n.toFixed(0));

export function printWelcome({ throttled: runs, cpu }: WelcomeFigures, rate: number, label = ''): void {
  const col = (k: 'firstPaint' | 'appRendered' | 'welcome' | 'installEnabled'): string => {
    const xs = runs.map((r) => r[k]).filter((x): x is number => x !== null);
    return `${f0(median(xs))} ms (${f0(Math.min(...xs))}-${f0(Math.max(...xs))})`;
  };
  console.log(`renderer start${label} in Chromium, CPU throttled ${rate}x (median of ${runs.length}, fresh context each):`);
  console.log(`  first paint ("Starting the installer"): ${col('firstPaint')}`);
  console.log(`  wizard code ran (React's first render): ${col('appRendered')}`);
  console.log(`  Welcome heading in the page:            ${col('welcome')}`);
  console.log(`  Install enabled (next frame):           ${col('installEnabled')}`);
  const main = cpu.map((c) => c.main);
  const all = cpu.map((c) => c.all);
  console.log(`  CPU to Install enabled, unthrottled (median of ${cpu.length}): page main thread ${f0(median(main))} ms (${f0(Math.min(...main))}-${f0(Math.max(...main))}), all of Chromium ${f0(median(all))} ms, wall ${f0(median(cpu.map((c) => c.wall)))} ms`);
  const last = runs[runs.length - 1];
  if (last) {
    console.log(`  fetched before that: ${(last.jsBytes / 1024).toFixed(1)} KiB JS, ${(last.cssBytes / 1024).toFixed(1)} KiB CSS in ${last.files.length} file(s)`);
    const methods = [...new Set(runs.flatMap((r) => r.rpc.map((c) => c.method)))];
    for (const m of methods) {
      const calls = runs.flatMap((r) => r.rpc.filter((c) => c.method === m));
      console.log(`  engine call ${m}: sent at ${f0(median(calls.map((c) => c.sentAt)))} ms, answered after ${f0(median(calls.map((c) => c.ms)))} ms (${(calls.length / runs.length).toFixed(1)} per load)`);
    }
  }
}

