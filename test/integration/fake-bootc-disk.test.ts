import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BootcProgress } from '../../src/engine/deploy/progress';
import { FAKE_BIN, fakeEnv, podmanRunPrefix, runFake, spawnFake } from '../fakes';
import { attachLoop, ensurePartitionNode, loopUnavailableReason, run, sparseFile, tryRun } from '../support/loop';

/**
 * The contract fake on real loop devices, against bootc's source (bootc-dev/bootc 534c76ea; see
 * test/fakes/README.md): to-filesystem onto a partitioned disk with an ESP, the kernel arguments
 * and origin bootc derives, its refusals in its order, --replace=alongside, injected failures, and
 * to-disk's own layout. Every loop device and mount is undone in afterEach, also when a test fails.
 */

const skipReason = loopUnavailableReason(['sfdisk', 'partx', 'mkfs.ext4', 'mkfs.vfat', 'mkfs.xfs', 'blkid', 'mount', 'umount', 'findmnt', 'fstrim', 'lsblk']);
if (skipReason) console.warn(`[unit] fake-bootc-disk skipped: ${skipReason}`);
const noBtrfs = skipReason ?? loopUnavailableReason(['mkfs.btrfs', 'btrfs']);
if (noBtrfs && !skipReason) console.warn(`[unit] fake-bootc-disk btrfs case skipped: ${noBtrfs}`);

const GiB = 1024 ** 3;
const IMAGE = 'quay.io/example/os:42';
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl admin@example.org';
const ESP = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';
const ROOT = '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709';
const BIOS = '21686148-6449-6E6F-744E-656564454649';

let dir = '';
let disk = '';
let mnt = '';
const loops: string[] = [];
const envFor = (extra: Record<string, string> = {}) => fakeEnv({ storage: join(dir, 'storage'), extra });

/**
 * What the host form reads from the installing machine's `/` (prepare-root.conf) and its PATH
 * (bootupctl), played by a directory and a stub: PARTICLE_FAKE_HOST_ROOT and a PATH entry.
 */
function hostForm(extra: Record<string, string> = {}, { prepareRoot = true, bootupctl = true } = {}) {
  const root = join(dir, 'host-root');
  const bin = join(dir, 'host-bin');
  rmSync(root, { recursive: true, force: true });
  rmSync(bin, { recursive: true, force: true });
  mkdirSync(join(root, 'usr/lib/ostree'), { recursive: true });
  mkdirSync(bin);
  if (prepareRoot) writeFileSync(join(root, 'usr/lib/ostree/prepare-root.conf'), '[composefs]\nenabled = yes\n');
  if (bootupctl) writeFileSync(join(bin, 'bootupctl'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  return envFor({ PARTICLE_FAKE_HOST_ROOT: root, PATH: [FAKE_BIN, bin, process.env.PATH ?? ''].join(delimiter), ...extra });
}

beforeEach(() => {
  if (skipReason) return;
  dir = mkdtempSync(join(tmpdir(), 'fake-bootc-disk-'));
  chmodSync(dir, 0o755);
  sparseFile(join(dir, 'disk.img'), 2 * GiB);
  disk = attachLoop(join(dir, 'disk.img'));
  loops.push(disk);
  mnt = join(dir, 'mnt');
  mkdirSync(mnt);
});

afterEach(() => {
  if (skipReason) return;
  for (const m of ['boot/efi', 'boot', ''].map((s) => join(mnt, s))) {
    if (tryRun(['mountpoint', '-q', m]) && !tryRun(['umount', m])) tryRun(['umount', '-l', m]);
  }
  for (const l of loops.splice(0)) {
    // Partitions the kernel was told about stay on a loop device after it is detached; bootc reads
    // them (lsblk) as existing partitions, so drop them first.
    tryRun(['partx', '--delete', l]);
    tryRun(['losetup', '-d', l]);
  }
  rmSync(dir, { recursive: true, force: true });
});

/** The installer's own layout for to-filesystem: BIOS boot, ESP (vfat), root (ext4) mounted on mnt. */
async function prepareDisk(espType = ESP, fs: 'ext4' | 'btrfs' = 'ext4'): Promise<{ esp: string; root: string }> {
  run(['sfdisk', '--quiet', disk], `label: gpt\nsize=1MiB, type=${BIOS}\nsize=64MiB, type=${espType}\ntype=${ROOT}\n`);
  const root = await ensurePartitionNode(disk, 3);
  const esp = await ensurePartitionNode(disk, 2);
  run(['mkfs.vfat', esp]);
  if (fs === 'btrfs') {
    run(['mkfs.btrfs', '-q', '-f', root]);
    run(['mount', root, mnt]);
    run(['btrfs', 'subvolume', 'create', join(mnt, '@')]);
    run(['umount', mnt]);
    run(['mount', '-o', 'subvol=@', root, mnt]);
  } else {
    run(['mkfs.ext4', '-q', '-F', root]);
    run(['mount', root, mnt]);
  }
  return { esp, root };
}

function remakeRoot(root: string): void {
  run(['umount', mnt]);
  run(['mkfs.ext4', '-q', '-F', root]);
  run(['mount', root, mnt]);
}

const uuidOf = (dev: string) => run(['blkid', '-p', '-o', 'value', '-s', 'UUID', dev]).trim();

const toFilesystem = (args: string[], extra: Record<string, string> = {}, volumes: string[] = []) =>
  runFake('podman', [...podmanRunPrefix(mnt, IMAGE, volumes), 'bootc', 'install', 'to-filesystem', ...args, '/target'], envFor(extra));

const deployment = (root: string) => {
  const base = join(root, 'ostree/deploy/default/deploy');
  const name = readdirSync(base).find((n) => /^[0-9a-f]{64}\.0$/.test(n));
  if (!name) throw new Error(`no deployment under ${base}`);
  return join(base, name);
};

const aleph0 = (root: string) => (JSON.parse(readFileSync(join(root, '.bootc-aleph.json'), 'utf8')) as { digest: string }).digest.replace(/^sha256:/, '');
const options = () => /^options (.*)$/m.exec(readFileSync(join(mnt, 'boot/loader/entries/ostree-1.conf'), 'utf8'))![1]!;
const origin = () => /^container-image-reference=(.*)$/m.exec(readFileSync(`${deployment(mnt)}.origin`, 'utf8'))![1]!;

describe.skipIf(skipReason)('to-filesystem on a loop device', { timeout: 60_000 }, () => {
  it('writes the deployment, loader entry with kargs, aleph and keys; stays writable with --skip-finalize', async () => {
    const { root } = await prepareDisk();
    writeFileSync(join(dir, 'keys'), `${KEY}\n`);
    const r = toFilesystem(
      ['--skip-finalize', '--karg', 'console=tty0', '--karg', 'console=ttyS0', '--karg=rd.luks.uuid=abc', '--root-ssh-authorized-keys', '/run/keys', '--target-imgref', 'registry.example.org/os:1'],
      {},
      [`${join(dir, 'keys')}:/run/keys:ro`],
    );
    expect(r.stderr).toContain('Trying to pull quay.io/example/os:42...');
    expect(r.code).toBe(0);
    const out = r.stdout.trim().split('\n');
    // install.rs:1705: the target reference, not the source.
    expect(out[0]).toBe('Installing image: docker://registry.example.org/os:1');
    expect(out[1]).toMatch(/^Digest: sha256:[0-9a-f]{64}$/);
    expect(out).toContain('Injected: etc/tmpfiles.d/bootc-root-ssh.conf');
    expect(out).not.toContain('Trimming root');
    // The spinner is on stderr, as two writes that make one line (utils.rs:176-189).
    expect(r.stderr).toMatch(/^Deploying container image\.\.\.done \(\d+ seconds?\)$/m);
    expect(r.stdout).not.toContain('Deploying container image');
    const progress = new BootcProgress();
    const updates = out.flatMap((l) => progress.line(l) ?? []);
    expect(updates.at(-1)).toMatchObject({ stage: 'complete', fraction: 1 });
    // 2 MiB of payload, announced the way glib's g_format_size rounds it: "2.1 MB".
    expect(updates.at(-1)!.totalBytes).toBe(2.1e6);

    // Both console= kept, in order: bootc hands ostree the whole list (install.rs:1144-1190).
    expect(options()).toMatch(new RegExp(`^root=UUID=${uuidOf(root)} rw console=tty0 console=ttyS0 rd\\.luks\\.uuid=abc ostree=`));
    expect(readFileSync(join(mnt, 'boot/loader/entries/ostree-1.conf'), 'utf8')).toMatch(/^linux \/boot\/ostree\/default-[0-9a-f]{64}\/vmlinuz-/m);
    expect(readdirSync(join(mnt, 'boot/loader/entries'))).toEqual(['ostree-1.conf']);
    const dep = deployment(mnt);
    // A real ostree sysroot: ostree itself finds the deployment, lists it, and holds the image's
    // commit under the ref ostree-ext names a pulled image by (refescape.rs, store.rs:168-201).
    expect(run(['ostree', 'admin', `--sysroot=${mnt}`, '--print-current-dir']).trim()).toBe(dep);
    expect(run(['ostree', 'admin', `--sysroot=${mnt}`, 'status'])).toMatch(/^ {2}default [0-9a-f]{64}\.0$/m);
    expect(run(['ostree', `--repo=${mnt}/ostree/repo`, 'refs']).trim().split('\n')).toContain(`ostree/container/image/containers-storage_3A_quay_2E_io/example/os_3A_42_40_sha256_3A_${aleph0(mnt)}`);
    expect(run(['ostree', `--repo=${mnt}/ostree/repo`, 'config', 'get', 'sysroot.bootprefix']).trim()).toBe('true');
    // The deployment is not immutable: the configure step writes next to it.
    expect(run(['lsattr', '-d', dep]).split(/\s/)[0]).not.toContain('i');
    expect(readFileSync(join(dep, 'etc/passwd'), 'utf8')).toMatch(/^root:x:0:0:/);
    for (const f of ['etc/group', 'etc/shadow', 'etc/gshadow', 'usr/lib/os-release', 'etc/os-release']) expect(existsSync(join(dep, f))).toBe(true);
    expect(readFileSync(join(dep, 'usr/lib/os-release'), 'utf8')).toContain('NAME="Particle Test OS"');
    expect(readdirSync(join(dep, 'var'))).toEqual([]);
    expect(existsSync(join(mnt, 'ostree/deploy/default/var/home'))).toBe(true);
    expect(existsSync(join(mnt, 'ostree/deploy/default/var/roothome'))).toBe(true);
    expect(readFileSync(join(mnt, 'ostree/repo/config'), 'utf8')).toContain('[core]');
    // osconfig.rs:14-51: one f~ line holding the file as given.
    expect(readFileSync(join(dep, 'etc/tmpfiles.d/bootc-root-ssh.conf'), 'utf8')).toBe(`f~ /var/roothome/.ssh/authorized_keys 600 root root - ${Buffer.from(`${KEY}\n`).toString('base64')}\n`);
    const aleph = JSON.parse(readFileSync(join(mnt, '.bootc-aleph.json'), 'utf8'));
    expect(aleph).toMatchObject({ selinux: 'disabled', 'target-image': 'registry.example.org/os:1', digest: out[1]!.slice('Digest: '.length) });
    expect(aleph.image).toBe(`${IMAGE}@${aleph.digest}`);
    expect(origin()).toBe('ostree-unverified-registry:registry.example.org/os:1');
    writeFileSync(join(mnt, 'still-writable'), 'yes');
  });

  it('derives root= as bootc does: the spec alone, nothing for an empty spec, boot= and the /boot fstab line for a boot spec', async () => {
    const { root } = await prepareDisk();
    expect(toFilesystem(['--skip-finalize', '--root-mount-spec=LABEL=root', '--boot-mount-spec=UUID=abcd-ef']).code).toBe(0);
    expect(options()).toMatch(/^root=LABEL=root rw boot=UUID=abcd-ef ostree=/);
    expect(readFileSync(join(deployment(mnt), 'etc/fstab'), 'utf8')).toBe('UUID=abcd-ef /boot auto ro 0 0\n');
    remakeRoot(root);
    expect(toFilesystem(['--skip-finalize', '--root-mount-spec=', '--karg', 'quiet']).code).toBe(0);
    expect(options()).toMatch(/^rw quiet ostree=/);
    remakeRoot(root);
    // A /boot spec that is not UUID= is refused (install.rs:1316-1319), after the root checks.
    const label = toFilesystem(['--skip-finalize', '--boot-mount-spec=LABEL=boot']);
    expect(label.code).toBe(1);
    expect(label.stderr.trim().split('\n').at(-1)).toBe('error: Installing to filesystem: /boot is not specified via UUID= (this is currently required)');
  });

  it.skipIf(noBtrfs)('btrfs on a subvolume: rootflags=subvol= from findmnt (with its slash) only without --root-mount-spec', async () => {
    const { root } = await prepareDisk(ESP, 'btrfs');
    expect(toFilesystem(['--skip-finalize']).code).toBe(0);
    expect(options()).toMatch(new RegExp(`^root=UUID=${uuidOf(root)} rootflags=subvol=/@ rw ostree=`));
    run(['umount', mnt]);
    run(['mount', root, mnt]);
    run(['btrfs', 'subvolume', 'create', join(mnt, '@2')]);
    run(['umount', mnt]);
    run(['mount', '-o', 'subvol=@2', root, mnt]);
    expect(toFilesystem(['--skip-finalize', `--root-mount-spec=UUID=${uuidOf(root)}`]).code).toBe(0);
    expect(options()).toMatch(new RegExp(`^root=UUID=${uuidOf(root)} rw ostree=`));
  });

  it('writes the origin from --target-transport and --enforce-container-sigpolicy whatever the source transport was', async () => {
    const { root } = await prepareDisk();
    expect(runFake('podman', ['pull', '-q', IMAGE], envFor()).code).toBe(0);
    // Host form from containers-storage: the target is a registry reference by default (install.rs:1631-1644).
    const cs = runFake('bootc', ['install', 'to-filesystem', '--skip-finalize', `--source-imgref=containers-storage:${IMAGE}`, mnt], hostForm());
    expect(cs.code, cs.stderr).toBe(0);
    expect(cs.stdout.split('\n')[0]).toBe(`Installing image: docker://${IMAGE}`);
    expect(cs.stdout).not.toContain('Digest:');
    expect(origin()).toBe(`ostree-unverified-registry:${IMAGE}`);
    remakeRoot(root);
    const signed = toFilesystem(['--skip-finalize', '--enforce-container-sigpolicy']);
    expect(signed.stdout.split('\n')[0]).toBe(`Installing image: ostree-image-signed:docker://${IMAGE}`);
    expect(origin()).toBe(`ostree-image-signed:docker://${IMAGE}`);
    remakeRoot(root);
    const oci = toFilesystem(['--skip-finalize', '--target-transport=oci', '--target-imgref=/var/lib/os.oci']);
    expect(oci.stdout.split('\n')[0]).toBe('Installing image: ostree-unverified-image:oci:/var/lib/os.oci');
    expect(origin()).toBe('ostree-unverified-image:oci:/var/lib/os.oci');
  });

  it('finalizes (fstrim, read-only remount) without --skip-finalize; host form with --source-imgref', async () => {
    await prepareDisk();
    const r = runFake('bootc', ['install', 'to-filesystem', '--source-imgref', 'docker://registry.example.org/os:1', '--root-mount-spec=LABEL=root', mnt], hostForm());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\nTrimming root\n\.: .* trimmed\nFinalizing filesystem root\nInstallation complete!\n$/);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).toMatch(new RegExp(` ${mnt} ro[, ]`));
    expect(options()).toMatch(/^root=LABEL=root rw ostree=/);
  });

  it("host form: prepare-root.conf and bootupctl come from the installing machine, and bootc fails without them", async () => {
    await prepareDisk();
    const args = ['install', 'to-filesystem', '--skip-finalize', '--source-imgref', `docker://${IMAGE}`, mnt];
    const noConf = runFake('bootc', args, hostForm({}, { prepareRoot: false }));
    expect(noConf.code).toBe(1);
    expect(noConf.stdout).toBe(`Installing image: docker://${IMAGE}\n`);
    expect(noConf.stderr).toBe('error: Installing to filesystem: Failed to find ostree/prepare-root.conf in /usr/lib or /etc\n');
    const noBootupd = runFake('bootc', args, hostForm({}, { bootupctl: false }));
    expect(noBootupd.code).toBe(1);
    expect(noBootupd.stdout.trim().split('\n').at(-1)).toBe('Bootloader: systemd');
    expect(noBootupd.stderr.trim().split('\n').at(-1)).toBe('error: Installing to filesystem: bootupd is required for ostree-based installs');
  });

  it('refuses a non-empty root with bootc messages: a file, an empty unmounted boot, an entry under a directory; not a non-mountpoint', async () => {
    const { root } = await prepareDisk();
    const last = (r: { stderr: string }) => r.stderr.trim().split('\n').at(-1);
    writeFileSync(join(mnt, 'x'), '');
    const file = toFilesystem([]);
    expect(file.code).toBe(1);
    expect(last(file)).toBe('error: Installing to filesystem: Verifying empty rootfs: Non-empty root filesystem; found "x"');
    // The check runs after "Installing image:" (prepare_install comes first, install.rs:2558-2584).
    expect(file.stdout.split('\n')[0]).toBe(`Installing image: docker://${IMAGE}`);
    remakeRoot(root);
    mkdirSync(join(mnt, 'boot'));
    expect(last(toFilesystem([]))).toBe('error: Installing to filesystem: Verifying empty rootfs: Requiring directory contains only mount points: Found empty directory: boot');
    remakeRoot(root);
    mkdirSync(join(mnt, 'var/lib'), { recursive: true });
    writeFileSync(join(mnt, 'var/lib/x'), '');
    expect(last(toFilesystem([]))).toBe(
      'error: Installing to filesystem: Verifying empty rootfs: Requiring directory contains only mount points: Requiring directory contains only mount points: Found entry in lib: x',
    );
    // A read-only target is not refused up front (bootc checks no such thing).
    remakeRoot(root);
    const plain = join(dir, 'plain');
    mkdirSync(plain);
    const n = runFake('podman', [...podmanRunPrefix(plain, IMAGE), 'bootc', 'install', 'to-filesystem', '/target'], envFor());
    expect(n.code).toBe(1);
    expect(n.stderr).toContain('error: Installing to filesystem: Not a mountpoint: /target');
  });

  it("checks the container (privileges, PID namespace, user namespace) after the target, in bootc's order", async () => {
    await prepareDisk();
    const prefix = podmanRunPrefix(mnt, IMAGE);
    const cmd = ['bootc', 'install', 'to-filesystem', '--skip-finalize', '/target'];
    const noPriv = runFake('podman', [...prefix.filter((a) => a !== '--privileged' && a !== '--pid=host'), ...cmd], envFor());
    expect(noPriv.stderr.trim().split('\n').at(-1)).toBe('error: Installing to filesystem: Querying root privilege: The container must be executed with full privileges (e.g. --privileged flag)');
    const noPid = runFake('podman', [...prefix.filter((a) => a !== '--pid=host'), ...cmd], envFor());
    expect(noPid.stderr.trim().split('\n').at(-1)).toBe('error: Installing to filesystem: This command must be run with the podman --pid=host flag');
    expect(noPid.stdout).toBe('');
    // Rootless podman: its user namespace shows /proc/1 as the overflow uid (install.rs:1454-1470).
    const rootless = spawnSync(join(FAKE_BIN, 'podman'), [...prefix, ...cmd], { env: { ...envFor(), PARTICLE_FAKE_LOG: '' }, encoding: 'utf8', uid: 65534, gid: 65534, cwd: '/' });
    if (rootless.status === 126 || rootless.status === 127 || /EACCES|Permission denied/.test(rootless.stderr ?? '')) {
      console.warn(`[unit] fake-bootc-disk: rootless check skipped: uid 65534 cannot run the fake here (${(rootless.stderr ?? '').trim().split('\n')[0]})`);
      return;
    }
    expect(rootless.status).toBe(1);
    expect(rootless.stderr.trim().split('\n').at(-1)).toBe(
      'error: Installing to filesystem: /proc/1 is owned by 65534, not zero; this command must be run in the root user namespace (e.g. not rootless podman)',
    );
  });

  it('--replace=alongside empties /boot, mounts the unmounted ESP at boot/efi and empties it; keeps the rest', async () => {
    const { esp } = await prepareDisk();
    // mount_esp_part mounts whatever the ESP-type partition holds; ext4 stands in for vfat, which
    // test kernels may lack. --bootloader=none: bootupd would want a vfat ESP.
    run(['mkfs.ext4', '-q', '-F', esp]);
    // Another system's boot loader on the shared ESP, and its files in /boot and elsewhere.
    const espMnt = join(dir, 'esp');
    mkdirSync(espMnt);
    run(['mount', esp, espMnt]);
    mkdirSync(join(espMnt, 'EFI/Microsoft/Boot'), { recursive: true });
    writeFileSync(join(espMnt, 'EFI/Microsoft/Boot/bootmgfw.efi'), 'windows');
    run(['umount', espMnt]);
    mkdirSync(join(mnt, 'boot/efi'), { recursive: true });
    mkdirSync(join(mnt, 'boot/loader/entries'), { recursive: true });
    writeFileSync(join(mnt, 'boot/vmlinuz-old'), 'old kernel');
    writeFileSync(join(mnt, 'boot/loader/entries/old.conf'), 'title old');
    mkdirSync(join(mnt, 'home/anna'), { recursive: true });
    writeFileSync(join(mnt, 'home/anna/keep-me'), 'mine');

    const r = toFilesystem(['--replace=alongside', '--root-mount-spec=LABEL=root', '--bootloader=none']);
    expect(r.code, r.stderr).toBe(0);
    // bootc prints nothing about it, and never finalizes alongside (install.rs:2713-2714).
    expect(r.stdout).not.toMatch(/EFI|Wiping|Trimming/);
    expect(existsSync(join(mnt, 'boot/vmlinuz-old'))).toBe(false);
    expect(existsSync(join(mnt, 'boot/loader/entries/old.conf'))).toBe(false);
    expect(readFileSync(join(mnt, 'home/anna/keep-me'), 'utf8')).toBe('mine');
    // Inside podman the ESP mount ended with bootc's mount namespace; what it deleted stays deleted.
    expect(tryRun(['mountpoint', '-q', join(mnt, 'boot/efi')])).toBe(false);
    run(['mount', esp, espMnt]);
    try {
      expect(readdirSync(espMnt)).toEqual([]); // lost+found went too
    } finally {
      run(['umount', espMnt]);
    }
  });

  it('fails the bootloader stage when the disk has no ESP, with bootupd\'s error and then bootc\'s', async () => {
    await prepareDisk('0FC63DAF-8483-4772-8E79-3D69D8477DE4');
    const r = toFilesystem(['--skip-finalize']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('\nerror: boot data installation failed: installing component EFI to device (auto): No device specified and no mounted ESP found\n');
    expect(r.stderr).toContain('\nerror: Installing to filesystem: Installing bootloader: Failed to run command: Command {\n    program: "bootupctl",\n');
    expect(r.stdout.trim().split('\n').at(-1)).toBe('Installing bootloader via bootupd');
  });

  it('fails at each injected stage, leaving what was written', async () => {
    const { root } = await prepareDisk();
    // Already in storage, so the failure comes from bootc's own fetch, not podman's implicit pull.
    expect(runFake('podman', ['pull', '-q', IMAGE], envFor()).code).toBe(0);
    // The image is opened after "Initializing ostree layout" (install.rs:1965-1972, 1087).
    const last = { pull: 'Initializing ostree layout', init: 'Initializing ostree layout', deploy: 'layers needed', bootloader: 'Installing bootloader via bootupd', finalize: 'Trimming root' };
    for (const [stage, line] of Object.entries(last)) {
      const r = toFilesystem([], { PARTICLE_FAKE_FAIL: stage });
      expect(r.code, stage).toBe(1);
      expect(r.stderr).toContain(`error: ${stage}: injected failure`);
      expect(r.stdout.trim().split('\n').at(-1)).toContain(line);
      expect(existsSync(join(mnt, 'ostree/repo/config'))).toBe(true);
      remakeRoot(root);
    }
    const digest = JSON.parse(runFake('podman', ['image', 'inspect', IMAGE], envFor()).stdout)[0].Digest as string;
    const kinds = {
      'deploy:no-space': `error: Installing to filesystem: Creating ostree deployment: Insufficient free space for ${IMAGE}@${digest} (available: 1.2 GB required: 2.2 GB)`,
      'pull:manifest-unknown': 'error: Installing to filesystem: Creating ostree deployment: Preparing import: Fetching manifest: failed to invoke method OpenImage: reading manifest 42 in quay.io/example/os: manifest unknown',
      'bootloader:esp-not-found': 'error: boot data installation failed: installing component EFI to device (auto): No device specified and no mounted ESP found',
    };
    for (const [fail, message] of Object.entries(kinds)) {
      const r = toFilesystem([], { PARTICLE_FAKE_FAIL: fail });
      expect(r.code, fail).toBe(1);
      expect(r.stderr).toContain(message);
      remakeRoot(root);
    }
  });

  it('hangs on request and exits 143 on SIGTERM', async () => {
    await prepareDisk();
    const child = spawnFake('podman', [...podmanRunPrefix(mnt, IMAGE), 'bootc', 'install', 'to-filesystem', '/target'], envFor({ PARTICLE_FAKE_HANG: 'deploy' }));
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    for (let i = 0; i < 200 && !out.includes('layers needed'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(out).toContain('layers needed');
    const code = await new Promise<number | null>((resolve) => {
      child.once('exit', (c) => resolve(c));
      child.kill('SIGTERM');
    });
    expect(code).toBe(143);
  }, 30_000);
});

describe.skipIf(skipReason)('to-disk on a loop device', { timeout: 60_000 }, () => {
  it('lays out BIOS boot, ESP and root, formats and deploys; refuses a partitioned disk without --wipe', async () => {
    const r = runFake('bootc', ['install', 'to-disk', '--source-imgref', `docker://${IMAGE}`, '--filesystem', 'ext4', '--karg', 'quiet', disk], hostForm());
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout.split('\n');
    // install/baseline.rs:255-262, mkfs's verbose Task (142-166), the ESP (504-508), install.rs:2204-2208, 2225.
    expect(out.slice(0, 6)).toEqual([`Installing image: docker://${IMAGE}`, 'Block setup: direct', `       Size: ${2 * GiB}`, '     Serial: <unknown>', '      Model: <unknown>', ' Partitions: UUID']);
    expect(out).toContainEqual(expect.stringMatching(new RegExp(`^Creating root filesystem \\(ext4\\) on device ${disk}p3 \\(size=1\\.6 GB\\)$`)));
    expect(out).toContainEqual(expect.stringMatching(new RegExp(`^> mkfs\\.ext4 -U [0-9a-f-]{36} -L root -O verity ${disk}p3$`)));
    expect(out).toContain('Creating ESP filesystem');
    expect(out).toContain(`> mkfs.fat ${disk}p2 -n EFI-SYSTEM`);
    expect(out.slice(-4)).toEqual(['Finalizing filesystem root', 'Unmounting filesystems', 'Installation complete!', '']);
    const table = JSON.parse(run(['sfdisk', '--json', disk])).partitiontable as { label: string; partitions: { type: string; size: number; node: string; name: string }[] };
    expect(table.label).toBe('gpt');
    expect(table.partitions.map((p) => p.type)).toEqual([BIOS, ESP, ROOT]);
    expect(table.partitions.map((p) => p.name)).toEqual(['BIOS-BOOT', 'EFI-SYSTEM', 'root']);
    expect(table.partitions.slice(0, 2).map((p) => p.size * 512)).toEqual([1024 ** 2, 512 * 1024 ** 2]);
    expect(run(['blkid', '-p', '-o', 'value', '-s', 'TYPE', table.partitions[1]!.node]).trim()).toBe('vfat');
    expect(run(['blkid', '-p', '-o', 'value', '-s', 'TYPE', table.partitions[2]!.node]).trim()).toBe('ext4');
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(table.partitions[2]!.node);
    run(['mount', '-o', 'ro', table.partitions[2]!.node, mnt]);
    expect(options()).toMatch(new RegExp(`^root=UUID=${uuidOf(table.partitions[2]!.node)} rw quiet ostree=`));
    expect(existsSync(join(deployment(mnt), 'etc/passwd'))).toBe(true);
    run(['umount', mnt]);

    const again = runFake('bootc', ['install', 'to-disk', '--filesystem', 'ext4', '--source-imgref', `docker://${IMAGE}`, disk], hostForm());
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`error: Installing to disk: Creating rootfs: Detected existing partitions on ${disk}; use e.g. \`wipefs\` or --wipe if you intend to overwrite\n`);
    // Without --filesystem and without an install config on the host there is no root filesystem type.
    const noFs = runFake('bootc', ['install', 'to-disk', '--wipe', '--source-imgref', `docker://${IMAGE}`, disk], hostForm());
    expect(noFs.stderr).toBe('error: Installing to disk: No root filesystem specified\n');
    const size = runFake('bootc', ['install', 'to-disk', '--wipe', '--filesystem', 'xfs', '--root-size', '20GB', '--source-imgref', `docker://${IMAGE}`, disk], hostForm());
    expect(size.stdout).toContain(`Wiping ${disk}p1\nWiping device ${disk}p1\n`);
    expect(size.stderr.trim().split('\n').at(-1)).toBe('error: Installing to disk: Creating rootfs: Parsing root size: Trailing text after size: B');
    const wiped = runFake('bootc', ['install', 'to-disk', '--wipe', '--filesystem', 'xfs', '--root-size', '800M', '--source-imgref', `docker://${IMAGE}`, disk], hostForm());
    expect(wiped.code, wiped.stderr).toBe(0);
    const root = (JSON.parse(run(['sfdisk', '--json', disk])).partitiontable.partitions as { size: number }[])[2]!;
    expect(root.size * 512).toBe(800 * 1024 ** 2);
  }, 60_000);

  it('inside podman: the image names the root filesystem; tpm2-luks needs device-mapper the fake lacks', async () => {
    const prefix = ['run', '--rm', '--privileged', '--pid=host', IMAGE, 'bootc', 'install', 'to-disk'];
    const r = runFake('podman', [...prefix, disk], envFor());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Creating root filesystem (xfs) on device');
    const tpm = runFake('podman', [...prefix, '--wipe', '--block-setup', 'tpm2-luks', disk], envFor());
    expect(tpm.code).toBe(1);
    expect(tpm.stdout).toContain('Block setup: tpm2-luks');
    expect(tpm.stderr.trim().split('\n').at(-1)).toBe(
      'error: test fake: tpm2-luks needs device-mapper, which this kernel lacks (PARTICLE_FAKE_ALLOW_NO_DM lays out /boot and leaves root unencrypted)',
    );
  }, 60_000);

  it('--via-loopback attaches a file (turning on --generic-image) and detaches it afterwards', () => {
    const file = join(dir, 'file.img');
    sparseFile(file, 2 * GiB);
    const r = runFake('bootc', ['install', 'to-disk', '--via-loopback', '--filesystem', 'ext4', '--source-imgref', `docker://${IMAGE}`, file], hostForm());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.split('\n')[0]).toBe('Automatically enabling --generic-image when installing via loopback');
    expect(run(['losetup', '-j', file]).trim()).toBe('');
    expect(JSON.parse(run(['sfdisk', '--json', file])).partitiontable.partitions).toHaveLength(3);
  }, 60_000);
});
