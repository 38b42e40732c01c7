import { PassphraseSchema, type AnswerFileInput } from '../../../shared/answer-file';
import { RECOVERY_KEY } from '../../../shared/system';
import type { Disk, Partition } from '../../../shared/disk';

/**
 * The Disk page's storage choices as plain data, and the rules they must meet. The rules mirror what
 * the shared answer-file schema and the engine's planner refuse, so a person sees the problem next to
 * the control instead of as a planning error on the summary.
 */

export type StorageMode = 'erase' | 'existing';
export type Filesystem = 'xfs' | 'ext4' | 'btrfs';
export type SwapChoice = 'zram' | 'partition' | 'none';
export const FILESYSTEMS: readonly Filesystem[] = ['xfs', 'ext4', 'btrfs'];
export const SWAP_CHOICES: readonly SwapChoice[] = ['zram', 'partition', 'none'];
export const MOUNTPOINTS = ['/', '/boot', '/boot/efi', '/home'] as const;
export type Mountpoint = (typeof MOUNTPOINTS)[number];
export type MountFilesystem = Filesystem | 'vfat';

/** What one existing partition is used for; a partition without a mountpoint is left alone. */
export interface MountChoice {
  readonly mountpoint: Mountpoint | null;
  /** Make a new filesystem (erasing it) or keep what is on it. */
  readonly format: boolean;
  /** The filesystem to make when formatting. */
  readonly filesystem: MountFilesystem;
}

export interface StorageFields {
  readonly mode: StorageMode;
  readonly filesystem: Filesystem;
  readonly encrypt: boolean;
  /** Unlock with the TPM2 (only honoured when the engine reports one). */
  readonly tpm2: boolean;
  readonly passphrase: string;
  readonly confirm: string;
  readonly swap: SwapChoice;
  /** By partition path; entries for partitions of other disks are ignored. */
  readonly mounts: Readonly<Record<string, MountChoice>>;
}

export interface RecoveryKeyState {
  /** The key from generateRecoveryKey, or null until it arrived. */
  readonly key: string | null;
  /** Which group (0-7) the person must type back. */
  readonly group: number;
  readonly typed: string;
}

/** The shared schema's bounds, in Unicode code points: zod's measure, so the engine's too. */
export const MIN_PASSPHRASE = PassphraseSchema.minLength ?? 0;
export const MAX_PASSPHRASE = PassphraseSchema.maxLength ?? Number.MAX_SAFE_INTEGER;
const ESP_TYPE = 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b';
const BIOS_BOOT = '21686148-6449-6e6f-744e-656564454649';
/** Filesystems the engine can install into without formatting. */
const KEEPABLE = new Set(['xfs', 'ext4', 'btrfs', 'vfat']);

export const DEFAULT_FIELDS: StorageFields = {
  mode: 'erase',
  filesystem: 'xfs',
  encrypt: false,
  tpm2: false,
  passphrase: '',
  confirm: '',
  swap: 'zram',
  mounts: {},
};

/** A translation key under storage.errors plus what it interpolates. */
export interface StorageError {
  readonly key: string;
  readonly params?: Readonly<Record<string, string | number>>;
}

export interface StorageErrors {
  /** Problems with the mapping as a whole (no root, no ESP on the disk). */
  readonly mapping: readonly StorageError[];
  /** Per partition path. */
  readonly partitions: Readonly<Record<string, readonly StorageError[]>>;
  readonly passphrase: readonly StorageError[];
  readonly confirm: readonly StorageError[];
  readonly swap: readonly StorageError[];
  readonly recovery: readonly StorageError[];
}

/**
 * The shared schema's verdict on a non-empty passphrase, as translation keys: the wizard asks the
 * schema the engine checks with, so the two cannot disagree (on length or on characters).
 */
function passphraseErrors(value: string): StorageError[] {
  const r = PassphraseSchema.safeParse(value);
  if (r.success) return [];
  const codes = new Set(r.error.issues.map((i) => i.code));
  const out: StorageError[] = [];
  if (codes.has('too_small')) out.push({ key: 'passphraseShort', params: { min: MIN_PASSPHRASE } });
  if (codes.has('too_big')) out.push({ key: 'passphraseLong', params: { max: MAX_PASSPHRASE } });
  // The schema's only other rule: no control characters or unpaired surrogates.
  if ([...codes].some((c) => c !== 'too_small' && c !== 'too_big')) out.push({ key: 'passphraseUntypable' });
  return out;
}

export function isEsp(p: Pick<Partition, 'typeGuid' | 'typeName'>): boolean {
  return p.typeGuid?.toLowerCase() === ESP_TYPE || /^efi system/i.test(p.typeName ?? '');
}

/** The choice for a partition, with what is sensible when the person has not touched it yet. */
export function mountFor(fields: StorageFields, p: Partition): MountChoice {
  return fields.mounts[p.path] ?? { mountpoint: null, format: false, filesystem: isEsp(p) ? 'vfat' : 'xfs' };
}

/** The groups of a recovery key ("cbdefghi-…" → 8 groups), or [] for anything else. */
export function recoveryGroups(key: string | null): string[] {
  return key !== null && RECOVERY_KEY.test(key) ? key.split('-') : [];
}

/** Whether the typed text is the asked-for group; spaces and case do not matter. */
export function recoveryConfirmed(r: RecoveryKeyState): boolean {
  const groups = recoveryGroups(r.key);
  const want = groups[r.group];
  return want !== undefined && r.typed.replace(/\s+/g, '').toLowerCase() === want;
}

/** Whether the request will use TPM2 unlocking: asked for, encrypting, and the machine has one. */
export function usesTpm2(fields: StorageFields, disk: Disk | null, tpm2Available: boolean): boolean {
  return effectiveMode(fields, disk) === 'erase' && fields.encrypt && fields.tpm2 && tpm2Available;
}

export function canUseExisting(disk: Disk | null): boolean {
  return disk !== null && disk.partitions.length > 0;
}

/** Existing partitions are only offered for a disk that has some; otherwise the choice is to erase. */
export function effectiveMode(fields: StorageFields, disk: Disk | null): StorageMode {
  return fields.mode === 'existing' && canUseExisting(disk) ? 'existing' : 'erase';
}

/** `firmware`: how this computer starts, when the engine said (a GPT disk then needs a BIOS boot partition for BIOS). */
export function validateStorage(fields: StorageFields, disk: Disk | null, tpm2Available: boolean, recovery: RecoveryKeyState, firmware: 'uefi' | 'bios' | null = null): StorageErrors {
  const mapping: StorageError[] = [];
  const partitions: Record<string, StorageError[]> = {};
  const passphrase: StorageError[] = [];
  const confirm: StorageError[] = [];
  const swap: StorageError[] = [];
  const rec: StorageError[] = [];

  if (effectiveMode(fields, disk) === 'existing') {
    const used = disk!.partitions.map((p) => ({ p, m: mountFor(fields, p) })).filter((x) => x.m.mountpoint !== null);
    if (!used.some((x) => x.m.mountpoint === '/')) mapping.push({ key: 'rootRequired' });
    if (!disk!.partitions.some(isEsp)) mapping.push({ key: 'noEsp' });
    // GRUB needs a BIOS boot partition on a GPT disk to start in BIOS mode (the engine refuses it too, plan/existing.ts).
    if (firmware === 'bios' && disk!.partitionTable === 'gpt' && !disk!.partitions.some((p) => p.typeGuid?.toLowerCase() === BIOS_BOOT)) mapping.push({ key: 'noBiosBoot' });
    for (const { p, m } of used) {
      const errs: StorageError[] = [];
      const mp = m.mountpoint!;
      if (used.filter((x) => x.m.mountpoint === mp).length > 1) errs.push({ key: 'duplicateMountpoint', params: { mountpoint: mp } });
      if (p.mountpoints.length > 0) errs.push({ key: 'inUse', params: { mountpoints: p.mountpoints.join(', ') } });
      const fs = m.format ? m.filesystem : (p.fsType ?? '');
      if (mp === '/boot/efi') {
        if (!isEsp(p)) errs.push({ key: 'notEsp' });
        if (fs !== 'vfat') errs.push({ key: 'espVfat' });
      } else if (fs === 'vfat') {
        errs.push({ key: 'vfatOnlyEsp', params: { mountpoint: mp } });
      } else if (!m.format && !KEEPABLE.has(fs)) {
        errs.push({ key: p.fsType ? 'keepUnsupported' : 'keepEmpty', params: { filesystem: p.fsType ?? '' } });
      }
      if (!m.format && p.uuid === null && KEEPABLE.has(fs)) errs.push({ key: 'keepNoUuid' });
      // A kept root is installed with bootc's --replace=alongside, which empties /boot and the EFI
      // system partition; the engine refuses it unless both are formatted anyway (plan/existing.ts).
      if (mp === '/' && !m.format) {
        const esp = used.find((x) => x.m.mountpoint === '/boot/efi');
        const boot = used.find((x) => x.m.mountpoint === '/boot');
        if (!esp?.m.format || (boot && !boot.m.format)) errs.push({ key: 'keepRootClears' });
      }
      if (errs.length > 0) partitions[p.path] = errs;
    }
  } else if (fields.encrypt) {
    if (fields.passphrase === '') passphrase.push({ key: 'passphraseRequired' });
    else passphrase.push(...passphraseErrors(fields.passphrase));
    if (fields.confirm === '') {
      if (fields.passphrase !== '') confirm.push({ key: 'confirmRequired' });
    } else if (fields.confirm !== fields.passphrase) confirm.push({ key: 'passphraseMismatch' });
    // The planner refuses it: memory would land unencrypted on disk next to an encrypted root.
    if (fields.swap === 'partition') swap.push({ key: 'swapUnencrypted' });
    if (usesTpm2(fields, disk, tpm2Available)) {
      if (recoveryGroups(recovery.key).length === 0) rec.push({ key: 'recoveryMissing' });
      else if (!recoveryConfirmed(recovery)) rec.push({ key: recovery.typed === '' ? 'recoveryRequired' : 'recoveryMismatch', params: { group: recovery.group + 1 } });
    }
  }
  return { mapping, partitions, passphrase, confirm, swap, recovery: rec };
}

export function hasErrors(e: StorageErrors): boolean {
  return (
    e.mapping.length + e.passphrase.length + e.confirm.length + e.swap.length + e.recovery.length > 0 || Object.keys(e.partitions).length > 0
  );
}

/** What keeps the Disk step from being left, most basic first: a translation key under storage.missing. */
export function missingItems(disk: Disk | null, e: StorageErrors): string[] {
  if (disk === null) return ['disk'];
  const out: string[] = [];
  if (e.mapping.some((x) => x.key === 'rootRequired')) out.push('root');
  if (e.mapping.some((x) => x.key !== 'rootRequired') || Object.keys(e.partitions).length > 0) out.push('partitions');
  if (e.passphrase.length > 0) out.push('passphrase');
  if (e.confirm.length > 0) out.push('confirm');
  if (e.swap.length > 0) out.push('swap');
  if (e.recovery.length > 0) out.push('recovery');
  return out;
}

/** The request's layout for these choices. */
export function toLayout(fields: StorageFields, disk: Disk | null, tpm2Available: boolean, recovery: RecoveryKeyState): AnswerFileInput['layout'] {
  if (effectiveMode(fields, disk) === 'existing') {
    const mounts = (disk?.partitions ?? [])
      .map((p) => ({ p, m: mountFor(fields, p) }))
      .filter((x) => x.m.mountpoint !== null)
      .map(({ p, m }) => ({
        partition: p.path,
        mountpoint: m.mountpoint!,
        format: m.format,
        ...(m.format ? { filesystem: m.mountpoint === '/boot/efi' ? ('vfat' as const) : m.filesystem } : {}),
      }));
    return { type: 'existing', mounts };
  }
  const encryption = !fields.encrypt
    ? { type: 'none' as const }
    : usesTpm2(fields, disk, tpm2Available)
      ? {
          type: 'luks2-tpm2' as const,
          passphrase: fields.passphrase,
          ...(recoveryGroups(recovery.key).length > 0 ? { recoveryKey: recovery.key! } : {}),
        }
      : { type: 'luks2' as const, passphrase: fields.passphrase };
  return { type: 'erase', filesystem: fields.filesystem, encryption, swap: fields.swap };
}
