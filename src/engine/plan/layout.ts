import type { AnswerFile, Disk, PlannedPartition } from '../../shared';

/**
 * The default erase-disk layout (Discoverable Partitions Specification type GUIDs): BIOS boot on
 * x86, a 1 GiB ESP, an XBOOTLDR /boot when the root is encrypted, an optional swap partition, root.
 */

export const TYPE = {
  biosBoot: '21686148-6449-6e6f-744e-656564454649',
  esp: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b',
  xbootldr: 'bc13c2ff-59e6-4262-a352-b275fd6f7172',
  swap: '0657fd6d-a4ab-43c4-84e5-0933c84b4f4f',
  rootX64: '4f68bce3-e8cd-4db1-96e7-fbcaf984b709',
  rootArm64: 'b921b045-1df0-41c3-af44-4c6f280d3fae',
} as const;

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/** Device node of partition n: sda → sda1, nvme0n1 / loop0 / mmcblk0 → …p1. */
export function partitionPath(disk: string, n: number): string {
  return /\d$/.test(disk) ? `${disk}p${n}` : `${disk}${n}`;
}

/** "40G" → bytes. */
export function parseSize(size: string): number {
  const m = /^([1-9][0-9]*)([MGT])$/.exec(size);
  if (!m) throw new Error(`bad size ${size}`);
  return Number(m[1]) * { M: MiB, G: GiB, T: 1024 * GiB }[m[2] as 'M' | 'G' | 'T'];
}

export function rootTypeFor(arch: string): string | null {
  if (arch === 'x64') return TYPE.rootX64;
  if (arch === 'arm64') return TYPE.rootArm64;
  return null;
}

type Erase = Extract<AnswerFile['layout'], { type: 'erase' }>;

export interface LayoutFacts {
  readonly arch: string;
  readonly memoryBytes: number;
}

/** Partitions for an erase-disk install; UUIDs come from `uuid` so kernel arguments are known now. */
export function eraseLayout(layout: Erase, disk: Disk, facts: LayoutFacts, uuid: () => string): PlannedPartition[] {
  const rootType = rootTypeFor(facts.arch);
  if (!rootType) throw new Error(`no root partition type is known for the ${facts.arch} architecture`);
  const encrypted = layout.encryption.type !== 'none';
  const parts: Omit<PlannedPartition, 'number' | 'path'>[] = [];
  if (facts.arch === 'x64') parts.push({ label: 'bios-boot', typeGuid: TYPE.biosBoot, size: MiB, content: 'bios-boot', mountpoint: null, uuid: uuid() });
  parts.push({ label: 'ESP', typeGuid: TYPE.esp, size: GiB, content: 'vfat', mountpoint: '/boot/efi', uuid: uuid() });
  if (encrypted) parts.push({ label: 'boot', typeGuid: TYPE.xbootldr, size: GiB, content: 'ext4', mountpoint: '/boot', uuid: uuid() });
  if (layout.swap === 'partition') {
    const size = Math.min(Math.max(facts.memoryBytes, 2 * GiB), 8 * GiB);
    parts.push({ label: 'swap', typeGuid: TYPE.swap, size: Math.ceil(size / MiB) * MiB, content: 'swap', mountpoint: null, uuid: uuid() });
  }
  parts.push({
    label: 'root',
    typeGuid: rootType,
    size: layout.rootSize ? parseSize(layout.rootSize) : null,
    content: encrypted ? 'luks2' : layout.filesystem,
    mountpoint: '/',
    uuid: uuid(),
  });
  return parts.map((p, i) => ({ ...p, number: i + 1, path: partitionPath(disk.path, i + 1) }));
}

/** Bytes the layout needs (the root at least 2 GiB when it takes the rest; the disk minimum is the real gate). */
export function layoutBytes(parts: readonly PlannedPartition[]): number {
  return parts.reduce((sum, p) => sum + (p.size ?? 2 * GiB), 2 * MiB);
}

/** The sfdisk script that makes the table: GPT, 1 MiB aligned (sfdisk's default), names and types. */
export function sfdiskScript(parts: readonly PlannedPartition[]): string {
  const lines = ['label: gpt'];
  for (const p of parts) {
    const size = p.size === null ? '' : `size=${p.size / 1024}KiB, `;
    lines.push(`${size}type=${p.typeGuid.toUpperCase()}, name="${p.label}", uuid=${partUuid(p.uuid)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The partition's own GPT UUID, derived from the content UUID so both are stable for one plan but
 * never equal (udev links by-partuuid and by-uuid must not collide).
 */
export function partUuid(uuid: string): string {
  const hex = uuid.replace(/-/g, '');
  const flipped = hex.slice(0, 31) + ((parseInt(hex[31]!, 16) ^ 0xf).toString(16));
  return `${flipped.slice(0, 8)}-${flipped.slice(8, 12)}-${flipped.slice(12, 16)}-${flipped.slice(16, 20)}-${flipped.slice(20)}`;
}

/** FAT volume ids are 32 bits: the first 8 hex digits of the UUID. */
export function vfatVolumeId(uuid: string): string {
  return uuid.replace(/-/g, '').slice(0, 8).toUpperCase();
}

/** How blkid shows that FAT volume id: "ABCD-EF01". */
export function vfatUuid(uuid: string): string {
  const id = vfatVolumeId(uuid);
  return `${id.slice(0, 4)}-${id.slice(4)}`;
}
