import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SaveTarget } from '../../src/shared/system';
import { fakeEnv } from '../fakes/index';
import { FIXTURE_DISKS, FIXTURE_INFO, FORWARD, skipNetworkCheck, waitForView, demoUiSkipReason } from './fixtures';
import { loopsBackedBy, useDemoWizard } from './serve';
import { checkTestIds, describeUntagged } from './test-id-check';

/**
 * Stable test ids: every page of the wizard, in the states tests and the QA driver reach, has a
 * data-testid on each interactive element (see test-id-check.ts for what counts), and no test id
 * twice. Walked in Debian's Chromium on the real `serve --demo` engine with the bootc/podman contract
 * fake first on PATH (Welcome → … → Summary and its confirmation → a failed install → retry, with
 * Progress and its cancel dialog → Done), then through an Electron-style bridge whose answers reach
 * the states the demo engine cannot (failed lists and checks, existing partitions, TPM2 and its
 * recovery key, a refused plan), and the engine-unreachable page.
 */
const GiB = 1024 ** 3;

const skipReason = demoUiSkipReason();
if (skipReason) console.warn(`e2e test ids skipped: ${skipReason}`);

/** A USB stick this machine does not have, so save buttons per device are rendered (never pressed). */
const STICK: SaveTarget = { path: '/dev/sdz1', label: 'STICK', model: 'Test stick', size: 8 * GiB, fsType: 'vfat' };

function deviceSize(dev: string): number {
  return Number(spawnSync('lsblk', ['--bytes', '--nodeps', '--noheadings', '--output', 'SIZE', dev], { encoding: 'utf8' }).stdout.trim());
}

interface Checked {
  readonly name: string;
  readonly interactive: number;
  readonly untagged: number;
  readonly duplicates: number;
}

describe.skipIf(skipReason !== null)('stable test ids on every page', () => {
  let target = '';
  let failOnce = '';
  const checked: Checked[] = [];

  const demo = useDemoWizard('particle-e2e-testids-', {
    // Slow enough that Progress and its cancel dialog are there to be looked at.
    env: (tmp) => {
      failOnce = join(tmp, 'fail-once');
      return fakeEnv({ storage: join(tmp, 'storage'), delayMs: 250, payloadMiB: 2, failOnceFile: failOnce, extra: { PARTICLE_FAKE_LAYER_DELAY_MS: '2500' } });
    },
    // Motion allowed: the slideshow's pause button only exists when it may play.
    context: { viewport: { width: 1280, height: 900 }, locale: 'en-US' },
  });

  beforeAll(() => {
    target = loopsBackedBy(demo.tmp).find((d) => deviceSize(d) === 20 * GiB) ?? '';
  });

  afterAll(async () => {
    const total = checked.reduce((n, c) => n + c.interactive, 0);
    const untagged = checked.reduce((n, c) => n + c.untagged, 0);
    const duplicated = checked.reduce((n, c) => n + c.duplicates, 0);
    for (const c of checked) console.log(`  ${c.name}: ${c.interactive} interactive${c.untagged ? `, ${c.untagged} without a test id` : ''}${c.duplicates ? `, ${c.duplicates} test ids twice` : ''}`);
    const verdict = untagged === 0 && duplicated === 0 ? 'all with a test id' : `${untagged} without a test id, ${duplicated} test ids on more than one element`;
    console.log(`test ids: ${total} interactive elements on ${checked.length} pages, ${verdict}`);
    if (demo.server && (demo.server.child.exitCode !== null || demo.server.child.signalCode !== null)) console.log(`serve --demo exited with ${demo.server.child.exitCode ?? demo.server.child.signalCode}:\n${demo.server.stderr().slice(-4000)}`);
  });

  /** Checks the page as it is now: it must show `view`; failures are listed and the walk goes on. */
  async function check(page: Page, name: string, view: string): Promise<void> {
    const r = await checkTestIds(page);
    expect(r.view, `${name}: the page changed before it was checked`).toBe(view);
    expect(r.interactive, `${name}: no interactive element found`).toBeGreaterThan(0);
    checked.push({ name, interactive: r.interactive, untagged: r.untagged.length, duplicates: r.duplicates.length });
    expect.soft(describeUntagged(r.untagged), `${name}: interactive elements without a data-testid`).toEqual([]);
    expect.soft(r.duplicates.map((d) => `${d.testId} ×${d.count}`), `${name}: test ids on more than one element`).toEqual([]);
  }

  async function forward(page: Page, view: string): Promise<void> {
    const next = page.getByTestId(FORWARD);
    await expect.poll(() => next.isEnabled(), { timeout: 60_000 }).toBe(true);
    await next.click();
    await waitForView(page, view);
  }

  function collectErrors(page: Page): string[] {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    return errors;
  }

  it('found the 20 GiB demo disk', () => {
    expect(target).toMatch(/^\/dev\/loop\d+$/);
  });

  it('the real engine: every wizard page, the confirmation, a failure, its retry with Progress, and Done', async () => {
    const page = await demo.context.newPage();
    const errors = collectErrors(page);
    await skipNetworkCheck(page, [STICK]);
    await page.goto(demo.server.url);
    await waitForView(page, 'page-language');
    await page.getByTestId('welcome-requirement-list').waitFor();
    await expect.poll(() => page.getByTestId('welcome-requirements').getAttribute('aria-busy')).toBe('false');
    await check(page, 'Welcome', 'page-language');

    await forward(page, 'page-keyboard');
    await page.getByTestId('keyboard-layouts').waitFor();
    await check(page, 'Keyboard', 'page-keyboard');

    await forward(page, 'page-timezone');
    await page.getByTestId('timezone-search').fill('Oslo');
    await page.getByTestId('timezone-results-option-Europe/Oslo').waitFor();
    await check(page, 'Time zone, with search results', 'page-timezone');

    await forward(page, 'page-disk');
    const name = target.replace('/dev/', '');
    await page.getByTestId(`disk-option-${name}`).waitFor();
    await expect.poll(() => page.locator('[aria-busy="true"]').count(), { timeout: 30_000 }).toBe(0);
    await check(page, 'Disk, nothing chosen', 'page-disk');
    await page.getByTestId(`disk-option-${name}`).check();
    await page.getByTestId('storage-encrypt').check();
    await page.getByTestId('storage-passphrase').fill('Tulip Harbor 77');
    await check(page, 'Disk, erase with encryption', 'page-disk');
    await page.getByTestId('storage-encrypt').uncheck();

    await forward(page, 'page-users');
    await page.getByTestId('users-full-name').fill('Ada Lovelace');
    await page.getByTestId('users-password').fill('analytical engine 1843');
    await page.getByTestId('users-confirm').fill('analytical engine 1843');
    await check(page, 'Users', 'page-users');

    await forward(page, 'page-summary');
    await page.getByTestId('summary-headline').waitFor({ timeout: 30_000 });
    await page.getByTestId('summary-save').click();
    await page.getByTestId(`summary-save-device-${STICK.path.replace('/dev/', '')}`).waitFor({ timeout: 15_000 });
    await check(page, 'Summary, answer file exported', 'page-summary');
    await page.getByTestId('summary-install').click();
    await page.getByTestId('summary-install-dialog').waitFor();
    await check(page, 'Summary, install confirmation open', 'page-summary');

    // The first install fails at deploy (the fake's once-failure), so the Failure page comes first.
    writeFileSync(failOnce, 'deploy\n');
    const confirmed = Date.now();
    await page.getByTestId('summary-install-confirm').click();
    await waitForView(page, 'page-failure', 180_000);
    console.log(`test ids: the failed install took ${((Date.now() - confirmed) / 1000).toFixed(1)} s`);
    await page.getByTestId('log-bundle-download').waitFor();
    await page.getByTestId('log-bundle-device-sdz1').waitFor();
    await check(page, 'Failure', 'page-failure');

    const retried = Date.now();
    await page.getByTestId('failure-retry').click();
    await waitForView(page, 'page-progress');
    await check(page, 'Progress', 'page-progress');
    await page.getByTestId('progress-cancel').click();
    await page.getByTestId('progress-cancel-dialog').waitFor();
    await check(page, 'Progress, cancel dialog open', 'page-progress');
    await page.getByTestId('progress-cancel-dismiss').click();

    await waitForView(page, 'page-done', 180_000);
    console.log(`test ids: the retry took ${((Date.now() - retried) / 1000).toFixed(1)} s`);
    await page.getByTestId('log-bundle-device-sdz1').waitFor();
    await check(page, 'Done', 'page-done');
    expect(errors).toEqual([]);
    await page.close();
  }, 420_000);

  it('through a bridge: failed checks and lists, existing partitions, TPM2 with its recovery key, a refused plan', async () => {
    const page = await demo.context.newPage();
    const errors = collectErrors(page);
    // What the preload would expose, answering so that each page shows its error and retry states.
    await page.addInitScript(
      ({ info, disks, stick }) => {
        const ok = (value: unknown) => Promise.resolve({ ok: true, value });
        const fail = (code: string, message: string, detail?: string) => Promise.resolve({ ok: false, error: { code, kind: 'system', message, ...(detail ? { detail } : {}) } });
        let diskCalls = 0;
        let keyCalls = 0;
        const known: Record<string, unknown> = {
          getInfo: () => ok(info),
          // The first listing and the first recovery key fail, so Retry shows; the second ones work.
          listDisks: () => (diskCalls++ === 0 ? fail('internal', 'lsblk failed (on purpose)') : ok(disks)),
          generateRecoveryKey: () => (keyCalls++ === 0 ? fail('internal', 'no entropy (on purpose)') : ok({ key: Array(8).fill('cbdefghi').join('-') })),
          validateAnswerFile: () => ok({ valid: true, errors: [] }),
          // One problem per step, so the Summary offers a way back to each.
          planInstall: () =>
            fail('invalid-answer-file', 'The request is not valid.', ['locale: bad', 'keyboard.layout: bad', 'timezone: bad', 'disk.path: bad', 'users[0].name: bad'].join('\n')),
          exportAnswerFile: () => ok({ text: '{}', omitted: ['users[0].password'] }),
          listSaveTargets: () => ok({ targets: [stick] }),
          on: () => () => {},
        };
        // Whatever else the wizard asks (requirements, keyboards, zones…) fails as an engine without it would.
        const missing = (name: string) => () => fail('method-not-found', `${name} is not available here`);
        Object.defineProperty(window, 'installer', { value: new Proxy(known, { get: (t, name: string) => t[name] ?? missing(name) }) });
      },
      { info: { ...FIXTURE_INFO, tpm2: true }, disks: FIXTURE_DISKS, stick: STICK },
    );
    await page.goto(demo.server.url);
    await waitForView(page, 'page-language');
    await page.getByTestId('welcome-requirements-retry').waitFor();
    await check(page, 'Welcome, checks failed', 'page-language');

    await forward(page, 'page-keyboard');
    await page.getByTestId('keyboard-retry').waitFor();
    await check(page, 'Keyboard, list failed', 'page-keyboard');
    await forward(page, 'page-timezone');
    await page.getByTestId('timezone-retry').waitFor();
    await check(page, 'Time zone, list failed', 'page-timezone');

    await forward(page, 'page-disk');
    await page.getByTestId('disk-retry').waitFor();
    await check(page, 'Disk, list failed', 'page-disk');
    await page.getByTestId('disk-retry').click();
    await page.getByTestId('disk-option-nvme0n1').check();
    await page.getByTestId('storage-mode-existing').check();
    await page.getByTestId('storage-mount-nvme0n1p3-use').selectOption('/');
    await page.getByTestId('storage-mount-nvme0n1p3-action').selectOption('format');
    await page.getByTestId('storage-mount-nvme0n1p3-fs').waitFor();
    await check(page, 'Disk, existing partitions', 'page-disk');

    await page.getByTestId('storage-mode-erase').check();
    await page.getByTestId('storage-encrypt').check();
    await page.getByTestId('storage-tpm2').check();
    await page.getByTestId('storage-recovery-retry').waitFor();
    await check(page, 'Disk, TPM2 recovery key failed', 'page-disk');
    await page.getByTestId('storage-recovery-retry').click();
    await page.getByTestId('storage-recovery-confirm').waitFor();
    await check(page, 'Disk, TPM2 recovery key', 'page-disk');
    await page.getByTestId('storage-encrypt').uncheck();

    await forward(page, 'page-users');
    await page.getByTestId('users-full-name').fill('Ada Lovelace');
    await page.getByTestId('users-password').fill('analytical engine 1843');
    await page.getByTestId('users-confirm').fill('analytical engine 1843');
    await forward(page, 'page-summary');
    await page.getByTestId('summary-goto-users').waitFor();
    await page.getByTestId('summary-save').click();
    await page.getByTestId('summary-save-device-sdz1').waitFor();
    await check(page, 'Summary, plan refused', 'page-summary');
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it('the engine-unreachable page, and the check itself finds what lacks a test id', async () => {
    const page = await demo.context.newPage();
    await page.routeWebSocket(/\/rpc$/, (ws) => ws.close({ code: 1011, reason: 'engine stopped' }));
    await page.goto(demo.server.url);
    await waitForView(page, 'page-engine-error');
    await check(page, 'Engine unreachable', 'page-engine-error');

    // A button, a focusable div and a clickable card without test ids, and one test id twice: all found.
    await page.evaluate(() => {
      const main = document.querySelector('main')!;
      main.insertAdjacentHTML('beforeend', '<button type="button">Untagged</button><div tabindex="0">Focusable</div><div style="cursor:pointer"><span>Card</span></div>');
      main.insertAdjacentHTML('beforeend', '<button type="button" data-testid="engine-reconnect">Twin</button>');
    });
    const r = await checkTestIds(page);
    expect(describeUntagged(r.untagged)).toEqual(['<button> "Untagged" (button)', '<div> "Focusable" (tabindex=0)', '<div> "Card" (cursor:pointer)']);
    expect(r.duplicates).toEqual([{ testId: 'engine-reconnect', count: 2 }]);
    await page.close();
  });
});
