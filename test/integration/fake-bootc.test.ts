import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeEnv, podmanRunPrefix, readFakeLog, runFake } from '../fakes';

/**
 * The contract fake's grammar: what it accepts and how it refuses, as bootc's clap options and
 * bootc's own order of checks have it (bootc-dev/bootc 534c76ea, see test/fakes/README.md). These
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
    [['--bootloader', 'lilo'], "invalid value 'lilo' for '--bootloader <BOOTLOADER>'\n  [possible values: grub, grub-cc, systemd, none]"],
    [['--replace=all'], "invalid value 'all' for '--replace <REPLACE>'"],
    [['--bound-images', 'all'], "invalid value 'all' for '--bound-images <BOUND_IMAGES>'\n  [possible values: stored, pull]"],
    [['--allow-missing-verity'], 'the following required arguments were not provided:\n  --composefs-backend'],
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
    expect(bootc('install', 'to-disk', '--skip-finalize', '/dev/null').code).toBe(2);
    expect(bootc('install', 'print-configuration', '--karg', 'x').code).toBe(2);
  });

  it('leaves to bootc at run time what clap takes as a plain string (exit 1, not 2)', () => {
    // --root-size is parsed by install_create_rootfs, long after the device checks.
    const size = bootc('install', 'to-disk', '--root-size', '20GB', '/dev/null');
    expect(size.code).toBe(1);
    expect(size.stderr).toBe('error: Installing to disk: Not a block device: /dev/null\n');
    // Any --target-imgref and --source-imgref string passes clap; the target's path is checked first.
    const target = bootc('install', 'to-filesystem', '--target-imgref=docker://quay.io/example/os:42', '--source-imgref', 'quay.io/example/os:42', join(dir, 'nowhere'));
    expect(target.code).toBe(1);
    expect(target.stderr).toBe(`error: Installing to filesystem: Opening target root directory ${join(dir, 'nowhere')}: No such file or directory (os error 2)\n`);
  });

  it("accepts every one of bootc's flags in both spellings (then fails on the missing target, not the grammar)", () => {
    const r = bootc(
      'install', 'to-filesystem', '--source-imgref=docker://quay.io/example/os:42', '--target-imgref', 'quay.io/example/os:42',
      '--target-transport=registry', '--enforce-container-sigpolicy', '--karg', 'console=ttyS0', '--karg=quiet', '--karg-delete', 'quiet',
      '--stateroot', 'os', '--generic-image', '--bootloader=grub', '--disable-selinux', '--skip-fetch-check', '--run-fetch-check',
      '--root-mount-spec=', '--boot-mount-spec', 'UUID=abc', '--replace', 'wipe', '--acknowledge-destructive', '--skip-finalize',
      '--bound-images=stored', '--bound-images', 'skip', '--bootupd-skip-boot-uuid', join(dir, 'nowhere'),
    );
    expect(r.stderr).toContain("the argument '--bound-images <BOUND_IMAGES>' cannot be used multiple times");
    const ok = bootc(
      'install', 'to-filesystem', '--source-imgref=docker://quay.io/example/os:42', '--target-imgref', 'quay.io/example/os:42',
      '--target-transport=registry', '--enforce-container-sigpolicy', '--karg', 'console=ttyS0', '--karg=quiet', '--karg-delete', 'quiet',
      '--stateroot', 'os', '--generic-image', '--bootloader=grub', '--disable-selinux', '--skip-fetch-check', '--run-fetch-check',
      '--root-mount-spec=', '--boot-mount-spec', 'UUID=abc', '--replace', 'wipe', '--acknowledge-destructive', '--skip-finalize',
      '--bound-images', 'skip', '--bootupd-skip-boot-uuid', join(dir, 'nowhere'),
    );
    expect(ok.code).toBe(1);
    expect(ok.stderr).not.toContain('Usage:');
    expect(ok.stderr).toContain('Opening target root directory');
  });

  it('checks the target before anything else: a plain directory is not a mountpoint, with or without --source-imgref', () => {
    if (!isRoot) return;
    for (const args of [[dir], ['--source-imgref', `docker://${IMAGE}`, dir]]) {
      const r = bootc('install', 'to-filesystem', ...args);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`error: Installing to filesystem: Not a mountpoint: ${dir}\n`);
    }
  });
});

describe('print-configuration', () => {
  const hostRoot = () => join(dir, 'print-root');

  it("prints the merged install config of `/` as canonical JSON, kargs only with --all", () => {
    const root = hostRoot();
    mkdirSync(join(root, 'usr/lib/bootc/install'), { recursive: true });
    mkdirSync(join(root, 'etc/bootc/install'), { recursive: true });
    const hostEnv = { ...env, PARTICLE_FAKE_HOST_ROOT: root };
    // No file: every key null, no trailing newline.
    const none = runFake('bootc', ['install', 'print-configuration'], hostEnv);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe(
      '{"block":null,"boot-mount-spec":null,"bootloader":null,"bootupd":null,"discoverable-partitions":null,"enforce-container-sigpolicy":null,"filesystem":null,"match-architectures":null,"ostree":null,"root-fs-type":null,"root-mount-spec":null,"stateroot":null}',
    );
    writeFileSync(join(root, 'usr/lib/bootc/install/00-base.toml'), '# base\n[install]\nroot-fs-type = "ext4"\nkargs = ["console=ttyS0",\n  "quiet"]\n');
    writeFileSync(join(root, 'etc/bootc/install/10-local.toml'), "[install.filesystem.root]\ntype = 'btrfs'\n[install]\nkargs = [\"nosmt\"]\nstateroot = \"os\"\n");
    const merged = JSON.parse(runFake('bootc', ['install', 'print-configuration'], hostEnv).stdout);
    expect(merged).toMatchObject({ 'root-fs-type': 'btrfs', filesystem: { root: { type: 'btrfs' } }, block: ['direct'], stateroot: 'os' });
    expect(merged).not.toHaveProperty('kargs');
    const all = JSON.parse(runFake('bootc', ['install', 'print-configuration', '--all'], hostEnv).stdout);
    expect(all.kargs).toEqual(['console=ttyS0', 'quiet', 'nosmt']);
    writeFileSync(join(root, 'etc/bootc/install/20-bad.toml'), '[install]\nroot-fs = "xfs"\n');
    const bad = runFake('bootc', ['install', 'print-configuration'], hostEnv);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: Loading configuration: Parsing "\/etc\/bootc\/install\/20-bad\.toml": unknown field `root-fs`/);
  });

  it("inside podman it is the image's own config", () => {
    const r = podman('run', '--rm', '--privileged', '--pid=host', IMAGE, 'bootc', 'install', 'print-configuration');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ 'root-fs-type': 'xfs', block: ['direct', 'tpm2-luks'] });
  });
});

describe('install finalize', () => {
  it('takes exactly one ROOT_PATH, as clap does', () => {
    const none = bootc('install', 'finalize');
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('the following required arguments were not provided:\n  <ROOT_PATH>');
    expect(bootc('install', 'finalize', '/a', '/b').stderr).toContain("unexpected argument '/b' found");
    expect(bootc('install', 'finalize', '--wipe', '/a').code).toBe(2);
  });

  it.skipIf(!isRoot)('needs an ostree repo and a deployment listed by a loader entry; prints nothing when both are there', () => {
    const root = mkdtempSync(join(dir, 'finalize-'));
    expect(bootc('install', 'finalize', root).stderr).toBe('error: opendir(ostree/repo): No such file or directory\n');
    mkdirSync(join(root, 'ostree/repo'), { recursive: true });
    mkdirSync(join(root, 'boot/loader/entries'), { recursive: true });
    const empty = bootc('install', 'finalize', root);
    expect([empty.code, empty.stderr]).toEqual([1, `error: Failed to find deployment in ${root}\n`]);
    writeFileSync(join(root, 'boot/loader/entries/ostree-1.conf'), 'title x\noptions root=UUID=1 rw ostree=/ostree/boot.1/default/abc/0\n');
    expect(bootc('install', 'finalize', root)).toMatchObject({ code: 0, stdout: '', stderr: '' });
    // Inside podman: through the -v mount, and only with full privileges.
    const inside = podman('run', '--rm', '--privileged', '--pid=host', '-v', `${root}:/target`, IMAGE, 'bootc', 'install', 'finalize', '/target');
    expect(inside.code).toBe(0);
    const unprivileged = podman('run', '--rm', '--pid=host', '-v', `${root}:/target`, IMAGE, 'bootc', 'install', 'finalize', '/target');
    expect(unprivileged.stderr).toContain('error: This command requires full root privileges (CAP_SYS_ADMIN)');
  });
});

describe('podman run', () => {
  const target = () => join(dir, 'target');
  const cmd = ['bootc', 'install', 'to-filesystem', '--skip-finalize', '/target'];

  beforeAll(() => mkdirSync(target(), { recursive: true }));

  it("checks the target before the container's privileges, as bootc does; clap before both (exit 2)", () => {
    if (!isRoot) return;
    const prefix = podmanRunPrefix(target(), IMAGE);
    for (const drop of ['--pid=host', '--privileged']) {
      const r = podman(...prefix.filter((a) => a !== drop), ...cmd);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('error: Installing to filesystem: Not a mountpoint: /target');
    }
    const bad = podman(...prefix, 'bootc', 'install', 'to-filesystem', '--progress-fd', '3', '/target');
    expect(bad.code).toBe(2);
  });

  it('translates paths through -v; a path not mounted in is not there', () => {
    if (!isRoot) return;
    const r = podman(...podmanRunPrefix(target(), IMAGE), ...cmd);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: Installing to filesystem: Not a mountpoint: /target');
    const missing = podman('run', '--rm', '--privileged', '--pid=host', IMAGE, ...cmd);
    expect(missing.stderr).toContain('error: Installing to filesystem: Opening target root directory /target: No such file or directory (os error 2)');
  });

  it('logs the exact argv of podman and of the bootc inside it', () => {
    const entries = readFakeLog(log);
    const inner = entries.filter((e) => e.tool === 'bootc' && e.container);
    expect(entries.some((e) => e.tool === 'podman' && e.argv[0] === 'pull')).toBe(true);
    if (!isRoot) return;
    expect(inner.at(-1)!.argv).toEqual(['install', 'to-filesystem', '--skip-finalize', '/target']);
    expect(inner.at(-1)!.env.PARTICLE_FAKE_DELAY_MS).toBe('0');
  });
});
