import { describe, expect, it } from 'vitest';
import type { Partition } from '../../src/shared/disk';
import { computeSegments } from '../../src/renderer/src/partitions';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

function part(n: number, start: number | null, size: number, extra: Partial<Partition> = {}): Partition {
  return {
    path: `/dev/sda${n}`,
    name: `sda${n}`,
    number: n,
    start,
    size,
    typeGuid: null,
    typeName: null,
    partLabel: null,
    fsType: null,
    label: null,
    uuid: null,
    mountpoints: [],
    holders: [],
    os: null,
    ...extra,
  };
}

const total = (s: { fraction: number }[]) => s.reduce((a, b) => a + b.fraction, 0);

describe('computeSegments', () => {
  it('shows an empty disk as one free segment', () => {
    const s = computeSegments(64 * GiB, []);
    expect(s).toEqual([{ kind: 'free', bytes: 64 * GiB, fraction: 1 }]);
  });

  it('lays partitions out in disk order with the free space left at the end', () => {
    const s = computeSegments(100 * GiB, [part(2, 1 * GiB + MiB, 49 * GiB), part(1, MiB, 1 * GiB)]);
    expect(s.map((x) => (x.kind === 'partition' ? x.partition.name : 'free'))).toEqual(['sda1', 'sda2', 'free']);
    // Within a percent: the 1 GiB partition is drawn a little wider than its share.
    expect(Math.abs(s[1]!.fraction - 0.49)).toBeLessThan(0.01);
    expect(s[2]!.bytes).toBe(50 * GiB - MiB);
    expect(total(s)).toBeCloseTo(1, 5);
  });

  it('ignores alignment slack but shows real gaps', () => {
    const s = computeSegments(100 * GiB, [part(1, MiB, 10 * GiB), part(2, 40 * GiB, 60 * GiB)]);
    expect(s.map((x) => x.kind)).toEqual(['partition', 'free', 'partition']);
    expect(s[1]!.bytes).toBe(30 * GiB - MiB);
  });

  it('keeps tiny partitions visible without overflowing the bar', () => {
    const s = computeSegments(100 * GiB, [part(1, MiB, MiB), part(2, 2 * MiB, 100 * GiB - 2 * MiB)]);
    expect(s[0]!.fraction).toBeGreaterThan(0.01);
    expect(total(s)).toBeLessThanOrEqual(1 + 1e-9);
  });

  it('places partitions with an unknown start after the known ones', () => {
    const s = computeSegments(10 * GiB, [part(2, null, 2 * GiB), part(1, 0, 2 * GiB)]);
    expect(s.map((x) => (x.kind === 'partition' ? x.partition.name : 'free'))).toEqual(['sda1', 'sda2', 'free']);
    expect(s[2]!.bytes).toBe(6 * GiB);
  });

  it('returns nothing for a zero-sized disk', () => {
    expect(computeSegments(0, [])).toEqual([]);
  });
});
