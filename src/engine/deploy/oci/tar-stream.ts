import { BLOCK, MAX_META, TarFormatError, applyMeta, decodeHeader, interpretHeader, isZeroBlock, padded, type Pending, type TarEntry } from './tar-headers';

/**
 * Push parser: feed it the uncompressed tar stream in chunks of any size; it calls `onEntry` for
 * each real entry. Payload bytes are skipped by counting; only header blocks that straddle two
 * chunks and meta payloads are copied.
 */
/** The largest payload the parser copies for a caller. */
export const MAX_CAPTURE = 1024 * 1024;

export class TarStreamParser {
  private state: 'header' | 'skip' | 'meta' | 'sparse' | 'end' = 'header';
  private readonly block = Buffer.alloc(BLOCK);
  private fill = 0;
  private skip = 0;
  /** A meta entry's payload being read: copied only when it straddles chunks. */
  private meta: { kind: 'pax' | 'global' | 'longname' | 'longlink'; size: number; data: Buffer | null; got: number; pad: number } | null = null;
  private pending: Pending = {};
  private afterSparse = 0;
  /** A regular file's payload being copied for the caller (see the constructor). */
  private capture: { data: Buffer; got: number; done: (data: Buffer) => void } | null = null;
  /** Set once the end-of-archive zero block has been seen. */
  ended = false;

  /**
   * `onEntry` may return a function to receive that entry's payload: only for a regular file of at
   * most MAX_CAPTURE bytes (other entries' payloads are skipped as always).
   */
  constructor(private readonly onEntry: (e: TarEntry) => unknown) {}

  push(chunk: Buffer): void {
    let off = 0;
    const len = chunk.length;
    while (off < len) {
      switch (this.state) {
        case 'end':
          return;
        case 'skip': {
          const n = Math.min(this.skip, len - off);
          const c = this.capture;
          if (c) {
            const want = Math.min(n, c.data.length - c.got);
            chunk.copy(c.data, c.got, off, off + want);
            c.got += want;
            if (c.got === c.data.length) {
              this.capture = null;
              c.done(c.data);
            }
          }
          this.skip -= n;
          off += n;
          if (this.skip === 0) this.state = 'header';
          break;
        }
        case 'meta': {
          const m = this.meta!;
          if (m.got === 0 && len - off >= m.size) {
            // Whole in this chunk (the usual case): read it in place.
            applyMeta(m.kind, chunk.subarray(off, off + m.size), this.pending);
            off += m.size;
            this.meta = null;
            this.skip = m.pad;
            this.state = m.pad > 0 ? 'skip' : 'header';
            break;
          }
          m.data ??= Buffer.alloc(m.size);
          const n = Math.min(m.size - m.got, len - off);
          chunk.copy(m.data, m.got, off, off + n);
          m.got += n;
          off += n;
          if (m.got === m.size) {
            applyMeta(m.kind, m.data, this.pending);
            this.meta = null;
            this.skip = m.pad;
            this.state = m.pad > 0 ? 'skip' : 'header';
          }
          break;
        }
        case 'header':
        case 'sparse': {
          let b: Buffer;
          let at = 0;
          if (this.fill === 0 && len - off >= BLOCK) {
            b = chunk;
            at = off;
            off += BLOCK;
          } else {
            const n = Math.min(BLOCK - this.fill, len - off);
            chunk.copy(this.block, this.fill, off, off + n);
            this.fill += n;
            off += n;
            if (this.fill < BLOCK) return;
            this.fill = 0;
            b = this.block;
          }
          if (this.state === 'sparse') this.sparseBlock(b, at);
          else this.headerBlock(b, at);
          break;
        }
      }
    }
  }

  /** Call at the end of the stream: throws when it stopped inside an entry. */
  end(): void {
    if (this.state === 'end') return;
    if (this.state !== 'header' || this.fill !== 0) throw new TarFormatError('tar stream ends in the middle of an entry');
    // No zero block: GNU tar accepts that (with a warning); so do we.
  }

  private headerBlock(b: Buffer, at: number): void {
    if (isZeroBlock(b, at)) {
      this.state = 'end';
      this.ended = true;
      return;
    }
    const step = interpretHeader(decodeHeader(b, at), this.pending);
    switch (step.kind) {
      case 'skip':
        this.skip = step.skip;
        this.state = step.skip > 0 ? 'skip' : 'header';
        return;
      case 'meta':
        if (step.size > MAX_META) throw new TarFormatError(`tar meta entry of ${step.size} bytes`);
        if (step.size === 0) {
          applyMeta(step.meta, Buffer.alloc(0), this.pending);
          return;
        }
        this.meta = { kind: step.meta, size: step.size, data: null, got: 0, pad: padded(step.size) - step.size };
        this.state = 'meta';
        return;
      case 'entry': {
        this.pending = {};
        const wants = this.onEntry(step.entry);
        if (typeof wants === 'function' && step.entry.type === 'file' && !step.sparseExt && step.entry.size <= MAX_CAPTURE) {
          if (step.entry.size === 0) (wants as (d: Buffer) => void)(Buffer.alloc(0));
          else this.capture = { data: Buffer.alloc(step.entry.size), got: 0, done: wants as (d: Buffer) => void };
        }
        this.skip = step.skip;
        if (step.sparseExt) {
          this.afterSparse = step.skip;
          this.state = 'sparse';
        } else this.state = step.skip > 0 ? 'skip' : 'header';
        return;
      }
    }
  }

  /** Old GNU sparse map continuation blocks: byte 504 says whether another follows. */
  private sparseBlock(b: Buffer, at: number): void {
    if (b[at + 504] !== 0) return;
    this.skip = this.afterSparse;
    this.state = this.skip > 0 ? 'skip' : 'header';
  }
}
