import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeEnv } from '../fakes/index';
import { expectNoAxeViolations, launchChromium } from './browser';
import { activeTestId, currentStep, FORWARD, skipNetworkCheck, stepIndexOf, demoUiSkipReason, chooseLanguage } from './fixtures';
import { loopsBackedBy, startDemoServer, stopDemoServer, type DemoServer } from './serve';

/**
 * A whole install through the UI only, in Debian's Chromium against the real `serve --demo` engine
 * with the bootc/podman contract fake first on PATH: Welcome → Keyboard → Time zone → Disk (the
 * 20 GiB demo disk, erased) → Users → Summary → confirm → Progress → Done. English is driven with
 * the keyboard alone (a control the keyboard cannot reach fails the test, naming it); Arabic (right
 * to left) with the pointer. axe-core on every page, a screenshot of each.
 */
const REPO = resolve(import.meta.dirname, '../..');
const SHOTS = join(REPO, 'test-results/e2e');
const GiB = 1024 ** 3;
const PRODUCT = (JSON.parse(readFileSync(join(REPO, 'resources/branding/particleos/branding.json'), 'utf8')) as { productName: string }).productName;

const skipReason = demoUiSkipReason();
if (skipReason) console.warn(`e2e full install skipped: ${skipReason}`);

type Lang = 'en' | 'ar';
/** Headings of the install views, in each language (controls are found by test id). */
const TEXT = {
  en: { progress: `Installing ${PRODUCT}`, done: `${PRODUCT} is installed` },
  ar: { progress: `جارٍ تثبيت ${PRODUCT}`, done: `تم تثبيت ${PRODUCT}` },
} as const;

function deviceSize(dev: string): number {
  return Number(spawnSync('lsblk', ['--bytes', '--nodeps', '--noheadings', '--output', 'SIZE', dev], { encoding: 'utf8' }).stdout.trim());
}

interface Run {
  tmp: string;
  server: DemoServer;
  target: string;
}

async function startRun(lang: Lang): Promise<Run> {
  const tmp = mkdtempSync(join(tmpdir(), `particle-e2e-full-${lang}-`));
  const env = fakeEnv({ storage: join(tmp, 'storage'), delayMs: 20, payloadMiB: 2, extra: { PARTICLE_FAKE_LAYER_DELAY_MS: '300' } });
  const server = await startDemoServer(REPO, join(tmp, 'token'), join(tmp, 'cache'), 90_000, env);
  const target = loopsBackedBy(tmp).find((d) => deviceSize(d) === 20 * GiB) ?? '';
  return { tmp, server, target };
}

async function stopRun(run: Run | undefined): Promise<void> {
  if (!run) return;
  await stopDemoServer(run.server);
  const left = loopsBackedBy(run.tmp);
  rmSync(run.tmp, { recursive: true, force: true });
  expect(left, 'loop devices left attached by serve --demo').toEqual([]);
}

const h1 = (page: Page) => page.getByTestId('page-heading');

async function expectHeading(page: Page, text: string, timeout = 120_000): Promise<void> {
  await expect.poll(async () => ((await h1(page).count()) > 0 ? (await h1(page).textContent())?.trim() : null), { timeout, interval: 100 }).toBe(text);
}

async function shoot(page: Page, lang: Lang, name: string): Promise<void> {
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize({ width: 1280, height: Math.max(900, height) });
  await page.screenshot({ path: join(SHOTS, `full-${lang}-${name}.png`) });
  await page.setViewportSize({ width: 1280, height: 900 });
}

async function checkPage(page: Page, lang: Lang, name: string): Promise<void> {
  await shoot(page, lang, name);
  await expectNoAxeViolations(page, `${name} (${lang})`);
}

/** What the focused element is, for failure messages. */
function describeFocus(page: Page): Promise<string> {
  return page.evaluate(() => {
    const e = document.activeElement as HTMLElement | null;
    if (!e) return '(nothing)';
    const testId = e.getAttribute('data-testid');
    return `<${e.tagName.toLowerCase()}${testId ? ` data-testid=${testId}` : ''}${e.id ? ` id=${e.id}` : ''}> "${(e.textContent ?? '').trim().slice(0, 40)}"`;
  });
}

/**
 * Tabs forward until the focused element's test id is `testId` (or matches it); a control Tab never
 * reaches is a keyboard-accessibility bug, so the failure names it.
 */
async function tabTo(page: Page, what: string, testId: string | RegExp): Promise<void> {
  const matches = (id: string) => (typeof testId === 'string' ? id === testId : testId.test(id));
  const seen: string[] = [];
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press('Tab');
    if (matches(await activeTestId(page))) return;
    seen.push(await describeFocus(page));
  }
  throw new Error(`keyboard: Tab never reached ${what} (${String(testId)}); focus went through:\n${[...new Set(seen)].join('\n')}`);
}

/** Presses the footer's way forward (Install on Welcome, Next elsewhere) with the keyboard and waits for the next step. */
async function keyboardNext(page: Page): Promise<void> {
  const before = await currentStep(page);
  const next = page.getByTestId(FORWARD);
  await expect.poll(() => next.isEnabled(), { timeout: 60_000, message: `primary button on step ${before} stays disabled` }).toBe(true);
  await tabTo(page, 'the way forward', FORWARD);
  await page.keyboard.press('Enter');
  await expect.poll(() => currentStep(page), { timeout: 30_000 }).toBeGreaterThan(before);
  await expect.poll(() => activeTestId(page)).toBe('page-heading');
}

async function pointerNext(page: Page): Promise<void> {
  const before = await currentStep(page);
  const next = page.getByTestId(FORWARD);
  await expect.poll(() => next.isEnabled(), { timeout: 60_000, message: `primary button on step ${before} stays disabled` }).toBe(true);
  await next.click();
  await expect.poll(() => currentStep(page), { timeout: 30_000 }).toBeGreaterThan(before);
}

describe.skipIf(skipReason !== null)('Full install through the UI', () => {
  let browser: Browser | undefined;
  const runs: Run[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    for (const r of runs) await stopRun(r);
  });

  async function open(run: Run): Promise<{ page: Page; errors: string[]; steps: Record<string, number> }> {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US', reducedMotion: 'reduce' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await skipNetworkCheck(page);
    await page.goto(run.server.url);
    await page.getByTestId('step-rail').waitFor();
    await h1(page).waitFor();
    const steps: Record<string, number> = {};
    for (const s of ['keyboard', 'timezone', 'disk', 'users', 'summary']) steps[s] = await stepIndexOf(page, s);
    expect(Object.values(steps).every((i) => i > 0), JSON.stringify(steps)).toBe(true);
    return { page, errors, steps };
  }

  it('installs in English with the keyboard alone', async () => {
    const t0 = Date.now();
    const run = await startRun('en');
    runs.push(run);
    expect(run.target).toMatch(/^\/dev\/loop\d+$/);
    const { page, errors, steps } = await open(run);
    const T = TEXT.en;

    // Welcome: English is preselected; Install (the primary button) starts the wizard.
    await expect.poll(() => page.getByTestId('welcome-install').isEnabled(), { timeout: 60_000 }).toBe(true);
    await checkPage(page, 'en', 'welcome');
    await keyboardNext(page);

    // Keyboard and time zone: keep what is preselected.
    expect(await currentStep(page)).toBe(steps.keyboard);
    await checkPage(page, 'en', 'keyboard');
    await keyboardNext(page);
    expect(await currentStep(page)).toBe(steps.timezone);
    await checkPage(page, 'en', 'timezone');
    await keyboardNext(page);

    // Disk: the 20 GiB demo disk, by Tab into the radio group then arrow keys.
    expect(await currentStep(page)).toBe(steps.disk);
    const option = `disk-option-${run.target.replace('/dev/', '')}`;
    await page.getByTestId(/^disk-card-/).first().waitFor();
    await expect.poll(() => page.locator('[aria-busy="true"]').count(), { timeout: 30_000 }).toBe(0);
    await tabTo(page, 'the disk radio group', /^disk-option-/);
    for (let i = 0; i < 12; i++) {
      if ((await activeTestId(page)) === option) break;
      await page.keyboard.press('ArrowDown');
    }
    expect(await activeTestId(page), 'arrow keys reach the 20 GiB disk').toBe(option);
    await page.keyboard.press('Space');
    expect(await page.getByTestId(option).isChecked()).toBe(true);
    const erase = page.getByTestId('storage-mode-erase');
    if ((await erase.count()) > 0 && !(await erase.isChecked())) {
      await tabTo(page, 'the erase option', /^storage-mode-/);
      while ((await activeTestId(page)) !== 'storage-mode-erase') await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Space');
    }
    if ((await erase.count()) > 0) expect(await erase.isChecked()).toBe(true);
    await checkPage(page, 'en', 'disk');
    await keyboardNext(page);

    // Users: full name, password twice.
    expect(await currentStep(page)).toBe(steps.users);
    await tabTo(page, 'the full name field', 'users-full-name');
    await page.keyboard.type('Ada Lovelace');
    await tabTo(page, 'the password field', 'users-password');
    await page.keyboard.type('analytical engine 1843');
    await tabTo(page, 'the confirm password field', 'users-confirm');
    await page.keyboard.type('analytical engine 1843');
    await checkPage(page, 'en', 'users');
    await keyboardNext(page);

    // Summary: the warning names the disk.
    expect(await currentStep(page)).toBe(steps.summary);
    const headline = page.getByTestId('summary-headline');
    await headline.waitFor({ timeout: 30_000 });
    expect(await headline.textContent()).toContain(`20\u00a0GiB (${run.target.replace('/dev/', '')}): everything on it will be lost.`);
    expect(await headline.textContent()).toMatch(/^!Erase /);
    await expect.poll(() => page.getByTestId(/^summary-(signature|image-error)$/).count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await checkPage(page, 'en', 'summary');

    // Install → the confirmation (Cancel focused) → Tab to "Erase and install" → Enter.
    await tabTo(page, 'the Install button', 'summary-install');
    await page.keyboard.press('Enter');
    const dialog = page.getByTestId('summary-install-dialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain(run.target);
    await checkPage(page, 'en', 'confirm');
    await tabTo(page, 'the "Erase and install" button', 'summary-install-confirm');
    expect(await page.getByTestId('summary-install-confirm').textContent()).toBe('Erase and install');
    await page.keyboard.press('Enter');

    await expectHeading(page, T.progress, 30_000);
    await checkPage(page, 'en', 'progress');
    await expectHeading(page, T.done);
    await checkPage(page, 'en', 'done');
    expect(errors).toEqual([]);
    await page.context().close();
    console.log(`full install (en, keyboard): ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }, 300_000);

  it('installs in Arabic, right to left', async () => {
    const t0 = Date.now();
    const run = await startRun('ar');
    runs.push(run);
    expect(run.target).toMatch(/^\/dev\/loop\d+$/);
    const { page, errors, steps } = await open(run);
    const T = TEXT.ar;

    await chooseLanguage(page, 'ar');
    expect(await page.evaluate(() => document.documentElement.dir)).toBe('rtl');
    await expect.poll(() => page.getByTestId('welcome-install').isEnabled(), { timeout: 60_000 }).toBe(true);
    await checkPage(page, 'ar', 'welcome');
    await pointerNext(page);
    expect(await currentStep(page)).toBe(steps.keyboard);
    await checkPage(page, 'ar', 'keyboard');
    await pointerNext(page);
    expect(await currentStep(page)).toBe(steps.timezone);
    await checkPage(page, 'ar', 'timezone');
    await pointerNext(page);

    expect(await currentStep(page)).toBe(steps.disk);
    await page.getByTestId(/^disk-card-/).first().waitFor();
    await expect.poll(() => page.locator('[aria-busy="true"]').count(), { timeout: 30_000 }).toBe(0);
    await page.getByTestId(`disk-option-${run.target.replace('/dev/', '')}`).check();
    const erase = page.getByTestId('storage-mode-erase');
    if ((await erase.count()) > 0) await erase.check();
    await checkPage(page, 'ar', 'disk');
    await pointerNext(page);

    expect(await currentStep(page)).toBe(steps.users);
    await page.getByTestId('users-full-name').fill('ليلى حداد');
    await page.getByTestId('users-password').fill('analytical engine 1843');
    await page.getByTestId('users-confirm').fill('analytical engine 1843');
    await checkPage(page, 'ar', 'users');
    await pointerNext(page);

    expect(await currentStep(page)).toBe(steps.summary);
    const headline = page.getByTestId('summary-headline');
    await headline.waitFor({ timeout: 30_000 });
    expect(await headline.textContent()).toContain(run.target.replace('/dev/', ''));
    expect(await headline.textContent()).toContain('مسح');
    await expect.poll(() => page.getByTestId(/^summary-(signature|image-error)$/).count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await checkPage(page, 'ar', 'summary');

    expect(await page.getByTestId('summary-install').textContent()).toBe('تثبيت');
    await page.getByTestId('summary-install').click();
    const dialog = page.getByTestId('summary-install-dialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain(run.target);
    await checkPage(page, 'ar', 'confirm');
    await page.getByTestId('summary-install-confirm').click();

    await expectHeading(page, T.progress, 30_000);
    await checkPage(page, 'ar', 'progress');
    await expectHeading(page, T.done);
    expect(await page.evaluate(() => document.documentElement.dir)).toBe('rtl');
    await checkPage(page, 'ar', 'done');
    expect(errors).toEqual([]);
    await page.context().close();
    console.log(`full install (ar, pointer): ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }, 300_000);
});
