import { join } from 'node:path';
import type { Page } from 'playwright';
import { expectNoAxeViolations } from './browser';
import { beforeAll, describe, expect, it } from 'vitest';
import { activeTestId, advanceToStep, FIXTURE_DISKS, FIXTURE_INFO, skipNetworkCheck, stepIndexOf, demoUiSkipReason, chooseLanguage } from './fixtures';
import { loopsBackedBy, useDemoWizard, SHOTS } from './serve';

/**
 * The Disk page in Debian's Chromium, reached through the steps before it (by the step rail), served by the real `serve --demo` engine on
 * loop-backed virtual disks: keyboard only, right to left, axe-core, screenshots.
 */

const skipReason = demoUiSkipReason();
if (skipReason) console.warn(`e2e disk page skipped: ${skipReason}`);

describe.skipIf(skipReason !== null)('Welcome and Disk pages', () => {
  let demoLoops: string[] = [];

  const demo = useDemoWizard('particle-e2e-');

  beforeAll(async () => {
    demoLoops = loopsBackedBy(demo.tmp);
  });

  /** A page that records console errors (CSP violations land there) and uncaught exceptions. */
  async function openWizard(): Promise<{ page: Page; errors: string[] }> {
    const page = await demo.context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    await skipNetworkCheck(page);
    await page.goto(demo.server.url);
    await expect.poll(() => page.url()).toBe(`${demo.server.origin}/`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    await page.getByTestId('step-rail').waitFor();
    return { page, errors };
  }

  const nextButton = (page: Page) => page.getByTestId('nav-next');
  const radios = (page: Page) => page.getByTestId(/^disk-option-/);
  const cards = (page: Page) => page.getByTestId(/^disk-card-/);
  const deviceName = (path: string) => path.replace(/^\/dev\//, '');

  async function waitForDisks(page: Page): Promise<void> {
    await cards(page).first().waitFor();
    await expect.poll(() => page.locator('[aria-busy="true"]').count()).toBe(0);
  }

  it('demo mode attached two virtual disks under the test cache dir', () => {
    expect(demoLoops).toHaveLength(2);
  });

  /** Welcome → … → Disk by the rail: steps may be added before Disk without breaking this. */
  async function reachDisk(page: Page): Promise<void> {
    const disk = await stepIndexOf(page, 'disk');
    expect(disk).toBeGreaterThan(0);
    await advanceToStep(page, disk);
    await expect.poll(() => activeTestId(page)).toBe('page-heading');
    await waitForDisks(page);
  }

  it('reaches the Disk step and chooses a virtual disk with the keyboard alone', async () => {
    const { page, errors } = await openWizard();
    await reachDisk(page);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Where should the system be installed?');
    expect(await page.getByTestId('step-disk').getAttribute('aria-current')).toBe('step');
    expect(await nextButton(page).isDisabled()).toBe(true);
    expect(await page.locator('#next-blocked').textContent()).toBe('Select a disk that can be used.');
    await page.screenshot({ path: join(SHOTS, 'disk-en.png') });
    await expectNoAxeViolations(page, 'Disk (en)');

    const shown = await radios(page).evaluateAll((els) => els.map((e) => ({ path: (e as HTMLInputElement).value, disabled: (e as HTMLInputElement).disabled })));
    for (const loop of demoLoops) expect(shown, `${loop} offered`).toContainEqual({ path: loop, disabled: false });
    // Everything that is not one of our demo disks belongs to the host and must be refused.
    for (const d of shown.filter((s) => !demoLoops.includes(s.path))) expect(d, `${d.path} refused`).toMatchObject({ disabled: true });
    const selectable = shown.filter((s) => !s.disabled).map((s) => s.path);
    expect(selectable.length).toBeGreaterThan(0);

    // Heading → Rescan → the first selectable disk in the radio group.
    await page.keyboard.press('Tab');
    expect(await activeTestId(page)).toBe('disk-rescan');
    await page.keyboard.press('Tab');
    expect(await activeTestId(page)).toBe(`disk-option-${deviceName(selectable[0]!)}`);
    await page.keyboard.press('Space');
    expect(await page.getByTestId(`disk-option-${deviceName(selectable[0]!)}`).isChecked()).toBe(true);
    // The defaults (erase, XFS, no encryption, zram) are a valid choice.
    expect(await nextButton(page).isEnabled()).toBe(true);
    if (selectable.length > 1) {
      // Arrow keys move within the group, skipping refused disks.
      await page.keyboard.press('ArrowDown');
      expect(await activeTestId(page)).toBe(`disk-option-${deviceName(selectable[1]!)}`);
      expect(await page.getByTestId(`disk-option-${deviceName(selectable[1]!)}`).isChecked()).toBe(true);
    }
    expect(await page.locator('#next-blocked').count()).toBe(0);
    // Storage options for the chosen disk: XFS and zram preselected, encryption off.
    expect(await page.getByTestId('storage-fs-xfs').isChecked()).toBe(true);
    expect(await page.getByTestId('storage-swap-zram').isChecked()).toBe(true);
    expect(await page.getByTestId('storage-encrypt').isChecked()).toBe(false);
    // The demo disks are blank, so existing partitions are not offered.
    expect(await page.getByTestId(/^storage-mode-/).count()).toBe(0);
    await cards(page).filter({ has: page.locator(':checked') }).scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'disk-selected-en.png') });
    await expectNoAxeViolations(page, 'Disk with storage options (en)');
    // The host's own disks, refused, at the end of the list.
    await cards(page).last().scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'disk-refused-en.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('scrolls a field reached with Tab above the sticky navigation bar, not behind it', async () => {
    // A short window, as on a 1024x768 or 1280x800 live session: the passphrase field is below the fold.
    const page = await demo.context.newPage();
    await page.setViewportSize({ width: 1024, height: 700 });
    await skipNetworkCheck(page);
    await page.goto(demo.server.url);
    await page.getByTestId('step-rail').waitFor();
    await reachDisk(page);
    const option = page.getByTestId(`disk-option-${deviceName(demoLoops[0]!)}`);
    await option.focus();
    await page.keyboard.press('Space');
    await page.getByTestId('storage-encrypt').focus();
    await page.keyboard.press('Space');
    // Scroll so that the passphrase field starts just inside the window's bottom edge, where the
    // navigation bar covers it: the demo.browser counts it as visible and would not scroll by itself.
    await page.evaluate(() => {
      const field = document.querySelector('[data-testid="storage-passphrase"]')!.getBoundingClientRect();
      window.scrollBy(0, field.top - (window.innerHeight - 30));
      (document.querySelector('[data-testid="storage-encrypt"]') as HTMLElement).focus({ preventScroll: true });
    });
    await page.keyboard.press('Tab');
    expect(await activeTestId(page)).toBe('storage-passphrase');
    const field = (await page.getByTestId('storage-passphrase').boundingBox())!;
    const bar = (await page.locator('.nav-bar').boundingBox())!;
    expect(field.y + field.height, `the focused passphrase field (bottom at ${field.y + field.height}) is under the navigation bar (top at ${bar.y})`).toBeLessThanOrEqual(bar.y);
    expect(field.y).toBeGreaterThanOrEqual(0);
    await page.close();
  });

  it('shows the Disk page right to left in Arabic and stays accessible', async () => {
    const { page, errors } = await openWizard();
    const disk = await stepIndexOf(page, 'disk');
    await chooseLanguage(page, 'ar');
    expect(await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).toEqual(['ar', 'rtl']);
    await advanceToStep(page, disk);
    await waitForDisks(page);
    expect(await page.getByText('لا يمكن استخدامه').count()).toBeGreaterThan(0);
    if (demoLoops.length > 0) {
      expect(await page.getByText('جاهز للاستخدام').count()).toBeGreaterThan(0);
      await page.getByTestId(`disk-option-${deviceName(demoLoops[0]!)}`).check();
      await page.getByTestId('storage-encrypt').check();
      await page.getByTestId('storage-passphrase').fill('كلمة مرور طويلة');
    }
    await page.screenshot({ path: join(SHOTS, 'disk-ar.png'), fullPage: true });
    await expectNoAxeViolations(page, 'Disk (ar)');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('does not let a pointer choose a refused disk', async () => {
    const { page } = await openWizard();
    await reachDisk(page);
    const refused = page.locator('[data-testid^="disk-card-"][data-state="refused"]').first();
    if ((await refused.count()) === 0) return;
    await refused.click();
    expect(await radios(page).and(page.locator(':checked')).count()).toBe(0);
    expect(await nextButton(page).isDisabled()).toBe(true);
    await page.close();
  });

  it('shows a clear error screen when the engine cannot be reached', async () => {
    const page = await demo.context.newPage();
    // The page loads from the real demo.server, but its engine socket is refused as if the engine were gone.
    await page.routeWebSocket(/\/rpc$/, (ws) => ws.close({ code: 1011, reason: 'engine stopped' }));
    await page.goto(demo.server.url);
    const heading = page.getByRole('heading', { level: 1, name: 'The installer engine cannot be reached' });
    await heading.waitFor();
    expect(await page.getByTestId('engine-reconnect').isVisible()).toBe(true);
    expect(await page.getByTestId('engine-reconnect').textContent()).toBe('Reconnect');
    await page.screenshot({ path: join(SHOTS, 'engine-error-en.png') });
    await expectNoAxeViolations(page, 'engine error');
    await page.close();
  });

  it('renders partitions and warnings through the Electron bridge (window.installer)', async () => {
    const page = await demo.context.newPage();
    // What the preload would expose; the served bundle must prefer it over the WebSocket.
    await page.addInitScript(
      ({ info, disks }) => {
        const ok = (value: unknown) => Promise.resolve({ ok: true, value });
        const known: Record<string, unknown> = { getInfo: () => ok(info), listDisks: () => ok(disks), validateAnswerFile: () => ok({ valid: true, errors: [] }), on: () => () => {} };
        // Whatever else the wizard asks is answered as an engine that lacks it would.
        const missing = (name: string) => () => Promise.resolve({ ok: false, error: { code: 'method-not-found', kind: 'user', message: `${name} is not available here` } });
        Object.defineProperty(window, 'installer', {
          value: new Proxy(known, { get: (target, name: string) => target[name] ?? missing(name) }),
        });
      },
      { info: FIXTURE_INFO, disks: FIXTURE_DISKS },
    );
    await page.goto(demo.server.url);
    await page.getByRole('heading', { level: 1 }).waitFor();
    await reachDisk(page);
    expect(await page.getByTestId('engine-notice').count()).toBe(0);
    // Each bar segment is labelled for screen readers: type, filesystem, size.
    const segments = await page.getByRole('list', { name: 'Partitions on /dev/nvme0n1' }).locator('li').allTextContents();
    expect(segments[0]).toBe('EFI System, vfat, 100\u00a0MiB');
    expect(segments).toHaveLength(4);
    expect(await page.getByText('Samsung SSD 980 PRO 512GB').count()).toBe(1);
    expect(await page.getByText('Windows was found on this disk. It will be erased.').count()).toBe(1);

    await page.getByTestId('disk-option-nvme0n1').focus();
    await page.keyboard.press('Space');
    const warning = page.getByText('Everything on /dev/nvme0n1 will be erased');
    await warning.waitFor();
    expect(await nextButton(page).isEnabled()).toBe(true);
    // The live medium is refused: arrow keys skip it.
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    expect(await activeTestId(page)).toBe('disk-option-nvme0n1');
    await page.screenshot({ path: join(SHOTS, 'disk-warn-selected-en.png') });
    await cards(page).last().scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'disk-live-medium-en.png') });
    await expectNoAxeViolations(page, 'Disk with partitions and warnings');

    // Existing partitions: / is required, NTFS cannot be kept, formatting it is fine.
    await page.getByTestId('storage-mode-existing').check();
    expect(await page.getByText('Choose a partition for the system (/).').count()).toBeGreaterThan(0);
    expect(await nextButton(page).isDisabled()).toBe(true);
    await page.getByTestId('storage-mount-nvme0n1p3-use').selectOption('/');
    await page.getByTestId('storage-mount-nvme0n1p3-action').selectOption('keep');
    expect(await page.getByTestId('storage-mount-nvme0n1p3-errors').textContent()).toContain('Its file system (ntfs) cannot be kept: format it.');
    expect(await page.getByTestId('storage-mount-nvme0n1p3-use').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#next-blocked').textContent()).toContain('Fix the partition choices');
    await page.getByTestId('storage-mount-nvme0n1p3-action').selectOption('format');
    await page.getByTestId('storage-mount-nvme0n1p1-use').selectOption('/boot/efi');
    expect(await page.getByTestId('storage-mount-nvme0n1p1-action').inputValue()).toBe('keep');
    // This ESP has no filesystem UUID to mount it by: keeping it is refused, formatting (as FAT) is not.
    expect(await page.getByTestId('storage-mount-nvme0n1p1-errors').textContent()).toContain('no identifier (UUID)');
    await page.getByTestId('storage-mount-nvme0n1p1-action').selectOption('format');
    expect(await page.getByTestId('storage-mount-nvme0n1p1-fs').inputValue()).toBe('vfat');
    await page.getByTestId('storage-mount-nvme0n1p4-use').selectOption('/boot/efi');
    expect(await page.getByTestId('storage-mount-nvme0n1p4-errors').textContent()).toContain('Only one partition can be used as /boot/efi.');
    await page.getByTestId('storage-mount-nvme0n1p4-use').selectOption('');
    expect(await nextButton(page).isEnabled()).toBe(true);
    await page.getByTestId('storage-mount-list').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'disk-existing-en.png'), fullPage: true });
    await expectNoAxeViolations(page, 'Disk, existing partitions');
    await page.close();
  });
});
