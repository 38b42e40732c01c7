// The skopeo contract fake: `skopeo inspect [--no-tags] docker://REF` against the same imaginary
// registry the podman fake pulls from (lib/storage.mjs describeImage), so a registry install can be
// checked before the wipe without a network. Other commands are refused, naming the fake.
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
  if (cmd !== 'inspect') {
    err(`the skopeo test fake implements only 'skopeo inspect docker://…', not 'skopeo ${cmd ?? ''}'`);
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
  if (process.env.PARTICLE_FAKE_REGISTRY === 'missing') {
    fatal(`Error parsing image name "${name}": reading manifest ${tag} in ${repo}: manifest unknown`);
  }
  const image = describeImage(norm.ref);
  const perLayer = Math.ceil(image.size / image.layers.length);
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
