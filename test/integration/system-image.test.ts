import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageInfoSchema } from '../../src/shared';
import { CommandError, createExec, type Exec } from '../../src/engine/exec';
import { makeError } from '../../src/shared/errors';
import { DEFAULT_SYSTEM_PATHS } from '../../src/engine/system/deps';
import { dockerScopes, evaluatePolicy, imageFacts, inspectImage, parseSkopeoInspect, pathScopes, readPolicyVerdict, repositoryOf, skopeoReason, splitLayoutReference, type ImageRef } from '../../src/engine/system/image';

const POLICY = resolve('test/fixtures/system/policy/policy.json');
const tmp = mkdtempSync(join(tmpdir(), 'system-image-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** A tiny OCI layout: two layer blobs, a config, a manifest, and index.json naming it `ref`. */
function writeLayout(dir: string, refs: string[]): { digests: string[]; sizes: number[] } {
  mkdirSync(join(dir, 'blobs/sha256'), { recursive: true });
  const blob = (data: Buffer | string): { digest: string; size: number } => {
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(data);
    const hex = sha(buf);
    writeFileSync(join(dir, 'blobs/sha256', hex), buf);
    return { digest: `sha256:${hex}`, size: buf.length };
  };
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const digests: string[] = [];
  const sizes: number[] = [];
  const manifests = refs.map((ref, i) => {
    const layers = [blob(Buffer.alloc(1000 + i, 1)), blob(Buffer.alloc(2345, 2 + i))];
    sizes.push(layers.reduce((s, l) => s + l.size, 0));
    const config = blob(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } }));
    const manifest = blob(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l })),
      }),
    );
    digests.push(manifest.digest);
    return { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': ref } };
  });
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
  return { digests, sizes };
}

const noTools = { which: () => null, exec: createExec(), paths: { ...DEFAULT_SYSTEM_PATHS, policyJson: POLICY } };

describe('OCI layouts and archives', () => {
  let one: { digests: string[]; sizes: number[] };
  let two: { digests: string[]; sizes: number[] };
  beforeAll(() => {
    one = writeLayout(join(tmp, 'one'), ['latest']);
    two = writeLayout(join(tmp, 'two'), ['stable', 'testing']);
    // One archive the way tar -C DIR . writes it ("./index.json"), one with bare member names.
    spawnSync('tar', ['-cf', join(tmp, 'dot.tar'), '-C', join(tmp, 'one'), '.']);
    spawnSync('tar', ['-cf', join(tmp, 'bare.tar'), '-C', join(tmp, 'two'), 'oci-layout', 'index.json', 'blobs']);
  });

  it('oci: digest from index.json and the size of the manifest layers', async () => {
    const r = await inspectImage({ reference: join(tmp, 'one'), transport: 'oci' }, noTools);
    expect(ImageInfoSchema.parse(r)).toEqual(r);
    expect(r).toMatchObject({ digest: one.digests[0], size: one.sizes[0] });
  });

  it('oci: honours :REF, and wants one when the layout holds several', async () => {
    const testing = await inspectImage({ reference: `${join(tmp, 'two')}:testing`, transport: 'oci' }, noTools);
    expect(testing).toMatchObject({ digest: two.digests[1], size: two.sizes[1] });
    const either = await inspectImage({ reference: join(tmp, 'two'), transport: 'oci' }, noTools);
    expect(either.digest).toBeNull();
    expect(either.detail).toMatch(/lists 2 images; name one with :REF/);
    expect((await inspectImage({ reference: `${join(tmp, 'two')}:nope`, transport: 'oci' }, noTools)).detail).toMatch(/no image named "nope"/);
  });

  it('oci-archive: read with tar -xOf, "./" member names too', async () => {
    const dot = await inspectImage({ reference: join(tmp, 'dot.tar'), transport: 'oci-archive' }, noTools);
    expect(dot).toMatchObject({ digest: one.digests[0], size: one.sizes[0] });
    const bare = await inspectImage({ reference: `${join(tmp, 'bare.tar')}:stable`, transport: 'oci-archive' }, noTools);
    expect(bare).toMatchObject({ digest: two.digests[0], size: two.sizes[0] });
    expect(two.sizes[0]).not.toBe(two.sizes[1]);
    expect((await inspectImage({ reference: join(tmp, 'missing.tar'), transport: 'oci-archive' }, noTools)).digest).toBeNull();
  });

  const skopeo = spawnSync('skopeo', ['--version']).status === 0;
  if (!skopeo) console.warn('[unit] system-image: skopeo cross-check skipped: skopeo is not installed');
  it.skipIf(!skopeo)('agrees with skopeo inspect on the digest', () => {
    const r = spawnSync('skopeo', ['inspect', `oci:${join(tmp, 'two')}:testing`], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).Digest).toBe(two.digests[1]);
    const a = spawnSync('skopeo', ['inspect', `oci-archive:${join(tmp, 'dot.tar')}`], { encoding: 'utf8' });
    expect(a.status, a.stderr).toBe(0);
    expect(JSON.parse(a.stdout).Digest).toBe(one.digests[0]);
  });

  it('splits DIR:REF at the last colon not followed by a slash', () => {
    expect(splitLayoutReference('/srv/image:latest')).toEqual({ path: '/srv/image', ref: 'latest' });
    expect(splitLayoutReference('/srv/image')).toEqual({ path: '/srv/image', ref: null });
    expect(splitLayoutReference('/srv/a:b/image')).toEqual({ path: '/srv/a:b/image', ref: null });
  });
});

describe('registry and local storage', () => {
  const recording = (stdout: string) => {
    const calls: { argv: string[]; timeoutMs?: number }[] = [];
    const exec: Exec = async (argv, o = {}) => {
      calls.push({ argv: [...argv], ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }) });
      return { exitCode: 0, stdout, stderr: '', durationMs: 1 };
    };
    return { exec, calls };
  };
  const DIGEST = `sha256:${'ab'.repeat(32)}`;

  it('registry: skopeo inspect --no-tags with a 15 s timeout', async () => {
    const { exec, calls } = recording(JSON.stringify({ Digest: DIGEST, LayersData: [{ Size: 10 }, { Size: 32 }] }));
    const r = await inspectImage({ reference: 'quay.io/fedora/fedora-bootc:42', transport: 'registry' }, { ...noTools, exec, which: (c) => (c === 'skopeo' ? '/usr/bin/skopeo' : null) });
    expect(calls).toEqual([{ argv: ['skopeo', 'inspect', '--no-tags', 'docker://quay.io/fedora/fedora-bootc:42'], timeoutMs: 15_000 }]);
    expect(r).toMatchObject({ digest: DIGEST, size: 42, signature: 'verified' });
  });

  it('registry without skopeo: no digest, and says why', async () => {
    const { exec, calls } = recording('');
    const r = await inspectImage({ reference: 'quay.io/x/y', transport: 'registry' }, { ...noTools, exec });
    expect(calls).toEqual([]);
    expect(r.digest).toBeNull();
    expect(r.detail).toMatch(/skopeo is not installed/);
  });

  it('containers-storage: podman image inspect', async () => {
    const { exec, calls } = recording(JSON.stringify([{ Id: 'x', Digest: DIGEST }]));
    const r = await inspectImage({ reference: 'localhost/os:1', transport: 'containers-storage' }, { ...noTools, exec, which: () => '/usr/bin/podman' });
    expect(calls[0]!.argv).toEqual(['podman', 'image', 'inspect', 'localhost/os:1']);
    expect(r.digest).toBe(DIGEST);
  });

  it('parses skopeo output defensively', () => {
    expect(parseSkopeoInspect('{"Digest":"md5:1","LayersData":null}')).toEqual({ digest: null, size: null, architecture: null, labels: {} });
    const bootc = parseSkopeoInspect(JSON.stringify({ Digest: `sha256:${'a'.repeat(64)}`, Architecture: 'arm64', Labels: { 'containers.bootc': '1' }, LayersData: [{ Size: 5 }, { Size: 7 }] }));
    expect(bootc).toEqual({ digest: `sha256:${'a'.repeat(64)}`, size: 12, architecture: 'arm64', labels: { 'containers.bootc': '1' } });
  });
});

describe('signature policy', () => {
  const verdict = (reference: string, transport: ImageRef['transport'] = 'registry') => readPolicyVerdict(POLICY, { reference, transport });

  it('most specific docker scope wins', () => {
    expect(verdict('quay.io/fedora/fedora-bootc:42').signature).toBe('verified');
    expect(verdict('quay.io/fedora/fedora-bootc:42').detail).toContain('"quay.io/fedora/fedora-bootc"');
    expect(verdict('quay.io/fedora/other').detail).toContain('"quay.io/fedora"');
    expect(verdict('quay.io/someone/else').signature).toBe('unverified');
    expect(verdict('registry.example.org/blocked/os').detail).toMatch(/policy rejects this image/i);
    expect(verdict('images.example.com/os:1').signature).toBe('verified');
    expect(verdict('fedora:40').signature).toBe('unverified');
    expect(verdict('fedora:40').detail).toMatch(/rejects/);
    expect(verdict('ghcr.io/x/y').detail).toMatch(/unsigned \(default\)/);
  });

  it('oci paths match their directory or a parent; oci-archive uses the transport default', () => {
    expect(verdict('/srv/images/os:1', 'oci').signature).toBe('verified');
    expect(verdict('/var/tmp/os', 'oci').signature).toBe('unverified');
    expect(verdict('/srv/os.tar', 'oci-archive').detail).toMatch(/rejects/);
  });

  it('unknown without a readable policy, or with requirements it does not know', () => {
    expect(readPolicyVerdict(join(tmp, 'none.json'), { reference: 'a/b', transport: 'registry' }).signature).toBe('unknown');
    expect(evaluatePolicy({ default: [{ type: 'somethingNew' }] }, { reference: 'a/b', transport: 'registry' }).signature).toBe('unknown');
    expect(evaluatePolicy(null, { reference: 'a/b', transport: 'registry' }).signature).toBe('unknown');
  });

  it('scope lists, most specific first', () => {
    expect(dockerScopes('quay.io/fedora/fedora-bootc:42')).toEqual(['quay.io/fedora/fedora-bootc:42', 'quay.io/fedora/fedora-bootc', 'quay.io/fedora', 'quay.io', '*.io', '']);
    expect(dockerScopes('fedora')).toEqual(['docker.io/library/fedora', 'docker.io/library', 'docker.io', '*.io', '']);
    expect(pathScopes('/srv/images/os:1')).toEqual(['/srv/images/os:1', '/srv/images/os', '/srv/images', '/srv', '/', '']);
  });
});

describe('skopeoReason', () => {
  const failed = (stderrTail: string) => new CommandError(makeError('command-failed', 'skopeo exited with code 1.', { exitCode: 1, stderrTail }));
  it("takes logrus's fatal message, unquoted, from the last such line", () => {
    const tail = 'time="2026-12-06T12:00:00Z" level=warning msg="x"\ntime="2026-12-06T12:00:01Z" level=fatal msg="Error parsing image name \\"docker://q.io/a:1\\": pinging container registry q.io: Get \\"https://q.io/v2/\\": dial tcp: lookup q.io: no such host"';
    expect(skopeoReason(failed(tail))).toBe('Error parsing image name "docker://q.io/a:1": pinging container registry q.io: Get "https://q.io/v2/": dial tcp: lookup q.io: no such host');
  });
  it('falls back to the last line, then to the error itself', () => {
    expect(skopeoReason(failed('some\nError: unknown flag: --x\n'))).toBe('Error: unknown flag: --x');
    expect(skopeoReason(failed(''))).toBe('skopeo exited with code 1.');
    expect(skopeoReason(new Error('spawn skopeo ENOENT'))).toBe('spawn skopeo ENOENT');
  });
});

describe('registry facts with a skopeo that prints no LayersData (before 1.10)', () => {
  it('sums the layers of this platform\'s manifest, through a multi-platform index', async () => {
    const calls: string[][] = [];
    const exec: Exec = async (argv) => {
      calls.push([...argv]);
      const ref = argv.at(-1)!;
      let out: unknown;
      if (!argv.includes('--raw')) out = { Digest: `sha256:${'a'.repeat(64)}`, Architecture: 'amd64', Labels: { 'containers.bootc': '1' } };
      else if (ref === 'docker://q.io:5000/os/base:42') out = { manifests: [{ digest: `sha256:${'b'.repeat(64)}`, platform: { architecture: 'arm64', os: 'linux' } }, { digest: `sha256:${'c'.repeat(64)}`, platform: { architecture: 'amd64', os: 'linux' } }] };
      else if (ref === `docker://q.io:5000/os/base@sha256:${'c'.repeat(64)}`) out = { layers: [{ size: 1000 }, { size: 234 }] };
      else throw new Error(`unexpected ${ref}`);
      return { exitCode: 0, stdout: JSON.stringify(out), stderr: '', durationMs: 1 };
    };
    const facts = await imageFacts({ reference: 'q.io:5000/os/base:42', transport: 'registry' }, { exec, which: () => '/usr/bin/skopeo' });
    expect(facts).toMatchObject({ digest: `sha256:${'a'.repeat(64)}`, size: 1234, architecture: 'amd64', labels: { 'containers.bootc': '1' } });
    expect(calls.map((c) => c.at(-1))).toEqual(['docker://q.io:5000/os/base:42', 'docker://q.io:5000/os/base:42', `docker://q.io:5000/os/base@sha256:${'c'.repeat(64)}`]);
  });

  it('names the repository of tagged, digested and ported references', () => {
    expect(repositoryOf('q.io:5000/os/base:42')).toBe('q.io:5000/os/base');
    expect(repositoryOf('q.io:5000/os/base')).toBe('q.io:5000/os/base');
    expect(repositoryOf(`q.io/os@sha256:${'d'.repeat(64)}`)).toBe('q.io/os');
  });
});
