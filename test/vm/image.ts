import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, copyFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './proc';
import { cacheHome } from '../support/cache-home';

/**
 * The test VM image: Debian (trixie unless PARTICLE_VM_SUITE says otherwise) built with mmdebstrap,
 * with a kernel, systemd, every tool the engine calls, GRUB and systemd-boot binaries, podman,
 * skopeo and Node. Kept in a cache folder named by a hash of this recipe, so it is rebuilt only when
 * the recipe (this file's package list and hooks, or the guest init) changes.
 */

export const GUEST_PACKAGES = [
  'linux-image-amd64', 'systemd-sysv', 'udev', 'kmod', 'procps', 'iproute2',
  'util-linux', 'fdisk', 'gdisk', 'parted', 'dosfstools', 'mtools', 'e2fsprogs', 'xfsprogs', 'btrfs-progs',
  'cryptsetup', 'lvm2', 'mdadm', 'tpm2-tools',
  'grub-common', 'grub2-common', 'grub-efi-amd64-bin', 'grub-pc-bin', 'systemd-boot-efi', 'efibootmgr',
  'podman', 'skopeo', 'ostree', 'nodejs', 'zstd', 'rsync', 'qemu-utils', 'policycoreutils',
] as const;

const HERE = new URL('.', import.meta.url).pathname;
const INIT = join(HERE, 'guest/particle-vm-init');
/** Root password of the test image (a throwaway VM, never shipped). */
export const GUEST_ROOT_PASSWORD = 'particle';
const ROOT_SIZE = '6G';

export interface VmImage {
  readonly dir: string;
  readonly kernel: string;
  readonly initrd: string;
  /** ext4 root filesystem image; VMs open it with snapshot=on so it never changes. */
  readonly root: string;
}

export interface BuildReport {
  readonly image: VmImage;
  /** Seconds spent building, or 0 when the cached image was used. */
  readonly buildSeconds: number;
  readonly cached: boolean;
}

function suite(): string {
  return process.env.PARTICLE_VM_SUITE ?? 'trixie';
}

/**
 * A test image's mmdebstrap argv: root mode into a directory, the packages, no manual pages,
 * documentation (but the copyright files) or translations, then the image's own hooks. The suite is
 * trixie unless PARTICLE_VM_SUITE says otherwise; the mirror is mmdebstrap's default unless
 * PARTICLE_VM_MIRROR is set.
 */
export function mmdebstrapCommand(o: { variant: string; packages: readonly string[]; hooks: readonly string[]; target: string }): string[] {
  const argv = [
    'mmdebstrap',
    `--variant=${o.variant}`,
    '--mode=root',
    '--format=directory',
    `--include=${o.packages.join(',')}`,
    '--dpkgopt=path-exclude=/usr/share/man/*',
    '--dpkgopt=path-exclude=/usr/share/doc/*',
    '--dpkgopt=path-include=/usr/share/doc/*/copyright',
    '--dpkgopt=path-exclude=/usr/share/locale/*',
    ...o.hooks.map((h) => `--customize-hook=${h}`),
    suite(),
    o.target,
  ];
  if (process.env.PARTICLE_VM_MIRROR) argv.push(process.env.PARTICLE_VM_MIRROR);
  return argv;
}

/** The mmdebstrap argv for the recipe. */
export function mmdebstrapArgv(target: string): string[] {
  return mmdebstrapCommand({
    variant: 'important',
    packages: GUEST_PACKAGES,
    hooks: [
      'upload ' + INIT + ' /usr/local/sbin/particle-vm-init',
      'chmod 0755 "$1/usr/local/sbin/particle-vm-init"',
      `echo root:${GUEST_ROOT_PASSWORD} | chroot "$1" chpasswd`,
      'echo particle-vm > "$1/etc/hostname"',
      // An fstab for the root, should a guest ever boot this tree with systemd rather than the init script.
      'printf "/dev/vda / ext4 rw 0 1\\n" > "$1/etc/fstab"',
      'rm -rf "$1/var/cache/apt/archives/"*.deb "$1/var/lib/apt/lists/"*_Packages',
    ],
    target,
  });
}

/** Bump to force a rebuild when something outside the argv and the init script changes the image. */
const RECIPE_VERSION = 1;

/** Hash of everything that decides the image's content: the mmdebstrap argv, the guest init, the size. */
export function recipeHash(): string {
  const h = createHash('sha256');
  // Without the checkout's own path, so every clone of the same recipe shares one cached image.
  h.update(JSON.stringify([RECIPE_VERSION, ROOT_SIZE, mmdebstrapArgv('TARGET')]).split(HERE).join('<here>/'));
  h.update(readFileSync(INIT));
  return h.digest('hex').slice(0, 16);
}

export function cacheRoot(): string {
  const base = cacheHome();
  return join(base, 'particle-installer', 'vm');
}

function imageAt(dir: string): VmImage {
  return { dir, kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.img'), root: join(dir, 'root.img') };
}

/** Why the VM level cannot run on this machine, or null when it can. */
export function vmUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'the VM image is built with mmdebstrap as root; run the tests as root';
  for (const tool of ['qemu-system-x86_64', 'mmdebstrap', 'mkfs.ext4']) {
    if (!(process.env.PATH ?? '').split(':').some((d) => existsSync(join(d, tool)))) return `${tool} is not installed (scripts/setup-debian.sh installs it)`;
  }
  return null;
}

/**
 * Returns the cached image, building it first when the recipe changed. Concurrent callers wait for
 * one build (a lock directory), and a half-built image is never used (built in a temp dir, renamed).
 */
export async function ensureVmImage(log: (line: string) => void = () => {}): Promise<BuildReport> {
  const root = cacheRoot();
  const dir = join(root, recipeHash());
  if (existsSync(join(dir, 'ready'))) return { image: imageAt(dir), buildSeconds: 0, cached: true };
  mkdirSync(root, { recursive: true });
  const lock = `${dir}.lock`;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another process builds it; a lock older than an hour is a dead build's.
      if (Date.now() - statSync(lock).mtimeMs > 3600_000) rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 2000));
      if (existsSync(join(dir, 'ready'))) return { image: imageAt(dir), buildSeconds: 0, cached: true };
    }
  }
  const started = performance.now();
  const work = `${dir}.build`;
  try {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    const rootfs = join(work, 'rootfs');
    log(`building the VM image (${suite()}) with mmdebstrap; this takes a few minutes once`);
    await run(mmdebstrapArgv(rootfs), { timeoutMs: 40 * 60_000 });
    const boot = readdirSync(join(rootfs, 'boot'));
    const kernel = boot.find((f) => f.startsWith('vmlinuz-'));
    const initrd = boot.find((f) => f.startsWith('initrd.img-'));
    if (!kernel || !initrd) throw new Error('the VM image has no kernel or initrd in /boot');
    copyFileSync(join(rootfs, 'boot', kernel), join(work, 'vmlinuz'));
    copyFileSync(join(rootfs, 'boot', initrd), join(work, 'initrd.img'));
    await run(['truncate', '-s', ROOT_SIZE, join(work, 'root.img')]);
    await run(['mkfs.ext4', '-q', '-F', '-L', 'particle-vm', '-d', rootfs, join(work, 'root.img')], { timeoutMs: 20 * 60_000 });
    rmSync(rootfs, { recursive: true, force: true });
    writeFileSync(join(work, 'build-seconds'), `${((performance.now() - started) / 1000).toFixed(1)}\n`);
    writeFileSync(join(work, 'ready'), `${new Date().toISOString()}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(work, dir);
    // Old images of earlier recipes are only disk space now.
    for (const other of readdirSync(root)) if (other !== recipeHash() && !other.endsWith('.lock')) rmSync(join(root, other), { recursive: true, force: true });
  } catch (e) {
    rmSync(work, { recursive: true, force: true });
    throw e;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  const buildSeconds = (performance.now() - started) / 1000;
  log(`VM image built in ${buildSeconds.toFixed(0)} s`);
  return { image: imageAt(dir), buildSeconds, cached: false };
}
