// npm run bench, unpack figures: the oci-rootfs unpacker (src/engine/deploy/oci) against plain
// `tar -xzf` of the same layer blobs, in order, onto the same loop-mounted ext4, alternately, a
// fresh mkfs before every run, `sync -f` inside both timings. The image is a copy of real trees from
// this machine (/usr/share, /usr/lib: tens of thousands of files) in three gzip layers, the third
// rewriting part of the first as an update layer would; built once and cached.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, createWriteStream, existsSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { createGzip } from 'node:zlib';
import { unpackImage } from '../src/engine/deploy/oci';

const ROUNDS = 3;
const TARGET_RATIO = 1.15;
const RECIPE = {
  version: 1,
  layers: [
    ['usr/share/doc', 'usr/share/locale', 'usr/share/man', 'usr/share/icons', 'usr/share/perl5', 'usr/share/zoneinfo'],
    ['usr/lib/python3', 'usr/lib/python3.11', 'usr/lib/node_modules', 'usr/lib/git-core'],
    ['usr/share/man'],
  ],
};

interface Meta {
  layers: { digest: string; diffId: string; size: number; uncompressed: number; entries: number }[];
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const sh = (argv: string[]): string => {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${(r.stderr || String(r.error)).trim()}`);
  return r.stdout;
};

function skipReason(): string | null {
  if (process.getuid?.() !== 0) return 'not running as root (loop devices, mkfs and mount need it)';
  if (!existsSync('/dev/loop-control')) return 'no /dev/loop-control (loop module missing)';
  for (const tool of ['losetup', 'mkfs.ext4', 'tar', 'gzip']) if (spawnSync('sh', ['-c', 'command -v "$1"', 'sh', tool]).status !== 0) return `${tool} is not installed`;
  return null;
}

/** One layer: GNU tar of the trees → sha256 (diff_id) → gzip -6 → sha256 (digest) → blob file. */
async function buildLayer(blobs: string, paths: string[]): Promise<Meta['layers'][number]> {
  const tar = spawn('tar', ['--create', '--file=-', '--format=posix', '--numeric-owner', '--sort=name', '--directory=/', ...paths], { stdio: ['ignore', 'pipe', 'inherit'] });
  const diff = createHash('sha256');
  const blob = createHash('sha256');
  let uncompressed = 0;
  let size = 0;
  const tmp = join(blobs, `tmp-${process.pid}`);
  await pipeline(
    tar.stdout,
    async function* (src: AsyncIterable<Buffer>) {
      for await (const c of src) {
        diff.update(c);
        uncompressed += c.length;
        yield c;
      }
    },
    createGzip({ level: 6 }),
    async function* (src: AsyncIterable<Buffer>) {
      for await (const c of src) {
        blob.update(c);
        size += c.length;
        yield c;
      }
    },
    createWriteStream(tmp),
  );
  const digest = `sha256:${blob.digest('hex')}`;
  renameSync(tmp, join(blobs, digest.slice(7)));
  const entries = Number(sh(['sh', '-c', 'tar -tzf "$1" | wc -l', 'sh', join(blobs, digest.slice(7))]).trim());
  return { digest, diffId: `sha256:${diff.digest('hex')}`, size, uncompressed, entries };
}

/** The cached image (an OCI layout), built when missing. */
async function image(): Promise<{ layout: string; meta: Meta; built: boolean }> {
  const key = createHash('sha256').update(JSON.stringify(RECIPE)).digest('hex').slice(0, 12);
  const layout = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'particle-installer', 'bench-unpack', key);
  if (existsSync(join(layout, 'meta.json'))) return { layout, meta: JSON.parse(readFileSync(join(layout, 'meta.json'), 'utf8')) as Meta, built: false };
  const blobs = join(layout, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const layers: Meta['layers'] = [];
  for (const paths of RECIPE.layers) layers.push(await buildLayer(blobs, paths.filter((p) => existsSync(`/${p}`))));
  const blobOf = (data: string) => {
    const hex = createHash('sha256').update(data).digest('hex');
    writeFileSync(join(blobs, hex), data);
    return { digest: `sha256:${hex}`, size: Buffer.byteLength(data) };
  };
  const config = blobOf(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) } }));
  const manifest = blobOf(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size })),
    }),
  );
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest }] }));
  const meta: Meta = { layers };
  writeFileSync(join(layout, 'meta.json'), JSON.stringify(meta));
  return { layout, meta, built: true };
}

/** Everything made here, and undoing it (also on SIGINT/SIGTERM). */
class Disk {
  readonly dir = mkdtempSync(join(tmpdir(), 'particle-bench-unpack-'));
  readonly mnt = join(this.dir, 'mnt');
  readonly dev: string;
  private mounted = false;
  private readonly onSignal = (): void => {
    this.cleanup();
    process.exit(130);
  };

  constructor(size: number) {
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
    mkdirSync(this.mnt);
    const file = join(this.dir, 'disk.img');
    const fd = openSync(file, 'w', 0o600);
    try {
      ftruncateSync(fd, size);
    } finally {
      closeSync(fd);
    }
    this.dev = sh(['losetup', '--find', '--show', file]).trim();
  }

  /** A fresh ext4 (inode tables initialised now, so no background init disturbs the timing), mounted. */
  fresh(): void {
    this.unmount();
    sh(['mkfs.ext4', '-q', '-F', '-E', 'lazy_itable_init=0,lazy_journal_init=0', this.dev]);
    sh(['mount', this.dev, this.mnt]);
    this.mounted = true;
  }

  unmount(): void {
    if (this.mounted) spawnSync('umount', [this.mnt], { stdio: 'ignore' });
    this.mounted = false;
  }

  cleanup(): void {
    this.unmount();
    spawnSync('losetup', ['--detach', this.dev], { stdio: 'ignore' });
    rmSync(this.dir, { recursive: true, force: true });
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }
}

async function timeUnpacker(disk: Disk, layout: string): Promise<number> {
  disk.fresh();
  const t0 = performance.now();
  await unpackImage({ source: { transport: 'oci', path: layout }, target: disk.mnt });
  sh(['sync', '-f', disk.mnt]);
  return (performance.now() - t0) / 1000;
}

function timeTar(disk: Disk, layout: string, meta: Meta): number {
  disk.fresh();
  const t0 = performance.now();
  for (const l of meta.layers) sh(['tar', '-xzf', join(layout, 'blobs', 'sha256', l.digest.slice(7)), '-C', disk.mnt]);
  sh(['sync', '-f', disk.mnt]);
  return (performance.now() - t0) / 1000;
}

/** Printable lines: image size, both rates and their ratio (or why they were skipped). */
export async function unpackFigures(): Promise<string[]> {
  const why = skipReason();
  if (why) return [`unpack vs tar -xzf: skipped: ${why}`];
  const t0 = performance.now();
  const { layout, meta, built } = await image();
  const uncompressed = meta.layers.reduce((s, l) => s + l.uncompressed, 0);
  const compressed = meta.layers.reduce((s, l) => s + l.size, 0);
  const entries = meta.layers.reduce((s, l) => s + l.entries, 0);
  const MB = 1e6;
  const lines = [
    `unpack image: ${meta.layers.length} gzip layers, ${(compressed / MB).toFixed(0)} MB compressed, ${(uncompressed / MB).toFixed(0)} MB of tar, ${entries} entries (${built ? `built in ${((performance.now() - t0) / 1000).toFixed(0)} s` : 'cached'}: ${layout})`,
  ];
  const disk = new Disk(Math.max(4 * 1024 ** 3, Math.ceil((uncompressed * 2.5) / 1024 ** 3) * 1024 ** 3));
  try {
    const ours: number[] = [];
    const plain: number[] = [];
    await timeUnpacker(disk, layout); // warm-up: page cache for the blobs, JIT
    for (let i = 0; i < ROUNDS; i++) {
      // Alternate which goes first, so neither always follows the other's writeback.
      if (i % 2 === 0) {
        ours.push(await timeUnpacker(disk, layout));
        plain.push(timeTar(disk, layout, meta));
      } else {
        plain.push(timeTar(disk, layout, meta));
        ours.push(await timeUnpacker(disk, layout));
      }
    }
    const o = median(ours);
    const p = median(plain);
    const each = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');
    const ratio = o / p;
    lines.push(
      `unpackImage onto ext4 (loop, fresh mkfs, incl. sync, median of ${ROUNDS}): ${(uncompressed / MB / o).toFixed(0)} MB/s, ${o.toFixed(2)} s (runs: ${each(ours)})`,
      `tar -xzf of each layer onto the same (median of ${ROUNDS}, alternating):      ${(uncompressed / MB / p).toFixed(0)} MB/s, ${p.toFixed(2)} s (runs: ${each(plain)})`,
      `unpack ratio unpackImage/tar: ${ratio.toFixed(2)} (target <= ${TARGET_RATIO}) ${ratio <= TARGET_RATIO ? 'OK' : 'OVER TARGET'}`,
    );
  } finally {
    disk.cleanup();
  }
  return lines;
}

// Run directly (tsx scripts/bench-unpack.ts): print the figures alone.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  for (const line of await unpackFigures()) console.log(line);
}
