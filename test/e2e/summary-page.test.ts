import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Page } from 'playwright';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoAxeViolations } from './browser';
import { activeTestId, advanceToStep, currentStep, skipNetworkCheck, stepIndexOf, demoUiSkipReason, chooseLanguage } from './fixtures';
import { loopsBackedBy, useDemoWizard, SHOTS } from './serve';

/**
 * Disk options through to the Summary on the real `serve --demo` engine: erase + ext4 + encryption
 * (mismatch, then match), no swap, a user; the plan in plain words, the partitions table, axe in
 * English and Arabic, the confirmation dialog cancelled with Escape, and the disk left untouched.
 */
const GiB = 1024 ** 3;

const skipReason = demoUiSkipReason();
if (skipReason) console.warn(`e2e summary page skipped: ${skipReason}`);

/** Size in bytes of a block device, as the kernel reports it. */
function deviceSize(dev: string): number {
  return Number(spawnSync('lsblk', ['--bytes', '--nodeps', '--noheadings', '--output', 'SIZE', dev], { encoding: 'utf8' }).stdout.trim());
}

/** What is on a device: partition table type and any signature blkid finds (empty when blank). */
function onDisk(dev: string): { ptType: string; blkid: string; blkidStatus: number | null } {
  const pt = spawnSync('lsblk', ['--nodeps', '--noheadings', '--output', 'PTTYPE', dev], { encoding: 'utf8' }).stdout.trim();
  const b = spawnSync('blkid', ['-p', dev], { encoding: 'utf8' });
  return { ptType: pt, blkid: b.stdout.trim(), blkidStatus: b.status };
}

describe.skipIf(skipReason !== null)('Summary page', () => {
  let target = '';

  const demo = useDemoWizard('particle-e2e-summary-');

  beforeAll(async () => {
    // The 20 GiB demo disk: small, and blank before the test.
    target = loopsBackedBy(demo.tmp).find((d) => deviceSize(d) === 20 * GiB) ?? '';
  });

  const activeText = (page: Page) => page.evaluate(() => document.activeElement?.textContent ?? '');
  const nextButton = (page: Page) => page.getByTestId('nav-next');

  async function shoot(page: Page, name: string): Promise<void> {
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    await page.setViewportSize({ width: 1280, height });
    await page.screenshot({ path: join(SHOTS, name) });
    await page.setViewportSize({ width: 1280, height: 900 });
  }

  it('found the 20 GiB demo disk, blank', () => {
    expect(target).toMatch(/^\/dev\/loop\d+$/);
    expect(onDisk(target)).toMatchObject({ ptType: '', blkidStatus: 2 });
  });

  it('goes from disk options to a plain-words summary, confirms nothing, and writes nothing', async () => {
    const page = await demo.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await skipNetworkCheck(page);
    await page.goto(demo.server.url);
    await page.getByTestId('step-rail').waitFor();
    const [disk, users, summary] = [await stepIndexOf(page, 'disk'), await stepIndexOf(page, 'users'), await stepIndexOf(page, 'summary')];
    const language = 0;

    // Disk: the 20 GiB disk, erase with ext4, encrypted, no swap.
    await advanceToStep(page, disk);
    await page.getByTestId(`disk-option-${target.replace('/dev/', '')}`).check();
    await page.getByTestId('storage-fs-ext4').check();
    await page.getByTestId('storage-encrypt').check();
    expect(await nextButton(page).isDisabled()).toBe(true);
    expect(await page.locator('#next-blocked').textContent()).toContain('Enter an encryption passphrase');
    await page.getByTestId('storage-passphrase').fill('Tulip Harbor 77');
    await page.getByTestId('storage-confirm').fill('Tulip Harbor 78');
    await page.getByTestId('storage-confirm').blur();
    expect(await page.locator('#storage-confirm-error').textContent()).toBe('!The passphrases do not match.');
    expect(await page.getByTestId('storage-confirm').getAttribute('aria-invalid')).toBe('true');
    expect(await nextButton(page).isDisabled()).toBe(true);
    expect(await page.locator('#next-blocked').textContent()).toBe('Type the same passphrase again to confirm it.');
    expect(await page.locator('meter').count()).toBe(1);
    // A swap partition cannot sit next to an encrypted root: said next to the choice.
    await page.getByTestId('storage-swap-partition').check();
    expect(await page.locator('#storage-swap-errors').textContent()).toContain('A swap partition would not be encrypted');
    await page.getByTestId('storage-swap-none').check();
    await page.getByTestId('storage-confirm').fill('Tulip Harbor 77');
    expect(await page.locator('#storage-confirm-error').textContent()).toBe('');
    expect(await nextButton(page).isEnabled()).toBe(true);
    await shoot(page, 'disk-options-en.png');
    await expectNoAxeViolations(page, 'Disk options (en)');

    // Users.
    await advanceToStep(page, users);
    await page.getByTestId('users-full-name').fill('Ada Lovelace');
    await page.getByTestId('users-password').fill('analytical engine 1843');
    await page.getByTestId('users-confirm').fill('analytical engine 1843');

    // Summary: planned by the engine, said in plain words.
    await advanceToStep(page, summary);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Ready to install');
    const headline = page.getByTestId('summary-headline');
    await headline.waitFor({ timeout: 30_000 });
    const name = target.replace('/dev/', '');
    expect(await headline.textContent()).toContain(`20\u00a0GiB (${name}): everything on it will be lost.`);
    expect(await headline.textContent()).toMatch(/^!Erase /);
    const details = await page.getByTestId('summary-details').getByRole('listitem').allTextContents();
    expect(details).toContain('The system uses the ext4 file system.');
    expect(details).toContain('No swap space is set up.');
    const rows = await page.getByTestId('summary-partitions').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(rows.some((r) => r[3] === 'EFI system, FAT (vfat)' && r[4] === 'the EFI system partition (/boot/efi)')).toBe(true);
    expect(rows.some((r) => r[3] === 'Encrypted (LUKS2), ext4 inside' && r[4] === 'the system (/)' && r[5] === 'Yes')).toBe(true);
    expect(rows.some((r) => r[4] === 'boot files (/boot)')).toBe(true);
    const choices = await page.getByTestId('summary-choices').textContent();
    expect(choices).toContain('English');
    expect(choices).toContain('ada');
    expect(choices).toContain('ada-pc');
    expect(await page.getByTestId('summary-image').textContent()).toContain('registry.particleos.example/particleos:stable');
    // The image check is not fatal: a result or an explained error, never a blank.
    await expect.poll(() => page.getByTestId(/^summary-(signature|image-error)$/).count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await shoot(page, 'summary-en.png');
    await expectNoAxeViolations(page, 'Summary (en)');

    // Install opens the confirmation; Cancel has the focus; Escape cancels.
    const install = page.getByTestId('summary-install');
    expect(await install.textContent()).toBe('Install');
    await install.click();
    const dialog = page.getByTestId('summary-install-dialog');
    await dialog.waitFor();
    expect(await page.getByRole('dialog', { name: 'Erase the disk and install?' }).count()).toBe(1);
    expect(await dialog.textContent()).toContain(target);
    expect(await activeTestId(page)).toBe('summary-install-dismiss');
    expect(await activeText(page)).toBe('Cancel');
    await page.keyboard.press('Tab');
    expect(await activeTestId(page)).toBe('summary-install-confirm');
    expect(await activeText(page)).toBe('Erase and install');
    await page.keyboard.press('Tab');
    expect(await activeTestId(page)).toBe('summary-install-dismiss');
    await page.screenshot({ path: join(SHOTS, 'summary-confirm-en.png') });
    await expectNoAxeViolations(page, 'Install confirmation (en)');
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.isVisible()).toBe(false);
    expect(await dialog.evaluate((d) => (d as HTMLDialogElement).open)).toBe(false);
    expect(await activeTestId(page)).toBe('summary-install');

    // Save answer file: export, secrets named, a download offered (results announced).
    await page.getByTestId('summary-save').click();
    await expect.poll(() => page.getByTestId(/^summary-save-(omitted|error)$/).count(), { timeout: 15_000 }).toBeGreaterThan(0);

    // Arabic, right to left: back to the language, then forward again with every choice kept.
    await advanceBack(page, language);
    await chooseLanguage(page, 'ar');
    await advanceToStep(page, summary);
    await headline.waitFor({ timeout: 30_000 });
    expect(await page.evaluate(() => document.documentElement.dir)).toBe('rtl');
    expect(await headline.textContent()).toContain(name);
    expect(await headline.textContent()).toContain('مسح');
    await shoot(page, 'summary-ar.png');
    await expectNoAxeViolations(page, 'Summary (ar)');
    expect(await install.textContent()).toBe('تثبيت');
    await install.click();
    await dialog.waitFor();
    expect(await activeTestId(page)).toBe('summary-install-dismiss');
    expect(await activeText(page)).toBe('إلغاء');
    await page.screenshot({ path: join(SHOTS, 'summary-confirm-ar.png') });
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.isVisible()).toBe(false);

    // Nothing was written: still no partition table, no signature at all.
    expect(onDisk(target)).toMatchObject({ ptType: '', blkid: '', blkidStatus: 2 });
    expect(errors).toEqual([]);
    await page.close();
  });

  async function advanceBack(page: Page, index: number): Promise<void> {
    for (let i = 0; i < 12; i++) {
      const now = await currentStep(page);
      if (now <= index) return;
      await page.getByTestId('nav-back').click();
      await expect.poll(() => currentStep(page)).toBeLessThan(now);
      await expect.poll(() => activeTestId(page)).toBe('page-heading');
    }
  }
});
