import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { DigestCounter } from './digest';
import { CORRUPT_HINT, INVALID_HINT, OciError, UnpackAbortedError } from './errors';
import type { LayerGuard } from './guard';
import type { LayerPlan } from './image';
import { TarFormatError } from './tar-headers';
import { TarStreamParser } from './tar-stream';

/**
 * One layer onto the target: Node reads the blob (hashing it as it goes), decompresses it (zlib
 * for gzip, a `zstd -dc` child for zstd), hashes the tar stream against the diff_id, shows each
 * header to the guard and pipes the bytes to GNU tar, which does the extracting. The blob is read
 * once; tar is the only writer of file data.
 *
 * tar and zstd are spawned here rather than through the runner in src/engine/exec: they are fed a
 * stream on stdin, which the runner (a string in, strings out) does not do. The same rules hold:
 * argv arrays only, LC_ALL=C, killed on cancel, failures reported with argv and the stderr tail.
 */

/**
 * GNU tar's flags, and why:
 *  --numeric-owner      the image's uid/gid as numbers; never mapped through the live system's
 *                       /etc/passwd (whose names mean other numbers than the target's)
 *  --same-owner, --same-permissions
 *                       owners and full modes incl. setuid/setgid/sticky, no umask (tar's
 *                       defaults as root, spelled out so they hold however this is run)
 *  --xattrs --xattrs-include=*
 *                       all xattr namespaces: without the include tar restores only user.*, and
 *                       images carry security.capability (ping, newuidmap) and, as
 *                       SCHILY.xattr.system.posix_acl_*, their ACLs; tar sets them after chown,
 *                       which would clear a capability
 *  --delay-directory-restore
 *                       directory times and modes are set once the whole layer is in, so they
 *                       hold whatever the entry order (a read-only directory still fills up)
 *  --exclude=.wh.*      whiteout markers are instructions, not files (the guard applies them)
 *  --warning=no-timestamp,no-unknown-keyword
 *                       reproducible images use mtime 0 and vendor PAX keywords: noise that
 *                       would bury a real error in the stderr tail
 * Deliberately not:
 *  --overwrite          would write into an existing file's inode, changing a lower layer's hard
 *                       links to it; tar's default (unlink on EEXIST, create anew) is what layers mean
 *  --unlink-first, --recursive-unlink
 *                       an unlink per entry for nothing, and with a directory entry (every layer has
 *                       usr/) tar would try to empty the lower layer's directory; the guard removes
 *                       a lower directory only when this layer replaces it with a non-directory
 *  --no-overwrite-dir   an upper layer's directory entry is meant to set that directory's owner,
 *                       mode and time; the default does that
 *  --keep-directory-symlink
 *                       would keep a lower layer's symlink where this layer has a directory, and
 *                       write the directory's contents through it
 *  --acls               GNU tar's own SCHILY.acl.* records, which image builders do not write; with
 *                       it tar makes an ACL call per file (and one per directory) even when the
 *                       archive has none: measurable on the benchmark for nothing
 */
export const TAR_FLAGS: readonly string[] = [
  '--extract',
  '--file=-',
  '--numeric-owner',
  '--same-owner',
  '--same-permissions',
  '--xattrs',
  '--xattrs-include=*',
  '--delay-directory-restore',
  '--exclude=.wh.*',
  '--warning=no-timestamp',
  '--warning=no-unknown-keyword',
];

export const tarArgv = (tar: string, target: string): string[] => [tar, ...TAR_FLAGS, `--directory=${target}`];
export const ZSTD_ARGV: readonly string[] = ['zstd', '--decompress', '--stdout', '--quiet'];

/** 1 MiB reads and zlib output chunks: fewer callbacks and thread-pool round trips per byte. */
const CHUNK = 1024 * 1024;
const TAIL = 8192;

interface Child {
  readonly proc: ChildProcess;
  readonly argv: string[];
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: NodeJS.ErrnoException }>;
  stderr(): string;
}

function start(argv: string[], stdout: 'pipe' | 'ignore'): Child {
  const proc = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', stdout, 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
  let tail = '';
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => {
    tail = (tail + s).slice(-TAIL);
  });
  // Errors on the pipes show up as the child's exit or the pipeline's failure; keep them from being unhandled.
  proc.stdin!.on('error', () => {});
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: NodeJS.ErrnoException }>((resolve) => {
    proc.once('error', (error: NodeJS.ErrnoException) => resolve({ code: null, signal: null, error }));
    proc.once('close', (code, signal) => resolve({ code, signal }));
  });
  return { proc, argv, exit, stderr: () => tail.trimEnd().split('\n').slice(-20).join('\n') };
}

/**
 * A pipeline's last stage writing into a child's stdin. It ends the stream and returns without
 * waiting for 'finish': the child's exit status says whether it got everything (tar reads to EOF),
 * and Node destroys a child's stdin when the child exits, which can come first and would otherwise
 * fail the pipeline with "Premature close" after a perfectly good run.
 */
function into(dest: Writable): (source: AsyncIterable<Buffer>) => Promise<void> {
  const drained = () =>
    new Promise<void>((resolve, reject) => {
      const done = (e?: Error) => {
        dest.off('drain', done).off('close', closed).off('error', done);
        if (e) reject(e);
        else resolve();
      };
      const closed = () => done(new Error(`${dest.constructor.name} closed while data was still being written`));
      dest.once('drain', done).once('close', closed).once('error', done);
    });
  return async (source) => {
    for await (const chunk of source) {
      if (dest.destroyed) throw new Error('the child process closed its input early');
      if (!dest.write(chunk)) await drained();
    }
    dest.end();
  };
}

export interface LayerJob {
  readonly layer: LayerPlan;
  /** 1-based, for messages. */
  readonly index: number;
  readonly target: string;
  readonly tar: string;
  readonly guard: LayerGuard;
  readonly signal?: AbortSignal;
  /** Compressed bytes read so far in this layer, as they are read. */
  onBytes(n: number): void;
}

/** Extracts one layer; resolves with the uncompressed size once tar has finished and both digests matched. */
export async function extractLayer(job: LayerJob): Promise<number> {
  const { layer, guard } = job;
  const name = layer.digest ?? `${job.index} (${layer.diffId})`;
  const tar = start(tarArgv(job.tar, job.target), 'ignore');
  const zstd = layer.compression === 'zstd' ? start([...ZSTD_ARGV], 'pipe') : null;

  const blob = new DigestCounter();
  const raw = new DigestCounter();
  const parser = new TarStreamParser((e) => guard.entry(e));
  /** Set once the blob's own size and digest have been judged. */
  const judged: { verdict: OciError | 'ok' | null } = { verdict: null };
  const judgeBlob = (): void => {
    let verdict: OciError | 'ok' = 'ok';
    if (blob.bytes !== layer.size) verdict = new OciError(`Layer ${name} is ${blob.bytes} bytes, not the ${layer.size} its descriptor says.`, CORRUPT_HINT);
    else if (layer.digest !== null) {
      const got = blob.digest();
      if (got !== layer.digest) verdict = new OciError(`Layer ${layer.digest} does not match its digest: expected ${layer.digest}, got ${got}.`, CORRUPT_HINT);
    }
    judged.verdict = verdict;
    if (verdict !== 'ok') throw verdict;
  };

  async function* readBlob(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      blob.update(chunk);
      if (blob.bytes > layer.size) judgeBlob();
      job.onBytes(chunk.length);
      yield chunk;
    }
    judgeBlob();
  }
  async function* readTar(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      raw.update(chunk);
      parser.push(chunk); // the guard sees every header in this chunk before tar gets any of it
      yield chunk;
    }
    parser.end();
    const got = raw.digest();
    if (got !== layer.diffId) {
      throw new OciError(`Layer ${name} unpacks to data that does not match its diff_id: expected ${layer.diffId}, got ${got}.`, CORRUPT_HINT);
    }
  }

  const region = layer.region;
  const read = (from = 0) =>
    from >= region.length ? Readable.from([]) : createReadStream(region.file, { start: region.start + from, end: region.start + region.length - 1, highWaterMark: CHUNK });
  const opts = job.signal ? { signal: job.signal } : {};
  const tarIn = into(tar.proc.stdin!);
  let flow: Promise<unknown>;
  if (layer.compression === 'gzip') flow = pipeline(read(), readBlob, createGunzip({ chunkSize: CHUNK }), readTar, tarIn, opts);
  else if (layer.compression === 'none') flow = pipeline(read(), readBlob, readTar, tarIn, opts);
  else flow = Promise.all([pipeline(read(), readBlob, into(zstd!.proc.stdin!), opts), pipeline(zstd!.proc.stdout!, readTar, tarIn, opts)]);

  const children = zstd ? [tar, zstd] : [tar];
  let failure: unknown = null;
  try {
    await flow;
  } catch (e) {
    failure = e;
    // Ours (digest, guard, cancel) or a pipe that broke because a child died: stop both either way.
    for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
  }
  const [tarExit, zstdExit] = await Promise.all(children.map((c) => c.exit));
  if (job.signal?.aborted) throw new UnpackAbortedError();
  for (const [c, x] of [[tar, tarExit], [zstd, zstdExit]] as const) {
    if (c && x?.error) {
      const tool = c.argv[0]!;
      throw new OciError(`Cannot run ${tool}: ${x.error.code === 'ENOENT' ? 'it is not installed' : x.error.message}.`, `Install ${tool === 'zstd' ? 'zstd (needed for zstd-compressed layers)' : 'GNU tar'}.`, c.argv);
    }
  }
  if (failure !== null) {
    // Whatever broke first (zlib, the tar parser, the guard), a blob that does not match its digest
    // is the cause to report: hash the part not yet read (nothing is read twice) and judge it.
    if (judged.verdict === null) {
      for await (const chunk of read(blob.bytes)) blob.update(chunk as Buffer);
      judgeBlob();
    }
    if (judged.verdict instanceof OciError) throw judged.verdict;
    if (failure instanceof OciError) throw failure;
  }
  if (zstd && zstdExit && zstdExit.code !== 0 && zstdExit.signal !== 'SIGKILL') {
    throw new OciError(`zstd could not decompress layer ${name} (exit ${zstdExit.code ?? zstdExit.signal}).`, CORRUPT_HINT, zstd.argv, zstd.stderr());
  }
  if (failure instanceof TarFormatError) throw new OciError(`Layer ${name} is not a valid tar stream: ${failure.message}.`, INVALID_HINT);
  if (failure && (failure as { code?: string }).code?.startsWith('Z_')) {
    throw new OciError(`Layer ${name} does not decompress: ${(failure as Error).message}.`, CORRUPT_HINT);
  }
  if (tarExit!.code !== 0 && !(failure && tarExit!.signal === 'SIGKILL')) {
    throw new OciError(`tar failed to unpack layer ${name} onto ${job.target} (exit ${tarExit!.code ?? tarExit!.signal}).`, 'See the tar messages; a full disk or a read-only target are common causes.', tar.argv, tar.stderr());
  }
  if (failure) throw new OciError(`Unpacking layer ${name} failed: ${(failure as Error).message}.`, 'Check that the target is mounted read-write and has room.');
  return raw.bytes;
}
