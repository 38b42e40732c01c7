import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { mmdebstrapCommand } from '../vm/image';
import { run } from '../vm/proc';
import { cacheHome } from './cache-home';
import { mountsUnder } from './mounts';

/**
 * The test OCI image: a small bootable Debian (trixie unless PARTICLE_VM_SUITE says otherwise) made
 * with mmdebstrap and written as a plain OCI image layout with two layers, the second exercising
 * whiteouts. Cached under particle-installer/oci-image/<recipe hash>, so it is built once per recipe.
 */

/** What a bootable, loginable Debian needs, plus what the installer runs inside the target. */
export const OCI_IMAGE_PACKAGES = [
  'linux-image-amd64', 'initramfs-tools', 'systemd-sysv', 'udev', 'kmod', 'login', 'passwd',
  // GRUB binaries only: grub-pc and grub-efi-amd64 would try to install to a disk inside the chroot.
  'grub2-common', 'grub-efi-amd64-bin', 'grub-pc-bin',
  'e2fsprogs', 'xfsprogs', 'btrfs-progs', 'dosfstools', 'fdisk',
  'cryptsetup-initramfs', 'zstd',
  // The chosen keyboard layout in the initramfs (the passphrase prompt): initramfs-tools' keymap hook
  // runs console-setup's setupcon, and the installer's KEYMAP=y asks it to.
  'console-setup',
  // The other boot loader an oci-rootfs plan installs (bootctl, its EFI binary, kernel-install and
  // Debian's hooks that call it); "auto" still picks GRUB, which is here too. The VM level boots the
  // encrypted install with it.
  'systemd-boot',
] as const;

/** What the second layer does, for tests that check an installer applied the layers correctly. */
export const LAYER2 = {
  /** Added by layer 2, with content `layer2\n`. */
  added: 'etc/particle-test-layer',
  /** A Debian file present in layer 1 that layer 2 deletes with a whiteout. */
  removed: 'etc/motd',
  /** Opaque in layer 2: layer 1's `hidden` in it must be gone, layer 2's `kept` present. */
  opaqueDir: 'etc/particle-opaque',
} as const;

/** The tag the docker archive carries. */
export const DOCKER_ARCHIVE_TAG = 'particle-test:latest';

/** The name the image has in the staged container storage (ensureContainerStorage). */
export const STORED_REFERENCE = 'localhost/particle-test:latest';

export interface OciTestImage {
  /** The cache folder of this recipe. */
  readonly dir: string;
  /** The OCI image layout directory (oci-layout, index.json, blobs/sha256). */
  readonly layout: string;
  /** The ref name the manifest carries in index.json. */
  readonly ref: 'latest';
  readonly manifestDigest: string;
  /** Digests of the gzip-compressed layer blobs, bottom first. */
  readonly layerDigests: string[];
  /** sha256 of each uncompressed layer tar, as in the config's rootfs.diff_ids. */
  readonly diffIds: string[];
  /** The kernel in /boot and /usr/lib/modules. */
  readonly kernelVersion: string;
  readonly compressedBytes: number;
  readonly uncompressedBytes: number;
  /** Seconds this call spent building, or 0 when the cached image was used. */
  readonly buildSeconds: number;
  readonly cached: boolean;
}

type Meta = Pick<OciTestImage, 'manifestDigest' | 'layerDigests' | 'diffIds' | 'kernelVersion' | 'compressedBytes' | 'uncompressedBytes'>;

const suite = (): string => process.env.PARTICLE_VM_SUITE ?? 'trixie';

/** The mmdebstrap argv; the mirror is mmdebstrap's default unless PARTICLE_VM_MIRROR is set. */
export function ociMmdebstrapArgv(target: string): string[] {
  return mmdebstrapCommand({
    variant: 'minbase',
    packages: OCI_IMAGE_PACKAGES,
    hooks: [
      // mmdebstrap copies the host's hostname and resolv.conf in and writes a placeholder fstab. The
      // installer writes hostname and fstab, so a test can tell it did; nothing of the build host stays.
      'rm -f "$1/etc/hostname" "$1/etc/resolv.conf" "$1/etc/fstab"',
      `mkdir -p "$1/${LAYER2.opaqueDir}" && echo hidden > "$1/${LAYER2.opaqueDir}/hidden"`,
      'rm -rf "$1/var/cache/apt/archives/"*.deb "$1/var/cache/apt/"*.bin "$1/var/lib/apt/lists/"*_Packages',
    ],
    target,
  });
}

/** Bump when the packing below (tar options, layer 2, config) changes the image. */
const RECIPE_VERSION = 1;
/** Fixed mtime of layer 2's entries and the archives' members, so they do not vary between builds. */
const FIXED_MTIME = '@1735689600';
/** pax without per-process header names or access/change times, which only make layers differ. */
export const TAR_PAX = ['--format=pax', '--numeric-owner', '--sort=name', '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime'];

export function ociRecipeHash(): string {
  const h = createHash('sha256');
  h.update(JSON.stringify([RECIPE_VERSION, FIXED_MTIME, TAR_PAX, LAYER2, ociMmdebstrapArgv('TARGET')]));
  return h.digest('hex').slice(0, 16);
}

export function ociCacheRoot(): string {
  return join(cacheHome(), 'particle-installer', 'oci-image');
}

const onPath = (tool: string): boolean => (process.env.PATH ?? '').split(':').some((d) => d !== '' && existsSync(join(d, tool)));

/** Why the image cannot be built on this machine, or null when it can. */
export function ociImageUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'the OCI test image is built with mmdebstrap as root; run the tests as root';
  // Built already (a VM guest is handed the host's): nothing more is needed to use it.
  if (existsSync(join(ociCacheRoot(), ociRecipeHash(), 'ready'))) return null;
  for (const tool of ['mmdebstrap', 'tar']) if (!onPath(tool)) return `${tool} is not installed (scripts/setup-debian.sh installs it)`;
  return null;
}

function fromCache(dir: string, buildSeconds = 0): OciTestImage {
  const meta = JSON.parse(readFileSync(join(dir, 'image.json'), 'utf8')) as Meta;
  return { ...meta, dir, layout: join(dir, 'layout'), ref: 'latest', buildSeconds, cached: buildSeconds === 0 };
}

/**
 * Returns the cached image, building it first when the recipe changed. Concurrent callers wait for
 * one build (a lock directory), and a half-built image is never used (built aside, then renamed).
 */
export async function ensureOciTestImage(log: (line: string) => void = () => {}): Promise<OciTestImage> {
  const { dir, buildSeconds } = await cachedBuild(ociCacheRoot(), ociRecipeHash(), async (work) => {
    log(`building the OCI test image (${suite()}) with mmdebstrap; this takes a few minutes once`);
    const rootfs = join(work, 'rootfs');
    await run(ociMmdebstrapArgv(rootfs), { timeoutMs: 40 * 60_000 });
    const meta = await packImage(work, rootfs, log);
    rmSync(rootfs, { recursive: true, force: true });
    writeFileSync(join(work, 'image.json'), `${JSON.stringify(meta, null, 2)}\n`);
  });
  if (buildSeconds > 0) log(`OCI test image built in ${buildSeconds.toFixed(0)} s`);
  return fromCache(dir, buildSeconds);
}

/**
 * ROOT/HASH, made by `build(work)` unless it is there and complete. Concurrent callers wait for one
 * build (a lock directory), and a half-built folder is never used (built aside, then renamed).
 * Earlier recipes' folders are removed. buildSeconds is 0 when the cache had it.
 */
export async function cachedBuild(root: string, hash: string, build: (work: string) => Promise<void>): Promise<{ dir: string; buildSeconds: number }> {
  const dir = join(root, hash);
  const ready = (): boolean => existsSync(join(dir, 'ready'));
  if (ready()) return { dir, buildSeconds: 0 };
  mkdirSync(root, { recursive: true });
  const lock = `${dir}.lock`;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another process builds it; a lock older than an hour is a dead build's.
      const held = statSync(lock, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 3600_000) rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 2000));
      if (ready()) return { dir, buildSeconds: 0 };
    }
  }
  const started = performance.now();
  const work = `${dir}.build`;
  try {
    if (ready()) return { dir, buildSeconds: 0 };
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    await build(work);
    writeFileSync(join(work, 'build-seconds'), `${((performance.now() - started) / 1000).toFixed(1)}\n`);
    writeFileSync(join(work, 'ready'), `${new Date().toISOString()}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(work, dir);
    removeOldRecipes(root, hash);
  } catch (e) {
    rmSync(work, { recursive: true, force: true });
    throw e;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  return { dir, buildSeconds: (performance.now() - started) / 1000 };
}

/** Earlier recipes' images are only disk space now; builds still running (they hold a lock) stay. */
function removeOldRecipes(root: string, keep: string): void {
  for (const name of readdirSync(root)) {
    if (name === keep || name.startsWith(`${keep}.`) || name.endsWith('.lock')) continue;
    if (name.endsWith('.build') && existsSync(join(root, `${name.slice(0, -'.build'.length)}.lock`))) continue;
    rmSync(join(root, name), { recursive: true, force: true });
  }
}

interface Blob {
  readonly digest: string;
  readonly size: number;
}

/** Writes bytes as a content-addressed blob. */
export function putBlob(blobs: string, data: string): Blob {
  const hex = createHash('sha256').update(data).digest('hex');
  writeFileSync(join(blobs, hex), data);
  return { digest: `sha256:${hex}`, size: Buffer.byteLength(data) };
}

/** Streams a tar command's output through gzip into a blob, hashing both sides on the way. */
export async function tarLayer(argv: readonly string[], blobs: string): Promise<{ blob: Blob; diffId: string; uncompressed: number }> {
  const partial = join(blobs, `.partial-${process.pid}`);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  const plain = createHash('sha256');
  const packed = createHash('sha256');
  let plainBytes = 0;
  let packedBytes = 0;
  try {
    await pipeline(
      child.stdout,
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          plain.update(chunk);
          plainBytes += chunk.length;
          yield chunk;
        }
      },
      createGzip({ level: 1 }),
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          packed.update(chunk);
          packedBytes += chunk.length;
          yield chunk;
        }
      },
      createWriteStream(partial),
    );
  } catch (e) {
    child.kill();
    rmSync(partial, { force: true });
    throw e;
  }
  const code = await exited;
  if (code !== 0) {
    rmSync(partial, { force: true });
    throw new Error(`${argv.slice(0, 2).join(' ')}… failed (exit ${code}):\n${stderr.trimEnd()}`);
  }
  const hex = packed.digest('hex');
  renameSync(partial, join(blobs, hex));
  return { blob: { digest: `sha256:${hex}`, size: packedBytes }, diffId: `sha256:${plain.digest('hex')}`, uncompressed: plainBytes };
}

/** Layer 2's files in a staging folder: an added file, a whiteout, an opaque directory. */
function stageLayer2(stage: string): void {
  const removed = LAYER2.removed.split('/');
  const whiteout = [...removed.slice(0, -1), `.wh.${removed.at(-1)}`].join('/');
  const files: [string, string][] = [
    [LAYER2.added, 'layer2\n'],
    [whiteout, ''],
    [`${LAYER2.opaqueDir}/.wh..wh..opq`, ''],
    [`${LAYER2.opaqueDir}/kept`, 'kept\n'],
  ];
  for (const [path, content] of files) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = join(stage, ...parts.slice(0, i));
      mkdirSync(d, { recursive: true });
      chmodSync(d, 0o755);
    }
    writeFileSync(join(stage, path), content);
    chmodSync(join(stage, path), 0o644);
  }
}

/** Turns the rootfs into an OCI image layout in work/layout and returns what the cache records. */
async function packImage(work: string, rootfs: string, log: (line: string) => void): Promise<Meta> {
  const kernels = readdirSync(join(rootfs, 'boot')).filter((f) => f.startsWith('vmlinuz-'));
  if (kernels.length !== 1) throw new Error(`expected one kernel in /boot, found ${kernels.join(', ') || 'none'}`);
  const kernelVersion = kernels[0]!.slice('vmlinuz-'.length);
  if (!existsSync(join(rootfs, 'boot', `initrd.img-${kernelVersion}`))) throw new Error(`no initrd for ${kernelVersion} in /boot`);
  if (!existsSync(join(rootfs, LAYER2.removed))) throw new Error(`/${LAYER2.removed} is not in the image, so layer 2 cannot white it out; pick another file`);
  // Device nodes mmdebstrap made for the build; container images leave /dev empty.
  for (const entry of readdirSync(join(rootfs, 'dev'))) rmSync(join(rootfs, 'dev', entry), { recursive: true, force: true });

  const layout = join(work, 'layout');
  const blobs = join(layout, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  log('packing layer 1 (the root filesystem)');
  // Top-level entries by name, so members read `etc/passwd` rather than `./etc/passwd`.
  const top = readdirSync(rootfs).sort();
  const layer1 = await tarLayer(['tar', '--create', '--file=-', '--xattrs', '--xattrs-include=*', ...TAR_PAX, '-C', rootfs, '--', ...top], blobs);
  const stage = join(work, 'layer2');
  stageLayer2(stage);
  const layer2 = await tarLayer(['tar', '--create', '--file=-', ...TAR_PAX, '--owner=0', '--group=0', `--mtime=${FIXED_MTIME}`, '-C', stage, '--', ...readdirSync(stage).sort()], blobs);
  rmSync(stage, { recursive: true, force: true });

  const created = new Date().toISOString();
  const layers = [layer1, layer2];
  const config = putBlob(blobs, JSON.stringify({
    created,
    architecture: 'amd64',
    os: 'linux',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/sbin/init'] },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: [
      { created, created_by: `mmdebstrap --variant=minbase --include=${OCI_IMAGE_PACKAGES.join(',')} ${suite()}` },
      { created, created_by: 'particle-installer test layer', comment: 'an added file, a whiteout and an opaque directory' },
    ],
  }));
  const manifest = putBlob(blobs, JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l.blob })),
  }));
  writeFileSync(join(layout, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      ...manifest,
      platform: { architecture: 'amd64', os: 'linux' },
      annotations: { 'org.opencontainers.image.ref.name': 'latest' },
    }],
  }));
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  return {
    manifestDigest: manifest.digest,
    layerDigests: layers.map((l) => l.blob.digest),
    diffIds: layers.map((l) => l.diffId),
    kernelVersion,
    compressedBytes: layers.reduce((n, l) => n + l.blob.size, 0),
    uncompressedBytes: layers.reduce((n, l) => n + l.uncompressed, 0),
  };
}

const blobPath = (img: OciTestImage, digest: string): string => join(img.layout, 'blobs', 'sha256', digest.replace(/^sha256:/, ''));

/** Builds `out` through `make(tmp)` unless it exists; concurrent makers each rename a whole file. */
async function once(out: string, make: (tmp: string) => Promise<void>): Promise<string> {
  if (existsSync(out)) return out;
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    await make(tmp);
    renameSync(tmp, out);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}

const archiveTar = (tmp: string, from: string, members: readonly string[]): Promise<string> =>
  run(['tar', '--create', `--file=${tmp}`, ...TAR_PAX, '--owner=0', '--group=0', `--mtime=${FIXED_MTIME}`, '-C', from, '--', ...members], { timeoutMs: 10 * 60_000 });

/** The layout as an oci-archive (a tar of oci-layout, index.json and blobs/), made on first use. */
export async function ensureOciArchive(img: OciTestImage): Promise<string> {
  return once(join(img.dir, 'image.oci-archive.tar'), async (tmp) => {
    await archiveTar(tmp, img.layout, ['oci-layout', 'index.json', 'blobs']);
  });
}

/**
 * The image in `docker save` form, made on first use: manifest.json, the config as <hex>.json,
 * uncompressed layers as <layer id>/layer.tar, and the legacy repositories file.
 */
export async function ensureDockerArchive(img: OciTestImage): Promise<string> {
  return once(join(img.dir, 'image.docker-archive.tar'), async (tmp) => {
    const stage = `${tmp}.d`;
    try {
      mkdirSync(stage, { recursive: true });
      const manifest = JSON.parse(readFileSync(blobPath(img, img.manifestDigest), 'utf8')) as { config: { digest: string } };
      const configName = `${manifest.config.digest.replace(/^sha256:/, '')}.json`;
      writeFileSync(join(stage, configName), readFileSync(blobPath(img, manifest.config.digest)));
      // Legacy layer ids are chain ids: each names its layer and everything below it.
      const ids: string[] = [];
      for (const [i, diffId] of img.diffIds.entries()) {
        const id = i === 0 ? diffId : `sha256:${createHash('sha256').update(`${ids[i - 1]} ${diffId}`).digest('hex')}`;
        ids.push(id);
        const hex = id.replace(/^sha256:/, '');
        mkdirSync(join(stage, hex));
        const hash = createHash('sha256');
        await pipeline(createReadStream(blobPath(img, img.layerDigests[i]!)), createGunzip(), async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            hash.update(chunk);
            yield chunk;
          }
        }, createWriteStream(join(stage, hex, 'layer.tar')));
        if (`sha256:${hash.digest('hex')}` !== diffId) throw new Error(`layer ${i + 1} does not match its diff_id ${diffId}`);
        writeFileSync(join(stage, hex, 'VERSION'), '1.0');
        const parent = i === 0 ? {} : { parent: ids[i - 1]!.replace(/^sha256:/, '') };
        writeFileSync(join(stage, hex, 'json'), JSON.stringify({ id: hex, ...parent, os: 'linux', architecture: 'amd64' }));
      }
      const [repo, tag] = DOCKER_ARCHIVE_TAG.split(':') as [string, string];
      const layers = ids.map((id) => `${id.replace(/^sha256:/, '')}/layer.tar`);
      writeFileSync(join(stage, 'manifest.json'), JSON.stringify([{ Config: configName, RepoTags: [DOCKER_ARCHIVE_TAG], Layers: layers }]));
      writeFileSync(join(stage, 'repositories'), JSON.stringify({ [repo]: { [tag]: ids.at(-1)!.replace(/^sha256:/, '') } }));
      await archiveTar(tmp, stage, readdirSync(stage).sort());
    } finally {
      rmSync(stage, { recursive: true, force: true });
    }
  });
}

/**
 * The image in a root container storage (overlay driver, as podman and skopeo in the guest use it),
 * made on first use as an ext4 file system image the guest mounts at /var/lib/containers/storage.
 * skopeo does this in 9 s here and 199 s inside a guest under TCG (docs/ci-time.md). Attach it with
 * `snapshot: true`: the guest's lock files and anything podman writes stay out of the cached file.
 * The storage keeps no absolute path: layers link to each other through overlay/l, relative.
 */
export async function ensureContainerStorage(img: OciTestImage): Promise<string> {
  return once(join(img.dir, 'image.containers-storage.ext4'), async (tmp) => {
    const root = `${tmp}.root`;
    const runroot = `${tmp}.run`;
    try {
      try {
        await run(['skopeo', 'copy', '--quiet', '--insecure-policy', `oci:${img.layout}:${img.ref}`, `containers-storage:[overlay@${root}+${runroot}]${STORED_REFERENCE}`], { timeoutMs: 10 * 60_000 });
      } finally {
        // The overlay driver bind-mounts its own folder onto itself (private propagation) and leaves it.
        for (const m of mountsUnder(root).reverse()) await run(['umount', m]);
      }
      const bytes = Number((await run(['du', '--summarize', '--bytes', root])).split('\t')[0]);
      // Room for ext4's own metadata and one inode per 4 KiB; the guest writes only lock files.
      await run(['truncate', '--size', String(Math.ceil((bytes * 1.3 + 128 * 1024 ** 2) / 1024 ** 2) * 1024 ** 2), tmp]);
      await run(['mke2fs', '-q', '-F', '-t', 'ext4', '-i', '4096', '-L', 'particle-cs', '-E', `root_owner=0:0`, '-d', root, tmp], { timeoutMs: 10 * 60_000 });
    } finally {
      rmSync(root, { recursive: true, force: true });
      rmSync(runroot, { recursive: true, force: true });
    }
  });
}
