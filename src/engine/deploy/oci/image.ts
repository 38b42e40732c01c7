import { open } from 'node:fs/promises';
import { z } from 'zod';
import { checkDigest, checkSize, sha256 } from './digest';
import { INVALID_HINT, OciError } from './errors';
import {
  CONFIG_TYPES,
  ConfigSchema,
  DockerManifestSchema,
  INDEX_TYPES,
  IndexSchema,
  MANIFEST_TYPES,
  ManifestSchema,
  layerCompression,
  parseJson,
  sniffCompression,
  type Compression,
  type Descriptor,
  type ImageConfig,
} from './schema';
import { chooseDescriptor } from './select';
import { openStore, readRegion, type Store, type StoreSource } from './store';
import { archivePath, type Region } from './tar-index';

/**
 * From a source to the list of layer blobs to unpack: selects the manifest, reads and verifies
 * the manifest and config (digest and size), checks the layers' descriptors. No writes.
 */

export interface LayerPlan {
  /** The blob's digest, verified while it streams; null when unknown (an uncompressed-by-path docker-archive layer is checked by diffId alone). */
  readonly digest: string | null;
  /** sha256 of the uncompressed tar, from the config's rootfs.diff_ids. */
  readonly diffId: string;
  readonly size: number;
  readonly mediaType: string;
  readonly compression: Compression;
  readonly region: Region;
}

export interface ResolvedImage {
  /** The manifest's digest; for a docker archive (which has no manifest blob), the config's: the image ID. */
  readonly manifestDigest: string;
  readonly config: ImageConfig;
  readonly layers: readonly LayerPlan[];
  readonly totalBytes: number;
}

export type Source = StoreSource & { ref?: string };

const MAX_JSON = 4 * 1024 * 1024;
const MAX_CONFIG = 32 * 1024 * 1024;

async function readVerified(store: Store, d: Descriptor, what: string, max: number): Promise<Buffer> {
  const region = await store.blob(d.digest, what);
  checkSize(`${what} ${d.digest}`, d.size, region.length);
  const data = await readRegion(region, max, what);
  checkDigest(`${what} blob`, d.digest, sha256(data));
  return data;
}

async function readTop(store: Store, name: string, what: string): Promise<Buffer> {
  const region = await store.file(name);
  if (!region) throw new OciError(`${store.label} has no ${name}, so it is not ${what}.`, 'Check the path and the transport (oci, oci-archive or docker-archive).');
  return readRegion(region, MAX_JSON, name);
}

async function head(region: Region): Promise<Buffer> {
  const fh = await open(region.file, 'r');
  try {
    const b = Buffer.alloc(Math.min(4, region.length));
    await fh.read(b, 0, b.length, region.start);
    return b;
  } finally {
    await fh.close();
  }
}

function checkConfig(config: ImageConfig, layers: number, arch: string, where: string): void {
  if (config.rootfs.diff_ids.length !== layers) {
    throw new OciError(`${where}: the config lists ${config.rootfs.diff_ids.length} diff_ids for ${layers} layers.`, INVALID_HINT);
  }
  if (config.os !== undefined && config.os !== 'linux') throw new OciError(`${where} is an image for ${config.os}, not linux.`, 'Use a Linux image.');
  if (config.architecture !== undefined && config.architecture !== arch) {
    throw new OciError(`${where} is an image for ${config.architecture}, but ${arch} was asked for.`, `Use an image built for ${arch}.`);
  }
}

async function resolveOci(store: Store, ref: string | undefined, arch: string): Promise<ResolvedImage> {
  const layoutFile = parseJson(z.object({ imageLayoutVersion: z.string() }), await readTop(store, 'oci-layout', 'an OCI image layout'), 'oci-layout file');
  if (!layoutFile.imageLayoutVersion.startsWith('1.')) throw new OciError(`${store.label} has layout version ${layoutFile.imageLayoutVersion}; 1.x is supported.`, INVALID_HINT);
  const index = parseJson(IndexSchema, await readTop(store, 'index.json', 'an OCI image layout'), 'index.json');
  let desc = chooseDescriptor(index, { ref, arch, where: store.label });
  for (let depth = 0; INDEX_TYPES.includes(desc.mediaType); depth++) {
    if (depth >= 4) throw new OciError(`${store.label} nests image indexes too deeply.`, INVALID_HINT);
    const nested = parseJson(IndexSchema, await readVerified(store, desc, 'image index', MAX_JSON), `image index ${desc.digest}`);
    desc = chooseDescriptor(nested, { arch, where: `the image index ${desc.digest}` });
  }
  const manifest = parseJson(ManifestSchema, await readVerified(store, desc, 'manifest', MAX_JSON), `manifest ${desc.digest}`);
  if (manifest.mediaType !== undefined && !MANIFEST_TYPES.includes(manifest.mediaType)) {
    throw new OciError(`The manifest ${desc.digest} has media type ${manifest.mediaType}, not an image manifest.`, INVALID_HINT);
  }
  if (!CONFIG_TYPES.includes(manifest.config.mediaType)) {
    throw new OciError(`The manifest ${desc.digest} is not a container image (config media type ${manifest.config.mediaType}).`, 'Use a container image, not an artifact.');
  }
  const config = parseJson(ConfigSchema, await readVerified(store, manifest.config, 'config', MAX_CONFIG), `config ${manifest.config.digest}`);
  checkConfig(config, manifest.layers.length, arch, store.label);
  const layers: LayerPlan[] = [];
  for (const [i, l] of manifest.layers.entries()) {
    const compression = layerCompression(l.mediaType, l.digest);
    const region = await store.blob(l.digest, 'layer');
    checkSize(`layer ${l.digest}`, l.size, region.length);
    const sniffed = sniffCompression(await head(region));
    if (sniffed !== compression) {
      throw new OciError(`Layer ${l.digest} is labelled ${l.mediaType} but its data looks like ${sniffed === 'none' ? 'uncompressed tar' : sniffed}.`, 'The image is mislabelled or corrupt: rebuild or re-download it.');
    }
    layers.push({ digest: l.digest, diffId: config.rootfs.diff_ids[i]!, size: l.size, mediaType: l.mediaType, compression, region });
  }
  return { manifestDigest: desc.digest, config, layers, totalBytes: layers.reduce((n, l) => n + l.size, 0) };
}

/** `<hex>.json` (docker save before 25) or `blobs/sha256/<hex>` (docker 25 and later): the config's own digest. */
const CONFIG_NAME = /(?:^|\/)([a-f0-9]{64})(?:\.json)?$/;
const BLOB_PATH = /^blobs\/sha256\/([a-f0-9]{64})$/;
const DOCKER_TYPES: Readonly<Record<Compression, string>> = {
  none: 'application/vnd.docker.image.rootfs.diff.tar',
  gzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
};

async function resolveDocker(store: Store, arch: string): Promise<ResolvedImage> {
  const entries = parseJson(DockerManifestSchema, await readTop(store, 'manifest.json', 'a docker archive'), 'manifest.json');
  if (entries.length > 1) {
    const tags = entries.flatMap((e) => e.RepoTags ?? []).join(', ') || 'untagged';
    throw new OciError(`${store.label} holds ${entries.length} images (${tags}); the installer needs exactly one.`, 'Save just the one image to install (docker save IMAGE).');
  }
  const entry = entries[0]!;
  const configRegion = await store.file(entry.Config);
  if (!configRegion) throw new OciError(`${store.label} has no ${entry.Config} (its config).`, 'The archive is incomplete: save the image again.');
  const configData = await readRegion(configRegion, MAX_CONFIG, 'config');
  const imageId = sha256(configData);
  // The config's name is its digest in every docker save format: check it when it says so.
  const named = CONFIG_NAME.exec(entry.Config)?.[1];
  if (named) checkDigest(`config ${entry.Config}`, `sha256:${named}`, imageId);
  const config = parseJson(ConfigSchema, configData, `config ${entry.Config}`);
  checkConfig(config, entry.Layers.length, arch, store.label);
  const layers: LayerPlan[] = [];
  for (const [i, path] of entry.Layers.entries()) {
    const region = await store.file(path);
    if (!region) throw new OciError(`${store.label} has no ${path} (layer ${i + 1}).`, 'The archive is incomplete: save the image again.');
    const compression = sniffCompression(await head(region));
    // Newer docker saves name layers blobs/sha256/<digest of the blob>: then the blob is checked too.
    const hex = BLOB_PATH.exec(archivePath(path) ?? '')?.[1];
    layers.push({ digest: hex ? `sha256:${hex}` : null, diffId: config.rootfs.diff_ids[i]!, size: region.length, mediaType: DOCKER_TYPES[compression], compression, region });
  }
  return { manifestDigest: imageId, config, layers, totalBytes: layers.reduce((n, l) => n + l.size, 0) };
}

export async function resolveImage(source: Source, arch: string): Promise<ResolvedImage> {
  const store = await openStore(source);
  return source.transport === 'docker-archive' ? resolveDocker(store, arch) : resolveOci(store, source.ref, arch);
}
