import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { OciError, UnpackAbortedError } from './errors';
import { extractLayer } from './extract';
import { LayerGuard, Protected } from './guard';
import { resolveImage } from './image';
import { goArch } from './select';

/**
 * The oci-rootfs unpacker: a plain OCI image (layout directory, OCI archive or `docker save`
 * archive) onto a mounted target, layer by layer, whiteouts honoured, every blob verified against
 * its digest while it streams. GNU tar does the writing (see extract.ts for its flags); Node reads,
 * verifies, decompresses and watches the entry names (guard.ts). Runs as root.
 *
 * A layer is written before its digest can be known to match (it is verified as it streams, not
 * read twice): on a mismatch the unpack fails and the target holds a partial tree, which the
 * installer discards. Whiteouts of a layer are applied only once the layer has verified.
 */

export { OciError, UnpackAbortedError } from './errors';
export { TAR_FLAGS } from './extract';

export type OciSource =
  | { transport: 'oci'; path: string; ref?: string }
  | { transport: 'oci-archive'; path: string; ref?: string }
  | { transport: 'docker-archive'; path: string };

export interface UnpackProgress {
  /** Compressed bytes read so far, over all layers. */
  bytesDone: number;
  /** The sum of the layer blobs' sizes. */
  bytesTotal: number;
  /** The layer being unpacked, 1-based. */
  layer: number;
  layers: number;
}

export interface UnpackOptions {
  source: OciSource;
  /** The mounted root to unpack onto; must exist. */
  target: string;
  /** Aborting kills tar (and zstd) and rejects with an error named AbortError. */
  signal?: AbortSignal;
  /** At most ten calls a second, plus a final one at 100 %. */
  onProgress?: (p: UnpackProgress) => void;
  /** GOARCH of the machine being installed; default this one's (x64 → amd64). */
  arch?: string;
  /** Paths relative to target that whiteouts and replacements never remove (e.g. a staging dir). */
  protect?: string[];
  /** The GNU tar binary; default `tar` from PATH. */
  tar?: string;
}

export interface UnpackResult {
  /** The manifest's digest (for a docker archive, which has none: the config's, i.e. the image ID). */
  manifestDigest: string;
  layers: number;
  compressedBytes: number;
  uncompressedBytes: number;
  seconds: number;
}

const PROGRESS_MS = 100;

export async function unpackImage(o: UnpackOptions): Promise<UnpackResult> {
  const started = performance.now();
  if (o.signal?.aborted) throw new UnpackAbortedError();
  const target = resolve(o.target);
  const st = await stat(target).catch(() => null);
  if (!st?.isDirectory()) throw new OciError(`The unpack target ${target} is not a directory.`, 'Mount the target filesystem first.');
  const image = await resolveImage(o.source, o.arch ?? goArch());
  const protect = new Protected(o.protect ?? []);
  const layers = image.layers.length;
  let done = 0;
  let last = -Infinity;
  let uncompressed = 0;
  for (const [i, layer] of image.layers.entries()) {
    if (o.signal?.aborted) throw new UnpackAbortedError();
    const guard = new LayerGuard(target, layer.digest ?? layer.diffId, protect);
    uncompressed += await extractLayer({
      layer,
      index: i + 1,
      target,
      tar: o.tar ?? 'tar',
      guard,
      ...(o.signal ? { signal: o.signal } : {}),
      onBytes: (n) => {
        done += n;
        const now = performance.now();
        if (o.onProgress && now - last >= PROGRESS_MS) {
          last = now;
          o.onProgress({ bytesDone: done, bytesTotal: image.totalBytes, layer: i + 1, layers });
        }
      },
    });
    guard.applyWhiteouts();
  }
  o.onProgress?.({ bytesDone: done, bytesTotal: image.totalBytes, layer: layers, layers });
  return { manifestDigest: image.manifestDigest, layers, compressedBytes: image.totalBytes, uncompressedBytes: uncompressed, seconds: (performance.now() - started) / 1000 };
}

/** What an image holds, read and verified without writing anything. */
export async function readImage(
  source: OciSource,
  arch?: string,
): Promise<{ manifestDigest: string; layers: { digest: string; size: number; mediaType: string }[]; config: unknown; totalBytes: number }> {
  const image = await resolveImage(source, arch ?? goArch());
  return {
    manifestDigest: image.manifestDigest,
    // A docker-archive layer named by path has no blob digest: its diff_id stands in.
    layers: image.layers.map((l) => ({ digest: l.digest ?? l.diffId, size: l.size, mediaType: l.mediaType })),
    config: image.config,
    totalBytes: image.totalBytes,
  };
}
