import { execFile, spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExec, type Exec } from '../../src/engine/exec';
import { whichOnPath } from '../../src/engine/system/deps';
import { imageFacts } from '../../src/engine/system/image';
import { imagePreflight } from '../../src/engine/install/preflight';
import { runFake } from '../fakes';
import { ensureOciTestImage, ociImageUnavailable, type OciTestImage } from '../support/oci-test-image';
import { serveLayout, type LocalRegistry } from '../support/registry';

// The registry pre-flight against real skopeo: the test OCI image served by a read-only registry on
// 127.0.0.1, so what the engine parses is what skopeo really prints, and the skopeo contract fake is
// held to the same fields. Plain HTTP needs --tls-verify=false (this skopeo ignores
// CONTAINERS_REGISTRIES_CONF); the engine's own command is the same without it.
const hasSkopeo = spawnSync('sh', ['-c', 'command -v skopeo']).status === 0;
const why = ociImageUnavailable() ?? (hasSkopeo ? null : 'skopeo is not installed');
if (why) console.warn(`[integration] registry pre-flight tests skipped: ${why}`);

describe.skipIf(why !== null)('registry pre-flight against real skopeo and a local registry', () => {
  let img: OciTestImage;
  let registry: LocalRegistry;
  const inspect = async (ref: string): Promise<{ code: number; stdout: string; stderr: string }> =>
    promisify(execFile)('skopeo', ['inspect', '--tls-verify=false', '--no-tags', `docker://${ref}`], { encoding: 'utf8' }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }),
    );

  beforeAll(async () => {
    img = await ensureOciTestImage();
    registry = await serveLayout(img.layout);
  }, 1_200_000);
  afterAll(async () => {
    await registry?.close();
  });

  it("the engine reads skopeo's real answer: the manifest digest, the architecture, the compressed size, labels", async () => {
    // The engine's own reading (imageFacts), its skopeo commands given --tls-verify=false for plain HTTP.
    const base = createExec();
    const exec: Exec = (argv, o) => base(argv[0] === 'skopeo' ? ['skopeo', argv[1]!, '--tls-verify=false', ...argv.slice(2)] : argv, o);
    registry.requests.length = 0;
    const facts = await imageFacts({ reference: registry.reference, transport: 'registry' }, { exec, which: whichOnPath() });
    expect(facts.digest, facts.detail).toBe(img.manifestDigest);
    expect(facts.architecture).toBe('amd64');
    // From LayersData where skopeo prints it (1.10 and later), else from the raw manifest.
    expect(facts.size, facts.detail).toBe(img.layerDigests.reduce((s, d) => s + statSync(join(img.layout, 'blobs/sha256', d.slice(7))).size, 0));
    // The test image has no labels: skopeo says null, which the engine reads as "none", so the
    // pre-flight names it as not a bootc image rather than passing it.
    expect(facts.labels).toEqual({});
    const problems = imagePreflight({ image: registry.reference, bootc: true, machineArch: 'x64', rootBytes: 64 * 1024 ** 3, facts });
    expect(problems.map((p) => p.what)).toEqual([`${registry.reference} is not a bootc image: it has neither the containers.bootc nor the ostree.bootable label`]);
    // Manifests and the config were fetched, never a layer.
    const blobs = registry.requests.filter((q) => q.includes('/blobs/')).map((q) => q.split('/').at(-1)!);
    expect(blobs.length).toBeGreaterThan(0);
    for (const b of blobs) expect(img.layerDigests).not.toContain(b);
  });

  it("a tag the registry does not have fails with skopeo's own reason", async () => {
    const r = await inspect(registry.reference.replace(/:latest$/, ':43'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/level=fatal msg=".*manifest unknown/);
  });

  it('the skopeo fake answers with the same fields real skopeo prints', async () => {
    const real = JSON.parse((await inspect(registry.reference)).stdout) as Record<string, unknown>;
    const fake = JSON.parse(runFake('skopeo', ['inspect', '--no-tags', 'docker://quay.io/example/os:42'], process.env).stdout) as Record<string, unknown>;
    // The fake plays a skopeo with LayersData (1.10 and later, as on the live ISO's Debian 13); an
    // older skopeo lacks only that field.
    expect(Object.keys(fake).filter((k) => k !== 'LayersData' || 'LayersData' in real).sort()).toEqual(Object.keys(real).sort());
    if ('LayersData' in real) {
      const layerKeys = (j: Record<string, unknown>) => Object.keys((j.LayersData as Record<string, unknown>[])[0]!).sort();
      expect(layerKeys(fake)).toEqual(layerKeys(real));
    }
  });
});
