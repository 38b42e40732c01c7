import { z } from 'zod';

/** Why a disk is refused or deserves a warning. Codes are stable; messages are English fallbacks. */
export const REFUSAL_CODES = [
  'live-medium',
  'mounted',
  'swap',
  'held',
  'read-only',
  'too-small',
  'virtual-device',
  'optical',
  'no-media',
  'demo-only',
] as const;
export const WARNING_CODES = ['existing-partitions', 'existing-os', 'bitlocker', 'windows', 'esp', 'removable', 'usb'] as const;

export const ReasonCodeSchema = z.enum([...REFUSAL_CODES, ...WARNING_CODES]);
export type ReasonCode = z.infer<typeof ReasonCodeSchema>;

export const VerdictReasonSchema = z.object({
  /** Stable code, used by UIs to translate. */
  code: ReasonCodeSchema,
  /** English sentence naming what was found ("/dev/sda2 is mounted on /home"). */
  message: z.string(),
  /** The partition or holder the reason is about, when there is one. */
  subject: z.string().optional(),
});
export type VerdictReason = z.infer<typeof VerdictReasonSchema>;

export const VerdictSchema = z.enum(['ok', 'warn', 'refused']);
export type Verdict = z.infer<typeof VerdictSchema>;

export const PartitionSchema = z.object({
  /** Device node, e.g. /dev/nvme0n1p2. */
  path: z.string(),
  /** Kernel name, e.g. nvme0n1p2. */
  name: z.string(),
  /** Partition number in the table, or null when lsblk did not say. */
  number: z.number().int().nullable(),
  /** Offset from the start of the disk in bytes, or null when unknown. */
  start: z.number().int().nonnegative().nullable(),
  /** Size in bytes. */
  size: z.number().int().nonnegative(),
  /** GPT type GUID (lower case) or MBR type byte ("0x83"), or null. */
  typeGuid: z.string().nullable(),
  /** A human name for the type ("EFI System"), when known. */
  typeName: z.string().nullable(),
  /** GPT partition name. */
  partLabel: z.string().nullable(),
  /** Filesystem or signature type as blkid reports it (ext4, vfat, crypto_LUKS, BitLocker, swap, LVM2_member…). */
  fsType: z.string().nullable(),
  /** Filesystem label. */
  label: z.string().nullable(),
  /** Filesystem UUID. */
  uuid: z.string().nullable(),
  /** Where it (or anything stacked on it) is mounted now; "[SWAP]" for active swap. */
  mountpoints: z.array(z.string()),
  /** Kernel names of devices stacked on it (device-mapper, md). */
  holders: z.array(z.string()),
  /** Operating system found on it, from os-release or the Windows boot manager, when probed. */
  os: z.string().nullable(),
});
export type Partition = z.infer<typeof PartitionSchema>;

export const DiskSchema = z.object({
  /** Device node, e.g. /dev/nvme0n1. */
  path: z.string(),
  /** Kernel name, e.g. nvme0n1. */
  name: z.string(),
  /** A stable /dev/disk/by-id path, or null when udev knows none. */
  byIdPath: z.string().nullable(),
  model: z.string().nullable(),
  vendor: z.string().nullable(),
  serial: z.string().nullable(),
  wwn: z.string().nullable(),
  /**
   * The kernel's disk sequence number (Linux 5.15+): a new value every time a device is attached or
   * its medium changes, so a loop device re-attached to another file, or a stick swapped at the
   * same /dev path, no longer matches. Null on older kernels.
   */
  diskSeq: z.number().int().nonnegative().nullable(),
  /** Size in bytes. */
  size: z.number().int().nonnegative(),
  logicalSectorSize: z.number().int().positive(),
  physicalSectorSize: z.number().int().positive(),
  rotational: z.boolean(),
  removable: z.boolean(),
  readOnly: z.boolean(),
  /** Bus: nvme, sata, usb, virtio, scsi, mmc… or null. */
  transport: z.string().nullable(),
  /** Kernel device type: disk, loop, rom… */
  type: z.string(),
  /** Partition table: gpt, dos, or null when there is none. */
  partitionTable: z.enum(['gpt', 'dos']).nullable(),
  /** Partition table UUID (GPT disk GUID or MBR id). */
  ptUuid: z.string().nullable(),
  partitions: z.array(PartitionSchema),
  /** Filesystem or signature directly on the whole disk (no table), e.g. iso9660, LVM2_member. */
  fsType: z.string().nullable(),
  /** Mountpoints of the whole-disk device itself. */
  mountpoints: z.array(z.string()),
  /** Kernel names of devices stacked directly on the disk. */
  holders: z.array(z.string()),
  verdict: VerdictSchema,
  /** Every reason behind the verdict; empty when the verdict is ok. */
  reasons: z.array(VerdictReasonSchema),
});
export type Disk = z.infer<typeof DiskSchema>;

/** What is checked again right before a disk is written: the path alone is not enough. */
export const DiskIdentitySchema = DiskSchema.pick({ path: true, serial: true, wwn: true, size: true, byIdPath: true, diskSeq: true, ptUuid: true });
export type DiskIdentity = z.infer<typeof DiskIdentitySchema>;

export const DiskListSchema = z.object({
  disks: z.array(DiskSchema),
  /** Smallest disk size accepted, in bytes. */
  minimumSize: z.number().int().nonnegative(),
  /** Whether loop devices are offered (demo and test modes only). */
  allowLoop: z.boolean(),
  /** ISO 8601 time of the probe. */
  probedAt: z.string(),
});
export type DiskList = z.infer<typeof DiskListSchema>;

export const GiB = 1024 ** 3;
export const DEFAULT_MINIMUM_DISK_SIZE = 16 * GiB;
