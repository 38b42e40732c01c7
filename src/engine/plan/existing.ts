import { makeError, type AnswerFile, type Disk, type PlanAction, type PlannedPartition, type PlanStep } from '../../shared';
import { TYPE, vfatVolumeId } from './layout';
import { mkfs, PlanError, run, step } from './steps';

/**
 * Installing into partitions that already exist: each mapped partition is formatted or kept, the
 * root (and /boot) mounted for bootc, /home mounted by a unit written into the deployment. bootc
 * installs its boot loader on the disk's EFI system partition (bootupd), next to what is there.
 *
 * A kept root is installed with bootc's `--replace=alongside`, which is not gentle: bootc deletes
 * everything in /boot and, when boot/efi is a directory that is not a mount point, mounts the first
 * EFI system partition of the root's disk there and deletes everything on it, other systems' boot
 * loaders included (clean_boot_directories, crates/lib/src/install.rs:2354-2379; mount_esp_part,
 * crates/lib/src/bootloader.rs:48-83; bootc-dev/bootc at 534c76ea474a356aa288f6767635e579ea2614d5).
 * Whether the kept root holds boot/efi cannot be known before it is mounted, so a kept root is only
 * accepted when the plan formats the EFI system partition and /boot anyway: nothing is then lost that
 * the person did not agree to erase.
 */

type Existing = Extract<AnswerFile['layout'], { type: 'existing' }>;

export interface ExistingParts {
  readonly partitions: PlannedPartition[];
  readonly steps: PlanStep[];
  readonly teardown: PlanAction[];
  readonly deployArgs: string[];
  readonly configure: PlanAction[];
}

const fail = (message: string): never => {
  throw new PlanError(makeError('invalid-answer-file', `layout.mounts: ${message}`, { detail: 'layout.mounts' }));
};

export function existingLayout(layout: Existing, disk: Disk, target: string, uuid: () => string, firmware: 'uefi' | 'bios' = 'uefi'): ExistingParts {
  const planned: PlannedPartition[] = [];
  const format: PlanAction[] = [];
  for (const m of layout.mounts) {
    const part = disk.partitions.find((p) => p.path === m.partition);
    if (!part) fail(`${m.partition} is not a partition of ${disk.path}`);
    const p = part!;
    if (p.mountpoints.length > 0) fail(`${p.path} is mounted on ${p.mountpoints.join(', ')}`);
    const esp = m.mountpoint === '/boot/efi';
    if (esp && p.typeGuid !== TYPE.esp) fail(`${p.path} is mapped to /boot/efi but is not an EFI system partition`);
    const fs = esp ? 'vfat' : (m.filesystem ?? (m.format ? 'ext4' : p.fsType));
    if (esp && m.filesystem && m.filesystem !== 'vfat') fail(`the EFI system partition ${p.path} must be vfat`);
    if (!esp && fs === 'vfat') fail(`${m.mountpoint} cannot be vfat`);
    if (!fs || !['vfat', 'ext4', 'xfs', 'btrfs'].includes(fs)) fail(`${p.path} has no filesystem this installer can use (${fs ?? 'none'}); format it`);
    const id = m.format ? uuid() : p.uuid;
    if (!id) fail(`${p.path} has no filesystem UUID; format it`);
    if (m.format) {
      format.push(
        fs === 'vfat' ? run(['mkfs.vfat', '-F', '32', '-n', 'ESP', '-i', vfatVolumeId(id!), p.path]) : mkfs(fs as 'xfs' | 'ext4' | 'btrfs', p.path, id!),
      );
    }
    planned.push({
      number: p.number ?? planned.length + 1,
      path: p.path,
      label: p.partLabel ?? m.mountpoint,
      typeGuid: p.typeGuid ?? '',
      size: p.size > 0 ? p.size : null,
      content: fs as PlannedPartition['content'],
      mountpoint: m.mountpoint,
      uuid: id!,
    });
  }
  if (!disk.partitions.some((p) => p.typeGuid === TYPE.esp)) fail(`${disk.path} has no EFI system partition, which bootc needs on the same disk`);
  // GRUB on a BIOS machine puts its core image in a BIOS boot partition when the disk is GPT; bootupd
  // installs it there (its BIOS component runs grub2-install on the disk). Without one it fails after
  // the new system was written, and the machine does not start.
  if (firmware === 'bios' && disk.partitionTable === 'gpt' && !disk.partitions.some((p) => p.typeGuid?.toLowerCase() === TYPE.biosBoot)) {
    fail(`${disk.path} is a GPT disk without a BIOS boot partition, which GRUB needs to start this computer in BIOS mode; create a 1 MiB partition of type "BIOS boot" first, or erase the disk`);
  }
  const root = planned.find((p) => p.mountpoint === '/')!;
  const boot = planned.find((p) => p.mountpoint === '/boot');
  const home = planned.find((p) => p.mountpoint === '/home');
  const rootFormatted = layout.mounts.find((m) => m.mountpoint === '/')!.format;

  const steps: PlanStep[] = [];
  if (format.length > 0) steps.push(step('format', true, format));
  const mounts: PlanAction[] = [{ kind: 'mkdir', path: target, mode: '0700' }, run(['mount', root.path, target])];
  if (boot) mounts.push({ kind: 'mkdir', path: `${target}/boot`, mode: '0755' }, run(['mount', boot.path, `${target}/boot`]));
  steps.push(step('mount', false, mounts));

  const deployArgs = ['--skip-finalize', `--root-mount-spec=UUID=${root.uuid}`];
  if (boot) deployArgs.push(`--boot-mount-spec=UUID=${boot.uuid}`);
  // bootc wants an empty root; a kept one gets the new system beside what it holds.
  if (!rootFormatted) {
    const espMapping = layout.mounts.find((m) => m.mountpoint === '/boot/efi');
    if (!espMapping?.format) {
      const esp = espMapping?.partition ?? disk.partitions.find((p) => p.typeGuid === TYPE.esp)?.path;
      fail(
        `keeping ${root.path} installs with bootc's --replace=alongside, which deletes everything on the EFI system partition ${esp} (other systems' boot loaders too) and in /boot; format ${root.path}, or map ${esp} to /boot/efi with format`,
      );
    }
    if (boot && !layout.mounts.find((m) => m.mountpoint === '/boot')!.format) {
      fail(`keeping ${root.path} installs with bootc's --replace=alongside, which deletes everything in /boot (${boot.path}); format ${boot.path} or ${root.path}`);
    }
    deployArgs.push('--replace=alongside');
  }

  const configure: PlanAction[] = [];
  if (home) {
    configure.push({ kind: 'mkdir', path: '{deployment}/etc/systemd/system/local-fs.target.wants', mode: '0755' });
    configure.push({
      kind: 'write',
      path: '{deployment}/etc/systemd/system/var-home.mount',
      content: `[Unit]\nDescription=Home directories\n\n[Mount]\nWhat=UUID=${home.uuid}\nWhere=/var/home\nType=${home.content}\n\n[Install]\nWantedBy=local-fs.target\n`,
      mode: '0644',
    });
    configure.push({ kind: 'symlink', path: '{deployment}/etc/systemd/system/local-fs.target.wants/var-home.mount', target: '../var-home.mount' });
  }
  return { partitions: planned, steps, teardown: [], deployArgs, configure };
}
