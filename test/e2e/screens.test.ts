import { join } from 'node:path';
import type { Page } from 'playwright';
import { describe, expect, it } from 'vitest';
import { advanceToStep, currentStep, skipNetworkCheck, demoUiSkipReason, chooseLanguage } from './fixtures';
import { useDemoWizard, SHOTS } from './serve';

/**
 * Screen sizes and text size: the first four pages at 800×600 in German with text at 200%, and at
 * 4K in Arabic. Nothing may scroll sideways and the Back/Next bar must stay on screen.
 */
const skipReason = demoUiSkipReason();
if (skipReason) console.warn(`e2e screens skipped: ${skipReason}`);

describe.skipIf(skipReason !== null)('screen sizes and 200% text', () => {
  const demo = useDemoWizard('particle-e2e-screens-', { context: false });

  async function checkFits(page: Page, what: string): Promise<void> {
    const m = await page.evaluate(() => {
      // The footer's way forward: Install on Welcome, Next elsewhere.
      const next = document.querySelector('[data-testid="welcome-install"], [data-testid="nav-next"]');
      const r = next?.getBoundingClientRect();
      return {
        scroll: document.documentElement.scrollWidth,
        width: window.innerWidth,
        next: r ? { left: r.left, right: r.right, bottom: r.bottom } : null,
        height: window.innerHeight,
      };
    });
    expect(m.scroll, `${what}: page scrolls sideways`).toBeLessThanOrEqual(m.width + 1);
    expect(m.next, `${what}: no primary button`).not.toBeNull();
    expect(m.next!.left, `${what}: primary button off screen`).toBeGreaterThanOrEqual(0);
    expect(m.next!.right, `${what}: primary button off screen`).toBeLessThanOrEqual(m.width + 1);
    expect(m.next!.bottom, `${what}: Back/Next bar below the window`).toBeLessThanOrEqual(m.height + 1);
  }

  const cases = [
    { name: 'de-800x600-200pct', locale: 'de', width: 800, height: 600, bigText: true },
    { name: 'ar-3840x2160', locale: 'ar', width: 3840, height: 2160, bigText: false },
  ] as const;

  for (const c of cases) {
    it(`${c.name}: Welcome, Keyboard, Time zone and Disk fit`, async () => {
      const context = await demo.browser.newContext({ viewport: { width: c.width, height: c.height }, locale: 'en-US', reducedMotion: 'reduce' });
      const page = await context.newPage();
      await skipNetworkCheck(page);
      await page.goto(demo.server.url);
      await page.getByTestId(/^welcome-language-/).first().waitFor();
      await chooseLanguage(page, c.locale);
      if (c.bigText) await page.addStyleTag({ content: ':root { font-size: 200% !important; }' });
      for (let step = 0; step < 4; step++) {
        if (step > 0) await advanceToStep(page, step);
        expect(await currentStep(page)).toBe(step);
        await page.waitForTimeout(300);
        await checkFits(page, `${c.name} step ${step}`);
        await page.screenshot({ path: join(SHOTS, `screens-${c.name}-step${step}.png`) });
      }
      await context.close();
    });
  }
});
