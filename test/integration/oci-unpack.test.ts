import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciError, unpackImage, type OciSource } from '../../src/engine/deploy/oci';
import { buildImage, addImage, writeDockerArchive, writeIndex, writeOciArchive, type EntrySpec, type LayerSpec } from '../support/oci-build';
import { attachLoop, loopUnavailableReason, run, sparseFile, tryRun } from '../support/loop';

// The unpacker as root onto real filesystems on loop devices: owners, modes, xattrs, links,
// device nodes, whiteouts and opaque directories, all three sources and compressions, refusal of a
// corrupt blob, and cancelling.
const why = loopUnavailableReason(['mkfs.ext4', 'tar', 'zstd']);
if (why) console.warn(`[integration] OCI unpack tests skipped: ${why}`);
const onPath = (tool: string): boolean => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', tool]).status === 0;
const FILESYSTEMS = ['ext4', ...['xfs', 'btrfs'].filter((fs) => onPath(`mkfs.${fs}`))];
for (const fs of ['xfs', 'btrfs']) if (!FILESYSTEMS.includes(fs)) console.warn(`[integration] OCI unpack on ${fs} skipped: mkfs.${fs} is not installed`);

/** Reads an xattr with getfattr or python3; `unavailable` (with the reason printed once) when neither exists. */
const XATTR_TOOL = onPath('getfattr') ? 'getfattr' : onPath('python3') ? 'python3' : null;
if (!XATTR_TOOL) console.warn('[integration] xattr assertions skipped: neither getfattr nor python3 is installed');
function xattr(path: string, name: string): string | null {
  const r =
    XATTR_TOOL === 'getfattr'
      ? spawnSync('getfattr', ['--absolute-names', '-h', '-n', name, '-e', 'hex', path], { encoding: 'utf8' })
      : spawnSync('python3', ['-c', 'import os,sys\ntry: print(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).hex())\nexcept OSError: sys.exit(1)', path, name], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  // getfattr prints "# file: P" then "NAME=0x<hex>" (--only-values would drop the hex encoding).
  if (XATTR_TOOL === 'getfattr') return /=0x([0-9a-f]*)$/m.exec(r.stdout)?.[1] ?? null;
  return r.stdout.trim();
}

const MTIME = 1_600_000_000;
const CAP = Buffer.from('0100000200200000000000000000000000000000', 'hex'); // vfs cap v2: cap_net_raw+ep
const L1: EntrySpec[] = [
  { type: 'dir', path: 'etc' },
  { type: 'file', path: 'etc/motd', content: 'lower motd\n' },
  { type: 'file', path: 'etc/owned', content: 'o', uid: 1234, gid: 5678, mode: 0o640 },
  { type: 'dir', path: 'usr/bin' },
  { type: 'file', path: 'usr/bin/su', content: 'su', mode: 0o4755 },
  { type: 'file', path: 'usr/bin/wall', content: 'wall', mode: 0o2755, gid: 5 },
  { type: 'file', path: 'usr/bin/ping', content: 'ping', mode: 0o755, xattrs: { 'security.capability': CAP, 'user.origin': 'layer1' } },
  { type: 'hardlink', path: 'usr/bin/su-same-layer', target: 'usr/bin/su' },
  { type: 'dir', path: 'tmp', mode: 0o1777 },
  { type: 'symlink', path: 'bin', target: 'usr/bin' },
  { type: 'char', path: 'dev/null', major: 1, minor: 3, mode: 0o666 },
  { type: 'block', path: 'dev/loop9', major: 7, minor: 9, mode: 0o660, gid: 6 },
  { type: 'fifo', path: 'run/initctl', mode: 0o600 },
  { type: 'file', path: 'opq/lower', content: 'l' },
  { type: 'file', path: 'opq/sub/lower', content: 'l' },
  { type: 'file', path: 'opq2/lower', content: 'l' },
  { type: 'file', path: 'dir-becomes-file/child', content: 'c' },
  { type: 'file', path: 'file-becomes-dir', content: 'f' },
  { type: 'symlink', path: 'link-becomes-dir', target: 'usr/bin' },
  { type: 'file', path: 'recreated', content: 'old' },
  { type: 'file', path: 'recreated2', content: 'old' },
  { type: 'dir', path: 'var/old', mtime: 1_000_000_000 },
  { type: 'file', path: 'var/old/file', content: 'x', mtime: 1_000_000_000 },
];
const L2: EntrySpec[] = [
  { type: 'dir', path: 'etc', mtime: MTIME },
  { type: 'whiteout', path: 'etc/motd' },
  // Opaque marker after, and before, this layer's own entries in the directory.
  { type: 'file', path: 'opq/upper', content: 'u' },
  { type: 'opaque', path: 'opq' },
  { type: 'opaque', path: 'opq2' },
  { type: 'file', path: 'opq2/upper', content: 'u' },
  { type: 'file', path: 'dir-becomes-file', content: 'now a file' },
  { type: 'dir', path: 'file-becomes-dir' },
  { type: 'file', path: 'file-becomes-dir/child', content: 'c' },
  { type: 'dir', path: 'link-becomes-dir' },
  { type: 'file', path: 'link-becomes-dir/child', content: 'c' },
  // A whiteout does not hide what its own layer puts there, before or after it.
  { type: 'file', path: 'recreated', content: 'new' },
  { type: 'whiteout', path: 'recreated' },
  { type: 'whiteout', path: 'recreated2' },
  { type: 'file', path: 'recreated2', content: 'new' },
  { type: 'hardlink', path: 'usr/bin/su-from-lower', target: 'usr/bin/su' },
];
const L3: EntrySpec[] = [
  { type: 'file', path: 'srv/layer3', content: '3' },
  { type: 'whiteout', path: 'file-becomes-dir' },
];
const LAYERS = (c: [LayerSpec['compression'], LayerSpec['compression'], LayerSpec['compression']]): LayerSpec[] => [
  { entries: L1, compression: c[0] },
  { entries: L2, compression: c[1] },
  { entries: L3, compression: c[2] },
];

/** Type, mode, owner, size and link of everything under root: what must not depend on the source. */
function tree(root: string, rel = ''): string[] {
  return readdirSync(join(root, rel))
    .sort()
    .flatMap((name) => {
      const p = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(root, p));
      const line = `${p} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.isFile() ? st.size : ''}${st.isSymbolicLink() ? ` -> ${readlinkSync(join(root, p))}` : ''}`;
      return [line, ...(st.isDirectory() ? tree(root, p) : [])];
    });
}

const devNumbers = (rdev: number) => ({ major: ((rdev >> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff), minor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00) });

function childrenOfThisProcess(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) out.push(`${pid} ${comm}`);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

describe.skipIf(why !== null)('OCI unpack onto loop-mounted filesystems (root)', () => {
  let dir: string;
  const loops: string[] = [];
  const mounts: string[] = [];
  const sources: Record<'oci' | 'oci-archive' | 'docker-archive' | 'docker-archive-25', OciSource> = {} as never;
  let big: OciSource;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'particle-oci-'));
    const layout = join(dir, 'layout');
    const img = buildImage({ layers: LAYERS(['gzip', 'zstd', 'none']) });
    writeIndex(layout, [addImage(layout, img, { ref: 'latest' })]);
    writeOciArchive(layout, join(dir, 'image.oci.tar'));
    writeDockerArchive(join(dir, 'image.docker.tar'), buildImage({ layers: LAYERS(['none', 'gzip', 'none']) }));
    writeDockerArchive(join(dir, 'image.docker25.tar'), img, 'particle-test:latest', 'oci');
    sources.oci = { transport: 'oci', path: layout, ref: 'latest' };
    sources['oci-archive'] = { transport: 'oci-archive', path: join(dir, 'image.oci.tar') };
    sources['docker-archive'] = { transport: 'docker-archive', path: join(dir, 'image.docker.tar') };
    sources['docker-archive-25'] = { transport: 'docker-archive', path: join(dir, 'image.docker25.tar') };
    // For cancelling: 128 MiB of plain tar, so the unpack is surely still running at the first progress call.
    const bigLayout = join(dir, 'big');
    const chunk = Buffer.alloc(64 * 1024, 0x5a);
    const files: EntrySpec[] = Array.from({ length: 2048 }, (_, i) => ({ type: 'file', path: `data/${i}`, content: chunk }));
    writeIndex(bigLayout, [addImage(bigLayout, buildImage({ layers: [{ entries: files, compression: 'none' }] }))]);
    big = { transport: 'oci', path: bigLayout };
  });

  afterAll(() => {
    for (const m of mounts.reverse()) if (!tryRun(['umount', m])) tryRun(['umount', '--lazy', m]);
    for (const l of loops) tryRun(['losetup', '-d', l]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe.each(FILESYSTEMS)('%s', (fs) => {
    let mnt: string;
    const target = (name: string): string => {
      const t = join(mnt, name);
      mkdirSync(t);
      return t;
    };

    beforeAll(() => {
      const file = join(dir, `${fs}.img`);
      sparseFile(file, 512 * 1024 * 1024);
      const dev = attachLoop(file);
      loops.push(dev);
      run([`mkfs.${fs}`, ...(fs === 'ext4' ? ['-q', '-F'] : fs === 'xfs' ? ['-q', '-f'] : ['-q', '-f']), dev]);
      mnt = join(dir, `mnt-${fs}`);
      mkdirSync(mnt);
      run(['mount', dev, mnt]);
      mounts.push(mnt);
    });

    it('keeps owners, modes, xattrs, links, device nodes and directory times', async () => {
      const t = target('attrs');
      const r = await unpackImage({ source: sources.oci, target: t });
      expect(r.layers).toBe(3);
      const st = (p: string) => lstatSync(join(t, p));
      expect(st('usr/bin/su').mode & 0o7777).toBe(0o4755);
      expect(st('usr/bin/wall').mode & 0o7777).toBe(0o2755);
      expect(st('usr/bin/wall').gid).toBe(5);
      expect(st('tmp').mode & 0o7777).toBe(0o1777);
      expect([st('etc/owned').uid, st('etc/owned').gid, st('etc/owned').mode & 0o7777]).toEqual([1234, 5678, 0o640]);
      expect(st('usr/bin/su-same-layer').ino).toBe(st('usr/bin/su').ino);
      expect(st('usr/bin/su-from-lower').ino).toBe(st('usr/bin/su').ino);
      expect(st('usr/bin/su').nlink).toBe(3);
      expect(readlinkSync(join(t, 'bin'))).toBe('usr/bin');
      expect(st('dev/null').isCharacterDevice()).toBe(true);
      expect(devNumbers(st('dev/null').rdev)).toEqual({ major: 1, minor: 3 });
      expect(st('dev/loop9').isBlockDevice()).toBe(true);
      expect(devNumbers(st('dev/loop9').rdev)).toEqual({ major: 7, minor: 9 });
      expect(st('run/initctl').isFIFO()).toBe(true);
      expect(st('var/old').mtimeMs).toBe(1_000_000_000_000);
      // etc lost motd to a whiteout after tar set its time: the time is put back.
      expect(st('etc').mtimeMs).toBe(MTIME * 1000);
      if (XATTR_TOOL) {
        expect(xattr(join(t, 'usr/bin/ping'), 'security.capability')).toBe(CAP.toString('hex'));
        expect(xattr(join(t, 'usr/bin/ping'), 'user.origin')).toBe(Buffer.from('layer1').toString('hex'));
      }
    });

    it('applies whiteouts and opaque directories whatever the entry order, and replaces across types', async () => {
      const t = target('whiteouts');
      await unpackImage({ source: sources.oci, target: t });
      const has = (p: string) => existsSync(join(t, p));
      expect(has('etc/motd')).toBe(false);
      expect(readdirSync(join(t, 'opq')).sort()).toEqual(['upper']);
      expect(readdirSync(join(t, 'opq2')).sort()).toEqual(['upper']);
      expect(readFileSync(join(t, 'recreated'), 'utf8')).toBe('new');
      expect(readFileSync(join(t, 'recreated2'), 'utf8')).toBe('new');
      expect(readFileSync(join(t, 'dir-becomes-file'), 'utf8')).toBe('now a file');
      expect(lstatSync(join(t, 'link-becomes-dir')).isDirectory()).toBe(true);
      expect(readdirSync(join(t, 'link-becomes-dir'))).toEqual(['child']);
      expect(has('usr/bin/child')).toBe(false);
      expect(has('file-becomes-dir')).toBe(false); // made a directory by layer 2, whited out by layer 3
      expect(readFileSync(join(t, 'srv/layer3'), 'utf8')).toBe('3');
    });

    it('gives the same tree from an OCI layout, an OCI archive and docker archives old and new (gzip, zstd and plain layers)', async () => {
      const trees = [];
      for (const [name, source] of Object.entries(sources)) {
        const t = target(`src-${name}`);
        await unpackImage({ source, target: t });
        trees.push(tree(t));
      }
      expect(trees[0]!.length).toBeGreaterThan(25);
      for (const other of trees.slice(1)) expect(other).toEqual(trees[0]);
    });

    it('refuses a layer blob with one byte changed, saying the image is corrupt', async () => {
      const copy = join(dir, `corrupt-${fs}`);
      cpSync(sources.oci.path, copy, { recursive: true });
      const blobs = join(copy, 'blobs', 'sha256');
      const manifest = JSON.parse(readFileSync(join(blobs, JSON.parse(readFileSync(join(copy, 'index.json'), 'utf8')).manifests[0].digest.slice(7)), 'utf8'));
      const layer = manifest.layers[1].digest as string;
      const data = readFileSync(join(blobs, layer.slice(7)));
      data[data.length >> 1]! ^= 0x40;
      writeFileSync(join(blobs, layer.slice(7)), data);
      const e = await unpackImage({ source: { transport: 'oci', path: copy }, target: target('corrupt') }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(OciError);
      expect((e as OciError).message).toMatch(new RegExp(`^Layer ${layer} does not match its digest: expected ${layer}, got sha256:[0-9a-f]{64}\\.$`));
      expect((e as OciError).hint).toMatch(/corrupt/);
    });

    it('stops tar when cancelled and leaves no child process', async () => {
      const abort = new AbortController();
      let calls = 0;
      const e = await unpackImage({
        source: big,
        target: target('cancel'),
        signal: abort.signal,
        onProgress: () => {
          calls++;
          abort.abort();
        },
      }).catch((x: unknown) => x);
      expect((e as Error).name).toBe('AbortError');
      expect(calls).toBe(1);
      expect(childrenOfThisProcess().filter((c) => / (tar|zstd)$/.test(c))).toEqual([]);
    });
  });
});
