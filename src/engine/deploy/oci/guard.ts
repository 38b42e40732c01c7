import { lstatSync, readdirSync, rmSync, utimesSync, type Stats } from 'node:fs';
import { OciError } from './errors';
import type { TarEntry } from './tar-headers';

/**
 * What keeps one layer's extraction inside the target and gives it overlay semantics. It sees each
 * entry header before tar does (the unpacker forwards a chunk to tar only after its headers went
 * through here) and, in order:
 *  - refuses names with ".." parts, and entries below a non-directory of the same layer (which
 *    tar would follow: the way out of the target through a symlink);
 *  - where the layer has entries below a path that a lower layer made a symlink (or a file),
 *    removes that first, so tar makes a directory there instead of writing through the symlink
 *    (for the directory's own entry tar would replace the symlink itself; its children it follows);
 *  - where the layer puts a non-directory over a lower directory, removes the directory tree
 *    (tar itself only removes empty ones);
 *  - refuses hard links whose target path runs through a symlink;
 *  - collects whiteouts, applied by `applyWhiteouts` once tar is done and the layer verified.
 * It only ever lstats paths whose ancestors it has checked to be real directories, so nothing it
 * does follows a symlink. Paths are byte strings (see tar-headers.ts), relative to the target.
 *
 * This runs while tar is still extracting earlier entries. That is safe because it only touches a
 * path the layer has not yet named (nor anything below it), which tar does not touch either.
 */

const OPAQUE = '.wh..wh..opq';
const WH = '.wh.';

export const parentOf = (p: string): string => {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
};
const child = (dir: string, name: string): string => (dir === '' ? name : `${dir}/${name}`);

/** Normalised member path ('' for the root), or an OciError for a name that leaves the target. */
export function memberPath(raw: string, layer: string): string {
  let p = raw;
  while (p.startsWith('./') || p.startsWith('/')) p = p.slice(p[0] === '/' ? 1 : 2);
  while (p.endsWith('/')) p = p.slice(0, -1);
  if (p === '.') return '';
  if (!p.includes('//') && !p.includes('/./') && !p.endsWith('/.') && !p.includes('..')) return p;
  const parts: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      throw new OciError(`Layer ${layer} has an entry "${display(raw)}" that points outside the target (a ".." part).`, 'The image is malformed or malicious: do not install it.');
    }
    parts.push(part);
  }
  return parts.join('/');
}

/** A byte-string path for messages: decoded as UTF-8 where it is, shortened. */
export const display = (p: string): string => Buffer.from(p, 'latin1').toString('utf8').slice(0, 300);

/** Paths that whiteouts and replacements must leave alone, with everything under them. */
export class Protected {
  private readonly paths: string[];
  constructor(paths: readonly string[]) {
    this.paths = paths
      .map((p) => {
        if (p.split('/').includes('..')) throw new OciError(`The protected path "${p}" has a ".." part.`, 'Give protected paths relative to the target, without "..".');
        return memberPath(Buffer.from(p, 'utf8').toString('latin1'), 'protect');
      })
      .filter((p) => p !== '');
  }
  /** p is protected, or inside a protected path. */
  covers(p: string): boolean {
    return this.paths.some((q) => p === q || p.startsWith(`${q}/`));
  }
  /** A protected path is inside p. */
  holds(p: string): boolean {
    return this.paths.some((q) => p === '' || q.startsWith(`${p}/`));
  }
}

type Known = 'dir' | 'fresh';

export class LayerGuard {
  /** Paths this layer names: true for directories. */
  private readonly entries = new Map<string, boolean>();
  /** Proper ancestors of those paths. */
  private readonly ancestors = new Set<string>(['']);
  /** Directories known to be real: 'fresh' when no lower layer had them, so nothing below needs a look. */
  private readonly known = new Map<string, Known>([['', 'dir']]);
  private readonly whiteouts: string[] = [];
  private readonly opaques: string[] = [];
  private readonly root: string;

  constructor(
    target: string,
    private readonly layer: string,
    private readonly protect: Protected,
  ) {
    this.root = Buffer.from(target.replace(/\/+$/, ''), 'utf8').toString('latin1');
  }

  entry(e: TarEntry): void {
    const p = memberPath(e.path, this.layer);
    if (p.startsWith(WH) || p.includes(`/${WH}`)) {
      // tar skips these (--exclude=.wh.*), and everything below a .wh. directory.
      const name = p.slice(p.lastIndexOf('/') + 1);
      if (name.startsWith(WH)) this.whiteout(parentOf(p), name);
      return;
    }
    if (p === '') {
      if (e.type !== 'dir') throw this.refuse(`names the target itself as a ${e.type}`, e.path);
      return;
    }
    const parent = parentOf(p);
    this.ensureDir(parent, e.path);
    if (e.type === 'hardlink') this.checkLinkTarget(e);
    const isDir = e.type === 'dir';
    const prev = this.entries.get(p);
    if (prev === true || this.ancestors.has(p)) {
      // Named before as a directory: tar keeps it; as anything else the layer contradicts itself.
      if (!isDir) throw this.refuse(`names ${display(p)} both as a directory and as a ${e.type}`, e.path);
    } else if (prev === false || this.known.get(parent) === 'fresh') {
      // Not in any lower layer (or already replaced by this one): tar replaces its own entry.
      if (isDir) this.known.set(p, 'fresh');
    } else {
      const st = this.lstat(p);
      if (isDir) {
        if (st && !st.isDirectory()) this.removeLower(p, e.path);
        this.known.set(p, st?.isDirectory() ? 'dir' : 'fresh');
      } else if (st?.isDirectory()) this.removeLower(p, e.path);
    }
    this.entries.set(p, isDir);
    for (let a = parent; !this.ancestors.has(a); a = parentOf(a)) this.ancestors.add(a);
  }

  private whiteout(dir: string, name: string): void {
    if (name === OPAQUE) this.opaques.push(dir);
    else if (!name.startsWith(`${WH}${WH}`)) {
      const gone = name.slice(WH.length);
      if (gone === '' || gone === '.' || gone === '..') throw this.refuse(`has a whiteout for "${display(gone)}"`, child(dir, name));
      this.whiteouts.push(child(dir, gone));
    } // other .wh..wh. names are aufs bookkeeping: nothing to do
  }

  /** Makes sure `dir` is (or will be made by tar as) a real directory. */
  private ensureDir(dir: string, raw: string): void {
    if (this.known.has(dir)) return;
    if (this.entries.get(dir) === false) throw this.refuse(`has an entry below ${display(dir)}, which the same layer makes a non-directory`, raw);
    const up = parentOf(dir);
    this.ensureDir(up, raw);
    if (this.known.get(up) === 'fresh') {
      this.known.set(dir, 'fresh');
      return;
    }
    const st = this.lstat(dir);
    if (st && !st.isDirectory()) this.removeLower(dir, raw); // a lower symlink or file where this layer has a directory
    this.known.set(dir, st?.isDirectory() ? 'dir' : 'fresh');
  }

  private checkLinkTarget(e: TarEntry): void {
    const target = memberPath(e.linkpath, this.layer);
    if (target === '') throw this.refuse('has a hard link to the target root', e.path);
    for (let a = parentOf(target); a !== ''; a = parentOf(a)) {
      if (this.entries.get(a) === false) throw this.refuse(`has a hard link through ${display(a)}, a non-directory`, e.path);
      if (this.known.has(a) || this.entries.has(a)) continue;
      const st = this.lstat(a);
      if (st && !st.isDirectory()) throw this.refuse(`has a hard link through ${display(a)}, which is not a directory`, e.path);
    }
  }

  private full(p: string): Buffer {
    return Buffer.from(p === '' ? this.root : `${this.root}/${p}`, 'latin1');
  }

  private lstat(p: string): Stats | undefined {
    return lstatSync(this.full(p), { throwIfNoEntry: false });
  }

  private removeLower(p: string, raw: string): void {
    if (this.protect.covers(p) || this.protect.holds(p)) {
      throw new OciError(`Layer ${this.layer} replaces ${display(p)} (entry "${display(raw)}"), which holds a protected path.`, 'The image overwrites a path the installer needs: use a different image or staging location.');
    }
    rmSync(this.full(p), { recursive: true, force: true });
  }

  private refuse(why: string, raw: string): OciError {
    return new OciError(`Layer ${this.layer} ${why} (entry "${display(raw)}"), which could write outside the target.`, 'The image is malformed or malicious: do not install it.');
  }

  /**
   * Once tar is done: removes what the whiteouts hide from lower layers. For `.wh.NAME` that is NAME
   * and for an opaque D everything in D, except what this layer itself has there (and the
   * directories leading to it) and protected paths. Directory times are put back afterwards.
   */
  applyWhiteouts(): void {
    const times = new Map<string, Stats>();
    for (const w of this.whiteouts) if (this.realDirs(parentOf(w))) this.prune(w, times);
    for (const d of this.opaques) {
      if (!this.realDirs(d)) continue;
      for (const name of readdirSync(this.full(d), { encoding: 'buffer' })) this.prune(child(d, name.toString('latin1')), times);
    }
    for (const [dir, st] of times) if (this.lstat(dir)?.isDirectory()) utimesSync(this.full(dir), st.atimeMs / 1000, st.mtimeMs / 1000);
  }

  /** Whether p and every ancestor is a real directory (so a walk below p stays inside the target). */
  private realDirs(p: string): boolean {
    for (let a = p; a !== ''; a = parentOf(a)) if (!this.lstat(a)?.isDirectory()) return false;
    return true;
  }

  /** Removes p unless kept; the caller has checked that p's parent is a real directory. */
  private prune(p: string, times: Map<string, Stats>): void {
    if (this.protect.covers(p)) return;
    const st = this.lstat(p);
    if (!st) return;
    if (this.entries.has(p) || this.ancestors.has(p) || this.protect.holds(p)) {
      if (st.isDirectory()) for (const name of readdirSync(this.full(p), { encoding: 'buffer' })) this.prune(child(p, name.toString('latin1')), times);
      return;
    }
    const parent = parentOf(p);
    if (!times.has(parent)) times.set(parent, this.lstat(parent)!);
    rmSync(this.full(p), { recursive: true, force: true });
  }
}
