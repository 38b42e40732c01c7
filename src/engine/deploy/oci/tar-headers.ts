/**
 * Tar header decoding (ustar, GNU long names and old sparse, PAX) and a streaming parser that sees
 * entry headers go by without copying their payload. Pure: no I/O.
 *
 * Names are "byte strings": each character is one byte of the name (latin1), so a name that is
 * not valid UTF-8 still compares and round-trips exactly (`Buffer.from(name, 'latin1')`).
 *
 * The parser must see the same entries GNU tar will extract from the same bytes (the unpacker's
 * path checks depend on it), so it follows tar where tar is lenient (it stops at the first zero
 * block; a hard link's size counts as 0) and refuses what tar would read differently.
 */

export type EntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarEntry {
  /** The member name as recorded (PAX path, GNU long name or ustar prefix/name), not normalised. */
  readonly path: string;
  /** Hard link or symlink target, else ''. */
  readonly linkpath: string;
  readonly type: EntryType;
  /** Payload bytes in the archive. */
  readonly size: number;
}

export class TarFormatError extends Error {
  override readonly name = 'TarFormatError';
}

/** The header fields the unpacker needs (tar itself applies owners, modes and times). */
export interface RawHeader {
  readonly name: string;
  readonly linkname: string;
  readonly typeflag: string;
  readonly size: number;
  readonly format: 'ustar' | 'gnu' | 'v7';
  /** Old GNU sparse: more sparse-map blocks follow the header (not counted in size). */
  readonly sparseExtended: boolean;
}

export const BLOCK = 512;

/** Bytes of payload plus padding to the next block boundary. */
export const padded = (n: number): number => Math.ceil(n / BLOCK) * BLOCK;

/** A NUL-terminated field (NUL-less when full) as a byte string; scans only the field. */
function cstring(b: Buffer, start: number, len: number): string {
  let end = start;
  const limit = start + len;
  while (end < limit && b[end] !== 0) end++;
  return end === start ? '' : b.toString('latin1', start, end);
}

/** Octal (NUL or space terminated) or base-256 (high bit set) numeric field. */
export function decodeNumber(b: Buffer, start: number, len: number): number {
  const first = b[start]!;
  if (first & 0x80) {
    if (first === 0xff) throw new TarFormatError('negative base-256 number in tar header');
    let v = first & 0x7f;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + b[i]!;
    if (!Number.isSafeInteger(v)) throw new TarFormatError('number in tar header too large');
    return v;
  }
  let i = start;
  const end = start + len;
  while (i < end && (b[i] === 0x20 || b[i] === 0)) i++;
  let v = 0;
  for (; i < end; i++) {
    const c = b[i]!;
    if (c === 0x20 || c === 0) break;
    if (c < 0x30 || c > 0x37) throw new TarFormatError(`bad octal digit in tar header field at ${start}`);
    v = v * 8 + (c - 0x30);
  }
  return v;
}

export function isZeroBlock(b: Buffer, off = 0): boolean {
  for (let i = off; i < off + BLOCK; i++) if (b[i] !== 0) return false;
  return true;
}

/** The header checksum: the unsigned byte sum with the checksum field as spaces (some old tars sum signed bytes). */
function checksumOk(b: Buffer, off: number): boolean {
  const want = decodeNumber(b, off + 148, 8);
  let sum = 8 * 0x20;
  for (let i = off; i < off + 148; i++) sum += b[i]!;
  for (let i = off + 156; i < off + BLOCK; i++) sum += b[i]!;
  if (sum === want) return true;
  let signed = 8 * 0x20;
  for (let i = off; i < off + BLOCK; i++) if (i < off + 148 || i >= off + 156) signed += b[i]! > 127 ? b[i]! - 256 : b[i]!;
  return signed === want;
}

const isMagic = (b: Buffer, off: number, m: string): boolean => {
  for (let i = 0; i < m.length; i++) if (b[off + 257 + i] !== m.charCodeAt(i)) return false;
  return true;
};

/** Decodes the header block at `off`; throws TarFormatError when its checksum is wrong. */
export function decodeHeader(b: Buffer, off = 0): RawHeader {
  if (!checksumOk(b, off)) throw new TarFormatError('tar header checksum mismatch (not a tar stream, or corrupt)');
  const format = isMagic(b, off, 'ustar\u0000') ? 'ustar' : isMagic(b, off, 'ustar  \u0000') ? 'gnu' : 'v7';
  let name = cstring(b, off, 100);
  if (format === 'ustar') {
    const prefix = cstring(b, off + 345, 155);
    if (prefix !== '') name = `${prefix}/${name}`;
  }
  const flag = b[off + 156]!;
  const typeflag = flag === 0 ? '0' : String.fromCharCode(flag);
  return {
    name,
    linkname: cstring(b, off + 157, 100),
    typeflag,
    size: decodeNumber(b, off + 124, 12),
    format,
    sparseExtended: typeflag === 'S' && format === 'gnu' && b[off + 482] !== 0,
  };
}

/** Walks PAX records ("LEN key=value\n"), calling `fn` with each key and its value's byte range. */
function eachPax(b: Buffer, fn: (key: string, from: number, to: number) => void): void {
  let i = 0;
  while (i < b.length) {
    if (b[i] === 0) break; // NUL padding some writers leave
    let len = 0;
    let sp = i;
    for (; sp < b.length && b[sp] !== 0x20; sp++) {
      const c = b[sp]! - 0x30;
      if (c < 0 || c > 9 || sp - i > 15) throw new TarFormatError('bad PAX record length');
      len = len * 10 + c;
    }
    if (sp === i || len <= sp - i + 1 || i + len > b.length || b[i + len - 1] !== 0x0a) throw new TarFormatError('bad PAX record length');
    let eq = sp + 1;
    while (eq < i + len && b[eq] !== 0x3d) eq++;
    if (eq >= i + len) throw new TarFormatError('bad PAX record (no "=")');
    fn(b.toString('latin1', sp + 1, eq), eq + 1, i + len - 1);
    i += len;
  }
}

/** PAX extended header records as a map; values stay byte strings. */
export function parsePax(b: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  eachPax(b, (k, from, to) => out.set(k, b.toString('latin1', from, to)));
  return out;
}

const TYPES: Readonly<Record<string, EntryType>> = {
  '0': 'file',
  '7': 'file',
  S: 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
};
/** Types that carry no data: tar does not skip a payload after them, so one would be misread. */
const NO_DATA = new Set(['2', '3', '4', '5', '6']);
/** Incremental-dump and multi-volume types: tar reads them differently; an image has no use for them. */
const REFUSED = new Set(['D', 'M', 'N']);
/** Header fields that meta entries may override for the next real entry. */
export interface Pending {
  path?: string;
  linkpath?: string;
  size?: number;
}

/** Keys that change how the stream is read or what an entry is called; the rest is tar's business. */
const PAX_KEYS = new Set(['path', 'linkpath', 'size', 'GNU.sparse.name']);

function paxOverrides(b: Buffer, into: Pending): void {
  let sparseName: string | undefined;
  eachPax(b, (key, from, to) => {
    if (!PAX_KEYS.has(key)) return;
    const value = b.toString('latin1', from, to);
    if (key === 'path') into.path = value;
    else if (key === 'GNU.sparse.name') sparseName = value;
    else if (key === 'linkpath') into.linkpath = value;
    else {
      if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new TarFormatError('bad PAX size record');
      into.size = Number(value);
    }
  });
  if (sparseName !== undefined) into.path = sparseName;
}

type Step =
  | { kind: 'entry'; entry: TarEntry; skip: number; sparseExt: boolean }
  | { kind: 'meta'; meta: 'pax' | 'global' | 'longname' | 'longlink'; size: number }
  | { kind: 'skip'; skip: number };

/**
 * Interprets one header block given what earlier meta entries set; shared by the streaming
 * parser and the archive indexer so both read archives the same way.
 */
export function interpretHeader(h: RawHeader, pending: Pending): Step {
  switch (h.typeflag) {
    case 'x':
      return { kind: 'meta', meta: 'pax', size: h.size };
    case 'g':
      return { kind: 'meta', meta: 'global', size: h.size };
    case 'L':
      return { kind: 'meta', meta: 'longname', size: h.size };
    case 'K':
      return { kind: 'meta', meta: 'longlink', size: h.size };
    case 'V':
      return { kind: 'skip', skip: padded(h.size) };
  }
  if (REFUSED.has(h.typeflag)) throw new TarFormatError(`unsupported tar entry type '${h.typeflag}' for ${h.name}`);
  const path = pending.path ?? h.name;
  // GNU tar extracts unknown types as regular files, and a "regular file" named with a trailing
  // slash as a directory (the old BSD convention), without reading data after it.
  const slashDir = (h.typeflag === '0' || h.typeflag === '7') && path.endsWith('/');
  const type = slashDir ? 'dir' : (TYPES[h.typeflag] ?? 'file');
  // GNU tar gives a hard link no data whatever its header or PAX record says (checked on 1.34).
  const size = type === 'hardlink' ? 0 : (pending.size ?? h.size);
  if ((slashDir || NO_DATA.has(h.typeflag)) && size !== 0) throw new TarFormatError(`${type} entry ${path} claims ${size} bytes of data`);
  return { kind: 'entry', entry: { path, linkpath: pending.linkpath ?? h.linkname, type, size }, skip: padded(size), sparseExt: h.sparseExtended };
}

/** Applies a finished meta entry's payload. */
export function applyMeta(meta: 'pax' | 'global' | 'longname' | 'longlink', data: Buffer, pending: Pending): void {
  switch (meta) {
    case 'pax':
      paxOverrides(data, pending);
      return;
    case 'global':
      eachPax(data, (key) => {
        if (PAX_KEYS.has(key)) throw new TarFormatError(`PAX global header sets "${key}" for every entry`);
      });
      return;
    case 'longname':
      pending.path = cstring(data, 0, data.length);
      return;
    case 'longlink':
      pending.linkpath = cstring(data, 0, data.length);
      return;
  }
}

/** Meta payloads are names and a few records: anything larger is not an image layer. */
export const MAX_META = 1024 * 1024;
