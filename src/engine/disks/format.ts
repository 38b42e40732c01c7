/** Human wording for disk messages: sizes and partition type names. Pure. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/**
 * Binary units, at most one decimal, trailing ".0" dropped: 272629760 → "260 MiB",
 * 512110190592 → "476.9 GiB". Binary because that is what partitioning tools and lsblk show.
 */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  // Round first, so 1023.96 MiB becomes "1 GiB" rather than "1024 MiB".
  let rounded = Math.round(value * 10) / 10;
  if (rounded >= 1024 && unit < UNITS.length - 1) {
    rounded = Math.round((value / 1024) * 10) / 10;
    unit++;
  }
  const text = Number.isInteger(rounded) ? String(rounded) : rounded.toFixed(1);
  return `${text} ${UNITS[unit]}`;
}

export const GPT = {
  esp: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b',
  msr: 'e3c9e316-0b5c-4db8-817d-f92df00215ae',
  msBasicData: 'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7',
  winRecovery: 'de94bba4-06d1-4d40-a16a-bfd50179d6ac',
} as const;

/**
 * Names for common partition types, used when lsblk is too old for PARTTYPENAME. The wording
 * follows libfdisk, so names read the same whichever lsblk produced them.
 */
const TYPE_NAMES: Readonly<Record<string, string>> = {
  [GPT.esp]: 'EFI System',
  [GPT.msr]: 'Microsoft reserved',
  [GPT.msBasicData]: 'Microsoft basic data',
  [GPT.winRecovery]: 'Windows recovery environment',
  '21686148-6449-6e6f-744e-656564454649': 'BIOS boot',
  'bc13c2ff-59e6-4262-a352-b275fd6f7172': 'Linux extended boot',
  '4f68bce3-e8cd-4db1-96e7-fbcaf984b709': 'Linux root (x86-64)',
  'b921b045-1df0-41c3-af44-4c6f280d3fae': 'Linux root (ARM-64)',
  '0fc63daf-8483-4772-8e79-3d69d8477de4': 'Linux filesystem',
  '0657fd6d-a4ab-43c4-84e5-0933c84b4f4f': 'Linux swap',
  'e6d6d379-f507-44c2-a23c-238f2a3df928': 'Linux LVM',
  'a19d880f-05fc-4d3b-a006-743f0f84911e': 'Linux RAID',
  '933ac7e1-2eb4-4f13-b844-0e14e2aef915': 'Linux home',
  'ca7d7ccb-63ed-4c53-861c-1742536059cc': 'Linux LUKS',
  '48465300-0000-11aa-aa11-00306543ecac': 'Apple HFS/HFS+',
  '7c3457ef-0000-11aa-aa11-00306543ecac': 'Apple APFS',
  '0xef': 'EFI (FAT-12/16/32)',
  '0x7': 'HPFS/NTFS/exFAT',
  '0x27': 'Hidden NTFS WinRE',
  '0xb': 'W95 FAT32',
  '0xc': 'W95 FAT32 (LBA)',
  '0x82': 'Linux swap / Solaris',
  '0x83': 'Linux',
  '0x8e': 'Linux LVM',
  '0xfd': 'Linux raid autodetect',
  '0x5': 'Extended',
  '0xf': "W95 Ext'd (LBA)",
};

/** lsblk's own name when it has one, else ours, else null. */
export function partitionTypeName(typeGuid: string | null, lsblkName: string | null): string | null {
  if (lsblkName) return lsblkName;
  return typeGuid ? (TYPE_NAMES[typeGuid] ?? null) : null;
}

export function isEsp(typeGuid: string | null): boolean {
  return typeGuid === GPT.esp || typeGuid === '0xef';
}

export interface PartitionSummary {
  readonly typeName: string | null;
  readonly fsType: string | null;
  readonly size: number;
}

/**
 * "EFI System (vfat, 260 MiB)", "Microsoft reserved", "BitLocker-encrypted (BitLocker, 475 GiB)".
 * The size is given only with a filesystem: a bare reserved or empty partition holds nothing to lose.
 */
export function describePartition(p: PartitionSummary): string {
  const name =
    p.fsType === 'BitLocker'
      ? 'BitLocker-encrypted'
      : p.fsType === 'crypto_LUKS'
        ? 'LUKS-encrypted'
        : (p.typeName ?? (p.fsType ? `${p.fsType} partition` : 'unknown type'));
  return p.fsType ? `${name} (${p.fsType}, ${formatBytes(p.size)})` : name;
}

/** "1 partition" / "3 partitions". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** "/a", "/a and /b", "/a, /b and /c". */
export function listAnd(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
