import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LineClient, Reply } from '../support/line-client';
import { mountsUnder } from '../support/mounts';
import { installToEnd, RecoveryScratch } from '../support/recovery-harness';
import { loopUnavailableReason, run, tryRun } from '../support/loop';
import { ensureOciTestImage, ociImageUnavailable, type OciTestImage } from '../support/oci-test-image';
import { documentedStates, startServiceChild, type ServiceChild } from '../support/service-child';
import { countWhenPassed } from './counts';

// kill -9 of the real engine service during an oci-rootfs install: the Debian test image (the one the
// VM level boots) unpacked onto a loop device, its own GRUB and initramfs tools run from a chroot.
// Only this deployer has a separate boot-loader step, and it leaves the most behind: the target, the
// ESP inside it, and /dev, /proc, /sys and /run bound into it for the chroot. Nothing is faked.
/** The boot-loader step mounts the ESP: the running kernel must know vfat, built in or as a module it can load. */
function vfatUnmountable(): string | null {
  if (/\tvfat$/m.test(readFileSync('/proc/filesystems', 'utf8'))) return null;
  const release = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  if (['vfat.ko', 'vfat.ko.xz', 'vfat.ko.zst'].some((f) => existsSync(`/lib/modules/${release}/kernel/fs/fat/${f}`))) return null;
  return `this kernel (${release}) cannot mount vfat (not in /proc/filesystems, no module), and the boot-loader step mounts the ESP; the VM level's kernel can`;
}

const why = loopUnavailableReason(['sfdisk', 'mkfs.ext4', 'mkfs.vfat', 'wipefs', 'partx', 'blkid', 'chroot']) ?? vfatUnmountable() ?? ociImageUnavailable();
if (why) console.warn(`[security] oci-rootfs recovery tests skipped here: ${why} (test/vm/recovery-oci-rootfs.test.ts runs this file inside the VM level's guest)`);

const REPO = resolve(import.meta.dirname, '../..');
const HOSTNAME = 'recovered-rootfs';
const DOCUMENTED = documentedStates(REPO);
/**
 * How the engine service starts: from the sources through tsx, or from a bundle of them made for this
 * run when PARTICLE_ENGINE_CLI names one (test/vm/recovery-oci-rootfs.test.ts bundles src/cli/main.ts on
 * the host, because under TCG tsx needs about 50 s to compile the sources at each of the four starts).
 */
const ENGINE_ARGV = process.env.PARTICLE_ENGINE_CLI ? [process.env.PARTICLE_ENGINE_CLI] : ['--import', 'tsx', 'src/cli/main.ts'];

describe.skipIf(why !== null)('recovery after the engine is killed during an oci-rootfs install (root, loop devices, the Debian test image)', () => {
  let scratch: RecoveryScratch;
  let dir: string;
  let runRoot: string;
  let image: OciTestImage;

  beforeAll(async () => {
    scratch = RecoveryScratch.create('particle-recovery-rootfs-');
    dir = scratch.dir;
    runRoot = join(dir, 'run');
    // Built once and cached (the VM level builds the same one); a cold build takes a few minutes.
    image = await ensureOciTestImage((l) => console.log(`[security] ${l}`));
  }, 30 * 60_000);

  afterAll(() => scratch?.release());

  function startService(extra: Record<string, string> = {}): ServiceChild {
    const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
    if (!extra.PARTICLE_TEST_KILL_AFTER_STEP) delete env.PARTICLE_TEST_KILL_AFTER_STEP;
    const svc = startServiceChild(ENGINE_ARGV, runRoot, REPO, env);
    scratch.children.push(svc.child);
    return svc;
  }

  async function plan(client: LineClient, disk: string): Promise<Reply> {
    const request = {
      version: 1,
      disk: { path: disk },
      layout: { type: 'erase', filesystem: 'ext4', swap: 'none' },
      image: { reference: `${image.layout}:${image.ref}`, transport: 'oci' },
      deployer: 'oci-rootfs',
      hostname: HOSTNAME,
      users: [{ name: 'anna', password: 'a long enough password', admin: true }],
    };
    const r = await client.call('planInstall', { request }, 120_000);
    expect(r.error, JSON.stringify(r.error)).toBeUndefined();
    return r.result;
  }

  /** The installed root, mounted read-only, as `look` sees it. */
  function withRoot<T>(p: Reply, look: (mnt: string) => T): T {
    const root = (p.partitions as { path: string; mountpoint?: string }[]).find((x) => x.mountpoint === '/')!;
    run(['partx', '--update', p.disk.path]);
    const mnt = mkdtempSync(join(dir, 'look-'));
    run(['mount', '-o', 'ro', root.path, mnt]);
    try {
      return look(mnt);
    } finally {
      tryRun(['umount', mnt]);
      rmSync(mnt, { recursive: true, force: true });
    }
  }

  const facts = (p: Reply): { hostname: string | null; log: boolean; grubCfg: boolean; biosCore: boolean; efiLoader: boolean; staging: boolean } =>
    withRoot(p, (m) => ({
      hostname: existsSync(join(m, 'etc/hostname')) ? readFileSync(join(m, 'etc/hostname'), 'utf8') : null,
      log: existsSync(join(m, 'var/log/particle-installer/install.log')),
      grubCfg: existsSync(join(m, 'boot/grub/grub.cfg')),
      biosCore: existsSync(join(m, 'boot/grub/i386-pc/core.img')),
      efiLoader: existsSync(join(m, 'boot/grub/x86_64-efi')),
      staging: existsSync(join(m, '.particle-image')),
    }));

  async function recover(pid: number, stepId: string): Promise<ServiceChild> {
    const next = startService();
    await next.client.call('getInfo', {}, 120_000);
    expect(next.stderr()).toContain(`recovered after engine ${pid} stopped unexpectedly during step "${stepId}"`);
    expect(mountsUnder(runRoot), next.stderr()).toEqual([]);
    expect(readdirSync(runRoot).filter((f) => f.startsWith('engine-')), 'the dead engine’s state file is gone').toEqual([]);
    return next;
  }

  it('killed right after the boot-loader step: the target, its ESP and the chroot’s /dev, /proc, /sys and /run are released, and the disk is as docs/recovery.md says', async () => {
    expect(DOCUMENTED.get('bootloader')).toBe('configured');
    const disk = await scratch.usedDisk('kill-bootloader');
    const svc = startService({ PARTICLE_TEST_KILL_AFTER_STEP: 'bootloader' });
    const p = await plan(svc.client, disk);
    expect((p.steps as { id: string }[]).map((s) => s.id)).toContain('bootloader');
    const pid = svc.child.pid!;
    void svc.client.call('startInstall', { planId: p.id }).catch(() => {});
    // The engine kills itself after the step; an install that fails before it never gets there.
    const failed = (): Reply | undefined => svc.client.notifications.find((n) => n.params?.kind === 'failed')?.params;
    let ended: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    void svc.exited.then((x) => (ended = x));
    while (ended === null && failed() === undefined) await new Promise((r) => setTimeout(r, 200));
    expect(failed(), 'the install failed before the boot-loader step').toBeUndefined();
    expect(ended!.signal, `the engine was to kill itself after the boot-loader step: ${svc.stderr().slice(-3000)}`).toBe('SIGKILL');

    // What the dead engine left mounted: the target and everything the chroot needed inside it.
    const left = mountsUnder(runRoot);
    for (const inside of ['/boot/efi', '/dev', '/proc', '/sys', '/run']) {
      expect(left.some((m) => m.endsWith(`/target${inside}`)), `${inside} mounted in the target (${left.join(', ')})`).toBe(true);
    }

    const next = await recover(pid, 'bootloader');
    // configured, with its boot loader: users and host name written, GRUB installed, no install log yet.
    const f = facts(p);
    expect(f.hostname).toBe(`${HOSTNAME}\n`);
    expect(f.grubCfg, 'grub-mkconfig wrote the menu').toBe(true);
    expect(f.biosCore || f.efiLoader, 'grub-install put a loader in place').toBe(true);
    expect(f.log, 'no install log before finalize').toBe(false);
    expect(f.staging).toBe(false);
    await RecoveryScratch.stop(next);
    countWhenPassed('recovery-passed', 1);
  }, 15 * 60_000);

  it('killed in the middle of unpacking the image: released, and a new install on the same disk completes and keeps its log', async () => {
    const disk = await scratch.usedDisk('kill-unpack');
    const svc = startService();
    const p = await plan(svc.client, disk);
    const pid = svc.child.pid!;
    void svc.client.call('startInstall', { planId: p.id }).catch(() => {});
    // Wait until a tenth of the image is written (the deploy step reports its bytes).
    const deadline = Date.now() + 10 * 60_000;
    const midway = (): boolean => svc.client.notifications.some((n) => n.params?.kind === 'step-progress' && n.params.step === 'deploy' && n.params.fraction >= 0.1 && n.params.fraction < 0.9);
    while (Date.now() < deadline && !midway() && svc.child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    expect(midway(), `the unpack never reached a tenth: ${svc.stderr().slice(-2000)}`).toBe(true);
    svc.child.kill('SIGKILL');
    await svc.exited;
    expect(mountsUnder(runRoot).length, 'the dead engine left its target mounted').toBeGreaterThan(0);

    const next = await recover(pid, 'deploy');
    const fresh = await plan(next.client, disk);
    const state = await installToEnd(next.client, fresh.id, 12 * 60_000, 500);
    expect(state.outcome?.kind, JSON.stringify(state.outcome)).toBe('finished');
    const f = facts(fresh);
    expect(f.hostname).toBe(`${HOSTNAME}\n`);
    expect(f.log, 'finalize kept the install log in the system').toBe(true);
    expect(f.grubCfg).toBe(true);
    expect(spawnSync('findmnt', ['--source', disk], { encoding: 'utf8' }).stdout.trim(), 'nothing of the disk is mounted').toBe('');
    await RecoveryScratch.stop(next);
    countWhenPassed('recovery-passed', 1);
  }, 30 * 60_000);
});
