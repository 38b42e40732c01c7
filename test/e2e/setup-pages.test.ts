import { join } from 'node:path';
import type { Page } from 'playwright';
import { describe, expect, it } from 'vitest';
import { expectNoAxeViolations } from './browser';
import { activeTestId, demoUiSkipReason } from './fixtures';
import { useDemoWizard, SHOTS } from './serve';

/**
 * Welcome, Keyboard and Time zone in Debian's Chromium on the real `serve --demo` engine: language
 * search, requirement checks, keyboard search and variants by keyboard alone, the test field, time
 * zone search and region → city, axe-core and screenshots in English and Arabic.
 */

const skipReason = demoUiSkipReason();
if (skipReason) console.warn(`e2e setup pages skipped: ${skipReason}`);

describe.skipIf(skipReason !== null)('Welcome, Keyboard and Time zone pages', () => {
  const demo = useDemoWizard('particle-e2e-setup-', { context: { viewport: { width: 1280, height: 900 }, locale: 'en-US', timezoneId: 'Europe/Berlin', reducedMotion: 'reduce' } });

  /**
   * This machine has no network, so the demo engine's network check fails (blocking) and Install is
   * rightly refused. To go on to the next pages, `online` passes the engine's WebSocket through and
   * turns only that one failed network check into "skipped"; everything else is the real engine.
   */
  async function openWizard(online = true): Promise<{ page: Page; errors: string[] }> {
    const page = await demo.context.newPage();
    if (online) {
      await page.routeWebSocket(/\/rpc$/, (ws) => {
        const engine = ws.connectToServer();
        ws.onMessage((m) => engine.send(m));
        engine.onMessage((m) => {
          if (typeof m !== 'string' || !m.includes('"checks"')) return ws.send(m);
          const lines = m.split('\n').map((line) => {
            if (!line.includes('"checks"')) return line;
            const msg = JSON.parse(line) as { result?: { checks?: Array<{ id: string; status: string }> } };
            for (const c of msg.result?.checks ?? []) if (c.id === 'network' && c.status === 'failed') c.status = 'skipped';
            return JSON.stringify(msg);
          });
          ws.send(lines.join('\n'));
        });
      });
    }
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(demo.server.url);
    await page.getByRole('heading', { level: 1 }).waitFor();
    return { page, errors };
  }

  const install = (page: Page) => page.getByTestId('welcome-install');
  const next = (page: Page) => page.getByTestId('nav-next');
  const requirements = (page: Page) => page.getByTestId('welcome-requirement-list').getByRole('listitem');

  async function shoot(page: Page, name: string): Promise<void> {
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    await page.setViewportSize({ width: 1280, height });
    await page.screenshot({ path: join(SHOTS, name) });
    await page.setViewportSize({ width: 1280, height: 900 });
  }

  /** Picks a language by typing in the search field, then Tab and Space on the one radio left. */
  async function pickLanguage(page: Page, query: string, lang: string): Promise<void> {
    await page.getByTestId('welcome-search').fill('');
    await page.getByTestId('welcome-search').focus();
    await page.keyboard.type(query);
    await expect.poll(() => page.getByTestId(/^welcome-language-/).count()).toBe(1);
    await page.keyboard.press('Tab');
    expect(await activeTestId(page)).toBe(`welcome-language-${lang}`);
    await page.keyboard.press('Space');
    await expect.poll(() => page.evaluate(() => document.documentElement.lang)).toBe(lang);
  }

  /** The requirement checks, answered (list) or failed (error with Retry): either way Install decides. */
  async function waitForChecks(page: Page): Promise<void> {
    await page.getByTestId(/^welcome-requirement(s-error|-list)$/).first().waitFor();
    await expect.poll(() => page.getByTestId('welcome-requirements').getAttribute('aria-busy')).toBe('false');
  }

  it('searches languages, shows the checks, then keyboard and time zone by keyboard alone (English)', async () => {
    const { page, errors } = await openWizard();
    await pickLanguage(page, 'deutsch', 'de');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Willkommen bei ParticleOS');
    await pickLanguage(page, 'english', 'en');
    await page.getByTestId('welcome-search').fill('');
    expect(await page.getByTestId('welcome-text').textContent()).toContain('image-based');

    await waitForChecks(page);
    const checks = await requirements(page).count();
    expect(checks, 'requirement checks listed (an engine error shows instead when checkRequirements is missing)').toBe(5);
    for (const id of ['memory', 'disk', 'firmware', 'power', 'network']) {
      // Each check says its state in words next to the icon, and whether it blocks.
      expect((await page.getByTestId(`welcome-requirement-${id}-status`).textContent())?.trim(), id).not.toBe('');
      expect(await page.getByTestId(`welcome-requirement-${id}-kind`).textContent(), id).toMatch(/Required|Recommended/);
    }
    expect(await page.getByTestId('welcome-try-live').textContent()).toBe('Try the live system');
    await shoot(page, 'setup-welcome-en.png');
    await expectNoAxeViolations(page, 'Welcome (en)');

    // "Try the live system": a demo.browser tab it did not open by script stays, so the page says what to do.
    await page.getByTestId('welcome-try-live').click();
    await expect.poll(() => page.getByTestId('welcome-try-live-status').textContent()).toContain('You can close this installer window');

    expect(await install(page).isEnabled(), `Install blocked: ${await page.locator('#welcome-install-hint').textContent()}`).toBe(true);
    await install(page).click();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Choose your keyboard layout');

    // Keyboard: search "german", Tab into the layouts, choose German, then the no-dead-keys variant.
    await page.getByTestId('keyboard-layouts').waitFor();
    await page.getByTestId('keyboard-search').focus();
    await page.keyboard.type('german');
    await expect.poll(() => page.getByTestId('keyboard-layouts').getByRole('option').first().textContent()).toContain('German');
    await page.keyboard.press('Tab');
    expect(await activeTestId(page)).toBe('keyboard-layouts');
    await page.keyboard.press('Home');
    const german = page.getByTestId('keyboard-layouts-option-de');
    expect(await german.getAttribute('aria-selected')).toBe('true');
    expect(await german.textContent()).toContain('German');
    await page.keyboard.press('Tab');
    expect(await activeTestId(page)).toBe('keyboard-variants');
    let found = false;
    for (let i = 0; i < 40 && !found; i++) {
      await page.keyboard.press('ArrowDown');
      const active = await page.getByTestId('keyboard-variants').getAttribute('aria-activedescendant');
      found = (await page.locator(`[id="${active}"]`).getAttribute('data-testid')) === 'keyboard-variants-option-nodeadkeys';
    }
    expect(found, 'variant "no dead keys" reached with the arrow keys').toBe(true);
    const variant = page.getByTestId('keyboard-variants-option-nodeadkeys');
    expect(await variant.getAttribute('aria-selected')).toBe('true');
    expect(await variant.textContent()).toContain('German (no dead keys)');
    // The engine's answer about the live session, politely announced.
    await expect.poll(() => page.getByTestId('keyboard-status').textContent()).toMatch(/Applied to this session|Not applied to this session/);

    await page.keyboard.press('Tab');
    expect(await activeTestId(page)).toBe('keyboard-test');
    await page.keyboard.type('Grüße, Zoë');
    expect(await page.getByTestId('keyboard-test').inputValue()).toBe('Grüße, Zoë');
    await shoot(page, 'setup-keyboard-en.png');
    await expectNoAxeViolations(page, 'Keyboard (en)');

    await next(page).click();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Where are you?');

    // Time zone: search, then the down arrow to the results selects the first one.
    await page.getByTestId('timezone-search').waitFor();
    await page.getByTestId('timezone-search').focus();
    await page.keyboard.type('Oslo');
    await page.getByTestId('timezone-results-option-Europe/Oslo').waitFor();
    await page.keyboard.press('ArrowDown');
    expect(await activeTestId(page)).toBe('timezone-results');
    expect(await page.getByTestId('timezone-results-option-Europe/Oslo').getAttribute('aria-selected')).toBe('true');
    expect(await page.getByTestId('timezone-region').inputValue()).toBe('Europe');
    expect(await page.getByTestId('timezone-city').inputValue()).toBe('Europe/Oslo');
    expect(await page.getByTestId('timezone-selected').textContent()).toContain('Europe/Oslo');

    // Region → city with the two selects.
    await page.getByTestId('timezone-region').selectOption('Asia');
    expect(await page.getByTestId('timezone-city').inputValue()).toMatch(/^Asia\//);
    await page.getByTestId('timezone-city').selectOption('Asia/Tokyo');
    expect(await page.getByTestId('timezone-selected').textContent()).toContain('Asia/Tokyo');
    expect(await page.getByTestId('timezone-map').locator('circle').count()).toBeGreaterThan(100);

    await page.getByTestId('timezone-search').fill('Oslo');
    await shoot(page, 'setup-timezone-en.png');
    await expectNoAxeViolations(page, 'Time zone (en)');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('refuses Install with a visible reason while a blocking check fails (this machine is offline)', async () => {
    const { page, errors } = await openWizard(false);
    await waitForChecks(page);
    const network = page.getByTestId('welcome-requirement-network');
    if ((await network.getAttribute('data-state')) !== 'failed') {
      console.warn('setup pages: the network check passed here, so the blocked state is not shown');
    } else {
      expect(await install(page).isDisabled()).toBe(true);
      expect(await page.locator('#welcome-install-hint').textContent()).toBe('This computer does not meet a requirement (see above).');
      expect(await install(page).getAttribute('aria-describedby')).toBe('welcome-install-hint');
      await shoot(page, 'setup-welcome-blocked-en.png');
    }
    expect(errors).toEqual([]);
    await page.close();
  });

  it('works right to left in Arabic and stays accessible', async () => {
    const { page, errors } = await openWizard();
    await pickLanguage(page, 'arab', 'ar');
    expect(await page.evaluate(() => document.documentElement.dir)).toBe('rtl');
    await waitForChecks(page);
    await shoot(page, 'setup-welcome-ar.png');
    await expectNoAxeViolations(page, 'Welcome (ar)');

    expect(await install(page).isEnabled(), `Install blocked: ${await page.locator('#welcome-install-hint').textContent()}`).toBe(true);
    await install(page).click();
    await page.getByTestId('keyboard-layouts').waitFor();
    // Arabic UI preselects the Arabic layout, with the hint about passwords.
    expect(await page.getByTestId('keyboard-layouts-option-ara').getAttribute('aria-selected')).toBe('true');
    expect(await page.getByTestId('keyboard-layouts-option-ara').textContent()).toContain('Arabic');
    await page.getByTestId('keyboard-non-latin').waitFor();
    await page.getByTestId('keyboard-test').fill('مرحبا');
    await shoot(page, 'setup-keyboard-ar.png');
    await expectNoAxeViolations(page, 'Keyboard (ar)');

    await next(page).click();
    await page.getByTestId('timezone-search').waitFor();
    await page.getByTestId('timezone-search').fill('Oslo');
    await page.getByTestId('timezone-results-option-Europe/Oslo').waitFor();
    await shoot(page, 'setup-timezone-ar.png');
    await expectNoAxeViolations(page, 'Time zone (ar)');
    expect(errors).toEqual([]);
    await page.close();
  });
});
