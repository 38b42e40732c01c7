import type { Partition } from '../../shared/disk';

/** One piece of the partition bar: a partition or a run of unallocated space. */
export type Segment =
  | { readonly kind: 'partition'; readonly partition: Partition; readonly bytes: number; readonly fraction: number }
  | { readonly kind: 'free'; readonly bytes: number; readonly fraction: number };

export interface SegmentOptions {
  /** Narrowest share a partition is drawn with, so a 1 MiB BIOS boot partition stays visible. */
  readonly minFraction?: number;
  /** Gaps smaller than this share of the disk are alignment slack, not free space worth showing. */
  readonly minFreeFraction?: number;
}

/**
 * Lays a disk's partitions out along a bar in on-disk order, with free gaps between them. Partitions
 * whose start lsblk did not report are placed right after the one before. Fractions add up to at most 1.
 */
export function computeSegments(diskSize: number, partitions: readonly Partition[], options: SegmentOptions = {}): Segment[] {
  const minFraction = options.minFraction ?? 0.015;
  const minFreeFraction = options.minFreeFraction ?? 0.01;
  if (diskSize <= 0) return [];

  const known = partitions.filter((p) => p.start !== null).sort((a, b) => a.start! - b.start!);
  const unknown = partitions.filter((p) => p.start === null).sort((a, b) => (a.number ?? 0) - (b.number ?? 0));

  const raw: Array<{ kind: 'partition'; partition: Partition; bytes: number } | { kind: 'free'; bytes: number }> = [];
  const minFree = diskSize * minFreeFraction;
  let cursor = 0;
  for (const p of [...known, ...unknown]) {
    const start = p.start ?? cursor;
    if (start - cursor >= minFree) raw.push({ kind: 'free', bytes: start - cursor });
    raw.push({ kind: 'partition', partition: p, bytes: p.size });
    cursor = Math.max(cursor, start + p.size);
  }
  if (diskSize - cursor >= minFree || raw.length === 0) raw.push({ kind: 'free', bytes: Math.max(0, diskSize - cursor) });

  const widths = raw.map((s) => {
    const share = s.bytes / diskSize;
    return s.kind === 'partition' ? Math.max(share, minFraction) : share;
  });
  // Rounding partitions up can overflow the bar; shrink everything evenly rather than clip the end.
  const total = widths.reduce((a, b) => a + b, 0);
  const scale = total > 1 ? 1 / total : 1;
  return raw.map((s, i) => ({ ...s, fraction: widths[i]! * scale }));
}
