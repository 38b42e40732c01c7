import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/**
 * Small synthetic OCI images for tests, written byte by byte: a tar writer with PAX, GNU long-name
 * and ustar-prefix encodings (so tests control every header, malicious names included), layers in
 * gzip, zstd or plain tar, config with diff_ids, manifest, index.json, and the oci-archive and
 * docker-archive forms. Deterministic: the same description gives the same digests.
 */

interface Meta {
  /** Written as given, e.g. "../escape" or "./usr/bin/x". */
  path: string;
  uid?: number;
  gid?: number;
  mode?: number;
  mtime?: number;
  xattrs?: Record<string, string | Buffer>;
}
export type EntrySpec = Meta &
  (
    | { type: 'file'; content?: string | Buffer }
    | { type: 'dir' }
    | { type: 'symlink'; target: string }
    | { type: 'hardlink'; target: string }
    | { type: 'char' | 'block'; major: number; minor: number }
    | { type: 'fifo' }
    /** Removes `path` from lower layers: written as DIR/.wh.NAME. */
    | { type: 'whiteout' }
    /** Hides the lower contents of directory `path`: written as PATH/.wh..wh..opq. */
    | { type: 'opaque' }
  );

/** How names too long for the 100-byte field are written. */
export type NameStyle = 'pax' | 'gnu' | 'ustar';

const TYPEFLAG = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6', whiteout: '0', opaque: '0' } as const;
export const MT = {
  tar: 'application/vnd.oci.image.layer.v1.tar',
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
} as const;

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function octal(h: Buffer, off: number, len: number, v: number): void {
  const s = v.toString(8);
  if (s.length < len) h.write(`${s.padStart(len - 1, '0')}\0`, off, 'latin1');
  else {
    // base-256 for sizes that do not fit (GNU and star do the same)
    h[off] = 0x80;
    for (let i = len - 1, x = v; i > 0; i--, x = Math.floor(x / 256)) h[off + i] = x % 256;
  }
}

export interface RawHeaderFields {
  name: string;
  typeflag: string;
  size?: number;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  prefix?: string;
  gnu?: boolean;
}

/** One 512-byte header block with a correct checksum. */
export function header(f: RawHeaderFields): Buffer {
  const h = Buffer.alloc(512);
  h.write(f.name, 0, 100, 'latin1');
  octal(h, 100, 8, f.mode ?? 0o644);
  octal(h, 108, 8, f.uid ?? 0);
  octal(h, 116, 8, f.gid ?? 0);
  octal(h, 124, 12, f.size ?? 0);
  octal(h, 136, 12, f.mtime ?? 1_700_000_000);
  h.write(f.typeflag, 156, 1, 'latin1');
  h.write(f.linkname ?? '', 157, 100, 'latin1');
  h.write(f.gnu ? 'ustar  \0' : 'ustar\u000000', 257, 8, 'latin1');
  octal(h, 329, 8, f.devmajor ?? 0);
  octal(h, 337, 8, f.devminor ?? 0);
  if (f.prefix && !f.gnu) h.write(f.prefix, 345, 155, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const c of h) sum += c;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return h;
}

const pad = (b: Buffer): Buffer => (b.length % 512 === 0 ? b : Buffer.concat([b, Buffer.alloc(512 - (b.length % 512))]));

/** PAX records: "LEN key=value\n", LEN counting itself. */
export function paxRecords(records: [string, string | Buffer][]): Buffer {
  return Buffer.concat(
    records.map(([k, v]) => {
      const body = Buffer.concat([Buffer.from(` ${k}=`), Buffer.isBuffer(v) ? v : Buffer.from(v), Buffer.from('\n')]);
      let len = body.length + 1;
      while (String(len).length + body.length !== len) len = String(len).length + body.length;
      return Buffer.concat([Buffer.from(String(len)), body]);
    }),
  );
}

function memberName(e: EntrySpec): string {
  if (e.type === 'whiteout' || e.type === 'opaque') {
    const p = e.path.replace(/\/+$/, '');
    const i = p.lastIndexOf('/');
    return e.type === 'opaque' ? `${p}/.wh..wh..opq` : `${p.slice(0, i + 1)}.wh.${p.slice(i + 1)}`;
  }
  return e.type === 'dir' && !e.path.endsWith('/') ? `${e.path}/` : e.path;
}

/** The blocks for one entry, long names and xattrs included. */
export function entryBlocks(e: EntrySpec, style: NameStyle = 'pax'): Buffer[] {
  const name = memberName(e);
  const data = e.type === 'file' ? (Buffer.isBuffer(e.content) ? e.content : Buffer.from(e.content ?? '')) : Buffer.alloc(0);
  const link = e.type === 'symlink' || e.type === 'hardlink' ? e.target : '';
  const out: Buffer[] = [];
  const pax: [string, string | Buffer][] = [];
  let hname = name;
  let prefix: string | undefined;
  const long = Buffer.byteLength(name) > 100;
  if (long && style === 'gnu') {
    const ln = Buffer.from(`${name}\0`);
    out.push(header({ name: '././@LongLink', typeflag: 'L', size: ln.length, gnu: true }), pad(ln));
    hname = name.slice(0, 100);
  } else if (long && style === 'ustar') {
    let cut = -1;
    for (let i = Math.min(155, name.length - 2); i > 0 && cut < 0; i--) if (name[i] === '/' && name.length - i - 1 <= 100) cut = i;
    if (cut < 0) throw new Error(`${name} cannot be split into a ustar prefix and name`);
    prefix = name.slice(0, cut);
    hname = name.slice(cut + 1);
  } else if (long) {
    pax.push(['path', name]);
    hname = name.slice(0, 100);
  }
  if (Buffer.byteLength(link) > 100) {
    if (style === 'gnu') {
      const ln = Buffer.from(`${link}\0`);
      out.push(header({ name: '././@LongLink', typeflag: 'K', size: ln.length, gnu: true }), pad(ln));
    } else pax.push(['linkpath', link]);
  }
  for (const [k, v] of Object.entries(e.xattrs ?? {})) pax.push([`SCHILY.xattr.${k}`, v]);
  if (pax.length > 0) {
    const body = paxRecords(pax);
    out.push(header({ name: `PaxHeaders/${hname.slice(0, 80)}`, typeflag: 'x', size: body.length }), pad(body));
  }
  const defaultMode = e.type === 'dir' ? 0o755 : e.type === 'symlink' ? 0o777 : 0o644;
  out.push(
    header({
      name: hname,
      ...(prefix !== undefined ? { prefix } : {}),
      typeflag: TYPEFLAG[e.type],
      size: data.length,
      mode: e.mode ?? defaultMode,
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: e.mtime ?? 1_700_000_000,
      linkname: link.slice(0, 100),
      devmajor: e.type === 'char' || e.type === 'block' ? e.major : 0,
      devminor: e.type === 'char' || e.type === 'block' ? e.minor : 0,
      gnu: style === 'gnu',
    }),
  );
  if (data.length > 0) out.push(pad(data));
  return out;
}

/** A whole tar stream, ended by two zero blocks. */
export function tarBytes(entries: readonly EntrySpec[], style: NameStyle = 'pax'): Buffer {
  return Buffer.concat([...entries.flatMap((e) => entryBlocks(e, style)), Buffer.alloc(1024)]);
}

export type Compression = 'gzip' | 'zstd' | 'none';

export function compress(tar: Buffer, c: Compression): Buffer {
  if (c === 'none') return tar;
  if (c === 'gzip') return gzipSync(tar, { level: 1 });
  const r = spawnSync('zstd', ['-q', '-c', '-3'], { input: tar, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`zstd failed: ${r.stderr}`);
  return r.stdout;
}

export interface LayerSpec {
  entries?: readonly EntrySpec[];
  /** A ready tar stream instead of entries. */
  tar?: Buffer;
  compression?: Compression;
  names?: NameStyle;
}
export interface ImageSpec {
  layers: readonly LayerSpec[];
  arch?: string;
  os?: string;
  /** Written into the config instead of the layers' real diff_ids (to test the check). */
  diffIds?: readonly string[];
  /** The config's Labels (e.g. bootc's containers.bootc). */
  labels?: Record<string, string>;
}
export interface BuiltLayer {
  tar: Buffer;
  blob: Buffer;
  digest: string;
  diffId: string;
  mediaType: string;
}
export interface BuiltImage {
  layers: BuiltLayer[];
  config: Buffer;
  configDigest: string;
  manifest: Buffer;
  manifestDigest: string;
}

/** The blobs of one image (nothing written). */
export function buildImage(spec: ImageSpec): BuiltImage {
  const layers = spec.layers.map((l): BuiltLayer => {
    const tar = l.tar ?? tarBytes(l.entries ?? [], l.names);
    const c = l.compression ?? 'gzip';
    const blob = compress(tar, c);
    return { tar, blob, digest: `sha256:${sha(blob)}`, diffId: `sha256:${sha(tar)}`, mediaType: c === 'none' ? MT.tar : MT[c] };
  });
  const config = Buffer.from(
    JSON.stringify({ architecture: spec.arch ?? 'amd64', os: spec.os ?? 'linux', config: spec.labels ? { Labels: spec.labels } : {}, rootfs: { type: 'layers', diff_ids: spec.diffIds ?? layers.map((l) => l.diffId) } }),
  );
  const configDigest = `sha256:${sha(config)}`;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MT.manifest,
      config: { mediaType: MT.config, digest: configDigest, size: config.length },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.blob.length })),
    }),
  );
  return { layers, config, configDigest, manifest, manifestDigest: `sha256:${sha(manifest)}` };
}

export function writeBlob(layout: string, data: Buffer): string {
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
  const hex = sha(data);
  writeFileSync(join(layout, 'blobs', 'sha256', hex), data);
  return `sha256:${hex}`;
}

/** Writes an image's blobs into a layout and returns its manifest descriptor (for an index). */
export function addImage(layout: string, img: BuiltImage, extra: { ref?: string; platform?: { os: string; architecture: string } } = {}) {
  for (const l of img.layers) writeBlob(layout, l.blob);
  writeBlob(layout, img.config);
  writeBlob(layout, img.manifest);
  return {
    mediaType: MT.manifest,
    digest: img.manifestDigest,
    size: img.manifest.length,
    ...(extra.ref ? { annotations: { 'org.opencontainers.image.ref.name': extra.ref } } : {}),
    ...(extra.platform ? { platform: extra.platform } : {}),
  };
}

export function writeIndex(layout: string, manifests: readonly object[]): void {
  mkdirSync(layout, { recursive: true });
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MT.index, manifests }));
}

/** A layout with one image (tagged `ref` when given). */
export function writeOciLayout(layout: string, spec: ImageSpec, ref?: string): BuiltImage {
  const img = buildImage(spec);
  writeIndex(layout, [addImage(layout, img, ref ? { ref } : {})]);
  return img;
}

/** A tar of a layout directory (what `skopeo copy … oci-archive:` writes). */
export function writeOciArchive(layout: string, file: string): void {
  const entries: EntrySpec[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(layout, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (statSync(join(layout, r)).isDirectory()) {
        entries.push({ type: 'dir', path: r });
        walk(r);
      } else entries.push({ type: 'file', path: r, content: readFileSync(join(layout, r)) });
    }
  };
  walk('');
  writeFileSync(file, tarBytes(entries));
}

/**
 * A `docker save` archive of an image (blobs as built): `legacy` names the config <hex>.json and
 * layers <id>/layer.tar (docker before 25); `oci` names both blobs/sha256/<digest> (docker 25+).
 */
export function writeDockerArchive(file: string, img: BuiltImage, tag = 'particle-test:latest', style: 'legacy' | 'oci' = 'legacy'): void {
  const configName = style === 'oci' ? `blobs/sha256/${img.configDigest.slice(7)}` : `${img.configDigest.slice(7)}.json`;
  // Old-style v1 layer ids: unique per position, whatever the content.
  const layerNames = img.layers.map((l, i) => (style === 'oci' ? `blobs/sha256/${l.digest.slice(7)}` : `${sha(Buffer.from(`${i}:${l.digest}`))}/layer.tar`));
  const manifest = JSON.stringify([{ Config: configName, RepoTags: [tag], Layers: layerNames }]);
  const dirs = [...new Set([configName, ...layerNames].map((n) => n.slice(0, n.lastIndexOf('/'))).filter((d) => d !== ''))].sort();
  const blobs = new Map<string, Buffer>([[configName, img.config], ...img.layers.map((l, i): [string, Buffer] => [layerNames[i]!, l.blob])]);
  const entries: EntrySpec[] = [
    ...dirs.flatMap((d): EntrySpec[] => (d === 'blobs/sha256' ? [{ type: 'dir', path: 'blobs' }, { type: 'dir', path: d }] : [{ type: 'dir', path: d }])),
    ...[...blobs].map(([path, content]): EntrySpec => ({ type: 'file', path, content })),
    { type: 'file', path: 'manifest.json', content: manifest },
  ];
  writeFileSync(file, tarBytes(entries));
}
