import { z } from 'zod';
import { isDigest } from './digest';
import { INVALID_HINT, OciError } from './errors';

/** Shapes of the JSON documents in an OCI layout or `docker save` archive (only what we use). */

export const MT = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

export const INDEX_TYPES: readonly string[] = [MT.ociIndex, MT.dockerList];
export const MANIFEST_TYPES: readonly string[] = [MT.ociManifest, MT.dockerManifest];
export const CONFIG_TYPES: readonly string[] = ['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json'];

export type Compression = 'gzip' | 'zstd' | 'none';

const LAYER_TYPES: Readonly<Record<string, Compression>> = {
  'application/vnd.oci.image.layer.v1.tar': 'none',
  'application/vnd.oci.image.layer.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd': 'zstd',
  'application/vnd.oci.image.layer.nondistributable.v1.tar': 'none',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd': 'zstd',
  'application/vnd.docker.image.rootfs.diff.tar': 'none',
  'application/vnd.docker.image.rootfs.diff.tar.gzip': 'gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip': 'gzip',
};

export function layerCompression(mediaType: string, digest: string): Compression {
  const c = LAYER_TYPES[mediaType];
  if (!c) {
    throw new OciError(
      `Layer ${digest} has media type "${mediaType.slice(0, 200)}", which this installer cannot unpack.`,
      'Use an image whose layers are tar, tar+gzip or tar+zstd (OCI or docker v2 schema 2).',
    );
  }
  return c;
}

/** What the first bytes of a layer blob say it is: gzip, zstd or (anything else) tar. */
export function sniffCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  // zstd skippable frames (zstd:chunked writes one first): 0x184D2A50..5F
  if (head.length >= 4 && (head.readUInt32LE(0) & 0xfffffff0) === 0x184d2a50) return 'zstd';
  return 'none';
}

const digest = z.string().refine(isDigest, 'not a sha256 digest (sha256:<64 hex>)');
const size = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const DescriptorSchema = z.object({
  mediaType: z.string().max(255),
  digest,
  size,
  annotations: z.record(z.string(), z.string()).optional(),
  platform: z.object({ architecture: z.string(), os: z.string(), variant: z.string().optional() }).loose().optional(),
});
export type Descriptor = z.infer<typeof DescriptorSchema>;

export const IndexSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(DescriptorSchema).max(10_000),
});
export type ImageIndex = z.infer<typeof IndexSchema>;

export const ManifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: DescriptorSchema,
  layers: z.array(DescriptorSchema).max(1_000),
});
export type Manifest = z.infer<typeof ManifestSchema>;

export const ConfigSchema = z
  .object({
    architecture: z.string().optional(),
    os: z.string().optional(),
    rootfs: z.object({ type: z.literal('layers'), diff_ids: z.array(digest) }),
  })
  .loose();
export type ImageConfig = z.infer<typeof ConfigSchema>;

/** `docker save`'s manifest.json: one entry per saved image. */
export const DockerManifestSchema = z
  .array(z.object({ Config: z.string().min(1).max(4096), RepoTags: z.array(z.string()).nullish(), Layers: z.array(z.string().min(1).max(4096)).max(1_000) }).loose())
  .min(1);

/** Parses JSON and checks its shape; an OciError naming `what` on failure. */
export function parseJson<T>(schema: z.ZodType<T>, data: Buffer, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch (e) {
    throw new OciError(`The ${what} is not valid JSON: ${(e as Error).message}.`, INVALID_HINT);
  }
  const r = schema.safeParse(value);
  if (!r.success) {
    const first = r.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`);
    throw new OciError(`The ${what} is malformed (${first.join('; ')}).`, INVALID_HINT);
  }
  return r.data;
}
