import { makeError, SAFE_GRAPHICS_ARG, type AnswerFile, type Disk, type InstallerError, type InstallPlan, type PlanAction, type PlannedPartition, type PlanStep, type PlanWarning } from '../../shared';
import { formatBytes } from '../disks';
import { ociArch } from '../system/image';
import { configureActions, keymapKernelArgs } from './configure';
import { existingLayout } from './existing';
import { eraseLayout, layoutBytes, partitionPath, sfdiskScript, vfatVolumeId } from './layout';
import { selectDisk } from './select';
import { bootloaderStep, debianKeyboard, initramfsKeymap, keymapWarnings, rootfsConfigure, rootfsDeploySteps, type RootfsLayout } from './rootfs';
import { bootcFinalize, deploySteps, locateDeployment, podmanStorage, preflightStep, extraConfig, imgref, kargFlags, mkfs, PlanError, refuse, run, step, summarize, wipePartition } from './steps';

/** Where an installed system keeps the log of its install (save-log, in the finalize step). */
export const INSTALL_LOG = '/var/log/particle-installer/install.log';

/**
 * A bootc system's /var is its stateroot's: bound onto the deployment (as configure does) while the
 * log is written, so it gets the SELinux label the booted system expects there.
 */
function keepBootcLog(): PlanAction[] {
  const dir = INSTALL_LOG.slice(0, INSTALL_LOG.lastIndexOf('/'));
  return [
    run(['mount', '--bind', '{stateroot-var}', '{deployment}/var']),
    { kind: 'save-log', path: `{deployment}${INSTALL_LOG}` },
    { kind: 'relabel', root: '{deployment}', paths: [`{deployment}${dir}`] },
    run(['umount', '{deployment}/var']),
  ];
}

/** How the erase layout's btrfs root is mounted, while installing and by the installed system. */
const BTRFS_ROOT_OPTIONS = 'subvol=@,compress=zstd:1';

/**
 * The planner: a pure function from (request, disks, system facts) to an InstallPlan. Every command
 * it will run is here with its exact argv, so the summary page and `plan --config` show exactly what
 * "Install" does. Filesystem and LUKS UUIDs are chosen here, so kernel arguments are known up front.
 */

export interface SystemFacts {
  readonly firmware: 'uefi' | 'bios';
  /** Node's naming: x64, arm64. */
  readonly arch: string;
  readonly tpm: boolean;
  readonly memoryBytes: number;
  /**
   * The running system's `console=` kernel arguments (a live ISO booted with a serial console). An
   * install whose request names no console of its own gets the same ones, as a person installing
   * over a serial line expects to log in there afterwards.
   */
  readonly consoleArgs?: readonly string[];
  /**
   * The running system's safe-graphics arguments (`nomodeset`: the live ISO's "safe graphics" entry).
   * An install whose request names none of its own gets the same ones: the machine whose screen
   * needed them to install will need them to start the installed system, until a working driver
   * is there (the summary says so, and how to drop them).
   */
  readonly safeGraphicsArgs?: readonly string[];
  /**
   * Whether bootc is installed on this system. Without it (the live ISO), an image in an OCI layout
   * is installed through podman from a container of the image itself; unknown counts as installed.
   */
  readonly bootcOnHost?: boolean;
}

/**
 * The request, with the running system's consoles added when it names none itself, and its
 * safe-graphics arguments when it names none of those.
 */
export function withInheritedArgs(request: AnswerFile, facts: SystemFacts): AnswerFile {
  const consoles = facts.consoleArgs ?? [];
  const graphics = facts.safeGraphicsArgs ?? [];
  const add = [
    ...(request.kernelArgs.some((a) => a.startsWith('console=')) ? [] : consoles),
    ...(request.kernelArgs.some((a) => SAFE_GRAPHICS_ARG.test(a)) ? [] : graphics),
  ];
  return add.length === 0 ? request : { ...request, kernelArgs: [...request.kernelArgs, ...add] };
}

export interface PlanOptions {
  readonly id: string;
  readonly createdAt: string;
  /** Private directory for this install's mounts and files, e.g. /run/particle-installer/<id>. */
  readonly runDir: string;
  readonly uuid: () => string;
  /** podman: `podman run … IMAGE bootc install …`; host: a bootc on the live system. */
  readonly deployer?: 'podman' | 'host';
  readonly adminGroup?: 'wheel' | 'sudo';
  /**
   * For an OCI layout installed through podman: the id podman gives the pulled image (its config's
   * digest, hex), read from the layout by the engine (system/image.ts layoutImageId).
   */
  readonly layoutImageId?: string;
}

export type PlanResult = { ok: true; plan: InstallPlan } | { ok: false; error: InstallerError };

export function planInstall(asked: AnswerFile, disks: readonly Disk[], facts: SystemFacts, o: PlanOptions): PlanResult {
  const request = withInheritedArgs(asked, facts);
  const chosen = selectDisk(request.disk, disks);
  if ('error' in chosen) return { ok: false, error: chosen.error };
  const disk = chosen.disk;
  try {
    return { ok: true, plan: build(request, disk, facts, o) };
  } catch (e) {
    return { ok: false, error: e instanceof PlanError ? e.error : makeError('internal', `Planning failed: ${(e as Error).message}`) };
  }
}

function build(request: AnswerFile, disk: Disk, facts: SystemFacts, o: PlanOptions): InstallPlan {
  const layout = request.layout;
  const target = `${o.runDir}/target`;
  const mapper = `particle-${o.id.slice(0, 8)}`;
  const rootfs = request.deployer === 'oci-rootfs';
  const local = request.image.transport === 'oci' || request.image.transport === 'oci-archive';
  const deployer = o.deployer ?? (local && facts.bootcOnHost !== false ? 'host' : 'podman');
  if (rootfs && layout.type !== 'erase') refuse('layout.type', `the oci-rootfs deployer installs with the erase layout only; "${layout.type}" is for bootc`);
  if (!rootfs) {
    if (request.image.transport === 'docker-archive') refuse('image.transport', 'bootc cannot install from a docker-archive; use the oci-rootfs deployer, or an OCI archive');
    if (request.bootloader !== 'auto') refuse('bootloader', 'bootc installs its own boot loader; the choice is for the oci-rootfs deployer');
    if (layout.type === 'erase' && layout.growOnFirstBoot) refuse('layout.growOnFirstBoot', 'growing the root on first boot is done by the oci-rootfs deployer; bootc images bring their own');
    // bootc fetches its source with the signature check relaxed whatever the flag says
    // (crates/lib/src/install.rs:1058-1063 at 534c76ea474a356aa288f6767635e579ea2614d5); the flag
    // only makes later updates verified. A registry image is checked by `podman pull` against the
    // policy; a local file has no signature to check, so "verified" could not be true.
    if (request.image.enforceSignaturePolicy && request.image.transport !== 'registry') {
      refuse('image.enforceSignaturePolicy', 'a local image file carries no signature to check, and bootc does not check the image it installs from; install from the registry, or turn the check off');
    }
  }
  let rootfsLayout: RootfsLayout | null = null;
  const sourceImgref = imgref(request.image);
  const steps: PlanStep[] = [];
  let partitions: PlannedPartition[] = [];
  const kargs: string[] = [];
  const extra: PlanAction[] = [];
  const container = `particle-deploy-${o.id.slice(0, 8)}`;
  const teardown: PlanAction[] = [];
  const storage = podmanStorage(request, layout.type === 'erase' || layout.type === 'existing' ? 'to-filesystem' : 'to-disk', target, o.runDir);
  if (deployer === 'podman' && !rootfs) {
    // With the storage on the target, podman knows the containers only through the same --root.
    teardown.push(run(['podman', ...storage.globals, 'rm', '--force', '--ignore', container, `${container}-finalize`], { timeoutSeconds: 120, ...(storage.existsWhen ? { when: [{ path: storage.existsWhen, test: 'exists' as const }] } : {}) }));
  }
  teardown.push(run(['umount', '--recursive', target], { timeoutSeconds: 120 }));

  if (layout.type === 'erase') {
    if (layout.encryption.type === 'luks2-tpm2' && !facts.tpm) refuse('layout.encryption', 'TPM2 unlocking needs a TPM, and this machine has none');
    if (layout.growOnFirstBoot && layout.encryption.type !== 'none') refuse('layout.growOnFirstBoot', 'an encrypted root is not grown on first boot; turn encryption or growing off');
    if (layout.growOnFirstBoot && layout.rootSize) refuse('layout.growOnFirstBoot', 'a root of a fixed size (rootSize) is not grown; leave one of them out');
    if (layout.growOnFirstBoot && layout.swap === 'partition') refuse('layout.growOnFirstBoot', 'the root must be the last partition to grow; choose zram swap');
    if (layout.encryption.type !== 'none' && layout.swap === 'partition') refuse('layout.swap', 'a swap partition would hold memory unencrypted next to an encrypted root; choose zram');
    partitions = eraseLayout(layout, disk, facts, o.uuid);
    if (layoutBytes(partitions) > disk.size) {
      refuse('layout', `the layout needs ${formatBytes(layoutBytes(partitions))} but ${disk.path} has ${formatBytes(disk.size)}`);
    }
    const root = partitions.find((p) => p.mountpoint === '/')!;
    const boot = partitions.find((p) => p.mountpoint === '/boot');
    const esp = partitions.find((p) => p.content === 'vfat')!;
    const swap = partitions.find((p) => p.content === 'swap');
    const encrypted = layout.encryption.type !== 'none';
    // The root filesystem lives on the disk or, encrypted, inside LUKS; its UUID is a second one.
    const rootFsUuid = encrypted ? o.uuid() : root.uuid;
    const rootDev = encrypted ? `/dev/mapper/${mapper}` : root.path;

    steps.push(step('wipe', true, [...disk.partitions.map((p) => wipePartition(p.path)), run(['wipefs', '--all', '--force', disk.path])]));
    steps.push(step('partition', true, [run(['sfdisk', '--wipe', 'always', '--wipe-partitions', 'always', disk.path], { stdin: sfdiskScript(partitions) })]));
    steps.push(
      step('settle', false, [
        run(['udevadm', 'settle', '--timeout=30'], { okExitCodes: [0, 1], timeoutSeconds: 45 }),
        // Where the kernel could not re-read the table (a loop device without partition scanning, or
        // stale partitions left on it), tell it the new table from scratch: delete every partition it
        // knows of, then add the new ones.
        run(['partx', '--delete', disk.path], { okExitCodes: [0, 1] }),
        run(['partx', '--add', disk.path], { okExitCodes: [0, 1] }),
        run(['udevadm', 'settle', '--timeout=30'], { okExitCodes: [0, 1], timeoutSeconds: 45 }),
        // The nodes appear asynchronously (udev or devtmpfs): wait for every one rather than race.
        run(['lsblk', '--nodeps', '--noheadings', '--output', 'PATH', ...partitions.map((p) => p.path)], { retryForSeconds: 30 }),
      ]),
    );
    if (encrypted) {
      const enc: PlanAction[] = [
        run(['cryptsetup', 'luksFormat', '--batch-mode', '--type', 'luks2', '--uuid', root.uuid, '--label', 'root', '--key-file', '-', root.path], {
          stdinSecret: 'luks-passphrase',
          timeoutSeconds: 300,
        }),
        run(['cryptsetup', 'open', '--key-file', '-', root.path, mapper], { stdinSecret: 'luks-passphrase', timeoutSeconds: 300 }),
      ];
      if (layout.encryption.type === 'luks2-tpm2') {
        enc.push(run(['systemd-cryptenroll', '--tpm2-device=auto', '--tpm2-pcrs=7', '--unlock-key-file=/dev/stdin', root.path], { stdinSecret: 'luks-passphrase' }));
        if (layout.encryption.recoveryKey !== undefined) {
          // The recovery key becomes one more passphrase slot. systemd-cryptenroll --password reads
          // the existing passphrase from $PASSWORD and the new one from $NEWPASSWORD, so neither
          // secret is ever in argv or written to a file (a key file in the run directory, as
          // `cryptsetup luksAddKey` would need for the second secret, must be created, guarded and
          // removed again even when the step is cut short). A root process's environment is
          // readable by root only, like its stdin; the runner redacts both values from the log.
          enc.push(run(['systemd-cryptenroll', '--password', root.path], { secretEnv: { PASSWORD: 'luks-passphrase', NEWPASSWORD: 'luks-recovery-key' }, timeoutSeconds: 300 }));
        }
      }
      steps.push(step('encrypt', true, enc));
      teardown.push(run(['cryptsetup', 'close', mapper]));
      kargs.push(`rd.luks.uuid=${root.uuid}`);
      if (layout.encryption.type === 'luks2-tpm2') kargs.push(`rd.luks.options=${root.uuid}=tpm2-device=auto`);
    }
    // The console keymap, for bootc through `--karg` like rd.luks.uuid: bootc takes each `--karg`
    // (InstallConfigOpts, crates/lib/src/install.rs:342-346) and appends the command line's after the
    // root's, the install config's and the image's kargs.d (install.rs:1138-1173; to-disk's own
    // layout: crates/lib/src/install/baseline.rs:480-485), so it reaches the deployment's boot entry
    // and overrides an image default; bootc-dev/bootc at 534c76ea474a356aa288f6767635e579ea2614d5.
    // A composefs image booted as a UKI refuses every `--karg` (require_no_kargs_for_uki,
    // install.rs:700, called at crates/lib/src/bootc_composefs/boot.rs:1254), as it does rd.luks.uuid.
    // For oci-rootfs the same arguments go into GRUB_CMDLINE_LINUX and /etc/kernel/cmdline.
    kargs.push(...keymapKernelArgs(request.keyboard, encrypted, request.kernelArgs));
    const fmt: PlanAction[] = [run(['mkfs.vfat', '-F', '32', '-n', 'ESP', '-i', vfatVolumeId(esp.uuid), esp.path])];
    if (boot) fmt.push(run(['mkfs.ext4', '-F', '-q', '-L', 'boot', '-U', boot.uuid, boot.path]));
    if (swap) fmt.push(run(['mkswap', '--label', 'swap', '--uuid', swap.uuid, swap.path]));
    fmt.push(mkfs(layout.filesystem, rootDev, rootFsUuid));
    if (layout.filesystem === 'btrfs') {
      const top = `${o.runDir}/btrfs`;
      fmt.push({ kind: 'mkdir', path: top, mode: '0700' }, run(['mount', rootDev, top]));
      fmt.push(run(['btrfs', 'subvolume', 'create', `${top}/@`]), run(['btrfs', 'subvolume', 'create', `${top}/@home`]), run(['umount', top]));
      teardown.unshift(run(['umount', top]));
    }
    steps.push(step('format', true, fmt));

    const mounts: PlanAction[] = [{ kind: 'mkdir', path: target, mode: '0700' }];
    mounts.push(run(['mount', ...(layout.filesystem === 'btrfs' ? ['-o', BTRFS_ROOT_OPTIONS] : []), rootDev, target]));
    if (boot) mounts.push({ kind: 'mkdir', path: `${target}/boot`, mode: '0755' }, run(['mount', boot.path, `${target}/boot`]));
    // A plain root gets its homes in @home from the start, as the fstab it is given mounts them.
    if (rootfs && layout.filesystem === 'btrfs') mounts.push({ kind: 'mkdir', path: `${target}/home`, mode: '0755' }, run(['mount', '-o', 'subvol=@home,compress=zstd:1', rootDev, `${target}/home`]));
    steps.push(step('mount', false, mounts));

    if (rootfs) {
      rootfsLayout = { target, disk: disk.path, arch: facts.arch, firmware: facts.firmware, layout, partitions, rootFsUuid, mapper: encrypted ? mapper : null, kernelArgs: kargs };
      steps.push(...rootfsDeploySteps(request, target));
    } else {

      const deployArgs = ['--skip-finalize', `--root-mount-spec=UUID=${rootFsUuid}`];
      if (boot) deployArgs.push(`--boot-mount-spec=UUID=${boot.uuid}`);
      // Given --root-mount-spec, bootc derives `root=<spec>` and `rw` and nothing else: the
      // `rootflags=subvol=` it reads from a btrfs mount is only for a root without a spec
      // (crates/lib/src/install.rs:2594-2617, 2660-2705, bootc-dev/bootc at
      // 534c76ea474a356aa288f6767635e579ea2614d5). Without it the initramfs mounts btrfs's top level,
      // where /ostree is not (it is in @), and the system does not start. The compression the root
      // was written with stays on too.
      const rootKargs = layout.filesystem === 'btrfs' ? [`rootflags=${BTRFS_ROOT_OPTIONS}`] : [];
      steps.push(...deploySteps(container, request, deployer, sourceImgref, o.runDir, 'to-filesystem', [...deployArgs, ...kargFlags([...rootKargs, ...kargs, ...request.kernelArgs])], target, false, storage, o.layoutImageId));
    }
  } else if (layout.type === 'existing') {
    const e = existingLayout(layout, disk, target, o.uuid, facts.firmware);
    partitions = e.partitions;
    steps.push(...e.steps);
    teardown.push(...e.teardown);
    // Existing partitions are never LUKS here (existing.ts accepts vfat, ext4, xfs and btrfs only).
    kargs.push(...keymapKernelArgs(request.keyboard, false, request.kernelArgs));
    steps.push(...deploySteps(container, request, deployer, sourceImgref, o.runDir, 'to-filesystem', [...e.deployArgs, ...kargFlags([...kargs, ...request.kernelArgs])], target, e.steps.every((s) => !s.destructive), storage, o.layoutImageId));
    extra.push(...e.configure);
  } else {
    // bootc's own layout: it partitions and formats; afterwards its root (partition 3 on x86, after
    // BIOS boot and the ESP) is mounted again so the settings can be written into the deployment.
    if (layout.blockSetup === 'tpm2-luks') refuse('layout.blockSetup', 'tpm2-luks leaves no passphrase to unlock the root for configuring it; choose the erase layout with luks2-tpm2');
    const args = ['--wipe', '--filesystem', layout.filesystem, '--block-setup', layout.blockSetup];
    if (layout.rootSize) args.push('--root-size', layout.rootSize);
    steps.push(step('wipe', true, [...disk.partitions.map((p) => wipePartition(p.path)), run(['wipefs', '--all', '--force', disk.path])]));
    // tpm2-luks is refused above, so bootc's own layout has no passphrase prompt to serve.
    kargs.push(...keymapKernelArgs(request.keyboard, false, request.kernelArgs));
    steps.push(...deploySteps(container, request, deployer, sourceImgref, o.runDir, 'to-disk', [...args, ...kargFlags([...kargs, ...request.kernelArgs])], disk.path, true, storage, o.layoutImageId));
    const rootPart = partitionPath(disk.path, facts.arch === 'x64' ? 3 : 2);
    steps.push(
      step('mount', false, [
        run(['partx', '--update', disk.path], { okExitCodes: [0, 1] }),
        { kind: 'mkdir', path: target, mode: '0700' },
        // bootc's to-disk makes no btrfs subvolumes: its root is the filesystem's top level
        // (crates/lib/src/install/baseline.rs:128-168 and 487-488 at the commit above).
        run(['mount', rootPart, target]),
      ]),
    );
  }

  const warnings: PlanWarning[] = rootfsLayout && rootfsLayout.mapper ? keymapWarnings(request, rootfsLayout.target) : [];
  // Without --target-imgref bootc records the source's name with the registry transport, whatever
  // the source was (install.rs:1631-1644; ostree-ext container/mod.rs:308-327, at the commit above):
  // a path on this machine, which `bootc upgrade` cannot pull.
  if (!rootfs && request.image.transport !== 'registry' && !request.image.targetImage) {
    warnings.push({
      id: 'no-update-source',
      message: `The installed system will not find updates: it is installed from ${request.image.reference}, and no registry image to update from was given (image.targetImage). bootc would record ostree-unverified-registry:${deployer === 'podman' && request.image.transport === 'oci' ? 'the image id' : request.image.reference} as the image to update from.`,
    });
  }
  // to-disk has no target filesystem until bootc has made it, so podman keeps the image in this
  // system's own storage: on a live system, memory (podmanStorage in steps.ts).
  if (!rootfs && deployer === 'podman' && layout.type === 'bootc' && (request.image.transport === 'registry' || request.image.transport === 'oci')) {
    warnings.push({
      id: 'image-in-memory',
      message: `bootc lays out the disk itself here, so ${request.image.reference} is first copied into this system's container storage (/var/lib/containers), which is memory on a live system: it needs about the image's size in free memory. With the erase layout it goes onto the disk instead.`,
    });
  }
  if (rootfsLayout) {
    const T = rootfsLayout.target;
    steps.push(
      step('configure', false, [
        ...rootfsConfigure(request, rootfsLayout),
        ...configureActions(request, { adminGroup: o.adminGroup ?? 'wheel', root: T }),
        debianKeyboard(request, T),
        ...initramfsKeymap(request, T),
        ...extraConfig(request, T),
      ]),
    );
    steps.push(bootloaderStep(request, rootfsLayout));
  } else {
    steps.push(step('configure', false, [locateDeployment(target), ...configureActions(request, { adminGroup: o.adminGroup ?? 'wheel', more: [...extraConfig(request), ...extra] })]));
  }
  steps.push(
    step('finalize', false, [
      // The install's log goes onto the installed system (how it was installed, and the mark of an
      // install that got this far). A plain root unpacked from layers has no SELinux labels at all
      // (and the boot loader step wrote more), so an SELinux image gets the whole root filesystem
      // labelled, log included; setfiles stays on it and does not walk the ESP, /proc or /sys.
      ...(rootfsLayout
        ? [{ kind: 'save-log' as const, path: `${rootfsLayout.target}${INSTALL_LOG}` }, { kind: 'relabel' as const, root: rootfsLayout.target, paths: [rootfsLayout.target] }]
        : [...bootcFinalize(container, request, deployer, target, storage, o.layoutImageId), ...keepBootcLog()]),
      run(['fstrim', '--verbose', target], { okExitCodes: [0, 1], timeoutSeconds: 1800 }),
      run(['sync'], { timeoutSeconds: 600 }),
      run(['mount', '-o', 'remount,ro', target]),
    ]),
  );
  steps.push(step('teardown', false, teardown));

  const hostBootc = steps.some((s) => s.actions.some((a) => a.kind === 'run' && a.argv[0] === 'bootc' && a.argv.includes('--source-imgref')));
  steps.unshift(preflightStep(request, sourceImgref, { hostBootc, firmware: facts.firmware, arch: ociArch(facts.arch) }));

  return {
    id: o.id,
    createdAt: o.createdAt,
    disk: { path: disk.path, serial: disk.serial, wwn: disk.wwn, size: disk.size, byIdPath: disk.byIdPath, diskSeq: disk.diskSeq, ptUuid: disk.ptUuid },
    firmware: facts.firmware,
    arch: facts.arch,
    layout: layout.type,
    partitions,
    kernelArgs: [...kargs, ...request.kernelArgs],
    sourceImgref,
    targetImgref: request.image.targetImage ?? null,
    steps,
    pointOfNoReturn: steps.findIndex((s) => s.destructive),
    summary: [...summarize(request, disk, partitions, sourceImgref), ...[...new Set(warnings.map((w) => w.message))].map((m) => `Warning: ${m}`)],
    warnings,
  };
}

