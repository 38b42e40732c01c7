import { open } from 'node:fs/promises';
import { INVALID_HINT, OciError } from './errors';
import { BLOCK, MAX_META, TarFormatError, applyMeta, decodeHeader, interpretHeader, isZeroBlock, padded, type Pending } from './tar-headers';
import { sniffCompression } from './schema';

/**
 * An index of the members of an uncompressed tar archive (an oci-archive or a `docker save`
 * file), made by reading only the header blocks: blobs are then read in place, as byte ranges of
 * the archive, never extracted.
 */

export interface Member {
  readonly type: 'file' | 'hardlink' | 'symlink' | 'other';
  /** Where the member's data starts in the archive, and how long it is. */
  readonly offset: number;
  readonly size: number;
  readonly linkpath: string;
}

/** A byte range of a file: a blob in a layout directory, or a member inside an archive. */
export interface Region {
  readonly file: string;
  readonly start: number;
  readonly length: number;
}

/**
 * Normalises a member or reference path inside an archive: no leading "./" or "/", no "." parts;
 * null when it has ".." parts (it would name something outside the archive).
 */
export function archivePath(p: string): string | null {
  const parts: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') return null;
    parts.push(part);
  }
  return parts.join('/');
}

export async function indexArchive(file: string): Promise<Map<string, Member>> {
  const fh = await open(file, 'r').catch((e: NodeJS.ErrnoException) => {
    throw new OciError(`Cannot open the image archive ${file}: ${e.code ?? e.message}.`, 'Check the path of the image archive.');
  });
  try {
    const { size: total } = await fh.stat();
    const members = new Map<string, Member>();
    const head = Buffer.alloc(BLOCK);
    let pos = 0;
    let pending: Pending = {};
    const bad = (why: string): OciError => new OciError(`${file} is not a readable tar archive: ${why}.`, INVALID_HINT);
    while (pos + BLOCK <= total) {
      const { bytesRead } = await fh.read(head, 0, BLOCK, pos);
      if (bytesRead < BLOCK) break;
      if (pos === 0 && sniffCompression(head) !== 'none') throw bad('it is compressed; decompress it first (an archive is read in place)');
      if (isZeroBlock(head)) break;
      let step;
      try {
        step = interpretHeader(decodeHeader(head), pending);
      } catch (e) {
        if (e instanceof TarFormatError) throw bad(`${e.message} at offset ${pos}`);
        throw e;
      }
      pos += BLOCK;
      if (step.kind === 'skip') {
        pos += step.skip;
      } else if (step.kind === 'meta') {
        if (step.size > MAX_META) throw bad(`meta entry of ${step.size} bytes at offset ${pos}`);
        const data = Buffer.alloc(step.size);
        await fh.read(data, 0, step.size, pos);
        try {
          applyMeta(step.meta, data, pending);
        } catch (e) {
          if (e instanceof TarFormatError) throw bad(e.message);
          throw e;
        }
        pos += padded(step.size);
      } else {
        const e = step.entry;
        if (step.sparseExt) throw bad(`sparse member ${e.path} (a blob is never sparse)`);
        const name = archivePath(e.path);
        const type = e.type === 'file' || e.type === 'hardlink' || e.type === 'symlink' ? e.type : 'other';
        if (name !== null && name !== '') members.set(name, { type, offset: pos, size: e.size, linkpath: e.linkpath });
        if (pos + e.size > total) throw bad(`member ${e.path} runs past the end of the file`);
        pos += step.skip;
        pending = {};
      }
    }
    return members;
  } finally {
    await fh.close();
  }
}

/**
 * The data of a regular member, following hard links and (in-archive) symlinks the way `docker
 * save` uses them for repeated layers; null when missing or not a file.
 */
export function memberRegion(file: string, members: ReadonlyMap<string, Member>, path: string): Region | null {
  let name = archivePath(path);
  for (let hops = 0; name !== null && hops < 16; hops++) {
    const m = members.get(name);
    if (!m) return null;
    if (m.type === 'file') return { file, start: m.offset, length: m.size };
    if (m.type === 'hardlink') name = archivePath(m.linkpath);
    else if (m.type === 'symlink') {
      if (m.linkpath.startsWith('/')) return null;
      const dir = name.includes('/') ? name.slice(0, name.lastIndexOf('/') + 1) : '';
      name = archivePath(resolveRelative(dir, m.linkpath));
    } else return null;
  }
  return null;
}

/** dir + relative link, with ".." applied inside the archive (null-able by archivePath when it escapes). */
function resolveRelative(dir: string, link: string): string {
  const parts = dir.split('/').filter((p) => p !== '');
  for (const p of link.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      if (parts.length === 0) return '../escape';
      parts.pop();
    } else parts.push(p);
  }
  return parts.join('/');
}
