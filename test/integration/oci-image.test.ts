import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OciError, readImage } from '../../src/engine/deploy/oci';
import { digestHex } from '../../src/engine/deploy/oci/digest';
import { archivePath } from '../../src/engine/deploy/oci/tar-index';
import { chooseDescriptor, goArch } from '../../src/engine/deploy/oci/select';
import type { ImageIndex } from '../../src/engine/deploy/oci/schema';
import { MT, addImage, buildImage, tarBytes, writeBlob, writeDockerArchive, writeIndex, writeOciArchive, writeOciLayout, type EntrySpec } from '../support/oci-build';

const dir = mkdtempSync(join(tmpdir(), 'oci-image-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (name: string) => join(dir, `${name}-${n++}`);

const D = (c: string) => `sha256:${c.repeat(64)}`;
const desc = (digest: string, extra: object = {}) => ({ mediaType: MT.manifest, digest, size: 10, ...extra });
const index = (...manifests: object[]): ImageIndex => ({ schemaVersion: 2, manifests }) as ImageIndex;
const ref = (r: string) => ({ annotations: { 'org.opencontainers.image.ref.name': r } });
const linux = (architecture: string) => ({ platform: { os: 'linux', architecture } });
const FILES: EntrySpec[] = [{ type: 'file', path: 'etc/os-release', content: 'ID=test\n' }];

async function refusal(p: Promise<unknown>): Promise<OciError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(OciError);
  return e as OciError;
}

describe('manifest selection', () => {
  it('takes the only manifest, with or without a ref name', () => {
    expect(chooseDescriptor(index(desc(D('a'))), { arch: 'amd64', where: 'L' }).digest).toBe(D('a'));
    expect(chooseDescriptor(index(desc(D('a'), ref('latest'))), { arch: 'amd64', where: 'L' }).digest).toBe(D('a'));
  });

  it('picks by ref name, and lists the refs present when the ref is not there', () => {
    const ix = index(desc(D('a'), ref('v1')), desc(D('b'), ref('v2')));
    expect(chooseDescriptor(ix, { ref: 'v2', arch: 'amd64', where: 'L' }).digest).toBe(D('b'));
    expect(() => chooseDescriptor(ix, { ref: 'v3', arch: 'amd64', where: 'L' })).toThrow(/no image with the ref "v3" \(refs present: "v1", "v2"\)/);
  });

  it('refuses to guess between several images without a ref, naming the refs', () => {
    expect(() => chooseDescriptor(index(desc(D('a'), ref('v1')), desc(D('b'), ref('v2'))), { arch: 'amd64', where: 'L' })).toThrow(/holds 2 images.*"v1", "v2"/);
    expect(() => chooseDescriptor(index(desc(D('a')), desc(D('b'))), { arch: 'amd64', where: 'L' })).toThrow(/none has a ref name/);
  });

  it('picks the manifest for the architecture from a multi-arch list, skipping attestations', () => {
    const ix = index(desc(D('a'), linux('arm64')), desc(D('b'), linux('amd64')), desc(D('c'), { platform: { os: 'unknown', architecture: 'unknown' } }));
    expect(chooseDescriptor(ix, { arch: 'amd64', where: 'L' }).digest).toBe(D('b'));
    expect(chooseDescriptor(ix, { arch: 'arm64', where: 'L' }).digest).toBe(D('a'));
    expect(() => chooseDescriptor(ix, { arch: 'riscv64', where: 'L' })).toThrow(/no image for linux\/riscv64 \(it has linux\/arm64.*linux\/amd64/);
  });

  it('maps Node architectures to GOARCH', () => {
    expect(goArch('x64')).toBe('amd64');
    expect(goArch('arm64')).toBe('arm64');
  });
});

describe('digests and paths', () => {
  it('accepts only sha256:<64 lowercase hex>', () => {
    expect(digestHex(D('a'), 'layer')).toBe('a'.repeat(64));
    for (const bad of ['sha256:../../../../etc/shadow', `sha256:${'A'.repeat(64)}`, `sha256:${'a'.repeat(63)}`, `sha256:${'a'.repeat(64)}/..`, 'a'.repeat(64), '']) {
      expect(() => digestHex(bad, 'layer')).toThrow(OciError);
    }
    expect(() => digestHex(`sha512:${'a'.repeat(128)}`, 'layer')).toThrow(/only sha256 is supported/);
  });

  it('normalises archive paths and refuses ones that leave the archive', () => {
    expect(archivePath('./blobs/sha256/x')).toBe('blobs/sha256/x');
    expect(archivePath('a//b/./c')).toBe('a/b/c');
    expect(archivePath('../x')).toBeNull();
    expect(archivePath('a/../../x')).toBeNull();
  });

  it('refuses an index whose descriptor digest would traverse paths', async () => {
    const layout = fresh('traverse');
    writeIndex(layout, [{ mediaType: MT.manifest, digest: 'sha256:../../../../../etc/passwd', size: 10 }]);
    expect((await refusal(readImage({ transport: 'oci', path: layout }))).message).toMatch(/index.json is malformed.*sha256 digest/);
  });
});

describe('readImage', () => {
  const img = buildImage({ layers: [{ entries: FILES }, { entries: FILES, compression: 'zstd' }, { entries: FILES, compression: 'none' }] });

  it('reads an OCI layout, an OCI archive and a docker archive to the same layers', async () => {
    const layout = fresh('layout');
    writeIndex(layout, [addImage(layout, img, { ref: 'latest' })]);
    const archive = `${layout}.tar`;
    writeOciArchive(layout, archive);
    const docker = `${layout}.docker.tar`;
    writeDockerArchive(docker, img);
    const oci = await readImage({ transport: 'oci', path: layout, ref: 'latest' });
    expect(oci.manifestDigest).toBe(img.manifestDigest);
    expect(oci.layers.map((l) => l.mediaType)).toEqual([MT.gzip, MT.zstd, MT.tar]);
    expect(oci.totalBytes).toBe(img.layers.reduce((s, l) => s + l.blob.length, 0));
    expect(await readImage({ transport: 'oci-archive', path: archive })).toEqual(oci);
    const d = await readImage({ transport: 'docker-archive', path: docker });
    expect(d.manifestDigest).toBe(img.configDigest);
    expect(d.layers.map((l) => l.size)).toEqual(oci.layers.map((l) => l.size));
    expect(d.config).toEqual(oci.config);
  });

  it('reads docker 25+ archives (blobs/sha256 names) and checks the config against its name', async () => {
    const file = `${fresh('docker25')}.tar`;
    writeDockerArchive(file, img, 'x:1', 'oci');
    const d = await readImage({ transport: 'docker-archive', path: file });
    // blob names are digests: each layer is checked against its digest as well as its diff_id
    expect(d.layers.map((l) => l.digest)).toEqual(img.layers.map((l) => l.digest));
    const tampered = `${fresh('docker-tampered')}.tar`;
    writeDockerArchive(tampered, { ...img, config: Buffer.from(img.config.toString().replace('amd64', 'amd64 ')) }, 'x:1', 'legacy');
    expect((await refusal(readImage({ transport: 'docker-archive', path: tampered }))).message).toMatch(/config .* does not match its digest/);
  });

  it('follows a multi-arch image index to the manifest for the architecture', async () => {
    const layout = fresh('multi');
    const arm = buildImage({ layers: [{ entries: FILES }], arch: 'arm64' });
    const amd = buildImage({ layers: [{ entries: [...FILES, { type: 'file', path: 'amd', content: '1' }] }] });
    const list = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: MT.index, manifests: [addImage(layout, arm, { platform: { os: 'linux', architecture: 'arm64' } }), addImage(layout, amd, { platform: { os: 'linux', architecture: 'amd64' } })] }),
    );
    const listDigest = writeBlob(layout, list);
    writeIndex(layout, [{ mediaType: MT.index, digest: listDigest, size: list.length, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }]);
    expect((await readImage({ transport: 'oci', path: layout }, 'amd64')).manifestDigest).toBe(amd.manifestDigest);
    expect((await readImage({ transport: 'oci', path: layout, ref: 'latest' }, 'arm64')).manifestDigest).toBe(arm.manifestDigest);
    expect((await refusal(readImage({ transport: 'oci', path: layout }, 's390x'))).message).toMatch(/no image for linux\/s390x/);
  });

  it('refuses a manifest or config that does not match its digest, naming both digests', async () => {
    const layout = fresh('corrupt');
    writeOciLayout(layout, { layers: [{ entries: FILES }] });
    const built = buildImage({ layers: [{ entries: FILES }] });
    const cfg = join(layout, 'blobs', 'sha256', built.configDigest.slice(7));
    const text = readFileSync(cfg, 'utf8');
    writeFileSync(cfg, text.replace('amd64', 'amd65'));
    const e = await refusal(readImage({ transport: 'oci', path: layout }));
    expect(e.message).toContain(`expected ${built.configDigest}, got sha256:`);
    expect(e.hint).toMatch(/corrupt/);
  });

  it('refuses a descriptor size that does not match the blob', async () => {
    const layout = fresh('size');
    const built = writeOciLayout(layout, { layers: [{ entries: FILES }] });
    const m = JSON.parse(built.manifest.toString()) as { layers: { size: number }[] };
    m.layers[0]!.size += 1;
    const manifest = Buffer.from(JSON.stringify(m));
    writeIndex(layout, [{ mediaType: MT.manifest, digest: writeBlob(layout, manifest), size: manifest.length }]);
    expect((await refusal(readImage({ transport: 'oci', path: layout }))).message).toMatch(/descriptor says/);
  });

  it('refuses an image for another architecture, and unknown layer media types', async () => {
    const layout = fresh('arch');
    writeOciLayout(layout, { layers: [{ entries: FILES }], arch: 'arm64' });
    expect((await refusal(readImage({ transport: 'oci', path: layout }, 'amd64'))).message).toMatch(/image for arm64, but amd64/);
    const l2 = fresh('mt');
    const built = buildImage({ layers: [{ entries: FILES }] });
    const m = JSON.parse(built.manifest.toString()) as { layers: { mediaType: string }[] };
    m.layers[0]!.mediaType = 'application/vnd.oci.image.layer.v1.tar+bzip2';
    const manifest = Buffer.from(JSON.stringify(m));
    addImage(l2, built);
    writeIndex(l2, [{ mediaType: MT.manifest, digest: writeBlob(l2, manifest), size: manifest.length }]);
    expect((await refusal(readImage({ transport: 'oci', path: l2 }))).message).toMatch(/tar\+bzip2.*cannot unpack/);
  });

  it('refuses docker archives whose paths leave the archive', async () => {
    for (const [Config, Layers] of [
      ['../../etc/passwd', []],
      ['/etc/passwd', []],
      [`${'a'.repeat(64)}.json`, ['../outside/layer.tar']],
    ] as const) {
      const file = `${fresh('docker-escape')}.tar`;
      const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: Layers.map(() => D('b')) } });
      writeFileSync(
        file,
        tarBytes([
          { type: 'file', path: 'manifest.json', content: JSON.stringify([{ Config, RepoTags: ['x:1'], Layers }]) },
          { type: 'file', path: `${'a'.repeat(64)}.json`, content: config },
        ]),
      );
      expect((await refusal(readImage({ transport: 'docker-archive', path: file }))).message).toMatch(/outside the archive|does not match/);
    }
  });

  it('says what is wrong with a path that is not an image', async () => {
    expect((await refusal(readImage({ transport: 'oci', path: join(dir, 'missing') }))).message).toMatch(/not a directory/);
    const empty = fresh('empty');
    writeIndex(empty, []);
    expect((await refusal(readImage({ transport: 'oci', path: empty }))).message).toMatch(/lists no image manifest/);
    const notTar = `${fresh('nottar')}.tar`;
    writeFileSync(notTar, Buffer.alloc(4096, 0x41));
    expect((await refusal(readImage({ transport: 'oci-archive', path: notTar }))).message).toMatch(/not a readable tar archive/);
  });
});
