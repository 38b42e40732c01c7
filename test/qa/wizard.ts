import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright';
import { currentStep, FORWARD, stepIndexOf, viewOf } from '../e2e/fixtures';
import { REPO } from './iso';
import { sleep } from './serial';

/**
 * The wizard on the live system, driven through the forwarded port as a person would with a pointer:
 * Welcome → Keyboard → Time zone → Disk (the blank target, erased) → Users → Summary → confirm →
 * Progress → Done. Controls are found by their data-testid, as in test/e2e (README: "Test ids"), so
 * neither a translation nor a restyle moves them.
 */

const branding = process.env.PARTICLE_BRANDING ?? 'particleos';
export const PRODUCT = (JSON.parse(readFileSync(join(REPO, 'resources/branding', branding, 'branding.json'), 'utf8')) as { productName: string }).productName;

/** English labels and headings, for callers that still look for words (the driver below does not). */
export const TEXT = {
  install: 'Install',
  confirm: 'Erase and install',
  progress: `Installing ${PRODUCT}`,
  done: `${PRODUCT} is installed`,
  shutDown: 'Shut down',
} as const;

/** Test ids of the controls a QA run presses, and of the `main` element of each view it waits for. */
export const TEST_IDS = {
  install: 'summary-install',
  confirm: 'summary-install-confirm',
  shutDown: 'done-poweroff',
  reboot: 'done-reboot',
  progress: 'page-progress',
  done: 'page-done',
  failure: 'page-failure',
  summary: 'page-summary',
} as const;

export interface WizardInput {
  /** The target's device path in the live system (the Disk page's radio value). */
  readonly targetPath: string;
  readonly fullName: string;
  readonly user: string;
  readonly password: string;
  readonly hostname: string;
  /** Takes a screenshot named `name` (each page, and the progress page now and then). */
  readonly shot: (name: string) => Promise<void>;
  readonly log: (line: string) => void;
  /** How long the install may take after confirming; default 15 min. */
  readonly installTimeoutMs?: number;
}

export interface WizardResult {
  /** Seconds from confirming to the Done page. */
  readonly installSeconds: number;
}

const h1 = (page: Page) => page.getByTestId('page-heading');
const heading = async (page: Page): Promise<string | null> => ((await h1(page).count()) > 0 ? ((await h1(page).textContent()) ?? '').trim() : null);

/** Polls `probe` until it returns true; fails with `what` after `timeoutMs`. */
export async function until(probe: () => Promise<boolean>, timeoutMs: number, what: string, intervalMs = 200): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    let ok = false;
    try {
      ok = await probe();
    } catch {
      ok = false;
    }
    if (ok) return;
    if (performance.now() > deadline) throw new Error(`${what} (waited ${(timeoutMs / 1000).toFixed(0)} s)`);
    await sleep(intervalMs);
  }
}

/** Clicks the footer's primary button when it allows it, and waits for the next step. */
async function next(page: Page): Promise<void> {
  const before = await currentStep(page);
  const button = page.getByTestId(FORWARD);
  await until(() => button.isEnabled(), 120_000, `the primary button on step ${before} stays disabled`).catch(async (e: Error) => {
    // Say why, as the page does: the footer's note and any requirement or field marked as failed.
    const why = await page
      .locator('#welcome-install-hint, #next-blocked, [data-testid^="welcome-requirement-"][data-state="failed"], [aria-invalid="true"], [id$="-error"]')
      .evaluateAll((els) => els.map((e) => (e.textContent ?? '').replace(/\s+/g, ' ').trim()).filter(Boolean).slice(0, 8))
      .catch(() => [] as string[]);
    throw new Error(`${e.message}; the page says: ${why.join(' | ') || '(nothing found)'}`);
  });
  await button.click();
  await until(async () => (await currentStep(page)) > before, 30_000, `the wizard did not leave step ${before}`);
}

/** Fails unless the wizard is on the step with this id (keyboard, timezone, disk, users, summary). */
async function expectStep(page: Page, id: string): Promise<void> {
  const want = await stepIndexOf(page, id);
  const at = await currentStep(page);
  if (want < 0 || at !== want) throw new Error(`expected the "${id}" step (index ${want}), the wizard is on step ${at} ("${await heading(page)}")`);
}

/** The Welcome page has rendered: the rail and a heading are there. */
export async function welcomeShown(page: Page, timeoutMs: number): Promise<void> {
  await page.getByTestId('step-rail').waitFor({ timeout: timeoutMs });
  await h1(page).waitFor({ timeout: timeoutMs });
}

export async function driveWizard(page: Page, w: WizardInput): Promise<WizardResult> {
  await w.shot('01-welcome');
  await next(page);
  await expectStep(page, 'keyboard');
  await w.shot('02-keyboard');
  await next(page);
  await expectStep(page, 'timezone');
  await w.shot('03-timezone');
  await next(page);

  await expectStep(page, 'disk');
  await page.getByTestId(/^disk-card-/).first().waitFor({ timeout: 60_000 });
  await until(async () => (await page.locator('[aria-busy="true"]').count()) === 0, 60_000, 'the disk list stays busy');
  // A disk's test id carries its device name (the last part of its path).
  const radio = page.getByTestId(`disk-option-${w.targetPath.replace(/^\/dev\//, '')}`);
  if ((await radio.count()) === 0) {
    const offered = await page
      .getByTestId(/^disk-option-/)
      .evaluateAll((els) => els.map((e) => `${(e as HTMLInputElement).value}${(e as HTMLInputElement).disabled ? ' (refused)' : ''}`));
    throw new Error(`the Disk page offers no ${w.targetPath}; it offers: ${offered.join(', ') || 'nothing'}`);
  }
  await radio.check();
  const erase = page.getByTestId('storage-mode-erase');
  if ((await erase.count()) > 0) await erase.check();
  await w.shot('04-disk');
  await next(page);

  await expectStep(page, 'users');
  await page.getByTestId('users-full-name').fill(w.fullName);
  await page.getByTestId('users-username').fill(w.user);
  await page.getByTestId('users-password').fill(w.password);
  await page.getByTestId('users-confirm').fill(w.password);
  await page.getByTestId('users-hostname').fill(w.hostname);
  await w.shot('05-users');
  await next(page);

  await expectStep(page, 'summary');
  const headline = page.getByTestId('summary-headline');
  // The plan of an embedded bootc image reads its install config from every layer on the medium:
  // under emulation on a loaded two-core host that once took longer than 60 s (a CI run where a
  // third of the CPU went elsewhere), so the figure is logged and the limit is 180 s.
  const planning = performance.now();
  await headline.waitFor({ timeout: 180_000 });
  w.log(`plan shown on the summary after ${((performance.now() - planning) / 1000).toFixed(1)} s`);
  const text = (await headline.textContent()) ?? '';
  const dev = w.targetPath.replace('/dev/', '');
  if (!text.includes(dev)) throw new Error(`the summary's headline does not name ${dev}: "${text}"`);
  await w.shot('06-summary');
  await page.getByTestId(TEST_IDS.install).click();
  await page.getByTestId('summary-install-dialog').waitFor({ timeout: 30_000 });
  await w.shot('07-confirm');
  await page.getByTestId(TEST_IDS.confirm).click();
  const confirmed = performance.now();

  const view = () => viewOf(page);
  await until(
    async () => {
      const now = await view();
      return now !== null && now !== TEST_IDS.summary;
    },
    60_000,
    'the install did not start after confirming',
  );
  await w.shot('08-progress');
  const limit = w.installTimeoutMs ?? 15 * 60_000;
  let shots = 0;
  let lastShot = performance.now();
  for (;;) {
    const now = await view();
    if (now === TEST_IDS.done) break;
    if (now !== TEST_IDS.progress) {
      await w.shot('09-failed');
      const body = ((await page.locator('main').textContent().catch(() => null)) ?? '').replace(/\s+/g, ' ').slice(0, 2000);
      throw new Error(`the install ended on ${now} ("${await heading(page)}") instead of ${TEST_IDS.done}: ${body}`);
    }
    if (performance.now() - confirmed > limit) {
      await w.shot('09-timeout');
      throw new Error(`the install did not finish within ${limit / 60_000} min`);
    }
    if (performance.now() - lastShot > 60_000) {
      shots += 1;
      lastShot = performance.now();
      await w.shot(`08-progress-${String(shots).padStart(2, '0')}`);
      const bar = await page.locator('[role="progressbar"]').first().getAttribute('aria-valuenow').catch(() => null);
      w.log(`installing: ${((performance.now() - confirmed) / 1000).toFixed(0)} s${bar ? `, ${bar} %` : ''}`);
    }
    await sleep(1000);
  }
  const installSeconds = (performance.now() - confirmed) / 1000;
  await w.shot('10-done');
  return { installSeconds };
}
