import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright';
import { CHROMIUM, expectNoAxeViolations, launchChromium } from './browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_DISKS, FIXTURE_INFO } from './fixtures';
import { loopsBackedBy, startDemoServer, stopDemoServer, type DemoServer } from './serve';

/**
 * The Welcome and Disk pages in Debian's Chromium, served by the real `serve --demo` engine on
 * loop-backed virtual disks: keyboard only, right to left, axe-core, screenshots.
 */
const REPO = resolve(import.meta.dirname, '../..');
const SHOTS = join(REPO, 'test-results/e2e');
const isRoot = process.getuid?.() === 0;

const skipReason = !existsSync(CHROMIUM)
  ? `${CHROMIUM} is missing (apt-get install chromium)`
  : !existsSync(join(REPO, 'out/renderer/index.html'))
    ? 'out/renderer is not built (run npx electron-vite build)'
    : !isRoot
      ? 'serve --demo needs root to attach its loop-backed virtual disks'
      : null;
if (skipReason) console.warn(`e2e disk page skipped: ${skipReason}`);

describe.skipIf(skipReason !== null)('Welcome and Disk pages', () => {
  let tmp: string;
  let server: DemoServer | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext;
  let demoLoops: string[] = [];

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'particle-e2e-'));
    mkdirSync(SHOTS, { recursive: true });
    server = await startDemoServer(REPO, join(tmp, 'token'), join(tmp, 'cache'));
    demoLoops = loopsBackedBy(tmp);
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US', reducedMotion: 'reduce' });
  });

  afterAll(async () => {
    await browser?.close();
    await stopDemoServer(server);
    if (tmp) {
      // The server detaches its demo disks on SIGTERM; nothing backed by our temp dir may remain.
      const left = loopsBackedBy(tmp);
      rmSync(tmp, { recursive: true, force: true });
      expect(left, 'loop devices left attached by serve --demo').toEqual([]);
    }
  });

  /** A page that records console errors (CSP violations land there) and uncaught exceptions. */
  async function openWizard(): Promise<{ page: Page; errors: string[] }> {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server!.url);
    await expect.poll(() => page.url()).toBe(`${server!.origin}/`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    return { page, errors };
  }


  const activeId = (page: Page) => page.evaluate(() => document.activeElement?.id ?? '');
  const activeValue = (page: Page) => page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.value ?? '');
  const nextButton = (page: Page) => page.getByRole('button', { name: /^(Next|التالي)$/ });

  async function waitForDisks(page: Page): Promise<void> {
    await page.locator('.disk-card').first().waitFor();
    await expect.poll(() => page.locator('[aria-busy="true"]').count()).toBe(0);
  }

  it('demo mode attached two virtual disks under the test cache dir', () => {
    expect(demoLoops).toHaveLength(2);
  });

  it('reaches the Disk step and chooses a virtual disk with the keyboard alone', async () => {
    const { page, errors } = await openWizard();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Welcome to Particle Installer');
    expect(await page.locator('nav ol li[aria-current="step"]').textContent()).toContain('Language');
    await page.screenshot({ path: join(SHOTS, 'welcome-en.png') });
    await expectNoAxeViolations(page, 'Welcome (en)');

    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.className)).toContain('skip-link');
    await page.keyboard.press('Tab');
    expect(await activeValue(page)).toBe('en');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Next');
    await page.keyboard.press('Enter');

    // Focus follows the step change to the new page's heading.
    await expect.poll(() => activeId(page)).toBe('page-heading');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Where should the system be installed?');
    expect(await page.locator('nav ol li[aria-current="step"]').textContent()).toContain('Disk');
    await waitForDisks(page);
    expect(await nextButton(page).isDisabled()).toBe(true);
    await page.screenshot({ path: join(SHOTS, 'disk-en.png') });
    await expectNoAxeViolations(page, 'Disk (en)');

    const radios = page.locator('input[type="radio"][name="disk"]');
    const shown = await radios.evaluateAll((els) => els.map((e) => ({ path: (e as HTMLInputElement).value, disabled: (e as HTMLInputElement).disabled })));
    for (const loop of demoLoops) expect(shown, `${loop} offered`).toContainEqual({ path: loop, disabled: false });
    // Everything that is not one of our demo disks belongs to the host and must be refused.
    for (const d of shown.filter((s) => !demoLoops.includes(s.path))) expect(d, `${d.path} refused`).toMatchObject({ disabled: true });
    const selectable = shown.filter((s) => !s.disabled).map((s) => s.path);
    expect(selectable.length).toBeGreaterThan(0);

    // Heading → Rescan → the first selectable disk in the radio group.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Rescan');
    await page.keyboard.press('Tab');
    expect(await activeValue(page)).toBe(selectable[0]);
    await page.keyboard.press('Space');
    expect(await radios.and(page.locator(':checked')).evaluate((e) => (e as HTMLInputElement).value)).toBe(selectable[0]);
    expect(await nextButton(page).isEnabled()).toBe(true);
    if (selectable.length > 1) {
      // Arrow keys move within the group, skipping refused disks.
      await page.keyboard.press('ArrowDown');
      expect(await activeValue(page)).toBe(selectable[1]);
      expect(await page.locator('input[name="disk"]:checked').evaluate((e) => (e as HTMLInputElement).value)).toBe(selectable[1]);
    }
    expect(await page.locator('.nav-hint').count()).toBe(0);
    await page.locator('.disk-card.selected').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'disk-selected-en.png') });
    // The host's own disks, refused, at the end of the list.
    await page.locator('.disk-card').last().scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'disk-refused-en.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('switches to Arabic at once, right to left, and stays accessible', async () => {
    const { page, errors } = await openWizard();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    // English → Deutsch → Français → Español → Português → العربية
    for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowDown');
    expect(await activeValue(page)).toBe('ar');
    expect(await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).toEqual(['ar', 'rtl']);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('مرحبًا بك في Particle Installer');
    await page.screenshot({ path: join(SHOTS, 'welcome-ar.png') });
    await expectNoAxeViolations(page, 'Welcome (ar)');

    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await expect.poll(() => activeId(page)).toBe('page-heading');
    await waitForDisks(page);
    expect(await page.getByText('لا يمكن استخدامه').count()).toBeGreaterThan(0);
    if (demoLoops.length > 0) expect(await page.getByText('جاهز للاستخدام').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(SHOTS, 'disk-ar.png') });
    await expectNoAxeViolations(page, 'Disk (ar)');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('does not let a pointer choose a refused disk', async () => {
    const { page } = await openWizard();
    await nextButton(page).click();
    await waitForDisks(page);
    const refused = page.locator('.disk-card.verdict-refused').first();
    if ((await refused.count()) === 0) return;
    await refused.click();
    expect(await page.locator('input[name="disk"]:checked').count()).toBe(0);
    expect(await nextButton(page).isDisabled()).toBe(true);
    await page.close();
  });

  it('shows a clear error screen when the engine cannot be reached', async () => {
    const page = await context.newPage();
    // The page loads from the real server, but its engine socket is refused as if the engine were gone.
    await page.routeWebSocket(/\/rpc$/, (ws) => ws.close({ code: 1011, reason: 'engine stopped' }));
    await page.goto(server!.url);
    const heading = page.getByRole('heading', { level: 1, name: 'The installer engine cannot be reached' });
    await heading.waitFor();
    expect(await page.getByRole('button', { name: 'Reconnect' }).isVisible()).toBe(true);
    await page.screenshot({ path: join(SHOTS, 'engine-error-en.png') });
    await expectNoAxeViolations(page, 'engine error');
    await page.close();
  });

  it('renders partitions and warnings through the Electron bridge (window.installer)', async () => {
    const page = await context.newPage();
    // What the preload would expose; the served bundle must prefer it over the WebSocket.
    await page.addInitScript(
      ({ info, disks }) => {
        const ok = (value: unknown) => Promise.resolve({ ok: true, value });
        Object.defineProperty(window, 'installer', {
          value: Object.freeze({ getInfo: () => ok(info), listDisks: () => ok(disks), validateAnswerFile: () => ok({ valid: true, errors: [] }), on: () => () => {} }),
        });
      },
      { info: FIXTURE_INFO, disks: FIXTURE_DISKS },
    );
    await page.goto(server!.url);
    await page.getByRole('heading', { level: 1, name: 'Welcome to Particle Installer' }).waitFor();
    for (const key of ['Tab', 'Tab', 'Tab', 'Enter']) await page.keyboard.press(key);
    await waitForDisks(page);
    expect(await page.locator('.banner-info').count()).toBe(0);
    // Each bar segment is labelled for screen readers: type, filesystem, size.
    const segments = await page.getByRole('list', { name: 'Partitions on /dev/nvme0n1' }).locator('li').allTextContents();
    expect(segments[0]).toBe('EFI System, vfat, 100\u00a0MiB');
    expect(segments).toHaveLength(4);
    expect(await page.getByText('Samsung SSD 980 PRO 512GB').count()).toBe(1);
    expect(await page.getByText('Windows was found on this disk. It will be erased.').count()).toBe(1);

    await page.getByRole('radio', { name: /Samsung/ }).focus();
    await page.keyboard.press('Space');
    const warning = page.getByText('Everything on /dev/nvme0n1 will be erased');
    await warning.waitFor();
    expect(await nextButton(page).isEnabled()).toBe(true);
    // The live medium is refused: arrow keys skip it.
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    expect(await activeValue(page)).toBe('/dev/nvme0n1');
    await page.screenshot({ path: join(SHOTS, 'disk-warn-selected-en.png') });
    await page.locator('.disk-card').last().scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'disk-live-medium-en.png') });
    await expectNoAxeViolations(page, 'Disk with partitions and warnings');
    await page.close();
  });
});
