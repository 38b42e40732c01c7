import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCKER_ARCHIVE_TAG, LAYER2, ensureDockerArchive, ensureOciArchive, ensureOciTestImage, ociImageUnavailable, type OciTestImage } from '../support/oci-test-image';
import { run } from '../vm/proc';

// The test OCI image the VM install tests unpack: built once per recipe with mmdebstrap (minutes),
// then read from the cache. These checks keep the layout valid and the layers what those tests expect.
const why = ociImageUnavailable();
if (why) console.warn(`[integration] OCI test image tests skipped: ${why}`);

const has = (tool: string): boolean => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', tool]).status === 0;
// Each check that needs one of these tools says so when the tool is missing, instead of passing quietly.
for (const [tool, what] of [
  ['lsinitramfs', 'the check of the initrd in layer 1 (lsinitramfs is missing: scripts/setup-debian.sh installs initramfs-tools-core)'],
  ['skopeo', 'the skopeo cross-checks of the layout and both archives (skopeo is not installed)'],
] as const) {
  if (!why && !has(tool)) console.warn(`[integration] skipped: ${what}`);
}
const MiB = 1024 ** 2;
const hexOf = (digest: string): string => digest.replace(/^sha256:/, '');

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** sha256 and length of a file, or of its gunzipped content. */
async function digestOf(path: string, gunzip = false): Promise<{ digest: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done();
    },
  });
  await (gunzip ? pipeline(createReadStream(path), createGunzip(), sink) : pipeline(createReadStream(path), sink));
  return { digest: `sha256:${hash.digest('hex')}`, bytes };
}

const list = async (argv: string[]): Promise<string[]> => (await run(argv, { timeoutMs: 300_000 })).split('\n').filter((l) => l !== '');

describe.skipIf(why !== null)('the test OCI image (mmdebstrap, two layers, cached)', () => {
  let img: OciTestImage;
  let blob: (digest: string) => string;
  let manifest: { schemaVersion: number; mediaType: string; config: Descriptor; layers: Descriptor[] };
  let layer1: string[];
  const figures: string[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'particle-oci-image-'));

  beforeAll(async () => {
    const started = performance.now();
    img = await ensureOciTestImage((line) => console.log(`[oci-image] ${line}`));
    const ms = performance.now() - started;
    figures.push(img.cached ? `cache lookup ${ms.toFixed(0)} ms` : `cold build ${img.buildSeconds.toFixed(0)} s`);
    figures.push(`layers ${(img.compressedBytes / MiB).toFixed(1)} MiB gzip, ${(img.uncompressedBytes / MiB).toFixed(1)} MiB tar; kernel ${img.kernelVersion}`);
    blob = (digest) => join(img.layout, 'blobs', 'sha256', hexOf(digest));
    const index = JSON.parse(readFileSync(join(img.layout, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
    manifest = JSON.parse(readFileSync(blob(index.manifests[0]!.digest), 'utf8')) as typeof manifest;
    layer1 = await list(['tar', '--list', '--gzip', `--file=${blob(img.layerDigests[0]!)}`]);
    figures.push(`layer 1: ${layer1.length} entries`);
  }, 40 * 60_000);

  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
    if (figures.length) console.log(`[oci-image] ${figures.join('; ')}`);
  });

  it('a second call finds the image in the cache', async () => {
    const started = performance.now();
    const again = await ensureOciTestImage();
    expect(again.cached).toBe(true);
    expect(again.manifestDigest).toBe(img.manifestDigest);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('index, manifest and config parse, and every blob matches its name and descriptor', async () => {
    expect(JSON.parse(readFileSync(join(img.layout, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(readFileSync(join(img.layout, 'index.json'), 'utf8')) as { schemaVersion: number; manifests: Descriptor[] };
    expect(index.schemaVersion).toBe(2);
    expect(index.manifests).toHaveLength(1);
    const top = index.manifests[0]!;
    expect(top).toMatchObject({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: img.manifestDigest });
    expect(top.annotations?.['org.opencontainers.image.ref.name']).toBe(img.ref);
    expect(manifest).toMatchObject({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json' });
    expect(manifest.config.mediaType).toBe('application/vnd.oci.image.config.v1+json');
    expect(manifest.layers.map((l) => l.mediaType)).toEqual(['application/vnd.oci.image.layer.v1.tar+gzip', 'application/vnd.oci.image.layer.v1.tar+gzip']);
    expect(manifest.layers.map((l) => l.digest)).toEqual(img.layerDigests);
    const config = JSON.parse(readFileSync(blob(manifest.config.digest), 'utf8')) as { architecture: string; os: string; rootfs: { type: string; diff_ids: string[] }; config: { Cmd: string[] }; history: unknown[] };
    expect(config).toMatchObject({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: img.diffIds } });
    expect(config.config.Cmd).toEqual(['/sbin/init']);
    expect(config.history).toHaveLength(2);

    // Exactly the referenced blobs, each hashing to its name, with the size its descriptor says.
    const descriptors = [top, manifest.config, ...manifest.layers];
    expect(readdirSync(join(img.layout, 'blobs', 'sha256')).sort()).toEqual(descriptors.map((d) => hexOf(d.digest)).sort());
    for (const d of descriptors) {
      const actual = await digestOf(blob(d.digest));
      expect(actual.digest).toBe(d.digest);
      expect(actual.bytes).toBe(d.size);
    }
    expect(manifest.layers.reduce((n, l) => n + l.size, 0)).toBe(img.compressedBytes);
  }, 300_000);

  it('the diff_ids are the sha256 of the uncompressed layers', async () => {
    let total = 0;
    for (const [i, digest] of img.layerDigests.entries()) {
      const plain = await digestOf(blob(digest), true);
      expect(plain.digest).toBe(img.diffIds[i]);
      total += plain.bytes;
    }
    expect(total).toBe(img.uncompressedBytes);
  }, 300_000);

  it('layer 1 is a bootable Debian with GRUB, initramfs-tools and relative member names', async () => {
    const names = new Set(layer1);
    const kver = img.kernelVersion;
    for (const want of [
      `boot/vmlinuz-${kver}`, `boot/initrd.img-${kver}`, `usr/lib/modules/${kver}/`,
      'usr/lib/grub/x86_64-efi/', 'usr/lib/grub/i386-pc/', 'usr/sbin/grub-install', 'usr/sbin/update-initramfs',
      'usr/sbin/cryptsetup', 'usr/sbin/mkfs.xfs', 'usr/sbin/mkfs.btrfs', 'usr/sbin/mkfs.vfat', 'usr/sbin/fdisk',
      LAYER2.removed, `${LAYER2.opaqueDir}/hidden`,
    ]) expect(names, want).toContain(want);
    expect(names.has('sbin/init') || names.has('usr/sbin/init')).toBe(true);
    expect(layer1.filter((n) => n.startsWith('./') || n.startsWith('/'))).toEqual([]);
    // Left for the installer to write, and no device nodes from the build.
    expect(names).not.toContain('etc/hostname');
    expect(names).not.toContain('etc/fstab');
    expect(layer1.filter((n) => n.startsWith('dev/') && n !== 'dev/')).toEqual([]);
    expect(layer1.filter((n) => n.startsWith('var/lib/apt/lists/') && n.endsWith('_Packages'))).toEqual([]);
    expect(layer1.filter((n) => /^usr\/share\/(man|locale)\/./.test(n))).toEqual([]);

    const conf = await run(['tar', '--extract', '--gzip', '--to-stdout', `--file=${blob(img.layerDigests[0]!)}`, 'etc/initramfs-tools/initramfs.conf']);
    expect(conf).toMatch(/^MODULES=most$/m);
  }, 300_000);

  it.skipIf(!has('lsinitramfs'))('the initrd in layer 1 has the virtio, filesystem and LUKS pieces a VM boot needs', async () => {
    const initrd = `boot/initrd.img-${img.kernelVersion}`;
    await run(['tar', '--extract', '--gzip', `--file=${blob(img.layerDigests[0]!)}`, '-C', scratch, initrd]);
    const files = await list(['lsinitramfs', join(scratch, initrd)]);
    figures.push(`initrd ${(statSync(join(scratch, initrd)).size / MiB).toFixed(1)} MiB, ${files.length} files`);
    for (const mod of ['virtio_blk', 'virtio_scsi', 'ext4', 'xfs', 'btrfs', 'dm-crypt']) {
      expect(files.some((f) => f.includes(`/${mod}.ko`)), mod).toBe(true);
    }
    expect(files).toContain('usr/sbin/cryptsetup');
  }, 300_000);

  it('layer 2 adds a file, whites one out and makes a directory opaque', async () => {
    const entries = (await list(['tar', '--list', '--verbose', '--gzip', `--file=${blob(img.layerDigests[1]!)}`])).map((line) => {
      const [mode, owner, size, , , name] = line.split(/\s+/);
      return { type: mode![0], owner, size: Number(size), name };
    });
    const removed = LAYER2.removed.split('/');
    const whiteout = [...removed.slice(0, -1), `.wh.${removed.at(-1)}`].join('/');
    expect(entries.map((e) => e.name).sort()).toEqual(
      ['etc/', whiteout, `${LAYER2.opaqueDir}/`, `${LAYER2.opaqueDir}/.wh..wh..opq`, `${LAYER2.opaqueDir}/kept`, LAYER2.added].sort(),
    );
    // Whiteouts are empty regular files, owned by root like everything in the layer.
    for (const name of [whiteout, `${LAYER2.opaqueDir}/.wh..wh..opq`]) expect(entries.find((e) => e.name === name)).toMatchObject({ type: '-', size: 0 });
    expect(entries.every((e) => e.owner === '0/0')).toBe(true);
    const unpacked = join(scratch, 'layer2');
    mkdirSync(unpacked);
    await run(['tar', '--extract', '--gzip', `--file=${blob(img.layerDigests[1]!)}`, '-C', unpacked]);
    expect(readFileSync(join(unpacked, LAYER2.added), 'utf8')).toBe('layer2\n');
    expect(readFileSync(join(unpacked, LAYER2.opaqueDir, 'kept'), 'utf8')).toBe('kept\n');
  });

  it.skipIf(!has('skopeo'))('skopeo reads the layout and reports its layers', async () => {
    const out = JSON.parse(await run(['skopeo', 'inspect', `oci:${img.layout}:${img.ref}`])) as { Digest: string; Architecture: string; Os: string; Layers: string[] };
    expect(out).toMatchObject({ Digest: img.manifestDigest, Architecture: 'amd64', Os: 'linux', Layers: img.layerDigests });
  });

  it('the oci-archive holds oci-layout, index.json and every blob', async () => {
    const started = performance.now();
    const archive = await ensureOciArchive(img);
    figures.push(`oci-archive ${(statSync(archive).size / MiB).toFixed(1)} MiB (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    const members = await list(['tar', '--list', `--file=${archive}`]);
    const blobs = readdirSync(join(img.layout, 'blobs', 'sha256')).map((h) => `blobs/sha256/${h}`);
    expect(members.filter((m) => !m.endsWith('/')).sort()).toEqual(['index.json', 'oci-layout', ...blobs].sort());
    if (has('skopeo')) {
      const out = JSON.parse(await run(['skopeo', 'inspect', `oci-archive:${archive}:${img.ref}`])) as { Layers: string[] };
      expect(out.Layers).toEqual(img.layerDigests);
    }
  }, 300_000);

  it('the docker-archive holds manifest.json, the config and the uncompressed layers', async () => {
    const started = performance.now();
    const archive = await ensureDockerArchive(img);
    figures.push(`docker-archive ${(statSync(archive).size / MiB).toFixed(1)} MiB (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    const members = await list(['tar', '--list', `--file=${archive}`]);
    const saved = JSON.parse(await run(['tar', '--extract', '--to-stdout', `--file=${archive}`, 'manifest.json'])) as { Config: string; RepoTags: string[]; Layers: string[] }[];
    expect(saved).toHaveLength(1);
    const entry = saved[0]!;
    expect(entry.Config).toBe(`${hexOf(manifest.config.digest)}.json`);
    expect(entry.RepoTags).toEqual([DOCKER_ARCHIVE_TAG]);
    expect(entry.Layers).toHaveLength(2);
    for (const m of ['manifest.json', 'repositories', entry.Config, ...entry.Layers]) expect(members, m).toContain(m);
    if (has('skopeo')) {
      // docker-archive layers are uncompressed, so skopeo names them by their diff_ids.
      const out = JSON.parse(await run(['skopeo', 'inspect', `docker-archive:${archive}`])) as { Layers: string[]; Architecture: string };
      expect(out).toMatchObject({ Layers: img.diffIds, Architecture: 'amd64' });
    }
  }, 300_000);
});
