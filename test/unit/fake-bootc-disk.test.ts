import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BootcProgress } from '../../src/engine/deploy/progress';
import { fakeEnv, podmanRunPrefix, runFake, spawnFake } from '../fakes';
import { attachLoop, ensurePartitionNode, loopUnavailableReason, run, sparseFile, tryRun } from '../support/loop';

/**
 * The contract fake on real loop devices: to-filesystem onto a partitioned disk with an ESP, its
 * refusals and injected failures, and to-disk's own layout. Every loop device and mount is undone
 * in afterEach, also when a test fails.
 */

const skipReason = loopUnavailableReason(['sfdisk', 'partx', 'mkfs.ext4', 'mkfs.vfat', 'mkfs.xfs', 'blkid', 'mount', 'umount']);
if (skipReason) console.warn(`[unit] fake-bootc-disk skipped: ${skipReason}`);

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
  for (const m of ['boot', ''].map((s) => join(mnt, s))) {
    if (tryRun(['mountpoint', '-q', m]) && !tryRun(['umount', m])) tryRun(['umount', '-l', m]);
  }
  for (const l of loops.splice(0)) tryRun(['losetup', '-d', l]);
  rmSync(dir, { recursive: true, force: true });
});

/** The installer's own layout for to-filesystem: BIOS boot, ESP (vfat), root (ext4) mounted on mnt. */
async function prepareDisk(espType = ESP): Promise<{ esp: string; root: string }> {
  run(['sfdisk', '--quiet', disk], `label: gpt\nsize=1MiB, type=${BIOS}\nsize=64MiB, type=${espType}\ntype=${ROOT}\n`);
  const root = await ensurePartitionNode(disk, 3);
  const esp = await ensurePartitionNode(disk, 2);
  run(['mkfs.vfat', esp]);
  run(['mkfs.ext4', '-q', '-F', root]);
  run(['mount', root, mnt]);
  return { esp, root };
}

function remakeRoot(root: string): void {
  run(['umount', mnt]);
  run(['mkfs.ext4', '-q', '-F', root]);
  run(['mount', root, mnt]);
}

const toFilesystem = (args: string[], extra: Record<string, string> = {}, volumes: string[] = []) =>
  runFake('podman', [...podmanRunPrefix(mnt, IMAGE, volumes), 'bootc', 'install', 'to-filesystem', ...args, '/target'], envFor(extra));

const deployment = (root: string) => {
  const base = join(root, 'ostree/deploy/default/deploy');
  const name = readdirSync(base).find((n) => /^[0-9a-f]{64}\.0$/.test(n));
  if (!name) throw new Error(`no deployment under ${base}`);
  return join(base, name);
};

describe.skipIf(skipReason)('to-filesystem on a loop device', { timeout: 60_000 }, () => {
  it('writes the deployment, loader entry with kargs, aleph and keys; stays writable with --skip-finalize', async () => {
    const { root } = await prepareDisk();
    writeFileSync(join(dir, 'keys'), `${KEY}\n`);
    const r = toFilesystem(
      ['--skip-finalize', '--karg', 'console=ttyS0', '--karg=rd.luks.uuid=abc', '--root-ssh-authorized-keys', '/run/keys', '--target-imgref', 'registry.example.org/os:1'],
      {},
      [`${join(dir, 'keys')}:/run/keys:ro`],
    );
    expect(r.stderr).toContain('Trying to pull quay.io/example/os:42...');
    expect(r.code).toBe(0);
    const out = r.stdout.trim().split('\n');
    expect(out[0]).toBe(`Installing image: docker://${IMAGE}`);
    expect(out).toContain('Injected: etc/tmpfiles.d/bootc-root-ssh.conf');
    expect(out).not.toContain('Trimming root');
    const progress = new BootcProgress();
    const updates = out.flatMap((l) => progress.line(l) ?? []);
    expect(updates.at(-1)).toMatchObject({ stage: 'complete', fraction: 1 });
    // 2 MiB of payload, announced the way containers/image rounds it: "2.1 MB".
    expect(updates.at(-1)!.totalBytes).toBe(2.1e6);

    const uuid = run(['blkid', '-p', '-o', 'value', '-s', 'UUID', root]).trim();
    const entry = readFileSync(join(mnt, 'boot/loader/entries/ostree-1.conf'), 'utf8');
    expect(entry).toMatch(new RegExp(`^options root=UUID=${uuid} rw console=ttyS0 rd\\.luks\\.uuid=abc`, 'm'));
    expect(entry).toMatch(/^linux \/boot\/ostree\/default-[0-9a-f]{64}\/vmlinuz-/m);
    const dep = deployment(mnt);
    expect(readFileSync(join(dep, 'etc/passwd'), 'utf8')).toMatch(/^root:x:0:0:/);
    for (const f of ['etc/group', 'etc/shadow', 'etc/gshadow', 'usr/lib/os-release', 'etc/os-release']) expect(existsSync(join(dep, f))).toBe(true);
    expect(readFileSync(join(dep, 'usr/lib/os-release'), 'utf8')).toContain('NAME="Particle Test OS"');
    expect(readdirSync(join(dep, 'var'))).toEqual([]);
    expect(existsSync(join(mnt, 'ostree/deploy/default/var/home'))).toBe(true);
    expect(existsSync(join(mnt, 'ostree/deploy/default/var/roothome'))).toBe(true);
    expect(readFileSync(join(mnt, 'ostree/repo/config'), 'utf8')).toContain('[core]');
    const tmpfiles = readFileSync(join(dep, 'etc/tmpfiles.d/bootc-root-ssh.conf'), 'utf8');
    const b64 = /^f~ \/var\/roothome\/\.ssh\/authorized_keys 600 root root - (\S+)$/m.exec(tmpfiles)![1]!;
    expect(Buffer.from(b64, 'base64').toString()).toBe(`${KEY}\n`);
    expect(JSON.parse(readFileSync(join(mnt, '.bootc-aleph.json'), 'utf8'))).toMatchObject({ image: IMAGE, selinux: 'disabled' });
    expect(readFileSync(`${dep}.origin`, 'utf8')).toContain('container-image-reference=ostree-unverified-registry:registry.example.org/os:1');
    writeFileSync(join(mnt, 'still-writable'), 'yes');
  });

  it('finalizes (read-only remount) without --skip-finalize; host form with --source-imgref', async () => {
    await prepareDisk();
    const r = runFake('bootc', ['install', 'to-filesystem', '--source-imgref', 'docker://registry.example.org/os:1', '--root-mount-spec=LABEL=root', mnt], envFor());
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Trimming root\nFinalizing filesystem root\nInstallation complete!\n');
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).toMatch(new RegExp(` ${mnt} ro[, ]`));
    expect(readFileSync(join(mnt, 'boot/loader/entries/ostree-1.conf'), 'utf8')).toMatch(/^options root=LABEL=root rw ostree=/m);
  });

  it('refuses a non-empty root and a non-mountpoint', async () => {
    await prepareDisk();
    writeFileSync(join(mnt, 'x'), '');
    const r = toFilesystem([]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n').at(-1)).toBe('error: Non-empty root filesystem; found "x"');
    const plain = join(dir, 'plain');
    mkdirSync(plain);
    const n = runFake('podman', [...podmanRunPrefix(plain, IMAGE), 'bootc', 'install', 'to-filesystem', '/target'], envFor());
    expect(n.code).toBe(1);
    expect(n.stderr).toContain('error: Not a mountpoint: /target');
  });

  it('fails the bootloader stage when the disk has no ESP', async () => {
    await prepareDisk('0FC63DAF-8483-4772-8E79-3D69D8477DE4');
    const r = toFilesystem(['--skip-finalize']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Failed to find ESP device on ${disk}`);
    expect(r.stdout).toContain('Installing bootloader via bootupd');
    expect(r.stdout).not.toContain('Installation complete!');
  });

  it('fails at each injected stage, leaving what was written', async () => {
    const { root } = await prepareDisk();
    // Already in storage, so the failure comes from bootc's own fetch, not podman's implicit pull.
    expect(runFake('podman', ['pull', '-q', IMAGE], envFor()).code).toBe(0);
    const last = { pull: 'Installing image:', init: 'Initializing ostree layout', deploy: 'layers needed', bootloader: 'Installing bootloader via bootupd', finalize: 'Trimming root' };
    for (const [stage, line] of Object.entries(last)) {
      const r = toFilesystem([], { PARTICLE_FAKE_FAIL: stage });
      expect(r.code, stage).toBe(1);
      expect(r.stderr).toContain(`error: ${stage}: injected failure`);
      expect(r.stdout.trim().split('\n').at(-1)).toContain(line);
      if (stage !== 'pull') expect(existsSync(join(mnt, 'ostree/repo/config'))).toBe(true);
      remakeRoot(root);
    }
    const kinds = {
      'deploy:no-space': 'error: Installing to filesystem: Insufficient free space for /target (available: 1.2 GB required: 2.2 GB)',
      'pull:manifest-unknown': 'reading manifest 42 in quay.io/example/os: manifest unknown',
      'bootloader:esp-not-found': `error: Installing bootloader: Failed to find ESP device on ${disk}`,
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
    const r = runFake('bootc', ['install', 'to-disk', '--source-imgref', `docker://${IMAGE}`, '--filesystem', 'ext4', '--karg', 'quiet', disk], envFor());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const table = JSON.parse(run(['sfdisk', '--json', disk])).partitiontable as { label: string; partitions: { type: string; size: number; node: string }[] };
    expect(table.label).toBe('gpt');
    expect(table.partitions.map((p) => p.type)).toEqual([BIOS, ESP, ROOT]);
    expect(table.partitions.slice(0, 2).map((p) => p.size * 512)).toEqual([1024 ** 2, 512 * 1024 ** 2]);
    expect(run(['blkid', '-p', '-o', 'value', '-s', 'TYPE', table.partitions[1]!.node]).trim()).toBe('vfat');
    expect(run(['blkid', '-p', '-o', 'value', '-s', 'TYPE', table.partitions[2]!.node]).trim()).toBe('ext4');
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(table.partitions[2]!.node);
    run(['mount', '-o', 'ro', table.partitions[2]!.node, mnt]);
    expect(readFileSync(join(mnt, 'boot/loader/entries/ostree-1.conf'), 'utf8')).toMatch(/^options root=UUID=\S+ rw quiet /m);
    expect(existsSync(join(deployment(mnt), 'etc/passwd'))).toBe(true);
    run(['umount', mnt]);

    const again = runFake('bootc', ['install', 'to-disk', '--source-imgref', `docker://${IMAGE}`, disk], envFor());
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('has existing partitions; use --wipe');
    const tpm = runFake('bootc', ['install', 'to-disk', '--wipe', '--block-setup', 'tpm2-luks', '--source-imgref', `docker://${IMAGE}`, disk], envFor());
    expect(tpm.stderr).toBe('error: tpm2-luks is not supported by the test fake on this kernel\n');
    const wiped = runFake('bootc', ['install', 'to-disk', '--wipe', '--root-size', '800M', '--source-imgref', `docker://${IMAGE}`, disk], envFor());
    expect(wiped.code).toBe(0);
    const root = (JSON.parse(run(['sfdisk', '--json', disk])).partitiontable.partitions as { size: number }[])[2]!;
    expect(root.size * 512).toBe(800 * 1024 ** 2);
  }, 60_000);

  it('--via-loopback attaches a file and detaches it afterwards', () => {
    const file = join(dir, 'file.img');
    sparseFile(file, 2 * GiB);
    const r = runFake('bootc', ['install', 'to-disk', '--via-loopback', '--source-imgref', `docker://${IMAGE}`, file], envFor());
    expect(r.code).toBe(0);
    expect(run(['losetup', '-j', file]).trim()).toBe('');
    expect(JSON.parse(run(['sfdisk', '--json', file])).partitiontable.partitions).toHaveLength(3);
  }, 60_000);
});
