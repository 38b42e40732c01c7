import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readImageFiles } from '../../src/engine/deploy/oci/files';
import { readInstallConfig } from '../../src/engine/system/install-config-read';
import { writeDockerArchive, writeOciArchive, writeOciLayout, buildImage, type EntrySpec } from '../support/oci-build';
// The fake bootc's own reader of the same files (test/fakes/lib/config.mjs), written separately
// from bootc's config.rs: the two must agree on every corpus below.
import { FAKE_BIN as FAKE_DIR, fakeEnv, runFake } from '../fakes';
import { createExec } from '../../src/engine/exec';

const work = mkdtempSync(join(tmpdir(), 'particle-install-config-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("an image's files, read from its layers before anything is written", () => {
  const toml = (path: string, content: string): EntrySpec => ({ type: 'file', path, content });
  const layers = [
    {
      entries: [
        { type: 'dir', path: 'usr/lib/bootc/install' },
        toml('usr/lib/bootc/install/00-base.toml', '[install]\nroot-fs-type = "xfs"\n'),
        toml('usr/lib/bootc/install/10-gone.toml', '[install]\nroot-fs-type = "ext4"\n'),
        toml('etc/bootc/install/20-etc.toml', '[install]\nkargs = ["old"]\n'),
        toml('usr/bin/big', 'x'.repeat(4096)),
      ] as EntrySpec[],
      compression: 'gzip' as const,
    },
    {
      entries: [
        { type: 'whiteout', path: 'usr/lib/bootc/install/10-gone.toml' },
        { type: 'opaque', path: 'etc/bootc/install' },
        toml('etc/bootc/install/30-new.toml', '[install]\nblock = ["direct", "tpm2-luks"]\n'),
        { type: 'symlink', path: 'usr/lib/bootc/install/40-link.toml', target: '../../../../etc/bootc/install/30-new.toml' },
      ] as EntrySpec[],
      compression: 'none' as const,
    },
    { entries: [toml('./usr/lib/bootc/install/05-btrfs.toml', '[install.filesystem.root]\ntype = "btrfs"\n')] as EntrySpec[], compression: 'zstd' as const },
  ];

  it('applies whiteouts and opaque directories, follows a link to a kept file, and reads gzip, plain and zstd layers', async () => {
    const layout = join(work, 'layout');
    writeOciLayout(layout, { layers }, 'v1');
    const got = await readImageFiles({ transport: 'oci', path: layout, ref: 'v1' }, 'amd64', ['usr/lib/bootc/install', 'etc/bootc/install']);
    expect(Object.fromEntries([...got].map(([p, f]) => [p, `${f.layer}:${f.data.toString('utf8').split('\n')[1]}`]))).toEqual({
      'usr/lib/bootc/install/00-base.toml': '1:root-fs-type = "xfs"',
      'etc/bootc/install/30-new.toml': '2:block = ["direct", "tpm2-luks"]',
      'usr/lib/bootc/install/40-link.toml': '2:block = ["direct", "tpm2-luks"]',
      'usr/lib/bootc/install/05-btrfs.toml': '3:type = "btrfs"',
    });
  });

  it('the whole reader on each local form of the same image: an OCI layout, an OCI archive and a docker archive', async () => {
    const layout = join(work, 'layout2');
    const img = writeOciLayout(layout, { layers });
    writeOciArchive(layout, join(work, 'image.oci.tar'));
    writeDockerArchive(join(work, 'image.docker.tar'), buildImage({ layers }));
    expect(img.layers).toHaveLength(3);
    const deps = { exec: () => Promise.reject(new Error('not used')), which: () => null };
    for (const image of [
      { transport: 'oci' as const, reference: layout },
      { transport: 'oci-archive' as const, reference: join(work, 'image.oci.tar') },
      { transport: 'docker-archive' as const, reference: join(work, 'image.docker.tar') },
    ]) {
      const r = await readInstallConfig(image, deps, 'x64');
      expect(r, image.transport).toEqual({
        kind: 'read',
        files: ['/usr/lib/bootc/install/00-base.toml', '/usr/lib/bootc/install/05-btrfs.toml', '/etc/bootc/install/30-new.toml', '/usr/lib/bootc/install/40-link.toml'],
        config: expect.objectContaining({ rootFsType: 'btrfs', block: ['direct', 'tpm2-luks'], kargs: [] }),
      });
    }
  });

  it('reads a layout once per version of its index.json: a second ask is answered from memory, a changed index.json is read again', async () => {
    const layout = join(work, 'cached');
    const img = writeOciLayout(layout, { labels: { 'containers.bootc': '1' }, layers: [{ entries: [toml('usr/lib/bootc/install/00.toml', '[install]\nroot-fs-type = "ext4"\n')] }] });
    const deps = { exec: () => Promise.reject(new Error('not used')), which: () => null };
    const image = { transport: 'oci' as const, reference: layout };
    expect(await readInstallConfig(image, deps, 'x64')).toMatchObject({ kind: 'read', config: { rootFsType: 'ext4' } });
    // The layer is gone: only a cached answer can still say ext4.
    rmSync(join(layout, 'blobs/sha256', img.layers[0]!.digest.slice(7)));
    expect(await readInstallConfig(image, deps, 'x64')).toMatchObject({ kind: 'read', config: { rootFsType: 'ext4' } });
    // A new version of index.json (another mtime): read again, and now the layer is missing.
    utimesSync(join(layout, 'index.json'), new Date(), new Date(Date.now() + 60_000));
    expect(await readInstallConfig(image, deps, 'x64')).toMatchObject({ kind: 'unread' });
  });

  it('a registry image is not read before the wipe, and says why; a missing layout is unread with the reason', async () => {
    const deps = { exec: () => Promise.reject(new Error('not used')), which: () => null };
    expect(await readInstallConfig({ transport: 'registry', reference: 'quay.io/x/y:1' }, deps)).toMatchObject({ kind: 'unread', why: expect.stringMatching(/downloaded onto the prepared disk/) });
    expect(await readInstallConfig({ transport: 'oci', reference: join(work, 'missing') }, deps)).toMatchObject({ kind: 'unread', why: expect.stringMatching(/could not be read/) });
  });

  it("an image in local container storage: bootc itself prints its config, in a container with no network that never pulls (podman's and bootc's fakes)", async () => {
    const env = fakeEnv({ storage: join(work, 'storage') });
    expect(runFake('podman', ['pull', 'quay.io/example/os:42'], env).code).toBe(0);
    const exec = createExec();
    const seen: string[][] = [];
    const deps = {
      exec: (argv: readonly string[], o?: Parameters<typeof exec>[1]) => {
        seen.push([...argv]);
        return exec([join(FAKE_DIR, argv[0]!), ...argv.slice(1)], { ...o, env: { PARTICLE_FAKE_STORAGE: env.PARTICLE_FAKE_STORAGE!, PARTICLE_FAKE_DELAY_MS: '0' } });
      },
      which: (name: string) => join(FAKE_DIR, name),
    };
    const r = await readInstallConfig({ transport: 'containers-storage', reference: 'quay.io/example/os:42' }, deps);
    expect(seen).toEqual([['podman', 'run', '--rm', '--pull=never', '--network=none', 'quay.io/example/os:42', 'bootc', 'install', 'print-configuration', '--all']]);
    // The fake image's config (test/fakes/lib/roots.mjs): xfs, both block setups.
    expect(r).toMatchObject({ kind: 'read', config: { rootFsType: 'xfs', block: ['direct', 'tpm2-luks'] } });
    const missing = await readInstallConfig({ transport: 'containers-storage', reference: 'quay.io/example/absent:1' }, deps);
    expect(missing).toMatchObject({ kind: 'unread' });
  });
});
