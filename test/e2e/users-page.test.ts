import { join } from 'node:path';
import type { Page } from 'playwright';
import { expectNoAxeViolations } from './browser';
import { describe, expect, it } from 'vitest';
import { activeTestId, advanceToStep, skipNetworkCheck, stepIndexOf, demoUiSkipReason, chooseLanguage } from './fixtures';
import { useDemoWizard, SHOTS } from './serve';

/**
 * The Users step in Debian's Chromium, reached through the earlier steps (by the rail) on the real
 * `serve --demo` engine; the Users page itself keyboard only: suggestions, live rules, password mismatch, axe-core, English and Arabic.
 */

const skipReason = demoUiSkipReason();
if (skipReason) console.warn(`e2e users page skipped: ${skipReason}`);

describe.skipIf(skipReason !== null)('Users page', () => {
  const demo = useDemoWizard('particle-e2e-users-');

  async function openWizard(): Promise<{ page: Page; errors: string[] }> {
    const page = await demo.context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    await skipNetworkCheck(page);
    await page.goto(demo.server.url);
    await page.getByRole('heading', { level: 1 }).waitFor();
    await page.getByTestId('step-rail').waitFor();
    return { page, errors };
  }

  const value = (page: Page, testId: string) => page.getByTestId(testId).inputValue();
  const nextButton = (page: Page) => page.getByTestId('nav-next');
  const rules = (page: Page) => page.getByTestId(/^users-rule-/);
  const unmetRules = (page: Page) => page.locator('[data-testid^="users-rule-"][data-state="unmet"]');

  /** Disk: the first disk that can be used (the rest of the Disk page is tested elsewhere). */
  async function chooseDisk(page: Page): Promise<void> {
    await page.getByTestId(/^disk-card-/).first().waitFor();
    await expect.poll(() => page.locator('[aria-busy="true"]').count()).toBe(0);
    await page.locator('[data-testid^="disk-option-"]:not([disabled])').first().check();
  }

  /**
   * The whole page in one picture. A tall viewport rather than fullPage, so the sticky Back/Next bar
   * sits at the bottom where people see it, not stitched into the middle.
   */
  async function shoot(page: Page, name: string): Promise<void> {
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    await page.setViewportSize({ width: 1280, height });
    await page.screenshot({ path: join(SHOTS, name) });
    await page.setViewportSize({ width: 1280, height: 900 });
  }

  /**
   * Language (already chosen) → Keyboard → Time zone → Disk: the first disk → Users. Navigated by the
   * rail (advanceToStep), so steps added before Disk do not break the Users assertions below.
   */
  async function reachUsers(page: Page): Promise<void> {
    const [disk, users] = [await stepIndexOf(page, 'disk'), await stepIndexOf(page, 'users')];
    await advanceToStep(page, disk);
    await chooseDisk(page);
    await advanceToStep(page, users);
    await expect.poll(() => activeTestId(page)).toBe('page-heading');
    await page.getByTestId('users-full-name').waitFor();
  }

  it('suggests names, explains the rules, and blocks Next until the passwords match', async () => {
    const { page, errors } = await openWizard();
    await reachUsers(page);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Who will use this computer?');
    expect(await page.getByTestId('step-users').getAttribute('aria-current')).toBe('step');
    expect(await nextButton(page).isDisabled()).toBe(true);

    // Heading → full name; the username and host name follow what is typed.
    await page.keyboard.press('Tab');
    expect(await activeTestId(page)).toBe('users-full-name');
    await page.keyboard.type('Zoë Ødegård');
    expect(await value(page, 'users-username')).toBe('zoe');
    expect(await value(page, 'users-hostname')).toBe('zoe-pc');
    expect(await rules(page).count()).toBe(4);
    expect(await unmetRules(page).count()).toBe(0);
    expect(await page.locator('#user-name-rules [aria-live="polite"]').count()).toBe(1);

    // Username by hand: a capital letter breaks a rule, said in words.
    await page.keyboard.press('Tab');
    expect(await activeTestId(page)).toBe('users-username');
    // Tabbing into a field selects its text; End keeps the suggestion and appends.
    await page.keyboard.press('End');
    await page.keyboard.type('Z');
    expect(await unmetRules(page).first().textContent()).toContain('not met yet');
    await page.keyboard.press('Backspace');
    expect(await value(page, 'users-username')).toBe('zoe');
    expect(await unmetRules(page).count()).toBe(0);
    expect(await page.getByTestId('users-username').getAttribute('aria-describedby')).toContain('user-name-rules');

    // A weak password is allowed but warned about, through the meter's text too.
    await page.keyboard.press('Tab');
    expect(await activeTestId(page)).toBe('users-password');
    await page.keyboard.type('password');
    expect(await page.locator('meter').getAttribute('aria-valuetext')).toBe('Very weak');
    expect(await page.getByText('This password is easy to guess', { exact: false }).count()).toBe(1);
    await page.keyboard.press('Control+A');
    await page.keyboard.type('correct horse battery staple');
    expect(await page.locator('meter').getAttribute('aria-valuetext')).toBe('Strong');

    // A mismatched confirmation blocks Next with a message linked to the field.
    await page.keyboard.press('Tab');
    expect(await activeTestId(page)).toBe('users-confirm');
    await page.keyboard.type('correct horse battery stapel');
    const mismatch = page.getByText('The passwords do not match.');
    await mismatch.waitFor();
    expect(await page.getByTestId('users-confirm').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByTestId('users-confirm').getAttribute('aria-describedby')).toContain('user-confirm-error');
    expect(await nextButton(page).isDisabled()).toBe(true);
    expect(await page.locator('#next-blocked').isVisible()).toBe(true);
    await shoot(page, 'users-mismatch-en.png');

    await page.keyboard.press('Control+A');
    await page.keyboard.type('correct horse battery staple');
    expect(await mismatch.count()).toBe(0);
    expect(await nextButton(page).isEnabled()).toBe(true);

    // Then the host name, the two options (administrator on by default) and the SSH keys.
    await page.keyboard.press('Tab');
    expect(await activeTestId(page)).toBe('users-hostname');
    await page.keyboard.press('Tab');
    expect(await activeTestId(page)).toBe('users-admin');
    expect(await page.getByTestId('users-admin').isChecked()).toBe(true);
    await page.keyboard.press('Tab');
    expect(await activeTestId(page)).toBe('users-autologin');
    await page.keyboard.press('Tab');
    expect(await activeTestId(page)).toBe('users-ssh-toggle');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    expect(await activeTestId(page)).toBe('users-ssh-keys');
    await page.keyboard.type('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC6l6zJ0 zoe@laptop');
    await page.keyboard.press('Enter');
    await page.keyboard.type('not a key');
    await page.keyboard.press('Tab');
    await page.getByText('Line 2 is not an OpenSSH public key.').waitFor();
    expect(await nextButton(page).isDisabled()).toBe(true);
    await page.keyboard.press('Shift+Tab');
    expect(await activeTestId(page)).toBe('users-ssh-keys');
    await page.keyboard.press('Control+End');
    await page.keyboard.press('Backspace');
    for (let i = 0; i < 'not a key'.length; i++) await page.keyboard.press('Backspace');
    expect(await nextButton(page).isEnabled()).toBe(true);

    // Import from file reads the text in the page and appends it (the file chooser itself is the OS's).
    const imported = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHb0b zoe@desktop\n';
    await page.getByTestId('users-ssh-import').setInputFiles({ name: 'id_ed25519.pub', mimeType: 'text/plain', buffer: Buffer.from(imported) });
    await expect.poll(() => page.getByTestId('users-ssh-import-status').textContent()).toBe('Keys added from id_ed25519.pub.');
    expect((await value(page, 'users-ssh-keys')).split('\n')).toEqual(['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC6l6zJ0 zoe@laptop', imported.trim()]);
    expect(await nextButton(page).isEnabled()).toBe(true);

    await shoot(page, 'users-en.png');
    await expectNoAxeViolations(page, 'Users (en)');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('works right to left in Arabic and stays accessible', async () => {
    const { page, errors } = await openWizard();
    // Step indexes are read from the rail, then the language is switched to Arabic.
    const [disk, users] = [await stepIndexOf(page, 'disk'), await stepIndexOf(page, 'users')];
    await chooseLanguage(page, 'ar');
    expect(await page.evaluate(() => document.documentElement.dir)).toBe('rtl');
    await advanceToStep(page, disk);
    await chooseDisk(page);
    await advanceToStep(page, users);
    await expect.poll(() => activeTestId(page)).toBe('page-heading');
    await page.getByTestId('users-full-name').waitFor();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('من سيستخدم هذا الحاسوب؟');

    await page.keyboard.press('Tab');
    await page.keyboard.type('ليلى حداد');
    // A name without a Latin form still gets a usable suggestion.
    expect(await value(page, 'users-username')).toBe('user');
    expect(await value(page, 'users-hostname')).toBe('user-pc');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.type('sunflower7');
    await page.keyboard.press('Tab');
    await page.keyboard.type('sunflower7');
    expect(await nextButton(page).isEnabled()).toBe(true);
    expect(await page.locator('meter').getAttribute('aria-valuetext')).toBe('مقبولة');

    await shoot(page, 'users-ar.png');
    await expectNoAxeViolations(page, 'Users (ar)');
    expect(errors).toEqual([]);
    await page.close();
  });
});
