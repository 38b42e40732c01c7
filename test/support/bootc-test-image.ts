import { createHash } from 'node:crypto';
import { chmodSync, cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { mmdebstrapCommand } from '../vm/image';
import { run } from '../vm/proc';
import { cachedBuild, putBlob, TAR_PAX, tarLayer } from './oci-test-image';
import { cacheHome } from './cache-home';

/**
 * A bootc-shaped test image for installs through podman: Debian (trixie unless PARTICLE_VM_SUITE
 * says otherwise) made with mmdebstrap, holding node, Debian's ostree and the tools the bootc
 * contract fake calls, with the fake as /usr/bin/bootc. Inside a container of it, bootc is the only
 * thing played: the ostree sysroot and the deployment are made by the real ostree. It carries no
 * kernel and does not boot; it proves what the installer and podman do with a bootc image.
 * An OCI image layout with one gzip layer, cached by a hash of this recipe and the fake's sources.
 */

/** What the fake runs inside the container (to-filesystem and to-disk). */
export const BOOTC_IMAGE_PACKAGES = ['nodejs', 'ostree', 'e2fsprogs', 'xfsprogs', 'btrfs-progs', 'dosfstools', 'fdisk', 'util-linux', 'mount'] as const;

/** The registry name the live ISO QA builds its bootc ISO with (live-iso/build.sh --target-imgref). */
export const BOOTC_TARGET_IMGREF = 'quay.io/particle-test/bootc:1';

const REPO = resolve(import.meta.dirname, '../..');
const FAKES = join(REPO, 'test/fakes');
const suite = (): string => process.env.PARTICLE_VM_SUITE ?? 'trixie';
const RECIPE_VERSION = 1;

export interface BootcTestImage {
  readonly dir: string;
  /** The OCI image layout directory. */
  readonly layout: string;
  readonly manifestDigest: string;
  /** The config's digest: the id podman gives the image once pulled. */
  readonly configDigest: string;
  readonly compressedBytes: number;
  readonly uncompressedBytes: number;
  readonly buildSeconds: number;
}

export function bootcMmdebstrapArgv(target: string): string[] {
  return mmdebstrapCommand({
    variant: 'minbase',
    packages: BOOTC_IMAGE_PACKAGES,
    hooks: ['rm -f "$1/etc/hostname" "$1/etc/resolv.conf" "$1/etc/fstab"', 'rm -rf "$1/var/cache/apt/archives/"*.deb "$1/var/cache/apt/"*.bin "$1/var/lib/apt/lists/"*_Packages'],
    target,
  });
}

/** The fake's own sources are part of the recipe: a change to them is a new image. */
function fakeSources(): string[] {
  const files = ['bootc-container.mjs', ...readdirSync(join(FAKES, 'lib')).map((f) => `lib/${f}`)].sort();
  return files.map((f) => `${f}:${createHash('sha256').update(readFileSync(join(FAKES, f))).digest('hex')}`);
}

export function bootcRecipeHash(): string {
  return createHash('sha256').update(JSON.stringify([RECIPE_VERSION, TAR_PAX, bootcMmdebstrapArgv('TARGET'), fakeSources()])).digest('hex').slice(0, 16);
}

function cacheRoot(): string {
  return join(cacheHome(), 'particle-installer', 'bootc-image');
}

/** What makes the rootfs a bootc image to the installer and to bootc: the fake, bootupctl, ostree's prepare-root.conf. */
function addBootcParts(rootfs: string): void {
  const lib = join(rootfs, 'usr/lib/particle-fake-bootc');
  mkdirSync(lib, { recursive: true });
  cpSync(join(FAKES, 'bootc-container.mjs'), join(lib, 'bootc-container.mjs'));
  cpSync(join(FAKES, 'lib'), join(lib, 'lib'), { recursive: true });
  writeFileSync(join(rootfs, 'usr/bin/bootc'), '#!/bin/sh\nexec node /usr/lib/particle-fake-bootc/bootc-container.mjs "$@"\n');
  chmodSync(join(rootfs, 'usr/bin/bootc'), 0o755);
  // bootc looks for bootupctl on the image's PATH to pick grub (bootloader.rs); the fake plays bootupd itself.
  writeFileSync(join(rootfs, 'usr/bin/bootupctl'), '#!/bin/sh\nexit 0\n');
  chmodSync(join(rootfs, 'usr/bin/bootupctl'), 0o755);
  mkdirSync(join(rootfs, 'usr/lib/ostree'), { recursive: true });
  writeFileSync(join(rootfs, 'usr/lib/ostree/prepare-root.conf'), '[composefs]\nenabled = yes\n[sysroot]\nreadonly = true\n');
  // Device nodes mmdebstrap made for the build; container images leave /dev empty.
  for (const entry of readdirSync(join(rootfs, 'dev'))) rmSync(join(rootfs, 'dev', entry), { recursive: true, force: true });
}

/** Builds the image once per recipe (a few minutes), then returns it from the cache. */
export async function ensureBootcTestImage(log: (line: string) => void = () => {}): Promise<BootcTestImage> {
  const { dir, buildSeconds } = await cachedBuild(cacheRoot(), bootcRecipeHash(), async (work) => {
    log(`building the bootc test image (${suite()}) with mmdebstrap; this takes a few minutes once`);
    const rootfs = join(work, 'rootfs');
    await run(bootcMmdebstrapArgv(rootfs), { timeoutMs: 40 * 60_000 });
    addBootcParts(rootfs);
    const layout = join(work, 'layout');
    const blobs = join(layout, 'blobs', 'sha256');
    mkdirSync(blobs, { recursive: true });
    const layer = await tarLayer(['tar', '--create', '--file=-', ...TAR_PAX, '-C', rootfs, '--', ...readdirSync(rootfs).sort()], blobs);
    rmSync(rootfs, { recursive: true, force: true });
    const created = new Date().toISOString();
    const config = putBlob(blobs, JSON.stringify({
      created,
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Labels: { 'containers.bootc': '1', 'ostree.bootable': '1' } },
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [{ created, created_by: `mmdebstrap --variant=minbase --include=${BOOTC_IMAGE_PACKAGES.join(',')} ${suite()}, and the bootc contract fake` }],
    }));
    const manifest = putBlob(blobs, JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer.blob }],
    }));
    writeFileSync(join(layout, 'index.json'), JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, platform: { architecture: 'amd64', os: 'linux' } }],
    }));
    writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    const meta = { manifestDigest: manifest.digest, configDigest: config.digest, compressedBytes: layer.blob.size, uncompressedBytes: layer.uncompressed };
    writeFileSync(join(work, 'image.json'), `${JSON.stringify(meta, null, 2)}\n`);
  });
  if (buildSeconds > 0) log(`bootc test image built in ${buildSeconds.toFixed(0)} s`);
  const meta = JSON.parse(readFileSync(join(dir, 'image.json'), 'utf8')) as Omit<BootcTestImage, 'dir' | 'layout' | 'buildSeconds'>;
  return { ...meta, dir, layout: join(dir, 'layout'), buildSeconds };
}
