import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ImageInfo } from '../../shared';
import type { ImageRef } from './image-ref';
import { ociArch, splitLayoutReference } from './image-ref';
import { reason, type SystemDeps } from './deps';
import { CommandError } from '../exec';

/**
 * Facts about an image without pulling it: the manifest digest and compressed size (from an OCI
 * layout or archive on this machine, local container storage, or the registry through skopeo),
 * and what the containers signature policy (policy.json) demands for it.
 */

export type { ImageRef } from './image-ref';
export { ociArch, splitLayoutReference } from './image-ref';

const DIGEST = /^sha256:[0-9a-f]{64}$|^sha512:[0-9a-f]{128}$/;
const REF_NAME = 'org.opencontainers.image.ref.name';
const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);

interface Descriptor {
  readonly mediaType?: string;
  readonly digest?: string;
  readonly size?: number;
  readonly annotations?: Record<string, string>;
  readonly platform?: { architecture?: string; os?: string };
}

/** Picks the descriptor for `ref` from an index.json: by its ref.name annotation, or the only one. */
export function pickManifest(index: unknown, ref: string | null): Descriptor {
  const manifests = (index as { manifests?: Descriptor[] } | null)?.manifests;
  if (!Array.isArray(manifests) || manifests.length === 0) throw new Error('index.json lists no manifests');
  if (ref !== null) {
    const found = manifests.find((m) => m.annotations?.[REF_NAME] === ref);
    if (!found) throw new Error(`index.json has no image named "${ref}"`);
    return found;
  }
  if (manifests.length > 1) throw new Error(`index.json lists ${manifests.length} images; name one with :REF`);
  return manifests[0]!;
}

/** What an image's manifest and config say: layers' total size, CPU architecture and labels. */
export interface ManifestFacts {
  readonly size: number | null;
  readonly architecture: string | null;
  readonly labels: Readonly<Record<string, string>> | null;
}

/** The facts of a manifest (or, for an index, of this machine's platform's manifest). */
async function manifestFacts(desc: Descriptor, readBlob: (digest: string) => Promise<string>, depth = 0): Promise<ManifestFacts> {
  if (!desc.digest || !DIGEST.test(desc.digest)) throw new Error(`bad digest ${String(desc.digest)}`);
  const doc = JSON.parse(await readBlob(desc.digest)) as { mediaType?: string; layers?: { size?: number }[]; manifests?: Descriptor[]; config?: Descriptor };
  if ((desc.mediaType && INDEX_TYPES.has(desc.mediaType)) || Array.isArray(doc.manifests)) {
    if (depth > 0 || !Array.isArray(doc.manifests) || doc.manifests.length === 0) return { size: null, architecture: null, labels: null };
    const arch = ociArch(process.arch);
    const pick = doc.manifests.find((m) => m.platform?.architecture === arch && (m.platform.os ?? 'linux') === 'linux') ?? doc.manifests[0]!;
    return manifestFacts(pick, readBlob, depth + 1);
  }
  const size = Array.isArray(doc.layers) ? doc.layers.reduce((sum, l) => sum + (typeof l.size === 'number' ? l.size : 0), 0) : null;
  let architecture: string | null = null;
  let labels: Record<string, string> | null = null;
  if (doc.config?.digest && DIGEST.test(doc.config.digest)) {
    try {
      const config = JSON.parse(await readBlob(doc.config.digest)) as { architecture?: string; config?: { Labels?: Record<string, string> | null } };
      architecture = typeof config.architecture === 'string' ? config.architecture : null;
      labels = config.config?.Labels ?? {};
    } catch {
      // The size stands on its own; architecture and labels stay unknown.
    }
  }
  return { size, architecture, labels };
}

function blobPath(digest: string): string {
  const [algo, hex] = digest.split(':');
  return `blobs/${algo}/${hex}`;
}

/** Digest and size of an image in an OCI layout directory or an OCI archive (read with tar). */
async function fromLayout(image: ImageRef, deps: Pick<SystemDeps, 'exec'>): Promise<ImageFacts> {
  const { path, ref } = splitLayoutReference(image.reference);
  const archive = image.transport === 'oci-archive';
  const readMember = async (member: string): Promise<string> => {
    if (!archive) return readFileSync(join(path, member), 'utf8');
    // Archives made by tar from inside the layout name their members "./index.json".
    try {
      return (await deps.exec(['tar', '-xOf', path, member], { timeoutMs: 60_000 })).stdout;
    } catch {
      return (await deps.exec(['tar', '-xOf', path, `./${member}`], { timeoutMs: 60_000 })).stdout;
    }
  };
  const desc = pickManifest(JSON.parse(await readMember('index.json')), ref);
  if (!desc.digest || !DIGEST.test(desc.digest)) throw new Error(`index.json names no valid digest for the image`);
  let facts: ManifestFacts = { size: null, architecture: null, labels: null };
  try {
    facts = await manifestFacts(desc, (d) => readMember(blobPath(d)));
  } catch {
    // Digest only.
  }
  return { digest: desc.digest, ...facts, detail: `Read from the ${archive ? 'OCI archive' : 'OCI layout'}'s index.json${facts.size === null ? ' (the manifest could not be read for the size)' : ''}.` };
}

/**
 * The id containers/storage gives an image pulled from the OCI layout `reference` ("DIR[:REF]"): its
 * config's digest, hex (through a multi-platform index, this machine's entry). Null when unreadable.
 */
export function layoutImageId(reference: string): string | null {
  try {
    const { path, ref } = splitLayoutReference(reference);
    const read = (digest: string): { manifests?: Descriptor[]; config?: Descriptor } => JSON.parse(readFileSync(join(path, blobPath(digest)), 'utf8')) as { manifests?: Descriptor[]; config?: Descriptor };
    let desc = pickManifest(JSON.parse(readFileSync(join(path, 'index.json'), 'utf8')), ref);
    for (let depth = 0; depth < 2; depth++) {
      if (!desc.digest || !DIGEST.test(desc.digest)) return null;
      const doc = read(desc.digest);
      if (Array.isArray(doc.manifests)) {
        const arch = ociArch(process.arch);
        desc = doc.manifests.find((m) => m.platform?.architecture === arch && (m.platform.os ?? 'linux') === 'linux') ?? doc.manifests[0]!;
        continue;
      }
      const config = doc.config?.digest;
      return typeof config === 'string' && /^sha256:[0-9a-f]{64}$/.test(config) ? config.slice('sha256:'.length) : null;
    }
    return null;
  } catch {
    return null;
  }
}

/** Everything read about an image without pulling it; nulls where it could not be read. */
export interface ImageFacts extends ManifestFacts {
  readonly digest: string | null;
  /** English: where the facts came from or why they are missing. */
  readonly detail: string;
}

const UNKNOWN = { digest: null, size: null, architecture: null, labels: null } as const;

/** skopeo inspect's JSON: Digest, the compressed layer sizes, Architecture and Labels. */
export function parseSkopeoInspect(text: string): Omit<ImageFacts, 'detail'> {
  const j = JSON.parse(text) as { Digest?: string; LayersData?: { Size?: number }[] | null; Architecture?: string; Labels?: Record<string, string> | null };
  const digest = typeof j.Digest === 'string' && DIGEST.test(j.Digest) ? j.Digest : null;
  const size = Array.isArray(j.LayersData) ? j.LayersData.reduce((s, l) => s + (typeof l.Size === 'number' ? l.Size : 0), 0) : null;
  return { digest, size, architecture: typeof j.Architecture === 'string' ? j.Architecture : null, labels: j.Labels ?? {} };
}

/**
 * What skopeo said when it failed: its last `level=fatal msg="…"` (logrus's text format, the message
 * quoted as a Go string), else the last line of stderr, else the exit.
 */
export function skopeoReason(e: unknown): string {
  const tail = e instanceof CommandError ? (e.error.stderrTail ?? '') : '';
  const lines = tail.split('\n').map((l) => l.trim()).filter(Boolean);
  for (const line of lines.reverse()) {
    const m = /level=(?:fatal|error) msg=("(?:[^"\\]|\\.)*")/.exec(line);
    if (m) {
      try {
        return JSON.parse(m[1]!) as string;
      } catch {
        return m[1]!.slice(1, -1);
      }
    }
  }
  return lines[0] ?? reason(e);
}

export async function imageFacts(image: ImageRef, deps: Pick<SystemDeps, 'exec' | 'which'>): Promise<ImageFacts> {
  switch (image.transport) {
    case 'oci':
    case 'oci-archive':
      try {
        return await fromLayout(image, deps);
      } catch (e) {
        return { ...UNKNOWN, detail: `The ${image.transport === 'oci' ? 'OCI layout' : 'OCI archive'} could not be read: ${reason(e)}.` };
      }
    case 'docker-archive':
      try {
        const { readImage } = await import('../deploy/oci');
        const r = await readImage({ transport: 'docker-archive', path: image.reference });
        return { ...UNKNOWN, digest: r.manifestDigest, size: r.totalBytes, detail: 'Read from the docker archive.' };
      } catch (e) {
        return { ...UNKNOWN, detail: `The docker archive could not be read: ${reason(e)}.` };
      }
    case 'containers-storage': {
      if (!deps.which('podman')) return { ...UNKNOWN, detail: 'podman is not installed, so local container storage cannot be read.' };
      try {
        const r = await deps.exec(['podman', 'image', 'inspect', image.reference], { timeoutMs: 30_000 });
        const first = (JSON.parse(r.stdout) as { Digest?: string; Architecture?: string; Labels?: Record<string, string> | null }[])[0];
        const digest = typeof first?.Digest === 'string' && DIGEST.test(first.Digest) ? first.Digest : null;
        return { digest, size: null, architecture: first?.Architecture ?? null, labels: first ? (first.Labels ?? {}) : null, detail: 'Read from local container storage (podman image inspect).' };
      } catch (e) {
        return { ...UNKNOWN, detail: `podman image inspect failed: ${reason(e)}` };
      }
    }
    case 'registry': {
      if (!deps.which('skopeo')) return { ...UNKNOWN, detail: 'skopeo is not installed, so the registry was not asked for the digest.' };
      try {
        const r = await deps.exec(['skopeo', 'inspect', '--no-tags', `docker://${image.reference}`], { timeoutMs: 15_000 });
        const facts = parseSkopeoInspect(r.stdout);
        if (facts.size !== null) return { ...facts, detail: 'Asked the registry (skopeo inspect).' };
        // skopeo before 1.10 (Debian 12's 1.9.3) prints no LayersData: the sizes come from the
        // manifest itself, this platform's one when the tag names a multi-platform index.
        const size = await registryLayerBytes(image.reference, facts.architecture, deps).catch(() => null);
        return { ...facts, size, detail: `Asked the registry (skopeo inspect${size === null ? '; the layer sizes could not be read' : ', and --raw for the layer sizes'}).` };
      } catch (e) {
        return { ...UNKNOWN, detail: `skopeo inspect failed: ${skopeoReason(e)}` };
      }
    }
  }
}

/** `host/repo:tag` or `host/repo@sha256:…` → `host/repo` (a port's colon is before the last slash). */
export function repositoryOf(reference: string): string {
  const noDigest = reference.replace(/@sha256:[0-9a-f]{64}$/, '');
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

/** An image manifest's layers as the registry lists them (unchecked JSON). */
export interface RawManifest {
  readonly layers?: readonly { readonly digest?: unknown; readonly size?: unknown }[];
}

/**
 * A registry image's manifest as `skopeo inspect --raw` gives it, through the index to the one for
 * `arch` (this machine's when null) when the tag names a multi-platform index; null when the index
 * has none for it.
 */
export async function registryManifest(reference: string, arch: string | null, deps: Pick<SystemDeps, 'exec'>): Promise<RawManifest | null> {
  type Doc = RawManifest & { manifests?: { digest?: string; platform?: { architecture?: string; os?: string } }[] };
  const raw = async (ref: string): Promise<Doc> => JSON.parse((await deps.exec(['skopeo', 'inspect', '--raw', `docker://${ref}`], { timeoutMs: 15_000 })).stdout) as Doc;
  const manifest = await raw(reference);
  if (!Array.isArray(manifest.manifests)) return manifest;
  const want = arch ?? ociArch(process.arch);
  const entry = manifest.manifests.find((m) => m.platform?.architecture === want && (m.platform.os ?? 'linux') === 'linux');
  if (!entry?.digest || !DIGEST.test(entry.digest)) return null;
  return raw(`${repositoryOf(reference)}@${entry.digest}`);
}

/** The compressed size of an image's layers from its raw manifest (through the index for `arch`). */
async function registryLayerBytes(reference: string, arch: string | null, deps: Pick<SystemDeps, 'exec'>): Promise<number | null> {
  const manifest = await registryManifest(reference, arch, deps);
  if (!manifest || !Array.isArray(manifest.layers)) return null;
  return manifest.layers.reduce((s, l) => s + (typeof l.size === 'number' ? l.size : 0), 0);
}

/** "fedora" → "docker.io/library/fedora", as containers/image normalises Docker Hub names. */
export function normalizeDockerReference(reference: string): string {
  const slash = reference.indexOf('/');
  const first = slash === -1 ? '' : reference.slice(0, slash);
  if (first.includes('.') || first.includes(':') || first === 'localhost') return reference;
  return slash === -1 ? `docker.io/library/${reference}` : `docker.io/${reference}`;
}

/**
 * Scopes to look up in transports.docker, most specific first (containers-policy.json(5)): the
 * reference with its tag or digest, the repository, each parent namespace, the host, then
 * wildcard domains ("*.example.com"), then "" (the transport's own default).
 */
export function dockerScopes(reference: string): string[] {
  const full = normalizeDockerReference(reference);
  const repo = full.replace(/@.*$/, '').replace(/:[^/:]*$/, '');
  const out = full === repo ? [] : [full];
  const parts = repo.split('/');
  for (let n = parts.length; n >= 1; n--) out.push(parts.slice(0, n).join('/'));
  const host = (parts[0] ?? '').replace(/:\d+$/, '');
  const labels = host.split('.');
  for (let i = 1; i < labels.length; i++) out.push(`*.${labels.slice(i).join('.')}`);
  out.push('');
  return out;
}

/** For oci and oci-archive: "path:ref", the path, each parent directory, then "". */
export function pathScopes(reference: string): string[] {
  const { path, ref } = splitLayoutReference(reference);
  const out = ref === null ? [] : [`${path}:${ref}`];
  for (let p = path.replace(/\/+$/, '') || '/'; ; p = dirname(p)) {
    out.push(p);
    if (p === '/' || p === '.' || dirname(p) === p) break;
  }
  out.push('');
  return out;
}

const POLICY_TRANSPORT: Readonly<Record<ImageRef['transport'], string>> = {
  registry: 'docker',
  oci: 'oci',
  'oci-archive': 'oci-archive',
  'docker-archive': 'docker-archive',
  'containers-storage': 'containers-storage',
};

export interface SignatureVerdict {
  readonly signature: ImageInfo['signature'];
  readonly detail: string;
}

/** What a parsed policy.json demands for an image. */
export function evaluatePolicy(policy: unknown, image: ImageRef): SignatureVerdict {
  const p = policy as { default?: unknown; transports?: Record<string, Record<string, unknown>> } | null;
  if (!p || typeof p !== 'object') return { signature: 'unknown', detail: 'The signature policy is not a JSON object.' };
  const transport = POLICY_TRANSPORT[image.transport];
  const scopes = image.transport === 'registry' ? dockerScopes(image.reference) : image.transport === 'containers-storage' ? [image.reference, ''] : pathScopes(image.reference);
  const table = p.transports?.[transport];
  let requirements: unknown = undefined;
  let where = 'default';
  if (table && typeof table === 'object') {
    const scope = scopes.find((s) => Object.prototype.hasOwnProperty.call(table, s));
    if (scope !== undefined) {
      requirements = table[scope];
      where = scope === '' ? `transports.${transport} default` : `transports.${transport} "${scope}"`;
    }
  }
  requirements ??= p.default;
  if (!Array.isArray(requirements)) return { signature: 'unknown', detail: `The signature policy has no requirements for this image (${where}).` };
  const types = requirements.map((r) => (r as { type?: unknown } | null)?.type);
  if (types.includes('reject')) return { signature: 'unverified', detail: `The policy rejects this image (${where}).` };
  if (types.some((t) => t === 'signedBy' || t === 'sigstoreSigned')) return { signature: 'verified', detail: `The policy requires a valid signature (${where}).` };
  if (types.length > 0 && types.every((t) => t === 'insecureAcceptAnything')) return { signature: 'unverified', detail: `The policy accepts this image unsigned (${where}).` };
  return { signature: 'unknown', detail: `The policy's requirements for this image are not understood (${where}: ${types.map(String).join(', ') || 'none'}).` };
}

export function readPolicyVerdict(policyPath: string, image: ImageRef): SignatureVerdict {
  let policy: unknown;
  try {
    policy = JSON.parse(readFileSync(policyPath, 'utf8'));
  } catch (e) {
    return { signature: 'unknown', detail: `No signature policy could be read (${reason(e)}).` };
  }
  return evaluatePolicy(policy, image);
}

export async function inspectImage(image: ImageRef, deps: Pick<SystemDeps, 'exec' | 'which' | 'paths'>): Promise<ImageInfo> {
  const facts = await imageFacts(image, deps);
  const policy = readPolicyVerdict(deps.paths.policyJson, image);
  const info: ImageInfo = { reference: image.reference, digest: facts.digest, signature: policy.signature, size: facts.size, detail: `${facts.detail} ${policy.detail}` };
  // Only a bootc image has a bootc install config worth reading (its layers are read, not unpacked).
  if (facts.labels === null || (facts.labels['containers.bootc'] === undefined && facts.labels['ostree.bootable'] === undefined)) return info;
  const { readInstallConfig } = await import('./install-config-read');
  const config = await readInstallConfig(image, deps);
  if (config.kind !== 'read') return { ...info, detail: `${info.detail} ${config.kind === 'invalid' ? `Its install config is invalid: ${config.file} has ${config.problem}.` : `Its install config was not read: ${config.why}.`}` };
  return { ...info, rootFsType: config.config?.rootFsType ?? null };
}
