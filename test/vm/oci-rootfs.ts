import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { InstallPlan, ProgressEvent } from '../../src/shared';
import { ensureContainerStorage, ensureDockerArchive, ensureOciTestImage, STORED_REFERENCE, type OciTestImage } from '../support/oci-test-image';
import { bootDisk, bundleGuestScript, byLine, guestResults, runInVm, type BootDiskOptions, type BootedVm, type Firmware, type RunInVmResult } from './index';

/**
 * The oci-rootfs proof, shared by test/vm/oci-rootfs.test.ts and the bench: the real engine installs
 * the test image inside the VM onto blank virtio disks (from its OCI layout; encrypted, from its
 * docker archive), the CLI builds a qcow2 disk image with --target-image from local container
 * storage (staged by skopeo on the host, ensureContainerStorage), and each is then booted with OVMF and SeaBIOS.
 */

export const HOSTNAME = 'particle-oci';
export const IMAGE_HOSTNAME = 'particle-qcow';
export const USER = 'anna';
export const PASSWORD = 'Oci pass 4 anna!';

export const LUKS_PASSPHRASE = 'oci luks passphrase 7';

export interface EngineResult {
  variant: 'engine' | 'engine-luks';
  passphraseInLog?: boolean;
  exception?: string;
  dev: string;
  seconds: number;
  stepSeconds: Record<string, number>;
  deployProgressEvents: number;
  outcome: ProgressEvent | null;
  plan: InstallPlan | null;
  mountsLeft: string[];
  log?: string[];
  /** The encrypted install (systemd-boot): the Type #1 entries on its ESP, and files they name that are not there. */
  esp?: { entries: string[]; missing: string[] };
  facts?: {
    blkidRoot: Record<string, string>;
    blkidEsp: Record<string, string>;
    hostname: string | null;
    fstab: string | null;
    locale: string | null;
    keyboard: string | null;
    localtime: string | null;
    passwdLine: string | null;
    hashPrefix: string;
    hashVerifies: boolean;
    adminGroupLine: string | null;
    homeOwner: string | null;
    grubLinuxLines: string[];
    espFiles: string[];
    biosCore: boolean;
    initrds: number;
    initrdsRebuilt: number;
    present: Record<string, boolean>;
    absent: Record<string, boolean>;
    staging: boolean;
  };
}

export interface CliResult {
  variant: 'cli';
  exception?: string;
  steps: string[];
  exitCode: number | null;
  seconds: number;
  outcome: ProgressEvent | null;
  stderr: string;
  loopsLeft: string[];
  listing: string;
  info: { format: string; 'virtual-size': number } | null;
  mountsLeft: string[];
}

export interface OciVmRun {
  readonly image: OciTestImage;
  readonly vm: RunInVmResult;
  readonly engine: EngineResult | undefined;
  /** The same with the root in LUKS2 (xfs inside). */
  readonly engineLuks: EngineResult | undefined;
  readonly luksDisk: string;
  readonly cli: CliResult | undefined;
  /** The disk the engine installed to (raw), and the qcow2 image the CLI made. */
  readonly disk: string;
  readonly qcow2: string;
  /** What layer 2 of the test image must have done to the installed root. */
  readonly expectPresent: string[];
  readonly expectAbsent: string[];
  cleanup(): void;
}

/** Layer members (names without a leading ./) of one gzip layer blob. */
function members(blob: string): string[] {
  return execFileSync('tar', ['-tzf', blob], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
    .split('\n')
    .filter(Boolean)
    .map((n) => n.replace(/^\.\//, '').replace(/\/$/, ''));
}

/**
 * What layer 2 says about the result, read from the image itself rather than assumed: its files must
 * exist, what its whiteouts name must not, and the lower layer's entries under an opaque directory
 * must be gone while layer 2's own entries there stay.
 */
export function layerExpectations(img: OciTestImage): { present: string[]; absent: string[] } {
  const blob = (d: string): string => join(img.layout, 'blobs', 'sha256', d.replace(/^sha256:/, ''));
  const upper = members(blob(img.layerDigests[img.layerDigests.length - 1]!));
  const lower = new Set(members(blob(img.layerDigests[0]!)));
  const present: string[] = [];
  const absent: string[] = [];
  for (const m of upper) {
    const base = m.split('/').pop()!;
    const dir = m.slice(0, m.length - base.length).replace(/\/$/, '');
    if (base === '.wh..wh..opq') {
      for (const l of lower) if (l.startsWith(`${dir}/`) && !upper.includes(l)) absent.push(l);
    } else if (base.startsWith('.wh.')) {
      absent.push(dir ? `${dir}/${base.slice(4)}` : base.slice(4));
    } else {
      present.push(m);
    }
  }
  return { present, absent };
}

/**
 * The encrypted install is opt-in: under TCG every byte written through dm-crypt is encrypted by an
 * emulated CPU, which makes that install take about 4 minutes more, and its boot 1.5 (measured).
 */
/**
 * Builds (or reuses) the test image, then installs it inside one VM started with UEFI (so the plans
 * are a UEFI machine's, and systemd-boot can be chosen): engine, CLI disk image, and encrypted with
 * systemd-boot.
 */
export async function installOciInVm(
  log: (line: string) => void = (l) => console.log(`[vm] ${l}`),
  variants: readonly string[] = ['engine', 'cli', 'engine-luks'],
): Promise<OciVmRun> {
  const image = await ensureOciTestImage(log);
  const archive = await ensureDockerArchive(image);
  const storage = variants.includes('cli') ? await ensureContainerStorage(image) : null;
  const work = mkdtempSync(join(tmpdir(), 'particle-oci-vm-'));
  const out = join(work, 'out');
  execFileSync('mkdir', ['-p', out]);
  const { present, absent } = layerExpectations(image);
  const input = {
    hostname: HOSTNAME,
    imageHostname: IMAGE_HOSTNAME,
    user: USER,
    password: PASSWORD,
    layout: `/oci/${relative(image.dir, image.layout)}`,
    dockerArchive: `/oci/${relative(image.dir, archive)}`,
    checkPresent: present,
    checkAbsent: absent,
    variants,
    cli: await bundleGuestScript('cli', 'src/cli/main.ts'),
    stored: STORED_REFERENCE,
  };
  const json = JSON.stringify(input);
  if (json.includes("'")) throw new Error('the guest input must not contain a single quote');
  const vm = await runInVm(`HOME=/tmp node ${await bundleGuestScript('install-oci')} '${json}'`, {
    disks: [
      { serial: 'oci-disk', size: '6G' },
      { serial: 'oci-luks', size: '6G' },
      { serial: 'scratch', size: '12G' },
      ...(storage ? [{ serial: 'containers', path: storage, snapshot: true }] : []),
    ],
    shares: [
      { path: image.dir, tag: 'oci' },
      { path: out, tag: 'out', writable: true },
    ],
    memoryMiB: 3072,
    workDir: work,
    firmware: 'uefi',
    timeoutMs: 45 * 60_000,
    onOutput: byLine((l) => {
      if (l.startsWith('[guest')) log(l.trim());
    }),
  });
  const r = guestResults<{ variant: string }>(vm.output);
  return {
    image,
    vm,
    engine: r.get('engine') as EngineResult | undefined,
    engineLuks: r.get('engine-luks') as EngineResult | undefined,
    luksDisk: vm.diskFiles[1]!,
    cli: r.get('cli') as CliResult | undefined,
    disk: vm.diskFiles[0]!,
    qcow2: join(out, 'disk.qcow2'),
    expectPresent: present,
    expectAbsent: absent,
    cleanup: () => rmSync(work, { recursive: true, force: true }),
  };
}

export interface LoginReport {
  readonly firmware: Firmware;
  readonly accel: 'kvm' | 'tcg';
  readonly loginPromptSeconds: number;
  readonly hostname: string;
  readonly whoami: string;
  readonly firmwareSeen: string;
}

/** Boots an installed disk to its login prompt (at most `timeoutMs`), logs in as the created user and asks a few things. */
export async function bootAndLogin(
  disk: string,
  firmware: Firmware,
  o: {
    format?: 'raw' | 'qcow2';
    timeoutMs?: number;
    /** The passphrase, typed on the serial console when the initramfs asks for it there. */
    unlock?: string;
    /**
     * Or: the guest gets a screen (`display`) and this unlocks the disk on it, from the moment QEMU
     * starts (the prompt is on the screen, /dev/console, not on the serial line); the login then
     * comes on the serial console.
     */
    unlockOnScreen?: { display: NonNullable<BootDiskOptions['display']>; unlock: (vm: BootedVm) => Promise<void> };
    password?: string;
    more?: (vm: BootedVm) => Promise<void>;
  } = {},
): Promise<LoginReport> {
  const limit = o.timeoutMs ?? 120_000;
  // An encrypted root: the initramfs asks for the passphrase on the console first.
  const pattern = o.unlockOnScreen ? /(?:)/ : o.unlock ? /Please unlock disk [^\n]*: ?$/m : undefined;
  const boot = () =>
    bootDisk(disk, { firmware, timeoutMs: limit, ...(o.format ? { format: o.format } : {}), ...(pattern ? { pattern } : {}), ...(o.unlockOnScreen ? { display: o.unlockOnScreen.display } : {}) });
  let vm: BootedVm;
  try {
    vm = await boot();
  } catch (e) {
    // Under TCG the guest kernel panics now and then in its first seconds, inside the emulated CPU
    // (seen in sched_init_debug, before any of the installed system ran): boot once more. Any other
    // failure, or a second panic, is the test's.
    if (!/Kernel panic - not syncing/.test((e as Error).message)) throw e;
    console.warn(`[vm] ${firmware}: the guest kernel panicked while starting (an emulation fault); booting once more`);
    vm = await boot();
  }
  let loginAt = vm.bootSeconds;
  try {
    if (o.unlockOnScreen) {
      const started = performance.now();
      await o.unlockOnScreen.unlock(vm);
      await vm.waitFor(/login: $/m, limit);
      loginAt = (performance.now() - started) / 1000;
    } else if (o.unlock) {
      const asked = performance.now();
      vm.send(`${o.unlock}\n`);
      await vm.waitFor(/login: $/m, Math.max(1000, limit - vm.bootSeconds * 1000));
      loginAt = vm.bootSeconds + (performance.now() - asked) / 1000;
    }
    await vm.login(USER, o.password ?? PASSWORD);
    const hostname = (await vm.run('hostname')).output.trim();
    const whoami = (await vm.run('id -un')).output.trim();
    const firmwareSeen = (await vm.run('test -d /sys/firmware/efi && echo uefi || echo bios')).output.trim();
    // The harness reads a failing command's status, not only its output.
    const status = (await vm.run('false')).exitCode;
    if (status !== 1) throw new Error(`\`false\` on the booted system's serial console returned ${status}, not 1`);
    await o.more?.(vm);
    return { firmware, accel: vm.accel, loginPromptSeconds: loginAt, hostname, whoami, firmwareSeen };
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- console ---\n${vm.transcript().slice(-4000)}`);
  } finally {
    await vm.stop();
  }
}
