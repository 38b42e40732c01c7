import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { resolveImage, type LayerPlan, type Source } from './image';
import { ZSTD_ARGV } from './extract';
import { TarStreamParser } from './tar-stream';
import { archivePath } from './tar-index';

/**
 * A few small files of an image, read from its layers without writing anything: every layer is
 * streamed through the tar parser once, the files under `dirs` are kept, and the layers' whiteouts
 * are applied as the image's root would see them (OCI image-layer spec: `.wh.NAME` deletes NAME from
 * the layers below, `.wh..wh..opq` empties its directory of them). Used to read an image's own
 * settings (bootc's install config) before anything is written to a disk.
 */

export interface ImageFile {
  readonly data: Buffer;
  /** The layer (1-based) the file comes from. */
  readonly layer: number;
}

const WH = '.wh.';
const OPAQUE = '.wh..wh..opq';
const CHUNK = 1024 * 1024;

/** A symlink's target as the image's root resolves it: ".." stops at the root. */
function inRoot(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out.join('/');
}

const under = (p: string, dir: string): boolean => p === dir || p.startsWith(`${dir}/`);

/** Streams one layer's uncompressed tar into `onChunk`. */
async function streamLayer(layer: LayerPlan, onChunk: (b: Buffer) => void): Promise<void> {
  const { region } = layer;
  const read = (): Readable => (region.length === 0 ? Readable.from([]) : createReadStream(region.file, { start: region.start, end: region.start + region.length - 1, highWaterMark: CHUNK }));
  const sink = async (source: AsyncIterable<Buffer>): Promise<void> => {
    for await (const chunk of source) onChunk(chunk);
  };
  if (layer.compression === 'gzip') return pipeline(read(), createGunzip({ chunkSize: CHUNK }), sink);
  if (layer.compression === 'none') return pipeline(read(), sink);
  const zstd = spawn(ZSTD_ARGV[0]!, ZSTD_ARGV.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  zstd.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-2000)));
  zstd.stdin.on('error', () => {});
  const exit = new Promise<number | null>((resolve, reject) => {
    zstd.once('error', reject);
    zstd.once('close', resolve);
  });
  await Promise.all([pipeline(read(), zstd.stdin), sink(zstd.stdout)]);
  const code = await exit;
  if (code !== 0) throw new Error(`zstd could not decompress a layer (exit ${code}): ${stderr.trim()}`);
}

/**
 * The regular files under `dirs` (paths without a leading "/", e.g. "usr/lib/bootc/install") in the
 * image's merged root, by path. A symlink or hard link there is followed only to another file kept.
 */
export async function readImageFiles(source: Source, arch: string, dirs: readonly string[]): Promise<Map<string, ImageFile>> {
  const image = await resolveImage(source, arch);
  const files = new Map<string, ImageFile>();
  const wanted = (p: string): boolean => dirs.some((d) => p.startsWith(`${d}/`));
  for (const [i, layer] of image.layers.entries()) {
    const added = new Map<string, { data: Buffer | null; link: string | null }>();
    const gone: string[] = [];
    const emptied: string[] = [];
    const parser = new TarStreamParser((e) => {
      const p = archivePath(e.path);
      if (p === null || p === '') return undefined;
      const slash = p.lastIndexOf('/');
      const dir = slash === -1 ? '' : p.slice(0, slash);
      const name = p.slice(slash + 1);
      if (name === OPAQUE) {
        emptied.push(dir);
        return undefined;
      }
      if (name.startsWith(WH)) {
        gone.push(dir === '' ? name.slice(WH.length) : `${dir}/${name.slice(WH.length)}`);
        return undefined;
      }
      // Anything this layer puts at a path replaces what the layers below had there, and under it
      // when it is not a directory.
      if (e.type !== 'dir') gone.push(p);
      if (!wanted(p)) return undefined;
      if (e.type === 'file') {
        const entry = { data: null as Buffer | null, link: null };
        added.set(p, entry);
        return (data: Buffer) => {
          entry.data = data;
        };
      }
      if (e.type === 'symlink' || e.type === 'hardlink') {
        const target = e.type === 'hardlink' ? archivePath(e.linkpath) : inRoot(e.linkpath.startsWith('/') ? e.linkpath : `${dir}/${e.linkpath}`);
        added.set(p, { data: null, link: target });
      }
      return undefined;
    });
    await streamLayer(layer, (chunk) => parser.push(chunk));
    parser.end();
    for (const p of [...files.keys()]) {
      if (gone.some((g) => under(p, g)) || emptied.some((d) => p.startsWith(`${d}/`) || d === '')) files.delete(p);
    }
    for (const [p, f] of added) {
      const data = f.data ?? (f.link !== null ? (added.get(f.link)?.data ?? files.get(f.link)?.data ?? null) : null);
      if (data !== null) files.set(p, { data, layer: i + 1 });
    }
  }
  return files;
}
