import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExec, type Exec } from '../../src/engine/exec';
import { signatureCheckProblems } from '../../src/engine/install/preflight';
import { whichOnPath } from '../../src/engine/system/deps';
import { checkRegistrySignature } from '../../src/engine/system/signature';
import { runFake } from '../fakes';
import { ensureOciTestImage, ociImageUnavailable, type OciTestImage } from '../support/oci-test-image';
import { serveLayout, type LocalRegistry } from '../support/registry';

// The signature check before the wipe, against real skopeo and containers/image: the test OCI image
// served by a read-only registry on 127.0.0.1, signed with a throwaway GPG key (skopeo
// standalone-sign, the signature in a lookaside folder named in registries.d), and a policy that
// requires that key's signature. The engine's skopeo commands get --tls-verify=false (plain HTTP) and
// the test's policy and registries.d; otherwise they are the engine's own.
const has = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const why = ociImageUnavailable() ?? (has('skopeo') ? (has('gpg') ? null : 'gpg is not installed (apt-get install gpg)') : 'skopeo is not installed');
if (why) console.warn(`[integration] signature check tests skipped: ${why}`);

const pexec = promisify(execFile);

describe.skipIf(why !== null)("the image's signature, checked before anything is written", () => {
  let img: OciTestImage;
  let registry: LocalRegistry;
  const dir = mkdtempSync(join(tmpdir(), 'particle-signature-test-'));
  const gnupg = join(dir, 'gnupg');
  const env = { ...process.env, GNUPGHOME: gnupg };
  const gpg = (args: string[]): Promise<string> => pexec('gpg', ['--batch', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], { env, encoding: 'utf8' }).then((r) => r.stdout);
  /** A new key; its fingerprint. */
  const newKey = async (uid: string): Promise<string> => {
    const before = new Set((await gpg(['--with-colons', '--list-secret-keys']).catch(() => '')).match(/^fpr:+([0-9A-F]+):/gm) ?? []);
    await gpg(['--quick-gen-key', uid, 'ed25519', 'sign', 'never']);
    const after = (await gpg(['--with-colons', '--list-secret-keys'])).match(/^fpr:+([0-9A-F]+):/gm) ?? [];
    return after.find((l) => !before.has(l))!.replace(/^fpr:+/, '').replace(/:$/, '');
  };
  let signer = '';
  let other = '';

  /** The engine's exec, pointed at this test's policy, registries.d and plain-HTTP registry. */
  const execWith = (policy: string): Exec => {
    const base = createExec();
    return (argv, o) => {
      if (argv[0] !== 'skopeo') return base(argv, o);
      if (argv[1] === 'copy') return base(['skopeo', 'copy', '--src-tls-verify=false', '--policy', policy, '--registries.d', join(dir, 'registries.d'), ...argv.slice(2)], o);
      return base(['skopeo', argv[1]!, '--tls-verify=false', ...argv.slice(2)], o);
    };
  };
  const policyFor = (name: string, key: string): string => {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify({ default: [{ type: 'reject' }], transports: { docker: { [registry.host]: [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: join(dir, `${key}.gpg`) }] } } }));
    return file;
  };

  beforeAll(async () => {
    img = await ensureOciTestImage();
    registry = await serveLayout(img.layout, 'particle/os', '42');
    mkdirSync(gnupg, { mode: 0o700 });
    signer = await newKey('Particle signer <signer@example.org>');
    other = await newKey('Someone else <other@example.org>');
    for (const k of [signer, other]) await gpg(['--export', '--output', join(dir, `${k}.gpg`), k]);
    // The signature: skopeo's own "simple signing" of the manifest, where the lookaside names it.
    const manifest = (await pexec('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${registry.reference}`], { encoding: 'buffer' })).stdout;
    writeFileSync(join(dir, 'manifest.json'), manifest);
    const digest = createHash('sha256').update(manifest).digest('hex');
    const sigDir = join(dir, 'lookaside', `particle/os@sha256=${digest}`);
    mkdirSync(sigDir, { recursive: true });
    await pexec('skopeo', ['standalone-sign', join(dir, 'manifest.json'), registry.reference, signer, '--output', join(sigDir, 'signature-1')], { env });
    mkdirSync(join(dir, 'registries.d'));
    writeFileSync(join(dir, 'registries.d', 'particle-test.yaml'), `docker:\n  ${registry.host}:\n    lookaside: file://${join(dir, 'lookaside')}\n`);
  }, 1_200_000);

  afterAll(async () => {
    spawnSync('gpgconf', ['--homedir', gnupg, '--kill', 'all']);
    await registry?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a signature by the key the policy names passes, and no layer is downloaded to check it", async () => {
    registry.requests.length = 0;
    const tmp = mkdtempSync(join(dir, 'tmp-'));
    const started = performance.now();
    const check = await checkRegistrySignature(registry.reference, { exec: execWith(policyFor('signed', signer)), which: whichOnPath() }, { tmp });
    const ms = performance.now() - started;
    expect(check, check.detail).toMatchObject({ ok: true, rejected: false });
    expect(signatureCheckProblems(registry.reference, check)).toEqual([]);
    // Manifests and the config, never a layer; and nothing is left behind.
    const blobs = registry.requests.filter((q) => q.includes('/blobs/')).map((q) => q.split('/').at(-1)!);
    for (const b of blobs) expect(img.layerDigests).not.toContain(b);
    expect(readdirSync(tmp)).toEqual([]);
    console.log(`[integration] signature check: ${ms.toFixed(0)} ms, ${registry.requests.length} requests (${blobs.length} blob), image layers ${(img.compressedBytes / 1024 ** 2).toFixed(1)} MiB not fetched`);
  });

  it("a signature by another key, or none, is refused with containers/image's reason", async () => {
    const wrongKey = await checkRegistrySignature(registry.reference, { exec: execWith(policyFor('other', other)), which: whichOnPath() });
    expect(wrongKey).toMatchObject({ ok: false, rejected: true });
    expect(wrongKey.detail).toMatch(/^Source image rejected: /);
    const problems = signatureCheckProblems(registry.reference, wrongKey);
    expect(problems.map((p) => p.what)).toEqual([`this system's signature policy rejects ${registry.reference}: ${wrongKey.detail}`]);
    // An image with no signature at all (another tag of the same registry has none in the lookaside).
    const unsignedRegistry = await serveLayout(img.layout, 'particle/unsigned', '1');
    try {
      const base = createExec();
      const exec: Exec = (argv, o) => base(argv[0] === 'skopeo' && argv[1] === 'copy'
        ? ['skopeo', 'copy', '--src-tls-verify=false', '--registries.d', join(dir, 'registries.d'), '--policy', writePolicy(unsignedRegistry.host), ...argv.slice(2)]
        : argv[0] === 'skopeo' ? ['skopeo', argv[1]!, '--tls-verify=false', ...argv.slice(2)] : argv, o);
      const none = await checkRegistrySignature(unsignedRegistry.reference, { exec, which: whichOnPath() });
      expect(none).toMatchObject({ ok: false, rejected: true });
      expect(none.detail).toMatch(/^Source image rejected: /);
    } finally {
      await unsignedRegistry.close();
    }
  });

  function writePolicy(host: string): string {
    const file = join(dir, `policy-${host.replace(/\W/g, '_')}.json`);
    writeFileSync(file, JSON.stringify({ default: [{ type: 'reject' }], transports: { docker: { [host]: [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: join(dir, `${signer}.gpg`) }] } } }));
    return file;
  }

  it('a registry that cannot be reached is "could not be checked", not a rejection', async () => {
    const check = await checkRegistrySignature('127.0.0.1:9/particle/os:42', { exec: execWith(policyFor('signed2', signer)), which: whichOnPath() });
    expect(check).toMatchObject({ ok: false, rejected: false });
    expect(signatureCheckProblems('127.0.0.1:9/particle/os:42', check)[0]!.what).toMatch(/could not be checked before the disk is erased/);
  });

  it('the skopeo fake answers copy as real skopeo does: a rejection without a valid signature, reuse of the placeholders with one', async () => {
    const fake = runFake('skopeo', ['copy', '--quiet', '--remove-signatures', 'docker://quay.io/example/os:42', `oci:${join(dir, 'fake-oci')}:check`], process.env);
    expect(fake.code).toBe(1);
    expect(fake.stderr).toMatch(/level=fatal msg="Source image rejected: A signature was required, but no signature exists"/);
  });
});

describe('a signature check that would download the layers', () => {
  it('is stopped once its folder really holds more than 32 MiB, and says it could not be made', async () => {
    let aborted = false;
    const exec: Exec = async (argv, o) => {
      if (argv[1] === 'inspect') {
        return { exitCode: 0, stderr: '', durationMs: 1, stdout: JSON.stringify({ schemaVersion: 2, layers: [{ digest: `sha256:${'a'.repeat(64)}`, size: 2 * 1024 ** 3 }] }) };
      }
      // A skopeo that ignores the placeholder and copies the layer: real bytes, until it is stopped.
      const dir = argv.at(-1)!.replace(/^oci:/, '').replace(/:check$/, '');
      const file = join(dir, 'blobs/sha256', 'b'.repeat(64));
      for (let i = 0; i < 64 && !o?.signal?.aborted; i++) {
        writeFileSync(file, Buffer.alloc(1024 * 1024, 1), { flag: 'a' });
        await new Promise((r) => setTimeout(r, 20));
      }
      aborted = o?.signal?.aborted === true;
      throw new Error('skopeo was stopped');
    };
    const check = await checkRegistrySignature('example.org/os:1', { exec, which: () => '/usr/bin/skopeo' });
    expect(aborted).toBe(true);
    expect(check).toEqual({ ok: false, rejected: false, detail: "the signature could not be checked without downloading the image's layers (skopeo began to copy them)" });
  });
});
