import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join, relative } from 'node:path';
import type { Browser, Page } from 'playwright';
import { launchChromium } from '../e2e/browser';
import { bootAndLogin, PASSWORD, USER } from '../vm/oci-rootfs';
import { accelerator } from '../vm/qemu';
import { qaAnswerFile, serveAnswer, type AnswerServer } from './answer';
import { readBootcTarget } from './bootc-target';
import { BOOTC_TARGET_IMGREF } from '../support/bootc-test-image';
import { variantName, type Variant } from './args';
import {
  GRUB_PROMPT, hostUrl, KIOSK_STARTED, LIVE_PASSWORD, LIVE_USER, MENU_DRAWN, menuKeys, parseMeminfo, parseRemoteAccess, parseUnattendedExit, REMOTE_PORT, unattendedGrubCommands,
} from './contract';
import { extractKernel, type IsoUnderTest } from './iso';
import { assertPortFree, startLiveVm, type LiveVm } from './live-vm';
import type { VariantReport } from './report';
import { cleanChunk, sleep } from './serial';
import { driveWizard, PRODUCT, TEST_IDS, until, welcomeShown } from './wizard';
import { connectScreen, consoleLoginOnScreen, unlockOnScreen as unlockOnScreenPrompt, watchBootToWizard, type InstalledScreen } from './kiosk';
import { KioskScreen } from './kiosk-screen';
import { driveKioskWizard, shutDownFromKiosk, usKeysFor } from './kiosk-wizard';

/**
 * One QA variant end to end: boot the ISO, install (through the wizard over the forwarded port, or
 * from an answer file), power off, boot the installed disk and log in. Every failure is caught into
 * the report (with the serial console's tail), so the summary always prints and QEMU is always killed.
 */

export const TARGET_SERIAL = 'qa-target';
// The branding's minimum is 16 GiB (the Welcome page refuses a smaller disk); sparse, so 20 GiB costs what is written.
export const TARGET_SIZE = '20G';
export const FULL_NAME = 'Anna Example';
export const HOSTNAMES = { interactive: 'particle-kiosk', remote: 'particle-qa', unattended: 'particle-unattended' } as const;
/**
 * The kiosk variant's account, as a German keyboard types it: the harness presses the keys of a US
 * keyboard (Y and Z swapped), so the installed system knows this password only if the kiosk typed with
 * the layout chosen on the Keyboard page. Letters, digits and spaces only (they sit on the same keys
 * in both layouts, but for Y and Z).
 */
export const KIOSK_FULL_NAME = 'Anna Zylka';
export const KIOSK_PASSWORD = 'Zypresse 2026 yz';
/** The disk's passphrase, the same way: the installed system asks for it at boot, on its screen. */
export const KIOSK_PASSPHRASE = 'Zebra Yak 2026 zy';

export interface RunOptions {
  readonly iso: IsoUnderTest;
  /** Artifacts go to OUT/<variant>/ (default test-results/qa). */
  readonly outRoot: string;
  readonly log?: (line: string) => void;
  /** Keep the installed target disk image (20 GiB sparse) in the artifacts folder. */
  readonly keepTarget?: boolean;
}

let probeKernel: Promise<string | null> | null = null;

/** KVM when it works, TCG otherwise; probed once with the ISO's own kernel (when there is a /dev/kvm to probe). */
async function accel(iso: string, dir: string): Promise<'kvm' | 'tcg'> {
  if (existsSync('/dev/kvm') && !process.env.PARTICLE_VM_ACCEL) probeKernel ??= extractKernel(iso, join(dir, '..', '.probe-vmlinuz'));
  return accelerator((await probeKernel) ?? undefined);
}

/** GET /?token= (303 and a cookie), then / with that cookie: true when it answers 200. */
export function wizardAnswers(token: string, port = REMOTE_PORT): Promise<boolean> {
  const get = (path: string, cookie?: string): Promise<{ status: number; cookie?: string }> =>
    new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port, path, headers: cookie ? { cookie } : {}, timeout: 5000 }, (res) => {
        res.resume();
        const set = res.headers['set-cookie']?.[0]?.split(';')[0];
        resolve({ status: res.statusCode ?? 0, ...(set ? { cookie: set } : {}) });
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve({ status: 0 }));
      req.end();
    });
  return (async () => {
    const first = await get(`/?token=${token}`);
    if (first.status === 200) return true;
    if (first.status !== 303 || !first.cookie) return false;
    return (await get('/', first.cookie)).status === 200;
  })();
}

export async function runVariant(v: Variant, o: RunOptions): Promise<VariantReport> {
  const name = variantName(v);
  const dir = join(o.outRoot, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const log = (line: string): void => (o.log ?? ((l: string) => console.log(`[qa] ${l}`)))(`${name}: ${line}`);
  const report: VariantReport = {
    variant: name,
    mode: v.mode,
    firmware: v.firmware,
    medium: v.medium,
    accel: null,
    passed: false,
    error: null,
    seconds: {},
    expectedHostname: HOSTNAMES[v.mode],
    images: [],
    artifacts: dir,
  };
  const target = join(dir, 'target.img');
  let vm: LiveVm | null = null;
  let browser: Browser | null = null;
  let server: AnswerServer | null = null;
  const cleanups: (() => void)[] = [];
  try {
    report.accel = await accel(o.iso.path, dir);
    log(`booting ${o.iso.path} (${v.firmware}, ${v.medium}, ${report.accel})`);
    const dump = async (what: string): Promise<void> => {
      try {
        report.images.push(relative(dir, await vm!.monitor.screendump(join(dir, `screen-${what}`))));
      } catch (e) {
        log(`screen dump ${what} failed: ${(e as Error).message}`);
      }
    };
    let password = PASSWORD;
    let unlockOnScreen: NonNullable<Parameters<typeof bootAndLogin>[2]>['unlockOnScreen'];
    let more: NonNullable<Parameters<typeof bootAndLogin>[2]>['more'];
    if (v.mode === 'interactive') {
      vm = await startLiveVm({ ...common(v, o.iso.path, target, dir, report.accel), isolated: true });
      await kiosk(vm, v, report, dir, log);
      password = KIOSK_PASSWORD;
      // The kiosk encrypted the disk with a passphrase typed in the German layout: the installed
      // system's prompt is answered on its screen with the same keys, so it opens only if the
      // initramfs loads that layout too.
      const sockets = mkdtempSync(join(tmpdir(), 'particle-qa-installed-'));
      cleanups.push(() => rmSync(sockets, { recursive: true, force: true }));
      const display = { vga: v.vga, monitorSocket: join(sockets, 'monitor.sock'), qmpSocket: join(sockets, 'qmp.sock') };
      let installed: InstalledScreen | null = null;
      cleanups.push(() => installed?.close());
      unlockOnScreen = {
        display,
        unlock: async () => {
          const started = performance.now();
          installed = await connectScreen({ display, now: () => (performance.now() - started) / 1000, alive: () => true }, dir, log);
          const r = await unlockOnScreenPrompt(installed.screen, { keys: usKeysFor(KIOSK_PASSPHRASE), log });
          report.images.push(relative(dir, r.screendump));
          report.seconds.installedUnlockPrompt = r.promptSeconds;
        },
      };
      // After the serial console's checks: log in on the installed system's own screen with the
      // guest's keyboard, so its console keymap is the chosen one too.
      more = async () => {
        if (!installed) throw new Error('the installed system has no screen connection');
        const login = await consoleLoginOnScreen(installed.screen, {
          user: USER,
          userKeys: usKeysFor(USER),
          password: KIOSK_PASSWORD,
          passwordKeys: usKeysFor(KIOSK_PASSWORD),
          expect: `${USER}@${report.expectedHostname}`,
          log,
          loseKeyOnce: process.env.PARTICLE_QA_LOSE_KEY === '1',
        });
        report.images.push(relative(dir, login.file));
        report.installedConsoleLogin = true;
        report.installedConsoleLoginAttempts = login.attempts;
        if (login.probe) report.installedConsoleKeymapProbe = login.probe;
      };
    } else if (v.mode === 'remote') {
      await assertPortFree(REMOTE_PORT);
      vm = await startLiveVm({ ...common(v, o.iso.path, target, dir, report.accel), forward: { hostPort: REMOTE_PORT, guestPort: REMOTE_PORT }, isolated: true });
      browser = await launchChromium();
      await remote(vm, browser, report, dir, log, dump, v.image === 'bootc' ? afterBootcInstall : null);
    } else {
      const answer = qaAnswerFile({ hostname: report.expectedHostname, serial: TARGET_SERIAL, user: USER, fullName: FULL_NAME, password: PASSWORD });
      writeFileSync(join(dir, 'answer.json'), `${JSON.stringify(answer, null, 2)}\n`);
      server = await serveAnswer(answer);
      vm = await startLiveVm({ ...common(v, o.iso.path, target, dir, report.accel), isolated: false });
      await unattended(vm, server, report, log, dump);
    }
    await browser?.close();
    browser = null;
    await vm.stop();
    vm = null;
    if (v.image === 'bootc') {
      // The bootc test image does not boot: what it installed is read on the disk.
      const b = await readBootcTarget(target, USER);
      report.bootcTarget = b;
      log(`installed disk: ${b.rootFsType} root, deployment ${b.deployment}, origin ${b.origin}, hostname "${b.hostname}"`);
      const wrong: string[] = [];
      const origin = `ostree-unverified-registry:${BOOTC_TARGET_IMGREF}`;
      if (b.origin !== origin) wrong.push(`the origin names "${b.origin}", expected "${origin}" (the ISO's --target-imgref)`);
      if (b.hostname !== report.expectedHostname) wrong.push(`hostname "${b.hostname}", expected "${report.expectedHostname}"`);
      if (!b.userWithPassword) wrong.push(`no account ${USER} with a SHA-512 password hash in the deployment`);
      if (!/(^| )root=UUID=\S+/.test(b.options)) wrong.push(`the loader entry has no root=UUID= (options: ${b.options})`);
      if (wrong.length > 0) throw new Error(`the bootc install on the disk: ${wrong.join('; ')}`);
      report.passed = true;
      return report;
    }
    log(`booting the installed disk (${v.firmware})`);
    const r = await bootAndLogin(target, v.firmware, { timeoutMs: unlockOnScreen ? 15 * 60_000 : 180_000, password, ...(unlockOnScreen ? { unlockOnScreen } : {}), ...(more ? { more } : {}) });
    report.target = { accel: r.accel, loginPromptSeconds: r.loginPromptSeconds, hostname: r.hostname, whoami: r.whoami, firmwareSeen: r.firmwareSeen };
    log(`installed disk: login prompt after ${r.loginPromptSeconds.toFixed(1)} s, hostname "${r.hostname}", user "${r.whoami}", ${r.firmwareSeen}`);
    const wrong: string[] = [];
    if (r.hostname !== report.expectedHostname) wrong.push(`hostname "${r.hostname}", expected "${report.expectedHostname}"`);
    if (r.whoami !== USER) wrong.push(`logged in as "${r.whoami}", expected "${USER}"`);
    if (r.firmwareSeen !== v.firmware) wrong.push(`booted with ${r.firmwareSeen}, expected ${v.firmware}`);
    if (wrong.length > 0) throw new Error(`the installed system: ${wrong.join('; ')}`);
    report.passed = true;
  } catch (e) {
    // bootDisk's messages carry the raw console (GRUB's colours and cursor moves): plain text here.
    report.error = cleanChunk((e as Error).message).clean;
    const tail = vm?.console.tail(40);
    if (tail && !report.error.includes(tail)) report.error += `\n--- serial console (last lines) ---\n${tail}`;
    log(`FAILED: ${report.error.split('\n')[0]}`);
  } finally {
    await browser?.close().catch(() => undefined);
    await vm?.stop();
    await server?.close();
    for (const c of cleanups) c();
    if (!o.keepTarget) rmSync(target, { force: true });
    writeFileSync(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  }
  return report;
}

function common(v: Variant, iso: string, target: string, dir: string, accel: 'kvm' | 'tcg') {
  return { accel, firmware: v.firmware, medium: v.medium, vga: v.vga, iso, target, targetSize: TARGET_SIZE, targetSerial: TARGET_SERIAL, serialLog: join(dir, 'serial.log') };
}

type Log = (line: string) => void;
type Dump = (what: string) => Promise<void>;

/**
 * The kiosk on the guest's own screen: the default menu entry boots by itself, the Welcome page must
 * be read on the screen (never blank for long on the way), then the wizard is driven with the guest's
 * keyboard and tablet only, German chosen on the Keyboard page, and the Done page's Shut down clicked.
 */
async function kiosk(vm: LiveVm, v: Variant, report: VariantReport, dir: string, log: Log): Promise<void> {
  const screen = new KioskScreen(vm, dir, log);
  try {
    const boot = await watchBootToWizard(vm, screen, { product: PRODUCT, firmware: v.firmware, vga: v.vga, accel: report.accel ?? 'tcg', log });
    report.seconds.grubMenu = boot.grubMenuSeconds ?? undefined;
    report.seconds.systemd = boot.systemdSeconds ?? undefined;
    report.seconds.engineReady = boot.engineReadySeconds ?? undefined;
    report.seconds.kioskStarted = boot.kioskStartedSeconds ?? undefined;
    report.seconds.interactive = boot.wizardSeconds ?? undefined;
    report.kiosk = { longestBlankSeconds: boot.longestBlankSeconds, longestBlankFrom: boot.longestBlankFrom, screenSamples: boot.samples, pages: {} };
    if (boot.error) throw new Error(boot.error);
    const r = await driveKioskWizard(screen, () => vm.now(), {
      product: PRODUCT,
      // The only virtio disk; the Disk page shows each disk's path under its model.
      diskLabel: '/dev/vda',
      fullName: KIOSK_FULL_NAME,
      user: USER,
      password: KIOSK_PASSWORD,
      passphrase: KIOSK_PASSPHRASE,
      hostname: report.expectedHostname,
      log,
    });
    report.kiosk = { ...report.kiosk, pages: r.pages, fullNameRead: r.fullNameRead, progressStill: r.progressStill, progressSamples: r.progressSamples, progressSampleGap: r.progressSampleGap };
    report.installSeconds = r.installSeconds;
    log(`installed in ${r.installSeconds.toFixed(0)} s through the kiosk`);
    await shutDownFromKiosk(screen);
    if (await vm.waitExit(120_000)) {
      report.powerOff = 'wizard';
      report.seconds.poweredOff = vm.exitedAt() ?? vm.now();
      return;
    }
    await vm.monitor.command('system_powerdown').catch(() => '');
    report.powerOff = (await vm.waitExit(120_000)) ? 'acpi' : 'killed';
    throw new Error(`the Done page's Shut down did not power the VM off within 120 s (then: ${report.powerOff})`);
  } finally {
    report.images.push(...screen.kept.map((f) => relative(dir, f)));
    rmSync(join(dir, 'screen-scratch.png'), { force: true });
  }
}

/**
 * After a bootc install through podman, in the live system: podman's own storage (tmpfs, memory)
 * holds no image and no container, and memory in use compared with the idle figure.
 */
async function afterBootcInstall(vm: LiveVm, report: VariantReport, log: Log): Promise<void> {
  const c = vm.console;
  await c.login(LIVE_USER, LIVE_PASSWORD);
  const mem = parseMeminfo((await c.run('cat /proc/meminfo')).output);
  const images = await c.run('sudo podman images --quiet | wc -l');
  const containers = await c.run('sudo podman ps --all --quiet | wc -l');
  const storage = await c.run('sudo du -sb /var/lib/containers | cut -f1');
  c.send('exit\n');
  const num = (r: { output: string }): number => Number(r.output.trim().split('\n').pop()?.trim());
  report.bootcLive = {
    images: num(images),
    containers: num(containers),
    storageBytes: num(storage),
    usedMiBAfter: mem?.usedMiB ?? null,
    growthMiB: mem && report.idleMemory ? mem.usedMiB - report.idleMemory.usedMiB : null,
  };
  log(`live system after the bootc install: ${JSON.stringify(report.bootcLive)}`);
  if (report.bootcLive.images !== 0 || report.bootcLive.containers !== 0) throw new Error(`the live system's own podman storage holds ${report.bootcLive.images} images and ${report.bootcLive.containers} containers after the install (expected none: the image goes to storage on the target)`);
}

async function remote(vm: LiveVm, browser: Browser, report: VariantReport, dir: string, log: Log, dump: Dump, afterInstall: ((vm: LiveVm, report: VariantReport, log: Log) => Promise<void>) | null): Promise<void> {
  const c = vm.console;
  c.watch('kiosk', KIOSK_STARTED);
  await c.waitFor(MENU_DRAWN, 180_000, 'the GRUB menu');
  report.seconds.grubMenu = vm.now();
  for (const key of menuKeys('Install Particle with remote access')) {
    c.send(key);
    await sleep(200);
  }
  log(`GRUB menu after ${vm.now().toFixed(1)} s; chose "Install Particle with remote access"`);
  await c.waitFor(/particle-live: remote access http:\/\/\S+\n/, 10 * 60_000, 'the "particle-live: remote access" line');
  report.seconds.remoteAccessLine = vm.now();
  const remote = parseRemoteAccess(c.transcript());
  if (!remote) throw new Error('the remote access line does not read "particle-live: remote access http://IP:PORT/?token=HEX"');
  report.remoteUrl = remote.url;
  if (remote.port !== REMOTE_PORT) throw new Error(`the engine listens on port ${remote.port}, not ${REMOTE_PORT} (${remote.url})`);
  log(`remote access line after ${vm.now().toFixed(1)} s: ${remote.url}`);
  await until(() => wizardAnswers(remote.token), 5 * 60_000, `the wizard never answered 200 on 127.0.0.1:${REMOTE_PORT}`, 500);
  report.seconds.httpReady = vm.now();

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US', reducedMotion: 'reduce' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(hostUrl(remote.token), { timeout: 120_000 });
  await welcomeShown(page, 120_000);
  report.seconds.interactive = vm.now();
  log(`boot-to-interactive: ${vm.now().toFixed(1)} s (HTTP 200 at ${report.seconds.httpReady.toFixed(1)} s)`);
  const shot = async (what: string): Promise<void> => {
    // The whole page in one picture, its sticky footer at the bottom (as test/e2e does it).
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    await page.setViewportSize({ width: 1280, height: Math.max(900, height) });
    await page.screenshot({ path: join(dir, `${what}.png`) });
    await page.setViewportSize({ width: 1280, height: 900 });
    report.images.push(`${what}.png`);
  };
  try {
    await wizardSteps(vm, page, report, dir, log, dump, shot, afterInstall !== null);
  } catch (e) {
    await shot('failure').catch(() => undefined);
    throw e;
  }
  if (errors.length > 0) throw new Error(`the page threw: ${errors.join('; ')}`);
  if (afterInstall) await afterInstall(vm, report, log);
  await powerOff(vm, report, log, page);
}

async function wizardSteps(vm: LiveVm, page: Page, report: VariantReport, dir: string, log: Log, dump: Dump, shot: (what: string) => Promise<void>, lean: boolean): Promise<void> {
  const c = vm.console;
  await shot('00-interactive');
  await dump('interactive');

  // Idle: the kiosk's browser up (when the ISO says so) and a little quiet, then read memory over the serial console.
  await until(async () => c.seenAt('kiosk') !== null, 120_000, 'no kiosk line', 1000).catch(() => log('no "particle-live: kiosk started" line within 120 s of the wizard answering'));
  report.seconds.kioskStarted = c.seenAt('kiosk') ?? undefined;
  // lean: the bootc variant repeats the remote variant's boot with another image, so its own checks only.
  if (!lean) await sleep(20_000);
  await dump('idle');
  await c.login(LIVE_USER, LIVE_PASSWORD);
  const mem = await c.run('cat /proc/meminfo');
  const use = parseMeminfo(mem.output);
  if (!use) throw new Error(`/proc/meminfo could not be read over the serial console: ${mem.output.slice(0, 500)}`);
  report.idleMemory = { ...use, afterSeconds: vm.now() };
  log(`idle memory: ${use.usedMiB} MiB used of ${use.totalMiB} MiB`);
  // Artifacts for a reader, not verdicts: each is bounded, and a guest too slow to answer one (systemd-analyze
  // blame once took over a minute on a one-CPU TCG guest) leaves a note in the file instead of failing the run.
  if (!lean) await idleDiagnostics(vm, report, dir, log);
  const dev = await c.run(`readlink -f /dev/disk/by-id/virtio-${TARGET_SERIAL}`);
  const targetPath = dev.output.trim().split('\n').pop()?.trim() ?? '';
  if (dev.exitCode !== 0 || !/^\/dev\/\S+$/.test(targetPath)) throw new Error(`the target (virtio serial ${TARGET_SERIAL}) is not in /dev/disk/by-id: ${dev.output}`);
  c.send('exit\n');

  log(`driving the wizard: ${targetPath}, hostname ${report.expectedHostname}`);
  const r = await driveWizard(page, {
    targetPath,
    fullName: FULL_NAME,
    user: USER,
    password: PASSWORD,
    hostname: report.expectedHostname,
    shot,
    log,
  });
  report.installSeconds = r.installSeconds;
  log(`installed in ${r.installSeconds.toFixed(0)} s`);
  await dump('done');
}

/** The remote variant's look at the idle live system: memory, boot time, and the kiosk brought back after its browser is killed. */
async function idleDiagnostics(vm: LiveVm, report: VariantReport, dir: string, log: Log): Promise<void> {
  const c = vm.console;
  writeFileSync(join(dir, 'idle-memory.txt'), `${await c.diagnose('free -m')}\n${await c.diagnose('ps -eo rss,comm --sort=-rss | head -n 15')}`);
  // Where the boot's time went (kernel and initramfs, then each unit), for the boot-to-interactive figure.
  const bootTime: string[] = [];
  for (const command of ['systemd-analyze', 'systemd-analyze critical-chain particle-engine.service', 'systemd-analyze blame | head -n 25']) {
    bootTime.push(`$ ${command}\n${await c.diagnose(command)}`);
  }
  writeFileSync(join(dir, 'boot-time.txt'), `${bootTime.join('\n')}\n`);
  // The kiosk brings its UI back when it dies: kill the browser outright, wait for a new one.
  const browserPid = async (): Promise<string | null> => {
    const r = await c.run('pgrep -o -x chromium');
    const pid = r.output.trim().split('\n').pop()?.trim() ?? '';
    return r.exitCode === 0 && /^\d+$/.test(pid) ? pid : null;
  };
  const before = await browserPid();
  if (before === null) throw new Error('no kiosk browser (chromium) is running in the live session');
  const killedAt = vm.now();
  await c.run(`sudo kill -KILL ${before}`);
  await until(async () => {
    const now = await browserPid();
    return now !== null && now !== before;
  }, 120_000, 'the kiosk did not start its browser again within 120 s of it being killed', 2000);
  report.kioskRestartSeconds = vm.now() - killedAt;
  log(`kiosk: browser ${before} killed, a new one running after ${report.kioskRestartSeconds.toFixed(1)} s`);
}

async function unattended(vm: LiveVm, server: AnswerServer, report: VariantReport, log: Log, dump: Dump): Promise<void> {
  const c = vm.console;
  await c.waitFor(MENU_DRAWN, 180_000, 'the GRUB menu');
  report.seconds.grubMenu = vm.now();
  c.send('c');
  await c.waitFor(GRUB_PROMPT, 30_000, "GRUB's command line (after c)");
  for (const line of unattendedGrubCommands(server.guestUrl)) {
    await c.type(line);
    c.skip();
    const from = c.transcript().length;
    c.send('\r');
    if (line === 'boot') break;
    // Loading the kernel and initrd from the medium takes a while under TCG.
    await c.waitFor(GRUB_PROMPT, 5 * 60_000, `GRUB's prompt after "${line}"`);
    // GRUB wraps long lines at 80 columns on the serial terminal: look at its answer, not for the echo.
    const answer = c.transcript().slice(from);
    const error = /error: [^\n]*/.exec(answer);
    if (error) throw new Error(`GRUB refused "${line}": ${error[0]}`);
  }
  log(`GRUB menu after ${report.seconds.grubMenu.toFixed(1)} s; booting with installer.config=${server.guestUrl}`);
  const finished = c.waitFor(/particle-live: unattended install finished \(exit -?\d+\)/, 40 * 60_000, 'the "unattended install finished" line');
  // A look at the screen a minute after the answer file was fetched, while the install runs.
  let over = false;
  void (async () => {
    while (!over && !server.requests.some((r) => r.status === 200)) await sleep(500);
    const at = performance.now();
    while (!over && performance.now() - at < 60_000) await sleep(500);
    if (!over) await dump('installing');
  })();
  try {
    await finished;
  } finally {
    over = true;
  }
  report.seconds.installFinished = vm.now();
  const fetched = server.requests.find((r) => r.status === 200);
  if (fetched) report.seconds.answerFetched = (fetched.at - c.startedAt) / 1000;
  report.unattendedExit = parseUnattendedExit(c.transcript()) ?? undefined;
  if (report.seconds.answerFetched !== undefined) report.installSeconds = report.seconds.installFinished - report.seconds.answerFetched;
  log(`answer file fetched at ${report.seconds.answerFetched?.toFixed(1) ?? '(never)'} s; unattended install finished (exit ${report.unattendedExit}) at ${vm.now().toFixed(1)} s`);
  if (report.unattendedExit !== 0) throw new Error(`the unattended install exited ${report.unattendedExit}`);
  if (report.seconds.answerFetched === undefined) throw new Error(`the answer file was never fetched (requests: ${JSON.stringify(server.requests)})`);
  await powerOff(vm, report, log, null);
}

/** Shuts the live system down: the Done page's button (interactive) or by itself (unattended), else ACPI; killing it fails the run. */
async function powerOff(vm: LiveVm, report: VariantReport, log: Log, page: Page | null): Promise<void> {
  if (page) {
    await page.getByTestId(TEST_IDS.shutDown).click();
    if (await vm.waitExit(120_000)) {
      report.powerOff = 'wizard';
      report.seconds.poweredOff = vm.exitedAt() ?? vm.now();
      return;
    }
    log('the Shut down button did not power the VM off within 120 s; pressing the ACPI power button');
  } else if (await vm.waitExit(180_000)) {
    report.powerOff = 'by-itself';
    report.seconds.poweredOff = vm.exitedAt() ?? vm.now();
    return;
  } else {
    log('the live system did not power off by itself within 180 s; pressing the ACPI power button');
  }
  await vm.monitor.command('system_powerdown').catch(() => '');
  if (await vm.waitExit(120_000)) {
    report.powerOff = 'acpi';
    report.seconds.poweredOff = vm.exitedAt() ?? vm.now();
    if (!page) throw new Error('the live system did not power off by itself after the unattended install (it went down on the ACPI power button)');
    return;
  }
  report.powerOff = 'killed';
  throw new Error('the live system did not power off (neither by itself nor on the ACPI power button)');
}
