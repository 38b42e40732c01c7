import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../src/engine/engine';
import { InstallStateSchema, type AnswerFileInput } from '../../src/shared';
import { FAKE_BIN, readFakeLog } from '../fakes';
import { attachLoop, loopUnavailableReason, run, sparseFile, tryRun } from '../support/loop';
import { writeOciLayout } from '../support/oci-build';

// An image offered as an OCI layout (an image embedded in a live ISO, `serve --image oci:DIR`):
// inspected without pulling, then installed through the host form of bootc (the contract fake).
// What the fake needs of DIR: an index.json (it reads the ref.name annotation for the image's
// name); the blobs are for inspectImage's digest and size.
const why = loopUnavailableReason(['sfdisk', 'mkfs.xfs', 'mkfs.vfat', 'wipefs', 'partx']);
if (why) console.warn(`[integration] system-offered-image tests skipped: ${why}`);

const GiB = 1024 ** 3;

function writeLayout(dir: string, ref: string): string {
  mkdirSync(join(dir, 'blobs/sha256'), { recursive: true });
  const blob = (data: string | Buffer) => {
    const buf = Buffer.from(data);
    const hex = createHash('sha256').update(buf).digest('hex');
    writeFileSync(join(dir, 'blobs/sha256', hex), buf);
    return { digest: `sha256:${hex}`, size: buf.length };
  };
  const layer = blob(Buffer.alloc(4096, 7));
  // A bootc image carries bootc's compatibility label (crates/lib/src/metadata.rs:1-4 at 534c76ea).
  const config = blob(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: { 'containers.bootc': '1', 'ostree.bootable': '1' } }, rootfs: { type: 'layers', diff_ids: [layer.digest] } }));
  const manifest = blob(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }] }));
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': ref } }] }));
  return manifest.digest;
}

describe.skipIf(why !== null)('an offered OCI layout image (root, loop device, bootc fake)', () => {
  let dir: string;
  let engine: Engine;
  let layout: string;
  let digest: string;
  const loops: string[] = [];
  const savedPath = process.env.PATH;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'particle-oci-'));
    process.env.PATH = `${FAKE_BIN}:${savedPath}`;
    process.env.PARTICLE_FAKE_DELAY_MS = '0';
    process.env.PARTICLE_FAKE_PAYLOAD_MIB = '2';
    process.env.PARTICLE_FAKE_STORAGE = join(dir, 'storage');
    process.env.PARTICLE_FAKE_LOG = join(dir, 'fake.jsonl');
    layout = join(dir, 'image');
    digest = writeLayout(layout, 'registry.example.org/os:42');
    engine = createEngine({ mode: 'test', minimumSize: GiB, runRoot: join(dir, 'run'), logDir: join(dir, 'log'), offeredImage: { reference: layout, transport: 'oci' } });
  });

  afterAll(() => {
    for (const l of loops) {
      tryRun(['partx', '--delete', l]);
      tryRun(['losetup', '-d', l]);
    }
    rmSync(dir, { recursive: true, force: true });
    process.env.PATH = savedPath;
    for (const k of ['PARTICLE_FAKE_DELAY_MS', 'PARTICLE_FAKE_PAYLOAD_MIB', 'PARTICLE_FAKE_STORAGE', 'PARTICLE_FAKE_LOG']) delete process.env[k];
  });

  /** The installed root, mounted read-only for a moment: its deployment's origin and its top-level entries. */
  const installedRoot = (device: string): { origin: string; topLevel: string[] } => {
    const mnt = mkdtempSync(join(dir, 'check-'));
    run(['mount', '-o', 'ro', device, mnt]);
    try {
      const deployRoot = join(mnt, 'ostree/deploy/default/deploy');
      const origin = readdirSync(deployRoot).find((d) => d.endsWith('.origin'))!;
      return { origin: readFileSync(join(deployRoot, origin), 'utf8'), topLevel: readdirSync(mnt) };
    } finally {
      run(['umount', mnt]);
    }
  };

  it('getInfo offers it; inspectImage reads its digest without pulling', async () => {
    const info = await engine.handlers.getInfo({});
    expect(info.offeredImage).toEqual({ reference: layout, transport: 'oci' });
    const facts = await engine.handlers.inspectImage({ image: { reference: layout, transport: 'oci' } });
    expect(facts.digest).toBe(digest);
    expect(facts.size).toBe(4096);
    const req = await engine.handlers.checkRequirements({ minimumMemory: 0, image: { reference: layout, transport: 'oci' } });
    expect(req.checks.find((c) => c.id === 'network')!.status).toBe('skipped');
  });

  it('the host form of bootc on a system without prepare-root.conf and bootupctl (as the live ISO is): refused before anything is written', async () => {
    const file = join(dir, 'bare.img');
    sparseFile(file, 4 * GiB);
    const disk = attachLoop(file);
    loops.push(disk);
    const sha256 = (): string => run(['sha256sum', file]).split(' ')[0]!;
    const before = sha256();
    const bare = createEngine({ mode: 'test', minimumSize: GiB, runRoot: join(dir, 'run-bare'), preflightHost: { path: process.env.PATH!, root: mkdtempSync(join(dir, 'bare-root-')) } });
    const request: AnswerFileInput = { version: 1, disk: { path: disk }, layout: { type: 'erase' }, image: { reference: layout, transport: 'oci' }, hostname: 'oci-box' };
    const plan = await bare.handlers.planInstall({ request });
    const refused = await bare.handlers.startInstall({ planId: plan.id }).then(
      () => null,
      (e: unknown) => e as { error?: { message: string } },
    );
    expect(refused?.error?.message).toContain('reads ostree/prepare-root.conf from it, but there is none in /etc or /usr/lib');
    expect(refused?.error?.message).toContain('bootupctl is not installed here');
    expect(refused?.error?.message).toMatch(/Nothing was written to \/dev\/loop\d+\.$/);
    expect(sha256()).toBe(before);
  }, 240_000);

  it("reads the image's bootc install config from its layers before anything is written: its root filesystem is offered, and a to-disk block setup it does not allow is refused with the disk untouched", async () => {
    const configured = join(dir, 'configured');
    writeOciLayout(
      configured,
      {
        labels: { 'containers.bootc': '1', 'ostree.bootable': '1' },
        layers: [
          { entries: [{ type: 'file', path: 'usr/lib/bootc/install/00-base.toml', content: '[install]\nroot-fs-type = "xfs"\n' }] },
          { entries: [{ type: 'file', path: 'usr/lib/bootc/install/20-tpm.toml', content: '[install.filesystem.root]\ntype = "btrfs"\n[install]\nblock = ["tpm2-luks"]\n' }] },
        ],
      },
      'registry.example.org/os:43',
    );
    const image = { reference: configured, transport: 'oci' as const };
    const info = await engine.handlers.inspectImage({ image });
    expect(info.rootFsType).toBe('btrfs');

    const file = join(dir, 'todisk.img');
    sparseFile(file, 4 * GiB);
    const disk = attachLoop(file);
    loops.push(disk);
    const sha256 = (): string => run(['sha256sum', file]).split(' ')[0]!;
    const before = sha256();
    const request: AnswerFileInput = { version: 1, disk: { path: disk }, layout: { type: 'bootc', filesystem: 'btrfs', blockSetup: 'direct' }, image, hostname: 'cfg-box' };
    const plan = await engine.handlers.planInstall({ request });
    expect(plan.steps[0]!.actions[0]).toMatchObject({ kind: 'preflight', checks: expect.arrayContaining([expect.stringMatching(/install config .*allows this layout \(block setup direct\)/)]) });
    const refused = await engine.handlers.startInstall({ planId: plan.id }).then(
      () => null,
      (e: unknown) => e as { error?: { message: string } },
    );
    expect(refused?.error?.message).toContain(`${configured} allows only the block setup tpm2-luks in its install config (/usr/lib/bootc/install/00-base.toml, /usr/lib/bootc/install/20-tpm.toml), not direct; choose tpm2-luks`);
    expect(refused?.error?.message).toMatch(/Nothing was written to \/dev\/loop\d+\.$/);
    expect(sha256()).toBe(before);
  }, 240_000);

  it('installs from oci:DIR with the host form of bootc where the system has prepare-root.conf and bootupctl', async () => {
    // What bootc reads from this system in the host form (install.rs:1553, 1769-1770; bootloader.rs:85-96).
    const hostRoot = mkdtempSync(join(dir, 'host-root-'));
    mkdirSync(join(hostRoot, 'usr/lib/ostree'), { recursive: true });
    writeFileSync(join(hostRoot, 'usr/lib/ostree/prepare-root.conf'), '[composefs]\nenabled = no\n');
    const tools = mkdtempSync(join(dir, 'host-bin-'));
    writeFileSync(join(tools, 'bootupctl'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const path = `${tools}:${process.env.PATH}`;
    process.env.PATH = path;
    process.env.PARTICLE_FAKE_HOST_ROOT = hostRoot;
    const hosted = createEngine({ mode: 'test', minimumSize: GiB, runRoot: join(dir, 'run-host'), preflightHost: { path, root: hostRoot } });
    const file = join(dir, 'disk.img');
    sparseFile(file, 12 * GiB);
    const disk = attachLoop(file);
    loops.push(disk);
    const request: AnswerFileInput = { version: 1, disk: { path: disk }, layout: { type: 'erase' }, image: { reference: layout, transport: 'oci' }, hostname: 'oci-box' };
    const plan = await hosted.handlers.planInstall({ request });
    expect(plan.steps.map((s) => s.id)).not.toContain('pull');
    expect(plan.warnings.map((w) => w.id)).toEqual(['no-update-source']);
    try {
      await hosted.handlers.startInstall({ planId: plan.id });
      await hosted.installer!.settled();
    } finally {
      delete process.env.PARTICLE_FAKE_HOST_ROOT;
    }
    const state = InstallStateSchema.parse(await hosted.handlers.getInstallState({}));
    expect(state.outcome?.kind, JSON.stringify(state.outcome)).toBe('finished');
    const bootc = readFakeLog(join(dir, 'fake.jsonl')).find((c) => c.tool === 'bootc' && c.argv.includes('to-filesystem'))!;
    expect(bootc.argv.slice(0, 5)).toEqual(['install', 'to-filesystem', '--source-imgref', `oci:${layout}`, '--skip-finalize']);

    expect(installedRoot(plan.partitions.at(-1)!.path).origin).toContain('container-image-reference=');
  });

  it('without bootc on this system (as on the live ISO) an OCI layout is installed through podman from a container of the image: pulled into storage on the target, run by its id, the origin names the registry image given', async () => {
    const fromLayout = join(dir, 'Embedded-Image');
    writeLayout(fromLayout, 'registry.example.org/os:44');
    // PATH without bootc: podman's and skopeo's fakes only, then the system's.
    const bin = mkdtempSync(join(dir, 'no-bootc-bin-'));
    for (const tool of ['podman', 'skopeo']) writeFileSync(join(bin, tool), `#!/bin/sh\nexec '${join(FAKE_BIN, tool)}' "$@"\n`, { mode: 0o755 });
    const path = `${bin}:${savedPath}`;
    process.env.PATH = path;
    const file = join(dir, 'podman-oci.img');
    sparseFile(file, 12 * GiB);
    const disk = attachLoop(file);
    loops.push(disk);
    try {
      const noBootc = createEngine({ mode: 'test', minimumSize: GiB, runRoot: join(dir, 'run-no-bootc'), preflightHost: { path, root: '/' } });
      const image = { reference: fromLayout, transport: 'oci' as const, targetImage: 'registry.example.org/os:44' };
      const plan = await noBootc.handlers.planInstall({ request: { version: 1, disk: { path: disk }, layout: { type: 'erase' }, image, hostname: 'podman-oci' } });
      // The image's id: its config's digest, as the layout records it.
      const index = JSON.parse(readFileSync(join(fromLayout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
      const manifest = JSON.parse(readFileSync(join(fromLayout, 'blobs/sha256', index.manifests[0]!.digest.slice(7)), 'utf8')) as { config: { digest: string } };
      const id = manifest.config.digest.slice(7);
      const argvs = plan.steps.flatMap((st) => st.actions).flatMap((a) => (a.kind === 'run' ? [a.argv] : []));
      expect(argvs.find((a) => a.includes('pull'))).toEqual(['podman', '--root', expect.stringMatching(/\/target\/\.particle-containers\/storage$/), '--runroot', expect.any(String), 'pull', `oci:${fromLayout}`]);
      expect(argvs.find((a) => a.includes('to-filesystem'))).toContain(id);
      expect(plan.warnings.map((w) => w.id)).not.toContain('no-update-source');

      await noBootc.handlers.startInstall({ planId: plan.id });
      await noBootc.installer!.settled();
      const state = InstallStateSchema.parse(await noBootc.handlers.getInstallState({}));
      expect(state.outcome?.kind, JSON.stringify(state.outcome)).toBe('finished');
      const calls = readFakeLog(join(dir, 'fake.jsonl'));
      const deploy = calls.find((c) => c.tool === 'bootc' && c.argv.includes('to-filesystem') && c.argv.includes('--target-imgref') && c.argv.includes('registry.example.org/os:44'));
      expect(deploy, 'bootc ran in the container with --target-imgref').toBeDefined();
      expect(deploy!.argv).not.toContain('--source-imgref');

      const installed = installedRoot(plan.partitions.at(-1)!.path);
      expect(installed.origin).toContain('container-image-reference=ostree-unverified-registry:registry.example.org/os:44');
      // The pulled image's storage was on the target, and went once bootc was done with it.
      expect(installed.topLevel).not.toContain('.particle-containers');
    } finally {
      process.env.PATH = `${FAKE_BIN}:${savedPath}`;
    }
  }, 240_000);
});
