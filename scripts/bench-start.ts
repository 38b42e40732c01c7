/**
 * Start-up figures: the two pieces between the live ISO's boot and the Welcome page on its screen,
 * measured on this machine with one CPU standing in for the live system's (QEMU under TCG gives the
 * guest one slow CPU; this cannot boot the ISO):
 *
 *  1. The engine: `node out/engine/cli.mjs serve`, as live-iso/.../engine-start runs it (normal mode,
 *     a local image offered), pinned to one CPU: wall and CPU milliseconds to its `listening` line.
 *  2. The wizard (bench-welcome.ts): Debian's Chromium and the `serve --demo` that serves it (the engine
 *     on virtual disks, as the UI end-to-end tests run it; root) on that CPU, the page's CPU slowed
 *     further by CDP's Emulation.setCPUThrottlingRate (default 20 times).
 *
 *   npx tsx scripts/bench-start.ts [--runs N] [--rate R] [--engine-runs N] [--json FILE]
 *                                  [--ui-dir DIR]... [--engine BUNDLE]... [--node "COMMAND"]
 *
 * Several --ui-dir (built renderers) or --engine (bundles) are measured taking turns, so a change in
 * the machine's load falls on each alike: the way to compare a change with what it replaces. --node
 * runs the engines with another node (e.g. the live system's, in a chroot). Needs the build.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { chromium, type Browser } from 'playwright';
import { f0, printWelcome, welcomeRuns, type WelcomeFigures } from './bench-welcome';

const CHROMIUM = '/usr/bin/chromium';
const CLI = 'out/engine/cli.mjs';

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * CPU milliseconds a live process has used so far, all its threads (V8 compiles and collects garbage
 * on helper threads): the sum of each thread's run time in /proc/PID/task/TID/schedstat (nanoseconds).
 */
function cpuMs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return ns / 1e6;
}

export interface EngineStart {
  /** Wall milliseconds from spawn to the `listening` line. */
  readonly wallMs: number;
  /** CPU milliseconds the engine had used by then, all threads. */
  readonly cpuMs: number;
}

/** How an engine is started: which bundle, and the command that runs it (node, perhaps pinned). */
export interface EngineCommand {
  readonly cli: string;
  /** Runs node; default this Node, pinned to one CPU with taskset where there is one. */
  readonly node?: readonly string[];
}

/** Starts `node CLI serve …` once and resolves when it says it listens. */
export async function startServe(
  args: readonly string[],
  options: { command?: EngineCommand; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ url: string; start: EngineStart; stop: () => Promise<void> }> {
  const argv = [...(options.command?.node ?? [process.execPath]), options.command?.cli ?? CLI, 'serve', ...args];
  const t0 = performance.now();
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const { url, start } = await new Promise<{ url: string; start: EngineStart }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${err}`)), options.timeoutMs ?? 60_000);
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}:\n${err}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { event?: string; url?: string };
        if (msg.event === 'listening' && msg.url) {
          const wallMs = performance.now() - t0;
          clearTimeout(timer);
          resolve({ url: msg.url, start: { wallMs, cpuMs: cpuMs(child.pid!) } });
        }
      } catch {
        // only the listening event matters
      }
    });
  });
  return {
    url,
    start,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** `argv` run on one CPU (the last one: the first takes more of the machine's interrupts), where taskset exists. */
export function pin(...argv: string[]): string[] {
  return existsSync('/usr/bin/taskset') ? ['taskset', '-c', String(availableParallelism() - 1), ...argv] : argv;
}

export const PINNED_NODE: readonly string[] = pin(process.execPath);

/**
 * Each engine's start, `runs` times, taking turns: `serve` in normal mode with a local image offered,
 * as the live ISO starts it (live-iso/rootfs/usr/lib/particle-installer/live/engine-start).
 */
export async function engineStarts(commands: readonly EngineCommand[], runs: number): Promise<EngineStart[][]> {
  const dir = mkdtempSync(join(tmpdir(), 'particle-bench-start-'));
  const out: EngineStart[][] = commands.map(() => []);
  try {
    for (let i = 0; i < runs + 1; i++) {
      for (const [k, command] of commands.entries()) {
        const s = await startServe(['--port', '0', '--token-file', join(dir, 'url'), '--image', `oci:${dir}`, '--run-root', join(dir, 'run')], { command });
        await s.stop();
        if (i > 0) out[k]!.push(s.start); // the first run fills the page cache
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

export function printEngine(starts: readonly EngineStart[], label = ''): void {
  if (starts.length === 0) return;
  const wall = starts.map((s) => s.wallMs);
  const cpu = starts.map((s) => s.cpuMs);
  console.log(`engine start to listening${label}, on one CPU (median of ${starts.length}): ${f0(median(wall))} ms wall (${f0(Math.min(...wall))}-${f0(Math.max(...wall))}), ${f0(median(cpu))} ms CPU`);
}

export interface StartOptions {
  /** Throttled loads of each UI (default 5). */
  readonly runs?: number;
  /** CPU slowdown of the page (default 20). */
  readonly rate?: number;
  /** Starts of each engine (default 10; 0 skips them). */
  readonly engineRuns?: number;
  /** Built UIs to compare, taking turns (default out/renderer). */
  readonly uiDirs?: readonly string[];
  /** Engines to compare, taking turns (default out/engine/cli.mjs on this Node, one CPU). */
  readonly engines?: readonly EngineCommand[];
}

/** The figures of both, for npm run bench. */
export async function startFigures(options: StartOptions = {}): Promise<{ engine: EngineStart[][]; welcome: WelcomeFigures[] | string }> {
  const engines = options.engines ?? [{ cli: CLI, node: PINNED_NODE }];
  const engine = options.engineRuns === 0 ? [] : await engineStarts(engines, options.engineRuns ?? 10);
  engine.forEach((starts, k) => printEngine(starts, engines.length > 1 ? ` (${engines[k]!.node?.join(' ') ?? 'node'} ${engines[k]!.cli})` : ''));
  const rate = options.rate ?? 20;
  const uiDirs = options.uiDirs ?? ['out/renderer'];
  let welcome: WelcomeFigures[] | string;
  if (!existsSync(CHROMIUM)) welcome = `${CHROMIUM} is missing (apt-get install chromium)`;
  else if (process.getuid?.() !== 0) welcome = 'serve --demo needs root to attach its loop-backed virtual disks';
  else {
    const dir = mkdtempSync(join(tmpdir(), 'particle-bench-start-'));
    mkdirSync(join(dir, 'image'));
    const servers: Awaited<ReturnType<typeof startServe>>[] = [];
    let browser: Browser | undefined;
    try {
      for (const [k, uiDir] of uiDirs.entries()) {
        // A local image, as the live ISO offers its embedded one: the network check is then not needed.
        const args = ['--demo', '--port', '0', '--token-file', join(dir, `url-${k}`), '--image', `oci:${join(dir, 'image')}`, '--run-root', join(dir, `run-${k}`), '--ui-dir', uiDir];
        servers.push(await startServe(args, { command: { cli: CLI, node: PINNED_NODE }, env: { ...process.env, XDG_CACHE_HOME: join(dir, `cache-${k}`) }, timeoutMs: 120_000 }));
      }
      // The browser and the engine that serves it share one CPU, as on the live ISO under TCG.
      const chromiumPinned = join(dir, 'chromium');
      writeFileSync(chromiumPinned, `#!/bin/sh\nexec ${pin(CHROMIUM).join(' ')} "$@"\n`, { mode: 0o755 });
      browser = await chromium.launch({ executablePath: chromiumPinned, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
      welcome = await welcomeRuns(
        servers.map((s) => s.url),
        options.runs ?? 5,
        rate,
        browser,
      );
    } finally {
      await browser?.close();
      for (const s of servers) await s.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (typeof welcome === 'string') console.log(`renderer start: skipped: ${welcome}`);
  else welcome.forEach((figures, k) => printWelcome(figures, rate, uiDirs.length > 1 ? ` (${uiDirs[k]})` : ''));
  return { engine, welcome };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      rate: { type: 'string', default: '20' },
      'engine-runs': { type: 'string', default: '10' },
      'ui-dir': { type: 'string', multiple: true },
      engine: { type: 'string', multiple: true },
      node: { type: 'string' },
      json: { type: 'string' },
    },
  });
  if (!existsSync(CLI) || !existsSync('out/renderer/index.html')) {
    console.error('bench-start: build first (npm run build)');
    process.exit(2);
  }
  const node = values.node ? values.node.split(' ') : PINNED_NODE;
  const r = await startFigures({
    runs: Number(values.runs),
    rate: Number(values.rate),
    engineRuns: Number(values['engine-runs']),
    ...(values['ui-dir'] ? { uiDirs: values['ui-dir'] } : {}),
    engines: (values.engine ?? [CLI]).map((cli) => ({ cli, node })),
  });
  if (values.json) writeFileSync(values.json, `${JSON.stringify(r, null, 2)}\n`);
}
