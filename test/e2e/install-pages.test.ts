import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Disk, DiskList } from '../../src/shared/disk';
import type { InstallPlan, InstallState } from '../../src/shared/install';
import { fakeEnv } from '../fakes/index';
import { expectNoAxeViolations, launchChromium } from './browser';
import { activeTestId, demoUiSkipReason } from './fixtures';
import { loopsBackedBy, startDemoServer, stopDemoServer, type DemoServer } from './serve';

/**
 * The install views (progress, done, failure) in Debian's Chromium against the real `serve --demo`
 * engine, with the bootc/podman contract fake first on PATH and slowed down so there is time to
 * look. The wizard pages before the Summary are rebuilt elsewhere, so the install is planned and
 * started over the engine protocol directly; the browser pages only watch and steer it.
 */
const REPO = resolve(import.meta.dirname, '../..');
const SHOTS = join(REPO, 'test-results/e2e');
const PRODUCT = (JSON.parse(readFileSync(join(REPO, 'resources/branding/particleos/branding.json'), 'utf8')) as { productName: string }).productName;

const skipReason = demoUiSkipReason();
if (skipReason) console.warn(`e2e install pages skipped: ${skipReason}`);

/** A JSON-RPC client on the server's WebSocket, authenticated by the Bearer token as a tool would be. */
class Rpc {
  private next = 1;
  private readonly pending = new Map<number, (m: { result?: unknown; error?: { message: string } }) => void>();
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      for (const line of String(data).split('\n').filter(Boolean)) {
        const m = JSON.parse(line) as { id?: number; result?: unknown; error?: { message: string } };
        if (typeof m.id === 'number') this.pending.get(m.id)?.(m);
      }
    });
  }

  static async open(server: DemoServer): Promise<Rpc> {
    const token = new URL(server.url).searchParams.get('token')!;
    const ws = new WebSocket(`${server.origin.replace(/^http/, 'ws')}/rpc`, { headers: { Authorization: `Bearer ${token}` } });
    await new Promise((ok, fail) => ws.once('open', ok).once('error', fail));
    return new Rpc(ws);
  }

  call<T>(method: string, params: object = {}): Promise<T> {
    const id = this.next++;
    return new Promise<T>((ok, fail) => {
      this.pending.set(id, (m) => {
        this.pending.delete(id);
        if (m.error) fail(new Error(`${method}: ${m.error.message}`));
        else ok(m.result as T);
      });
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  close(): void {
    this.ws.close();
  }
}

interface Harness {
  tmp: string;
  server: DemoServer;
  rpc: Rpc;
  disk: Disk;
}

async function startHarness(prefix: string, extra: { hang?: string; failOnceFile?: (tmp: string) => string; delayMs: number; layerDelayMs: number }): Promise<Harness> {
  const tmp = mkdtempSync(join(tmpdir(), prefix));
  const env = fakeEnv({
    storage: join(tmp, 'storage'),
    delayMs: extra.delayMs,
    payloadMiB: 2,
    ...(extra.hang ? { hang: extra.hang } : {}),
    ...(extra.failOnceFile ? { failOnceFile: extra.failOnceFile(tmp) } : {}),
    extra: { PARTICLE_FAKE_LAYER_DELAY_MS: String(extra.layerDelayMs) },
  });
  const server = await startDemoServer(REPO, join(tmp, 'token'), join(tmp, 'cache'), 90_000, env);
  const rpc = await Rpc.open(server);
  const demo = loopsBackedBy(tmp);
  const { disks } = await rpc.call<DiskList>('listDisks');
  const disk = disks.find((d) => demo.includes(d.path) && d.verdict !== 'refused');
  if (!disk) throw new Error(`no usable demo disk among ${JSON.stringify(disks.map((d) => [d.path, d.verdict]))}`);
  return { tmp, server, rpc, disk };
}

async function stopHarness(h: Harness | undefined): Promise<void> {
  if (!h) return;
  h.rpc.close();
  await stopDemoServer(h.server);
  // The server detaches its demo disks on SIGTERM; nothing backed by our temp dir may remain.
  const left = loopsBackedBy(h.tmp);
  rmSync(h.tmp, { recursive: true, force: true });
  expect(left, 'loop devices left attached by serve --demo').toEqual([]);
}

/** A valid erase-disk request for one demo disk. */
function request(disk: Disk): object {
  return {
    version: 1,
    disk: { path: disk.path },
    layout: { type: 'erase', filesystem: 'xfs' },
    image: { reference: 'quay.io/example/os:42' },
    hostname: 'particle-box',
    users: [{ name: 'anna', fullName: 'Anna Example', password: 'Sup3r secret user pw!', admin: true }],
  };
}

async function planAndStart(h: Harness): Promise<InstallPlan> {
  const plan = await h.rpc.call<InstallPlan>('planInstall', { request: request(h.disk) });
  await h.rpc.call<InstallState>('startInstall', { planId: plan.id });
  return plan;
}

async function waitSettled(h: Harness, timeoutMs = 60_000): Promise<InstallState> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const st = await h.rpc.call<InstallState>('getInstallState');
    if (st.phase !== 'running' && st.phase !== 'cancelling') return st;
    if (Date.now() > until) throw new Error(`install still ${st.phase} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const HEADINGS = {
  progress: { en: `Installing ${PRODUCT}`, ar: `جارٍ تثبيت ${PRODUCT}` },
  done: { en: `${PRODUCT} is installed`, ar: `تم تثبيت ${PRODUCT}` },
  failed: { en: 'The installation did not finish', ar: 'لم يكتمل التثبيت' },
  cancelled: { en: 'The installation was cancelled', ar: 'أُلغي التثبيت' },
} as const;
type Lang = 'en' | 'ar';

const h1 = (page: Page) => page.getByTestId('page-heading');
/** The install steps as listed, and those in one state (pending, running, done, failed…). */
const steps = (page: Page) => page.getByTestId(/^install-step-/);
const stepsIn = (page: Page, state: string) => page.locator(`[data-testid^="install-step-"][data-state="${state}"]`);

async function expectHeading(page: Page, text: string, timeout = 60_000): Promise<void> {
  await expect.poll(async () => (await h1(page).count()) > 0 ? await h1(page).textContent() : null, { timeout, interval: 100 }).toBe(text);
}

/** A page on the served UI; English at 1280×900, Arabic at 800×600 with reduced motion. */
async function openPage(context: BrowserContext, server: DemoServer, errors: string[]): Promise<Page> {
  const page = await context.newPage();
  page.on('console', (m) => m.type() === 'error' && !/favicon/.test(m.text()) && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(server.url);
  await page.getByRole('heading', { level: 1 }).waitFor();
  return page;
}

async function noHorizontalOverflow(page: Page): Promise<void> {
  const [scroll, client] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  expect(scroll, 'page scrolls sideways').toBeLessThanOrEqual(client);
}

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

describe.skipIf(skipReason !== null)('install pages: progress, done, failure and retry', () => {
  let h: Harness | undefined;
  let browser: Browser | undefined;
  const pages = {} as Record<Lang, Page>;
  const errors: string[] = [];
  let failOnce = '';

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    // Slow enough (tens of seconds) to look at the progress page, reload it and open the log.
    h = await startHarness('particle-e2e-install-', { delayMs: 250, layerDelayMs: 2500, failOnceFile: (tmp) => (failOnce = join(tmp, 'fail-once')) });
    browser = await launchChromium();
    const en = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
    const ar = await browser.newContext({ viewport: { width: 800, height: 600 }, locale: 'ar', reducedMotion: 'reduce' });
    pages.en = await openPage(en, h.server, errors);
    pages.ar = await openPage(ar, h.server, errors);
  });

  afterAll(async () => {
    await browser?.close();
    await stopHarness(h);
  });

  it('shows progress, survives a reload, opens the log and ends on the Done page', async () => {
    const plan = await planAndStart(h!);
    for (const lang of ['en', 'ar'] as const) await expectHeading(pages[lang], HEADINGS.progress[lang], 15_000);
    const en = pages.en;
    const bar = en.getByRole('progressbar');
    const valueNow = async () => Number(await bar.getAttribute('aria-valuenow'));
    expect(await bar.getAttribute('aria-valuetext')).toMatch(/done/);
    // Every step of the plan is listed by its translated name, none by the engine's English title.
    expect(await steps(en).count()).toBe(plan.steps.length);
    for (const step of plan.steps) expect(await en.getByTestId(`install-step-${step.id}`).count(), step.id).toBe(1);
    const arSteps = (await pages.ar.getByTestId('install-steps').textContent()) ?? '';
    for (const step of plan.steps) expect(arSteps, step.id).not.toContain(step.title);

    await shoot(en, 'install-progress-en');
    await expectNoAxeViolations(en, 'Progress (en)');
    await noHorizontalOverflow(pages.ar);
    await shoot(pages.ar, 'install-progress-ar');
    await expectNoAxeViolations(pages.ar, 'Progress (ar)');
    expect(await pages.ar.evaluate(() => document.documentElement.dir)).toBe('rtl');

    // A reload mid-install reconnects and shows the same install, not the wizard.
    const before = await valueNow();
    await en.reload();
    await expectHeading(en, HEADINGS.progress.en, 15_000);
    await expect.poll(() => stepsIn(en, 'done').count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await expect.poll(valueNow, { timeout: 30_000 }).toBeGreaterThan(before);
    expect(await stepsIn(en, 'running').count()).toBeLessThanOrEqual(1);

    // The live log opens and fills.
    expect(await en.getByTestId('progress-log-toggle').textContent()).toBe('Show the installation log');
    await en.getByTestId('progress-log-toggle').click();
    const log = en.getByTestId('progress-log');
    expect(await log.getAttribute('role')).toBe('log');
    await expect.poll(() => log.isVisible()).toBe(true);
    await expect.poll(async () => (await log.textContent())?.length ?? 0, { timeout: 30_000 }).toBeGreaterThan(20);

    const settled = await waitSettled(h!);
    expect(settled.phase, JSON.stringify(settled.outcome)).toBe('finished');
    for (const lang of ['en', 'ar'] as const) await expectHeading(pages[lang], HEADINGS.done[lang], 15_000);
    await shoot(en, 'install-done-en');
    await expectNoAxeViolations(en, 'Done (en)');
    await noHorizontalOverflow(pages.ar);
    await shoot(pages.ar, 'install-done-ar');
    await expectNoAxeViolations(pages.ar, 'Done (ar)');

    // Demo mode never powers the host off: the engine says why (or that it cannot yet), and we show it.
    expect(await en.getByTestId('done-reboot').textContent()).toBe('Restart now');
    await en.getByTestId('done-reboot').click();
    await expect.poll(() => en.getByTestId('done-power-status').textContent(), { timeout: 10_000 }).toMatch(/\S/);
    expect(await en.getByTestId('log-bundle-download').textContent()).toBe('Download the log bundle');
    await en.getByTestId('log-bundle-download').click();
    await expect.poll(() => en.getByTestId('log-bundle-status').textContent(), { timeout: 10_000 }).toMatch(/\S/);
  }, 180_000);

  it('shows a failure with its command, and a retry that succeeds', async () => {
    writeFileSync(failOnce, 'deploy\n');
    await planAndStart(h!);
    const settled = await waitSettled(h!);
    expect(settled.phase).toBe('failed');
    expect(existsSync(failOnce), 'the once-failure was used up').toBe(false);
    for (const lang of ['en', 'ar'] as const) await expectHeading(pages[lang], HEADINGS.failed[lang], 15_000);

    const en = pages.en;
    expect(await en.locator('main').textContent()).toContain('A command run by the installer did not succeed. It happened during the step “Installing the system image”.');
    expect(await en.getByTestId('failure-command-toggle').textContent()).toBe('The command that failed and its output');
    await en.getByTestId('failure-command-toggle').click();
    const disclosure = en.getByTestId('failure-command');
    await expect.poll(() => disclosure.locator('code').first().textContent()).toMatch(/^podman --root \S+\/target\/\.particle-containers\/storage --runroot \S+ run /);
    expect(await en.getByTestId('failure-command-output').textContent()).toContain('deploy: injected failure');
    expect(await stepsIn(en, 'failed').textContent()).toContain('Installing the system image');

    await shoot(en, 'install-failure-en');
    await expectNoAxeViolations(en, 'Failure (en)');
    expect(await pages.ar.getByTestId('failure-command-toggle').textContent()).toBe('الأمر الذي فشل ومخرجاته');
    await pages.ar.getByTestId('failure-command-toggle').click();
    await noHorizontalOverflow(pages.ar);
    await shoot(pages.ar, 'install-failure-ar');
    await expectNoAxeViolations(pages.ar, 'Failure (ar)');

    expect(await en.getByTestId('failure-retry').textContent()).toBe('Try again');
    await en.getByTestId('failure-retry').click();
    for (const lang of ['en', 'ar'] as const) await expectHeading(pages[lang], HEADINGS.done[lang], 90_000);
    expect((await h!.rpc.call<InstallState>('getInstallState')).phase).toBe('finished');
  }, 180_000);

  it('logged no errors in the pages', () => {
    expect(errors).toEqual([]);
  });
});

describe.skipIf(skipReason !== null)('install pages: cancel', () => {
  let h: Harness | undefined;
  let browser: Browser | undefined;
  const pages = {} as Record<Lang, Page>;
  const errors: string[] = [];

  beforeAll(async () => {
    h = await startHarness('particle-e2e-cancel-', { delayMs: 0, layerDelayMs: 0, hang: 'deploy' });
    browser = await launchChromium();
    const en = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US', reducedMotion: 'reduce' });
    const ar = await browser.newContext({ viewport: { width: 800, height: 600 }, locale: 'ar', reducedMotion: 'reduce' });
    pages.en = await openPage(en, h.server, errors);
    pages.ar = await openPage(ar, h.server, errors);
  });

  afterAll(async () => {
    await browser?.close();
    await stopHarness(h);
  });

  it('asks before cancelling, says the disk is partly written, and ends on the cancelled page', async () => {
    await planAndStart(h!);
    const en = pages.en;
    await expectHeading(en, HEADINGS.progress.en, 15_000);
    await expect.poll(() => en.getByTestId('progress-current').textContent(), { timeout: 30_000 }).toBe('Now: Installing the system image');

    const cancel = en.getByTestId('progress-cancel');
    expect(await cancel.textContent()).toBe('Cancel installation');
    await cancel.click();
    const dialog = en.getByTestId('progress-cancel-dialog');
    await dialog.waitFor();
    expect(await en.getByRole('dialog', { name: 'Cancel the installation?' }).count()).toBe(1);
    expect(await dialog.textContent()).toContain('partially written');
    // The safe choice has focus: Enter never cancels by accident.
    expect(await activeTestId(en)).toBe('progress-cancel-dismiss');
    expect(await en.evaluate(() => document.activeElement?.textContent)).toBe('Keep installing');
    await shoot(en, 'install-cancel-dialog-en');
    await expectNoAxeViolations(en, 'Cancel dialog (en)');
    await en.keyboard.press('Escape');
    await expect.poll(() => dialog.isVisible()).toBe(false);
    expect((await h!.rpc.call<InstallState>('getInstallState')).phase).toBe('running');

    await cancel.click();
    await en.getByTestId('progress-cancel-confirm').click();
    const settled = await waitSettled(h!);
    expect(settled.phase).toBe('cancelled');
    for (const lang of ['en', 'ar'] as const) await expectHeading(pages[lang], HEADINGS.cancelled[lang], 15_000);
    expect(await activeTestId(en)).toBe('page-heading');
    expect(await en.locator('main').textContent()).toContain('You cancelled the installation during the step “Installing the system image”.');
    expect(await en.getByTestId('failure-retry').isVisible()).toBe(true);
    expect(await en.getByTestId('failure-retry').textContent()).toBe('Install again');

    await shoot(en, 'install-cancelled-en');
    await expectNoAxeViolations(en, 'Cancelled (en)');
    await noHorizontalOverflow(pages.ar);
    await shoot(pages.ar, 'install-cancelled-ar');
    await expectNoAxeViolations(pages.ar, 'Cancelled (ar)');

    // Back to the summary: the wizard again, on its Summary step, focus on its heading.
    await en.getByTestId('failure-back').click();
    await expect.poll(() => en.getByTestId('step-summary').getAttribute('aria-current')).toBe('step');
    expect(await activeTestId(en)).toBe('page-heading');
  }, 120_000);

  it('logged no errors in the pages', () => {
    expect(errors).toEqual([]);
  });
});
