import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_BIN, fakeEnv, podmanRunPrefix, readFakeLog, runFake } from '../fakes';

/**
 * The contract fake's grammar: what it accepts and how it refuses, per the bootc reference. These
 * need no disks; the loop-device behaviour is in fake-bootc-disk.test.ts.
 */

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('[unit] fake-bootc: root-only checks skipped: not running as root');

let dir: string;
let env: NodeJS.ProcessEnv;
let log: string;
const IMAGE = 'quay.io/example/os:42';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fake-bootc-'));
  chmodSync(dir, 0o755);
  log = join(dir, 'log.jsonl');
  env = fakeEnv({ storage: join(dir, 'storage'), log });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const podman = (...args: string[]) => runFake('podman', args, env);
const bootc = (...args: string[]) => runFake('bootc', args, env);

describe('podman storage', () => {
  it('pull prints the non-TTY lines on stderr and the image id on stdout', () => {
    expect(podman('image', 'exists', IMAGE).code).toBe(1);
    const r = podman('pull', IMAGE);
    expect(r.code).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe(`Trying to pull ${IMAGE}...`);
    expect(lines[1]).toBe('Getting image source signatures');
    expect(lines.filter((l) => /^Copying blob sha256:[0-9a-f]{64}$/.test(l)).length).toBeGreaterThan(0);
    expect(lines.at(-2)).toMatch(/^Copying config sha256:[0-9a-f]{64}$/);
    expect(lines.at(-1)).toBe('Writing manifest to image destination');
    expect(r.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    expect(podman('image', 'exists', IMAGE).code).toBe(0);
    const again = podman('pull', '--quiet', IMAGE);
    expect(again.stderr).toBe('');
    expect(again.stdout).toBe(r.stdout);
    expect(podman('pull', IMAGE).stderr).toContain('skipped: already exists');
  });

  it('loads an OCI layout under its annotated name; rmi removes', () => {
    const layout = join(dir, 'layout');
    mkdirSync(layout);
    writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    const ann = { 'org.opencontainers.image.ref.name': 'registry.example.org/os:1' };
    writeFileSync(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ annotations: ann }] }));
    const r = podman('load', '-i', layout);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Loaded image: registry.example.org/os:1\n');
    expect(podman('image', 'exists', 'registry.example.org/os:1').code).toBe(0);
    expect(podman('rmi', 'registry.example.org/os:1').code).toBe(0);
    expect(podman('image', 'exists', 'registry.example.org/os:1').code).toBe(1);
  });

  it('refuses short names, unknown flags and injected pull failures like podman', () => {
    expect(podman('pull', 'os').code).toBe(125);
    const flag = podman('pull', '--x', IMAGE);
    expect(flag.code).toBe(125);
    expect(flag.stderr).toContain('Error: unknown flag: --x');
    const run = podman('run', '--x', IMAGE, 'bootc');
    expect(run.code).toBe(125);
    const missing = runFake('podman', ['pull', 'quay.io/example/os:43'], { ...env, PARTICLE_FAKE_FAIL: 'pull:manifest-unknown' });
    expect(missing.code).toBe(125);
    expect(missing.stderr).toContain('reading manifest 43 in quay.io/example/os: manifest unknown');
  });
});

describe('bootc grammar', () => {
  const usage = 'Usage: bootc install to-filesystem [OPTIONS] <ROOT_PATH>';

  it.each([
    [['--x'], "error: unexpected argument '--x' found"],
    [['--wipe'], "error: unexpected argument '--wipe' found"],
    [['--skip-finalize=yes'], "unexpected value 'yes' for '--skip-finalize'"],
    [['--bootloader', 'lilo'], "invalid value 'lilo' for '--bootloader <BOOTLOADER>'"],
    [['--replace=all'], "invalid value 'all' for '--replace <REPLACE>'"],
    [['--source-imgref', 'quay.io/example/os:42'], "invalid value 'quay.io/example/os:42' for '--source-imgref"],
    [['--target-imgref=docker://quay.io/example/os:42'], 'takes no transport'],
    [['--stateroot', 'a', '--stateroot', 'b'], 'cannot be used multiple times'],
    [['--karg'], "a value is required for '--karg <KARG>'"],
  ])('to-filesystem %j → exit 2', (args, message) => {
    const r = bootc('install', 'to-filesystem', '/target', ...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain("For more information, try '--help'.");
  });

  it('prints clap usage for a missing ROOT_PATH and unknown subcommands', () => {
    const r = bootc('install', 'to-filesystem', '--skip-finalize');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('<ROOT_PATH>');
    expect(r.stderr).toContain(usage);
    expect(bootc('install', 'to-nowhere', '/x').code).toBe(2);
    expect(bootc('install', 'to-disk', '--filesystem', 'zfs', '/dev/null').stderr).toContain('[possible values: xfs, ext4, btrfs]');
    expect(bootc('install', 'to-disk', '--root-size', '20GB', '/dev/null').code).toBe(2);
    expect(bootc('install', 'to-disk', '--skip-finalize', '/dev/null').code).toBe(2);
  });

  it('accepts every documented flag in both spellings (then fails on the missing mountpoint, not the grammar)', () => {
    const r = bootc(
      'install', 'to-filesystem', '--source-imgref=docker://quay.io/example/os:42', '--target-imgref', 'quay.io/example/os:42',
      '--target-transport=registry', '--enforce-container-sigpolicy', '--karg', 'console=ttyS0', '--karg=quiet', '--stateroot', 'os',
      '--generic-image', '--bootloader=grub', '--disable-selinux', '--skip-fetch-check', '--root-mount-spec=', '--boot-mount-spec',
      'UUID=abc', '--replace', 'wipe', '--acknowledge-destructive', '--skip-finalize', join(dir, 'nowhere'),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain('Usage:');
  });

  it('host form needs --source-imgref; a plain directory is not a mountpoint', () => {
    if (!isRoot) return;
    expect(bootc('install', 'to-filesystem', dir).stderr).toContain('Either --source-imgref must be defined');
    const r = bootc('install', 'to-filesystem', '--source-imgref', `docker://${IMAGE}`, dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: Not a mountpoint: ${dir}\n`);
  });
});

describe('podman run refusals', () => {
  const target = () => join(dir, 'target');
  const cmd = ['bootc', 'install', 'to-filesystem', '--skip-finalize', '/target'];

  beforeAll(() => mkdirSync(target(), { recursive: true }));

  it('needs --pid=host and --privileged, checked inside the container (exit 1)', () => {
    if (!isRoot) return;
    const prefix = podmanRunPrefix(target(), IMAGE);
    const noPid = podman(...prefix.filter((a) => a !== '--pid=host'), ...cmd);
    expect(noPid.code).toBe(1);
    expect(noPid.stderr).toContain('error: This command must be run with the podman --pid=host flag');
    const noPriv = podman(...prefix.filter((a) => a !== '--privileged'), ...cmd);
    expect(noPriv.code).toBe(1);
    expect(noPriv.stderr).toContain('--privileged');
    const bad = podman(...prefix, 'bootc', 'install', 'to-filesystem', '--progress-fd', '3', '/target');
    expect(bad.code).toBe(2);
  });

  it('refuses rootless podman', () => {
    if (!isRoot) return;
    const nobody = spawnAs(65534, [...podmanRunPrefix(target(), IMAGE), ...cmd]);
    if (nobody === null) return;
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toContain('Cannot install from rootless podman');
  });

  it('translates paths through -v and refuses a non-mountpoint target', () => {
    if (!isRoot) return;
    const r = podman(...podmanRunPrefix(target(), IMAGE), ...cmd);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: Not a mountpoint: /target');
    const keys = podman(...podmanRunPrefix(target(), IMAGE), 'bootc', 'install', 'to-filesystem', '--root-ssh-authorized-keys', '/keys', '/target');
    expect(keys.stderr).toContain('Reading /keys: No such file or directory');
  });

  it('logs the exact argv of podman and of the bootc inside it', () => {
    const entries = readFakeLog(log);
    const inner = entries.filter((e) => e.tool === 'bootc' && e.container);
    expect(entries.some((e) => e.tool === 'podman' && e.argv[0] === 'pull')).toBe(true);
    if (!isRoot) return;
    expect(inner.at(-1)!.argv).toEqual(['install', 'to-filesystem', '--root-ssh-authorized-keys', '/keys', '/target']);
    expect(inner.at(-1)!.env.PARTICLE_FAKE_DELAY_MS).toBe('0');
  });
});

/** Runs podman as another user where that user can run node; null when it cannot (reported). */
function spawnAs(uid: number, args: string[]) {
  const r = runFakeAs(uid, args);
  if (r.code === 126 || r.code === 127 || /EACCES|Permission denied/.test(r.stderr)) {
    console.warn(`[unit] fake-bootc: rootless check skipped: uid ${uid} cannot run the fake here (${r.stderr.trim().split('\n')[0]})`);
    return null;
  }
  return r;
}

function runFakeAs(uid: number, args: string[]) {
  // The uid option drops privileges for the child only.
  const r = spawnSync(join(FAKE_BIN, 'podman'), args, { env: { ...env, PARTICLE_FAKE_LOG: '' }, encoding: 'utf8', uid, gid: uid, cwd: '/' });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
