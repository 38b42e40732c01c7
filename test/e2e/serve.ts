import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Browser, BrowserContext, BrowserContextOptions } from 'playwright';
import { afterAll, beforeAll, expect } from 'vitest';
import { launchChromium } from './browser';

export const REPO = resolve(import.meta.dirname, '../..');
/** Where the e2e tests' screenshots go. */
export const SHOTS = join(REPO, 'test-results/e2e');

/** A running `particle-installer serve --demo`, started from source like a developer would. */
export interface DemoServer {
  readonly child: ChildProcess;
  readonly url: string;
  readonly origin: string;
  /** Everything the server wrote to stderr, for failure messages. */
  readonly stderr: () => string;
}

/** `env`, when given, replaces process.env for the server (e.g. fakeEnv() to put the bootc fake first on PATH). */
/** `port` fixes the port (0: a free one), as the live ISO's engine-start does. */
export async function startDemoServer(repo: string, tokenFile: string, cacheDir: string, timeoutMs = 90_000, env: NodeJS.ProcessEnv = process.env, port = 0): Promise<DemoServer> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--demo', '--port', String(port), '--token-file', tokenFile],
    { cwd: repo, env: { ...env, XDG_CACHE_HOME: cacheDir }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not report listening within ${timeoutMs} ms:\n${err}`)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before listening:\n${err}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { event?: string; url?: string };
        if (msg.event === 'listening' && msg.url) {
          clearTimeout(timer);
          resolve(msg.url);
        }
      } catch {
        // Not every line is JSON; only the listening event matters here.
      }
    });
  });
  return { child, url, origin: new URL(url).origin, stderr: () => err };
}

/** Stops the server by its pid and waits for it, so its SIGTERM teardown (loop detach) has run. */
export async function stopDemoServer(server: DemoServer | undefined, timeoutMs = 30_000): Promise<void> {
  if (!server || server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => server.child.once('exit', () => resolve()));
  process.kill(server.child.pid!, 'SIGTERM');
  const timer = setTimeout(() => process.kill(server.child.pid!, 'SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

/** Loop devices whose backing file lies under `dir`, as `losetup` reports them. */
export function loopsBackedBy(dir: string): string[] {
  const r = spawnSync('losetup', ['--json', '--list'], { encoding: 'utf8' });
  if (r.status !== 0 || r.stdout.trim() === '') return [];
  const parsed = JSON.parse(r.stdout) as { loopdevices?: Array<{ name: string; 'back-file'?: string | null }> };
  return (parsed.loopdevices ?? [])
    .filter((l) => (l['back-file'] ?? '').replace(/ \(deleted\)$/, '').startsWith(dir))
    .map((l) => l.name)
    .sort();
}

/**
 * The end of a test file that served the UI: closes the browser, stops the server (its SIGTERM
 * teardown detaches the demo disks) and removes `tmp`, failing if a loop device backed by `tmp`
 * is still attached.
 */
export async function closeDemo(browser: { close(): Promise<void> } | undefined, server: DemoServer | undefined, tmp: string | undefined): Promise<void> {
  await browser?.close();
  await stopDemoServer(server);
  if (!tmp) return;
  const left = loopsBackedBy(tmp);
  rmSync(tmp, { recursive: true, force: true });
  expect(left, 'loop devices left attached by serve --demo').toEqual([]);
}

export interface DemoWizardOptions {
  /** The engine's environment (the fakes' settings); gets the file's temporary directory. */
  readonly env?: (tmp: string) => NodeJS.ProcessEnv;
  /** The browser context every page of the file opens in; false for none (the file makes its own). */
  readonly context?: BrowserContextOptions | false;
}

/** What useDemoWizard set up, readable once its beforeAll has run. */
export interface DemoWizard {
  readonly tmp: string;
  readonly server: DemoServer;
  readonly browser: Browser;
  readonly context: BrowserContext;
}

const DEFAULT_CONTEXT: BrowserContextOptions = { viewport: { width: 1280, height: 900 }, locale: 'en-US', reducedMotion: 'reduce' };

/**
 * The set-up every file that drives the served wizard shares, as hooks of the calling describe:
 * a temporary directory, `serve --demo` on it, Debian's Chromium and a browser context; after the
 * file, closeDemo (which fails when a demo disk is left attached). Screenshots go to `SHOTS`.
 */
export function useDemoWizard(prefix: string, o: DemoWizardOptions = {}): DemoWizard {
  const got: { tmp?: string; server?: DemoServer; browser?: Browser; context?: BrowserContext } = {};
  beforeAll(async () => {
    got.tmp = mkdtempSync(join(tmpdir(), prefix));
    mkdirSync(SHOTS, { recursive: true });
    got.server = await startDemoServer(REPO, join(got.tmp, 'token'), join(got.tmp, 'cache'), 90_000, o.env ? o.env(got.tmp) : process.env);
    got.browser = await launchChromium();
    if (o.context !== false) got.context = await got.browser.newContext(o.context ?? DEFAULT_CONTEXT);
  });
  afterAll(async () => {
    await closeDemo(got.browser, got.server, got.tmp);
  });
  const need = <K extends keyof typeof got>(k: K): NonNullable<(typeof got)[K]> => {
    const v = got[k];
    if (v === undefined) throw new Error(`useDemoWizard: ${k} is not set up (read it inside a test or a later hook)`);
    return v as NonNullable<(typeof got)[K]>;
  };
  return {
    get tmp() {
      return need('tmp');
    },
    get server() {
      return need('server');
    },
    get browser() {
      return need('browser');
    },
    get context() {
      return need('context');
    },
  };
}
