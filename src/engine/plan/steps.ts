import { makeError, type AnswerFile, type Disk, type InstallerError, type PlanAction, type PlannedPartition, type PlanStep } from '../../shared';
import { formatBytes } from '../disks';
import { planStep } from '../../shared/locales/en.json';

/** Building blocks of plans: steps with their titles and weights, and the commands they run. */

export const WEIGHT = { preflight: 0.2, wipe: 1, partition: 2, settle: 1, encrypt: 6, format: 4, mount: 1, pull: 30, deploy: 40, configure: 4, bootloader: 12, finalize: 3, teardown: 1 } as const;
/** Each step's title in the log and the CLI's output: English's, from the same file the wizard shows
 * (and translators translate), so the two never disagree. */
export const TITLE: Readonly<Record<PlanStep['id'], string>> = planStep;
export const RESUMABLE = new Set<PlanStep['id']>(['preflight', 'mount', 'pull', 'configure', 'bootloader', 'finalize', 'teardown']);

export const run = (argv: string[], extra: Omit<Extract<PlanAction, { kind: 'run' }>, 'kind' | 'argv'> = {}): PlanAction => ({ kind: 'run', argv, ...extra });
export const mkdir = (path: string, mode = '0755'): PlanAction => ({ kind: 'mkdir', path, mode });
export const write = (path: string, content: string, mode = '0644'): PlanAction => ({ kind: 'write', path, content, mode });

export function step(id: PlanStep['id'], destructive: boolean, actions: PlanAction[], weight: number = WEIGHT[id as keyof typeof WEIGHT] ?? 1): PlanStep {
  return { id, title: TITLE[id], weight, destructive, resumable: RESUMABLE.has(id), actions };
}


export class PlanError extends Error {
  constructor(readonly error: InstallerError) {
    super(error.message);
  }
}
export const refuse = (field: string, message: string): never => {
  throw new PlanError(makeError('invalid-answer-file', `${field}: ${message}`, { detail: field }));
};


/**
 * Old partitions' signatures go first (a new partition may start where an old filesystem did). A
 * partition that is gone since planning (a retry after the table was rewritten) is no error: sfdisk's
 * --wipe-partitions clears whatever the new partitions start with anyway.
 */
export function wipePartition(path: string): PlanAction {
  return run(['wipefs', '--all', '--force', path], { okExitCodes: [0, 1] });
}

export function mkfs(fs: 'xfs' | 'ext4' | 'btrfs', dev: string, uuid: string): PlanAction {
  switch (fs) {
    case 'xfs':
      return run(['mkfs.xfs', '-f', '-L', 'root', '-m', `uuid=${uuid}`, dev], { timeoutSeconds: 600 });
    case 'ext4':
      return run(['mkfs.ext4', '-F', '-q', '-L', 'root', '-U', uuid, dev], { timeoutSeconds: 600 });
    case 'btrfs':
      return run(['mkfs.btrfs', '-f', '-L', 'root', '-U', uuid, dev], { timeoutSeconds: 600 });
  }
}

export function kargFlags(kargs: readonly string[]): string[] {
  return kargs.flatMap((k) => ['--karg', k]);
}

export function imgref(image: AnswerFile['image']): string {
  switch (image.transport) {
    case 'registry':
      return `docker://${image.reference}`;
    case 'oci':
      return `oci:${image.reference}`;
    case 'oci-archive':
      return `oci-archive:${image.reference}`;
    case 'docker-archive':
      return `docker-archive:${image.reference}`;
    case 'containers-storage':
      return `containers-storage:${image.reference}`;
  }
}

/**
 * Where podman keeps the images the install pulls. A registry image installed onto a mounted target
 * is pulled into storage on the target's own filesystem, not into the live system's (whose /var is
 * RAM on a live ISO): `--root` there, `--runroot` in the run directory, and bootc in the container
 * sees it as its /var/lib/containers. The directory is bind-mounted onto itself first, because
 * bootc's empty-root check passes only directories that hold nothing but mount points, and tells
 * a mount point by openat2's RESOLVE_NO_XDEV, which a bind mount trips (require_dir_contains_only_mounts,
 * install.rs:2230-2271 at 534c76ea474a356aa288f6767635e579ea2614d5; open_dir_noxdev, coreos/cap-std-ext
 * src/dirext.rs:536-554 at ffb736fa). It goes once bootc is done with the image, before the trim.
 */
export interface PodmanStorage {
  /** podman's global options: before the command. */
  readonly globals: readonly string[];
  /** The container's /var/lib/containers. */
  readonly volume: readonly string[];
  readonly setup: readonly PlanAction[];
  readonly cleanup: readonly PlanAction[];
  /** A path that exists once the storage does (teardown asks podman only then). */
  readonly existsWhen: string | null;
  /** Where podman stages what it pulls (its TMPDIR), when not this system's /var/tmp. */
  readonly tmpdir?: string;
}

export function podmanStorage(request: AnswerFile, verb: 'to-filesystem' | 'to-disk', target: string, runDir: string): PodmanStorage {
  if (verb !== 'to-filesystem' || (request.image.transport !== 'registry' && request.image.transport !== 'oci')) {
    return { globals: [], volume: ['-v', '/var/lib/containers:/var/lib/containers'], setup: [], cleanup: [], existsWhen: null };
  }
  const store = `${target}/.particle-containers`;
  return {
    globals: ['--root', `${store}/storage`, '--runroot', `${runDir}/podman-run`],
    volume: ['-v', `${store}:/var/lib/containers`],
    // podman stages each layer it pulls as a whole file in $TMPDIR, /var/tmp by default: memory on a
    // live system (a 1 GiB image grew the VM guest's memory in use by 1009 MiB). On the target instead.
    tmpdir: `${store}/tmp`,
    setup: [mkdir(store, '0700'), run(['mount', '--bind', store, store]), mkdir(`${store}/tmp`, '0700')],
    // podman's storage may leave its own mounts below (containers/storage mounts its overlay home
    // privately) and a container's cleanup may still hold them for a moment after `podman run --rm`
    // returns: on a loaded machine a plain umount once found the store busy. So everything below
    // goes too, and a busy store is tried again for up to a minute before it fails the step. The removal
    // is tried again too: with a busy loop on one core, rm once failed with "cannot remove
    // .../storage/overlay: Directory not empty" right after the unmount, a podman process of the
    // finished container (conmon starts one to clean up) still writing in the store.
    cleanup: [run(['umount', '--recursive', store], { retryForSeconds: 60 }), run(['rm', '-rf', '--one-file-system', store], { timeoutSeconds: 600, retryForSeconds: 60 })],
    existsWhen: `${store}/storage`,
  };
}

/**
 * How podman is told to run an image it pulled from an OCI layout: by its id. podman 5.4.2 stores a
 * layout without a `ref.name` annotation unnamed (seen in the VM level), and older libimage named it
 * `localhost/<path>` (containers/common libimage/pull.go at 1012a056674f293d1423e414a0434f48c86e5840):
 * a name is not to be relied on. The id is the image config's digest, which the engine reads from
 * the layout when it plans (install/plan options `layoutImageId`).
 */
export function podmanLayoutImage(imageId: string | undefined): string {
  if (imageId === undefined || !/^[0-9a-f]{64}$/.test(imageId)) {
    throw new PlanError(makeError('invalid-answer-file', 'image.reference: the OCI layout could not be read for its image id (its index.json, manifest and config); check the path, or install bootc on this system'));
  }
  return imageId;
}

/**
 * The network of bootc's container. From a file it needs none (`--network=none`); from a registry it
 * fetches (the fetch check, bound images) as this system does (`--network=host`). Neither sets up
 * podman's own container network, whose netavark needs nftables' `nft`, which a live system may not
 * carry (the live ISO did not: "netavark: nftables error: unable to execute nft").
 */
function podmanNetwork(request: AnswerFile): string[] {
  return [request.image.transport === 'registry' ? '--network=host' : '--network=none'];
}

export function deploySteps(
  container: string,
  request: AnswerFile,
  deployer: 'podman' | 'host',
  source: string,
  runDir: string,
  verb: 'to-filesystem' | 'to-disk',
  verbArgs: readonly string[],
  dest: string,
  destructive: boolean,
  storage: PodmanStorage = podmanStorage(request, verb, dest, runDir),
  layoutImageId?: string,
): PlanStep[] {
  const steps: PlanStep[] = [];
  const prep: PlanAction[] = [];
  const common: string[] = [];
  if (request.image.targetImage) common.push('--target-imgref', request.image.targetImage);
  if (request.image.enforceSignaturePolicy) common.push('--enforce-container-sigpolicy');
  // Images the system image binds (/usr/lib/bootc/bound-images.d) must by default already be in this
  // machine's container storage, else bootc fails after the wipe; `pull` has bootc fetch them
  // straight into the target's own storage (BoundImagesOpt, crates/lib/src/install.rs:311-324, used
  // at 1922-1945; bootc-dev/bootc at 534c76ea474a356aa288f6767635e579ea2614d5). Only a registry
  // install is online; an offline one keeps bootc's default.
  // Online, bootc also checks that the image the system will update from can be fetched, before it
  // writes anything (verify_target_fetch, install.rs:1523-1542, called at 1689-1691).
  if (request.image.transport === 'registry') common.push('--bound-images', 'pull', '--run-fetch-check');
  if (request.rootSshKeys.length > 0) {
    const keys = `${runDir}/root-ssh-keys`;
    prep.push({ kind: 'write', path: keys, content: `${request.rootSshKeys.join('\n')}\n`, mode: '0600' });
    common.push('--root-ssh-authorized-keys', keys);
  }
  let argv: string[];
  if (deployer === 'podman') {
    if (request.image.transport === 'oci-archive') {
      throw new PlanError(
        makeError('invalid-answer-file', 'image.transport: bootc is not installed on this system, and an OCI archive cannot be run as a container by an id known in advance; unpack it into an OCI layout (skopeo copy oci-archive:FILE oci:DIR) or install bootc'),
      );
    }
    const image = request.image.transport === 'oci' ? podmanLayoutImage(layoutImageId) : request.image.reference;
    // Only what the pull step brought: never a second fetch (into this system's memory) by podman run.
    const pullNever = request.image.transport === 'oci' ? ['--pull=never'] : [];
    if (request.image.transport === 'registry' || request.image.transport === 'oci') {
      steps.push(step('pull', false, [...storage.setup, run(['podman', ...storage.globals, 'pull', source], { timeoutSeconds: 6 * 3600, ...(storage.tmpdir ? { env: { TMPDIR: storage.tmpdir } } : {}) })]));
    }
    const mountDest = verb === 'to-filesystem' ? ['-v', `${dest}:/target`] : [];
    const keyMount = request.rootSshKeys.length > 0 ? ['-v', `${runDir}/root-ssh-keys:${runDir}/root-ssh-keys:ro`] : [];
    argv = [
      // Named, so teardown can stop it: killing the podman client does not stop the container.
      'podman', ...storage.globals, 'run', ...pullNever, ...podmanNetwork(request), '--rm', '--name', container, '--privileged', '--pid=host', '--security-opt', 'label=type:unconfined_t',
      '-v', '/dev:/dev', ...storage.volume, ...mountDest, ...keyMount,
      image, 'bootc', 'install', verb, ...verbArgs, ...common, verb === 'to-filesystem' ? '/target' : dest,
    ];
  } else {
    argv = ['bootc', 'install', verb, '--source-imgref', source, ...verbArgs, ...common, dest];
  }
  steps.push(step('deploy', destructive, [...prep, run(argv, { timeoutSeconds: 6 * 3600 })]));
  return steps;
}

/**
 * Where bootc put the deployment, asked of ostree on this system as bootc's own guide for to-filesystem
 * says (docs/src/bootc-install.md:166-170 and 263 at 534c76ea474a356aa288f6767635e579ea2614d5):
 * `ostree admin --sysroot=TARGET --print-current-dir` prints the sysroot's first deployment
 * (src/ostree/ot-main.c:628-654 at ostreedev/ostree 46204655), which is the one bootc just made.
 * What it prints is what `{deployment}` stands for in the configure step's actions.
 */
export function locateDeployment(target: string): PlanAction {
  return run(['ostree', 'admin', `--sysroot=${target}`, '--print-current-dir'], { timeoutSeconds: 120, resolves: 'deployment' });
}

/**
 * `bootc install finalize`, "the penultimate step of an installation using to-filesystem" (cli.rs:323-328
 * at 534c76ea474a356aa288f6767635e579ea2614d5): after the settings are written, bootc loads the
 * target's ostree sysroot and fails unless it still lists a deployment (install_finalize,
 * install.rs:2927-2960). Run the way the deploy step ran bootc: in the image's container, or here.
 */
export function bootcFinalize(container: string, request: AnswerFile, deployer: 'podman' | 'host', target: string, storage: PodmanStorage, layoutImageId?: string): PlanAction[] {
  if (deployer === 'host') return [run(['bootc', 'install', 'finalize', target], { timeoutSeconds: 600 })];
  return [
    run(
      ['podman', ...storage.globals, 'run', ...(request.image.transport === 'oci' ? ['--pull=never'] : []), ...podmanNetwork(request), '--rm', '--name', `${container}-finalize`, '--privileged', '--pid=host', '--security-opt', 'label=type:unconfined_t', '-v', `${target}:/target`, request.image.transport === 'oci' ? podmanLayoutImage(layoutImageId) : request.image.reference, 'bootc', 'install', 'finalize', '/target'],
      { timeoutSeconds: 600 },
    ),
    ...storage.cleanup,
  ];
}

/**
 * The plan's first step: what the engine checks when the install starts, before anything is written
 * (installer.ts runs the checks, install/preflight.ts holds them; the start is refused with the disk
 * untouched if one fails). The runner logs them as passed.
 */
export function preflightStep(request: AnswerFile, source: string, o: { hostBootc: boolean; firmware: string; arch: string }): PlanStep {
  const bootc = request.deployer !== 'oci-rootfs';
  const checks = ['Every program the plan runs is installed on this system.'];
  if (o.hostBootc) checks.push("bootc runs on this system, so ostree's prepare-root.conf and bootupd's bootupctl must be here too.");
  const reach = request.image.transport === 'registry' ? 'its registry answers for it (skopeo inspect)' : 'it can be read here';
  checks.push(`The image ${source}: ${reach}${bootc ? ', it is a bootc image (containers.bootc or ostree.bootable label)' : ''}, it is built for ${o.arch}, and twice its compressed size fits the root file system.`);
  if (request.image.enforceSignaturePolicy) checks.push("This system's signature policy requires a signature for the image, which podman pull then verifies.");
  if (bootc) {
    checks.push(
      request.image.transport === 'registry'
        ? "The image's bootc install config is read by bootc at install: a registry image is downloaded onto the prepared disk, not into this system's memory."
        : `The image's bootc install config (what bootc install print-configuration prints) is valid and allows this layout${request.layout.type === 'bootc' ? ` (block setup ${request.layout.blockSetup})` : ''}, and it installs a boot loader.`,
    );
  }
  checks.push(`The partitions and the boot loader start this computer with ${o.firmware === 'bios' ? 'BIOS' : 'UEFI'} firmware (checked when the plan was made).`);
  return step('preflight', false, [{ kind: 'preflight', checks }]);
}

/** Settings beyond users and locale that follow from the layout. */
export function extraConfig(request: AnswerFile, root = '{deployment}'): PlanAction[] {
  const out: PlanAction[] = [];
  if (request.layout.type === 'erase' && request.layout.swap === 'zram') {
    out.push({ kind: 'mkdir', path: `${root}/etc/systemd`, mode: '0755' });
    out.push({ kind: 'write', path: `${root}/etc/systemd/zram-generator.conf`, content: '[zram0]\nzram-size = min(ram / 2, 8192)\ncompression-algorithm = zstd\n', mode: '0644' });
  }
  return out;
}

export function summarize(request: AnswerFile, disk: Disk, parts: readonly PlannedPartition[], source: string): string[] {
  const name = [disk.vendor, disk.model].filter(Boolean).join(' ') || 'the disk';
  const lines = [`Erase ${name}, ${formatBytes(disk.size)} (${disk.name}): everything on it will be lost.`];
  for (const p of parts) {
    const what = p.content === 'luks2' ? `encrypted with LUKS2 (${request.layout.type === 'erase' ? request.layout.filesystem : ''} inside)` : p.content;
    lines.push(`Partition ${p.number} ${p.label}: ${p.size === null ? 'the rest of the disk' : formatBytes(p.size)}, ${what}${p.mountpoint ? `, mounted on ${p.mountpoint}` : ''}.`);
  }
  if (request.deployer === 'oci-rootfs') {
    const loader = request.bootloader === 'auto' ? 'GRUB, or systemd-boot where the image has no GRUB' : request.bootloader === 'grub' ? 'GRUB' : 'systemd-boot';
    lines.push(`Unpack the layers of ${source} onto the root filesystem, then install the boot loader from the image (${loader}).`);
    if (request.layout.type === 'erase' && request.layout.growOnFirstBoot) lines.push('On its first boot the system grows its root partition and filesystem to fill the disk.');
  } else {
    lines.push(`Install ${source}${request.image.targetImage ? `, updating from ${request.image.targetImage}` : ''}.`);
  }
  for (const u of request.users) lines.push(`User ${u.name}${u.fullName ? ` (${u.fullName})` : ''}${u.admin ? ', administrator' : ''}${u.autologin ? ', logs in automatically' : ''}.`);
  return lines;
}
