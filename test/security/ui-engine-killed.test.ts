import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeEnv, readFakeLog } from '../fakes/index';
import { CHROMIUM, launchChromium } from '../e2e/browser';
import { advanceToStep, skipNetworkCheck, stepIndexOf } from '../e2e/fixtures';
import { loopsBackedBy, startDemoServer, type DemoServer } from '../e2e/serve';

/**
 * The engine dies under the UI. An install is started through the served UI (Debian's Chromium,
 * `serve --demo`, the bootc fake first on PATH and told to hang in its deploy stage, so the install
 * cannot end by itself), then the serve process — the engine — gets SIGKILL. The user must be told,
 * within seconds, in an alert, that the engine is gone; a progress spinner left turning forever
 * would be the failure.
 *
 * A killed server tears nothing down: its mounts, its demo loop devices and the hung fake stay.
 * afterAll releases them itself (found by this run's own directories, never by name) and checks
 * that nothing is left. Recovery by a later engine is tested elsewhere; this file counts nothing.
 */
const REPO = resolve(import.meta.dirname, '../..');
const RUN_ROOT = '/run/particle-installer';
const GiB = 1024 ** 3;
const PRODUCT = (JSON.parse(readFileSync(join(REPO, 'resources/branding/particleos/branding.json'), 'utf8')) as { productName: string }).productName;
/** How long the user may wait, after the engine died, for the UI to say so. */
const NOTICE_MS = 5_000;

const isRoot = process.getuid?.() === 0;
const skipReason = !existsSync(CHROMIUM)
  ? `${CHROMIUM} is missing (apt-get install chromium)`
  : !existsSync(join(REPO, 'out/renderer/index.html'))
    ? 'out/renderer is not built (run npx electron-vite build)'
    : !isRoot
      ? 'serve --demo needs root to attach its loop-backed virtual disks'
      : !existsSync('/dev/loop-control') || spawnSync('losetup', ['--find'], { encoding: 'utf8' }).status !== 0
        ? 'no free loop device (losetup --find failed)'
        : null;
if (skipReason) console.warn(`ui engine-killed skipped: ${skipReason}`);

function deviceSize(dev: string): number {
  return Number(spawnSync('lsblk', ['--bytes', '--nodeps', '--noheadings', '--output', 'SIZE', dev], { encoding: 'utf8' }).stdout.trim());
}

/** Pids of live processes whose environment holds `marker` (this run's own XDG_CACHE_HOME): the server's descendants, orphaned or not. */
function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, 'latin1').split('\0').includes(marker)) pids.push(Number(name));
    } catch {
      // Gone meanwhile, or a kernel thread.
    }
  }
  return pids;
}

async function endProcesses(marker: string): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    for (const pid of processesWith(marker)) {
      try {
        process.kill(pid, sig);
      } catch {
        // Already gone.
      }
    }
  };
  // SIGTERM first: the hung fake undoes its own mounts on it.
  signal('SIGTERM');
  for (let i = 0; i < 50 && processesWith(marker).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  signal('SIGKILL');
  for (let i = 0; i < 20 && processesWith(marker).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
}

const unescapeMount = (s: string) => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

/** Mount points (deepest first) under one of `dirs`, or of a device that is one of `loops` or their partitions. */
function mountsOf(dirs: readonly string[], loops: readonly string[]): string[] {
  const points = new Set<string>();
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    if (!line) continue;
    const [left, right = ''] = line.split(' - ');
    const point = unescapeMount(left!.split(' ')[4] ?? '');
    const source = unescapeMount(right.split(' ')[1] ?? '');
    const underDir = dirs.some((d) => point === d || point.startsWith(`${d}/`));
    const fromLoop = loops.some((l) => source === l || new RegExp(`^${l}p\\d+$`).test(source));
    if (underDir || fromLoop) points.add(point);
  }
  return [...points].sort((a, b) => b.split('/').length - a.split('/').length || b.length - a.length);
}

/** Device-mapper devices (LUKS mappings) stacked on `loops` or their partitions. */
function holdersOf(loops: readonly string[]): string[] {
  const names: string[] = [];
  for (const loop of loops) {
    const dev = basename(loop);
    const dirs = [`/sys/block/${dev}`, ...(existsSync(`/sys/block/${dev}`) ? readdirSync(`/sys/block/${dev}`).filter((n) => n.startsWith(`${dev}p`)).map((n) => `/sys/block/${dev}/${n}`) : [])];
    for (const d of dirs) {
      for (const h of existsSync(`${d}/holders`) ? readdirSync(`${d}/holders`) : []) {
        const name = existsSync(`/sys/block/${h}/dm/name`) ? readFileSync(`/sys/block/${h}/dm/name`, 'utf8').trim() : '';
        if (name) names.push(name);
      }
    }
  }
  return names;
}

interface Run {
  readonly tmp: string;
  readonly server: DemoServer;
  readonly target: string;
  readonly fakeLog: string;
  /** The killed server's pid, for its state file and the record. */
  readonly pid: number;
}

/** The run directories this server's install used: from its state file, else from the fake's podman `-v DIR/target:…`. */
function runDirsOf(run: Run): string[] {
  const dirs = new Set<string>();
  const state = join(RUN_ROOT, `engine-${run.pid}.json`);
  if (existsSync(state)) {
    try {
      const record = JSON.parse(readFileSync(state, 'utf8')) as { pid?: number; install?: { runDir?: string } | null };
      if (record.pid === run.pid && record.install?.runDir) dirs.add(record.install.runDir);
    } catch {
      // Half-written: the fake's log below still names it.
    }
  }
  for (const inv of readFakeLog(run.fakeLog)) {
    for (const a of inv.argv) {
      const m = /^(\/run\/particle-installer\/[0-9a-f]{8})\/target:/.exec(a);
      if (m) dirs.add(m[1]!);
    }
  }
  return [...dirs];
}

/** Releases everything the killed server left, then checks nothing of this run is left. */
async function releaseLeftovers(run: Run): Promise<void> {
  const marker = `XDG_CACHE_HOME=${join(run.tmp, 'cache')}`;
  if (run.server.child.exitCode === null && run.server.child.signalCode === null) process.kill(run.pid, 'SIGKILL');
  const orphans = processesWith(marker);
  await endProcesses(marker);
  const runDirs = runDirsOf(run);
  const loops = loopsBackedBy(run.tmp);
  const mounts = mountsOf(runDirs, loops);
  for (const point of mounts) {
    if (spawnSync('umount', [point]).status !== 0) spawnSync('umount', ['--lazy', point]);
  }
  const holders = holdersOf(loops);
  for (const name of holders) spawnSync('dmsetup', ['remove', '--retry', name]);
  for (const loop of loops) spawnSync('losetup', ['--detach', loop]);
  console.log(
    `released after the kill: ${orphans.length} orphaned process(es), ${mounts.length} mount(s) [${mounts.join(', ')}], ` +
      `${holders.length} mapping(s), ${loops.length} loop device(s) [${loops.join(', ')}]; run dir(s) ${runDirs.join(', ') || '(none)'}`,
  );
  const mountsLeft = mountsOf(runDirs, loops);
  const loopsLeft = loopsBackedBy(run.tmp);
  const processesLeft = processesWith(marker);
  if (mountsLeft.length === 0) for (const d of runDirs) rmSync(d, { recursive: true, force: true });
  if (loopsLeft.length === 0 && mountsLeft.length === 0) {
    rmSync(join(RUN_ROOT, `engine-${run.pid}.json`), { force: true });
    rmSync(run.tmp, { recursive: true, force: true });
  }
  expect({ mountsLeft, loopsLeft, processesLeft }, 'leftovers of the killed server').toEqual({ mountsLeft: [], loopsLeft: [], processesLeft: [] });
}

describe.skipIf(skipReason !== null)('UI when the engine is killed mid-install', () => {
  let browser: Browser | undefined;
  let run: Run | undefined;

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    if (run) await releaseLeftovers(run);
  });

  it('says the engine is gone, in an alert, within seconds of a SIGKILL', async () => {
    const t0 = Date.now();
    const tmp = mkdtempSync(join(tmpdir(), 'particle-sec-engine-killed-'));
    const fakeLog = join(tmp, 'fake.log');
    // Hang in the deploy stage: the install can only end by the engine's death.
    const env = fakeEnv({ storage: join(tmp, 'storage'), delayMs: 20, payloadMiB: 2, hang: 'deploy', log: fakeLog });
    const server = await startDemoServer(REPO, join(tmp, 'token'), join(tmp, 'cache'), 90_000, env);
    const target = loopsBackedBy(tmp).find((d) => deviceSize(d) === 20 * GiB) ?? '';
    run = { tmp, server, target, fakeLog, pid: server.child.pid! };
    expect(target).toMatch(/^\/dev\/loop\d+$/);

    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US', reducedMotion: 'reduce' });
    const page: Page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await skipNetworkCheck(page);
    await page.goto(server.url);
    await page.locator('nav ol li').first().waitFor();
    const steps = { Disk: await stepIndexOf(page, 'disk'), Users: await stepIndexOf(page, 'users'), Summary: await stepIndexOf(page, 'summary') };
    expect(Object.values(steps).every((i) => i > 0), JSON.stringify(steps)).toBe(true);

    // Welcome → … → Disk: the 20 GiB demo disk, erased.
    await advanceToStep(page, steps.Disk);
    await page.locator('.disk-card').first().waitFor();
    await expect.poll(() => page.locator('[aria-busy="true"]').count(), { timeout: 30_000 }).toBe(0);
    await page.locator(`input[name="disk"][value="${target}"]`).check();
    const erase = page.locator('input[name="storage-mode"][value="erase"]');
    if ((await erase.count()) > 0) await erase.check();
    await advanceToStep(page, steps.Users);
    await page.locator('#user-full-name').fill('Ada Lovelace');
    await page.locator('#user-password').fill('analytical engine 1843');
    await page.locator('#user-confirm').fill('analytical engine 1843');
    await advanceToStep(page, steps.Summary);
    await page.locator('.plan-headline').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Install', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Erase and install', exact: true }).click();

    // The install runs: the progress page is up and bootc (the fake) is in its deploy stage.
    const showsProgress = async (p: Page) => {
      const heading = p.locator('h1#page-heading');
      await expect.poll(async () => ((await heading.count()) > 0 ? (await heading.textContent())?.trim() : null), { timeout: 30_000 }).toBe(`Installing ${PRODUCT}`);
    };
    await showsProgress(page);
    await expect
      .poll(() => readFakeLog(fakeLog).some((i) => i.tool === 'bootc' && i.argv.includes('install')), { timeout: 60_000, message: 'bootc install never started' })
      .toBe(true);
    // A second window without Playwright's WebSocket routing (the first one's socket goes through
    // it for skipNetworkCheck): the browser's own socket sees the server die, as a user's would.
    const plainContext = await browser!.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US', reducedMotion: 'reduce' });
    const plain = await plainContext.newPage();
    plain.on('pageerror', (e) => errors.push(e.message));
    await plain.goto(server.url);
    await showsProgress(plain);
    await page.waitForTimeout(1_000);
    for (const p of [page, plain]) expect(await p.getByRole('alert').count(), 'no alert before the kill').toBe(0);

    const killedAt = Date.now();
    process.kill(run.pid, 'SIGKILL');
    const noticed = await Promise.all(
      [page, plain].map(async (p) => {
        await p.getByRole('alert').filter({ hasText: 'The installer engine cannot be reached' }).waitFor({ state: 'visible', timeout: NOTICE_MS });
        return Date.now() - killedAt;
      }),
    );

    // What the user sees: the alert names the problem and offers a way on; no spinner keeps turning.
    for (const p of [page, plain]) {
      const alert = p.getByRole('alert');
      expect(await alert.count()).toBe(1);
      expect(await alert.locator('h1').textContent()).toBe('The installer engine cannot be reached');
      expect(await alert.getByRole('button', { name: 'Reconnect' }).isVisible()).toBe(true);
      // The install was running: the alert must not claim nothing changed, but say the disk may be half written.
      const said = (await alert.textContent()) ?? '';
      expect(said).toContain('The installation was interrupted. The target disk may be partly written');
      expect(said).toContain('run the installation again: it erases the disk and starts over');
      expect(said).not.toContain('Nothing has been changed');
      await alert.locator('summary').click();
      expect(await alert.locator('.detail').textContent()).toMatch(/connection to the installer engine at .* was lost/);
      expect(await p.locator('.spinner, [aria-busy="true"]').count(), 'a spinner or busy region is still shown').toBe(0);
      expect(await p.getByText(`Installing ${PRODUCT}`).count(), 'the progress page is gone').toBe(0);
    }
    expect(errors).toEqual([]);
    await context.close();
    await plainContext.close();
    console.log(
      `engine killed mid-install: the UI said so after ${noticed[0]} ms (routed socket) and ${noticed[1]} ms (plain socket); whole test ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  }, 240_000);
});
