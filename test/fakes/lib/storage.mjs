// The fake's container storage: one JSON file per image under PARTICLE_FAKE_STORAGE, plus the
// non-TTY lines podman prints while pulling or loading. Images are deterministic functions of their
// reference, so tests can predict ids and digests.
import { Buffer } from 'node:buffer';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { env, err, sha256, sleep } from './common.mjs';

/** Podman-style normalization: a tag defaults to `latest`; short names are refused (no TTY to ask). */
export function normalizeRef(ref) {
  const first = ref.split('/')[0];
  const qualified = ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!qualified) return { error: `short-name "${ref}" did not resolve to an alias and no unqualified-search registries are defined in "/etc/containers/registries.conf"` };
  const last = ref.slice(ref.lastIndexOf('/') + 1);
  return { ref: ref.includes('@') || last.includes(':') ? ref : `${ref}:latest` };
}

/** The image a reference names, as the registry (or archive) would describe it. */
export function describeImage(ref) {
  const layers = Array.from({ length: env.layers() }, (_, i) => `sha256:${sha256(`${ref}#layer${i}`)}`);
  return {
    ref,
    id: sha256(`${ref}#config`),
    digest: `sha256:${sha256(`${ref}#manifest`)}`,
    layers,
    size: Math.round(env.payloadMiB() * 1024 * 1024),
    labels: { 'containers.bootc': '1', 'ostree.bootable': 'true' },
  };
}

const fileFor = (dir, ref) => join(dir, `${encodeURIComponent(ref)}.json`);

export function listImages(dir = env.storage()) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));
}

/** Looks an image up by name (normalized) or by full or short id. */
export function findImage(name, dir = env.storage()) {
  const norm = normalizeRef(name).ref ?? name;
  return listImages(dir).find((img) => img.ref === norm || img.ref === name || (name.length >= 12 && img.id.startsWith(name.replace(/^sha256:/, '')))) ?? null;
}

export function storeImage(image, dir = env.storage()) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(fileFor(dir, image.ref), `${JSON.stringify(image, null, 2)}\n`);
}

export function removeImage(image, dir = env.storage()) {
  rmSync(fileFor(dir, image.ref), { force: true });
}

/** The stderr lines podman prints when stderr is not a terminal, paced like a real copy. */
export async function printCopy(image, { trying, quiet, cached }) {
  if (quiet) return;
  const line = async (text) => {
    err(text);
    await sleep(env.delayMs());
  };
  if (trying) await line(`Trying to pull ${trying}...`);
  await line('Getting image source signatures');
  for (const layer of image.layers) await line(`Copying blob ${layer}${cached ? ' skipped: already exists' : ''}`);
  await line(`Copying config sha256:${image.id}`);
  await line('Writing manifest to image destination');
}

/** Reads the reference name from an OCI layout directory's index.json, if it carries one. */
export function ociLayoutName(dir) {
  const index = join(dir, 'index.json');
  if (!existsSync(index)) return { error: `open ${index}: no such file or directory` };
  return { name: refAnnotation(readFileSync(index, 'utf8')) };
}

/** Same for an OCI archive (an uncompressed tar of a layout): walks the tar headers to index.json. */
export function ociArchiveName(file) {
  if (!existsSync(file) || !statSync(file).isFile()) return { error: `open ${file}: no such file or directory` };
  const fd = openSync(file, 'r');
  try {
    const header = Buffer.alloc(512);
    for (let pos = 0; readSync(fd, header, 0, 512, pos) === 512; ) {
      const name = header.toString('utf8', 0, 100).replace(/\0.*$/s, '');
      if (!name) break;
      const size = parseInt(header.toString('utf8', 124, 136).replace(/\0.*$/s, '').trim() || '0', 8);
      if (name.replace(/^\.\//, '') === 'index.json') {
        const body = Buffer.alloc(size);
        readSync(fd, body, 0, size, pos + 512);
        return { name: refAnnotation(body.toString('utf8')) };
      }
      pos += 512 + Math.ceil(size / 512) * 512;
    }
    return { error: `${file}: not an OCI archive (no index.json)` };
  } finally {
    closeSync(fd);
  }
}

function refAnnotation(indexJson) {
  try {
    const index = JSON.parse(indexJson);
    const ann = index.manifests?.[0]?.annotations ?? {};
    return ann['org.opencontainers.image.ref.name'] ?? ann['io.containerd.image.name'] ?? null;
  } catch {
    return null;
  }
}

/**
 * What `podman pull oci:DIR` stores: the image under the id containers/storage gives it, its
 * config's digest (read from the layout: index.json, then the manifest), and without a name (podman
 * 5.4.2 lists it as <none>, seen in the VM level's guest). The engine runs it by that id.
 */
export function layoutImageId(dir) {
  try {
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
    const m = index.manifests?.[0]?.digest;
    const manifest = JSON.parse(readFileSync(join(dir, 'blobs', ...m.split(':')), 'utf8'));
    const c = manifest.config?.digest;
    return typeof c === 'string' && /^sha256:[0-9a-f]{64}$/.test(c) ? { id: c.slice(7) } : { error: 'the manifest names no config digest' };
  } catch (e) {
    return { error: String(e.message ?? e) };
  }
}

/** The name podman gives an image that came from an archive (podman load) without a usable name. */
export function localName(path, name) {
  if (name && normalizeRef(name).ref) return normalizeRef(name).ref;
  const base = name || basename(path).replace(/\.(tar|oci)$/, '') || 'image';
  return `localhost/${base.toLowerCase().replace(/[^a-z0-9._/-]/g, '-')}:latest`;
}
