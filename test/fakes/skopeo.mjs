// The skopeo contract fake: `skopeo inspect [--no-tags|--raw] docker://REF` and `skopeo copy
// docker://REF oci:DIR:TAG` against the same imaginary registry the podman fake pulls from
// (lib/storage.mjs describeImage), so a registry install can be checked before the wipe without a
// network. Other commands are refused, naming the fake.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { arch } from 'node:os';
import { err, Exit, logInvocation, main, splitRef } from './lib/common.mjs';
import { describeImage, normalizeRef } from './lib/storage.mjs';

const argv = process.argv.slice(2);
logInvocation('skopeo', argv);

/** skopeo logs through logrus: `time="…" level=fatal msg="…"` on stderr, exit 1. */
function fatal(message) {
  err(`time="${new Date().toISOString()}" level=fatal msg=${JSON.stringify(message)}`);
  throw new Exit(1);
}

const GOARCH = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };

await main(async () => {
  const [cmd, ...rest] = argv;
  if (cmd === 'copy') return copy(rest);
  if (cmd !== 'inspect') {
    err(`the skopeo test fake implements only 'skopeo inspect docker://…' and 'skopeo copy docker://… oci:…', not 'skopeo ${cmd ?? ''}'`);
    throw new Exit(2);
  }
  const known = new Set(['--no-tags', '-n', '--raw', '--config', '--tls-verify', '--tls-verify=false', '--tls-verify=true']);
  const unknown = rest.find((a) => a.startsWith('-') && !known.has(a) && !a.startsWith('--authfile') && !a.startsWith('--creds') && !a.startsWith('--retry-times'));
  if (unknown) {
    err(`Error: unknown flag: ${unknown.split('=')[0]}`);
    throw new Exit(125);
  }
  const name = rest.filter((a) => !a.startsWith('-')).at(-1);
  if (!name) fatal('Exactly one argument expected');
  const { image, repo } = lookUp(name);
  const perLayer = Math.ceil(image.size / image.layers.length);
  if (rest.includes('--raw')) {
    // The manifest as the registry serves it (an OCI image manifest; its config blob is imaginary).
    const config = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${createHash('sha256').update(image.digest).digest('hex')}`, size: 1024 };
    process.stdout.write(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: image.layers.map((d) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d, size: perLayer })) }));
    return;
  }
  const out = {
    Name: repo,
    Digest: image.digest,
    RepoTags: [],
    Created: '2026-01-01T00:00:00Z',
    DockerVersion: '',
    Labels: image.labels,
    Architecture: GOARCH[arch()] ?? arch(),
    Os: 'linux',
    Layers: image.layers,
    LayersData: image.layers.map((d) => ({ MIMEType: 'application/vnd.oci.image.layer.v1.tar+gzip', Digest: d, Size: perLayer, Annotations: null })),
    Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
  };
  process.stdout.write(`${JSON.stringify(out, null, 4)}\n`);
});

/** The registry's answer for a docker:// name (the image and its repository), or skopeo's fatal error. */
function lookUp(name) {
  if (!name.startsWith('docker://')) fatal(`Invalid image name "${name}", unknown transport "${name.split(':')[0]}"`);
  const ref = name.slice('docker://'.length);
  const norm = normalizeRef(ref);
  if (norm.error) fatal(`Error parsing image name "${name}": ${norm.error}`);
  const { repo, tag } = splitRef(norm.ref);
  const host = repo.split('/')[0];
  // A registry that cannot be reached, as on a machine without network.
  if (process.env.PARTICLE_FAKE_REGISTRY === 'down') {
    fatal(`Error parsing image name "${name}": pinging container registry ${host}: Get "https://${host}/v2/": dial tcp: lookup ${host}: no such host`);
  }
  if (process.env.PARTICLE_FAKE_REGISTRY === 'missing') fatal(`Error parsing image name "${name}": reading manifest ${tag} in ${repo}: manifest unknown`);
  return { image: describeImage(norm.ref), repo };
}

/**
 * `skopeo copy [--quiet] [--remove-signatures] docker://REF oci:DIR:TAG`. containers/image checks the
 * signature policy on the source before it copies anything; the fake does not read the policy: the
 * imaginary registry's images are unsigned unless PARTICLE_FAKE_SIGNATURE says `valid` or
 * `invalid`, and the fake answers as a policy demanding a signature would (real skopeo against a
 * local registry with GPG signatures holds the engine to the real messages, in
 * test/integration/signature.test.ts). A layer whose blob file exists in DIR is reused, as the OCI
 * layout destination does; a missing one is written (its size in incompressible bytes).
 */
function copy(args) {
  const flags = new Set(['--quiet', '-q', '--remove-signatures']);
  const unknown = args.find((a) => a.startsWith('-') && !flags.has(a) && !/^--(src-tls-verify|policy|registries\.d|retry-times)(=|$)/.test(a));
  if (unknown) {
    err(`Error: unknown flag: ${unknown.split('=')[0]}`);
    throw new Exit(125);
  }
  const names = args.filter((a) => !a.startsWith('-'));
  if (names.length !== 2) fatal('Exactly two arguments expected');
  const [src, dest] = names;
  if (!dest.startsWith('oci:')) fatal(`the skopeo test fake copies only to oci:DIR:TAG, not "${dest}"`);
  const { image } = lookUp(src);
  const sig = process.env.PARTICLE_FAKE_SIGNATURE;
  if (sig !== 'valid') {
    const why = sig === 'invalid' ? 'Invalid GPG signature: gpgme.Signature{Summary:128, Status:gpgme.Error{err:0x9}}' : 'A signature was required, but no signature exists';
    fatal(`Source image rejected: ${why}`);
  }
  if (!args.includes('--remove-signatures')) fatal(`Can not copy signatures to ${dest}: Pushing signatures for OCI images is not supported`);
  const [, dir, tag = 'latest'] = /^oci:([^:]+)(?::(.+))?$/.exec(dest) ?? [];
  const blobs = join(dir, 'blobs/sha256');
  mkdirSync(blobs, { recursive: true });
  const perLayer = Math.ceil(image.size / image.layers.length);
  for (const layer of image.layers) {
    const file = join(blobs, layer.replace(/^sha256:/, ''));
    if (existsSync(file)) continue;
    const fd = openSync(file, 'w');
    try {
      for (let left = perLayer; left > 0; left -= 1024 * 1024) writeSync(fd, randomBytes(Math.min(1024 * 1024, left)));
    } finally {
      closeSync(fd);
    }
  }
  const manifest = JSON.stringify({ schemaVersion: 2, layers: image.layers.map((d) => ({ digest: d, size: perLayer })) });
  const hex = createHash('sha256').update(manifest).digest('hex');
  writeFileSync(join(blobs, hex), manifest);
  const indexFile = join(dir, 'index.json');
  const index = existsSync(indexFile) ? JSON.parse(readFileSync(indexFile, 'utf8')) : { schemaVersion: 2, manifests: [] };
  index.manifests.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${hex}`, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': tag } });
  writeFileSync(indexFile, JSON.stringify(index));
}
