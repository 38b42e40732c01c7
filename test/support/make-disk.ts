import type { Disk } from '../../src/shared/disk';

/** A Disk as the classifier would return it: a blank 64 GiB disk unless `overrides` say otherwise. */
export function makeDisk(overrides: Partial<Disk> = {}): Disk {
  const path = overrides.path ?? '/dev/vda';
  return {
    path,
    name: path.slice('/dev/'.length),
    byIdPath: null,
    model: null,
    vendor: null,
    serial: null,
    wwn: null,
    diskSeq: null,
    size: 64 * 1024 ** 3,
    logicalSectorSize: 512,
    physicalSectorSize: 512,
    rotational: false,
    removable: false,
    readOnly: false,
    transport: null,
    type: 'disk',
    partitionTable: null,
    ptUuid: null,
    partitions: [],
    fsType: null,
    mountpoints: [],
    holders: [],
    verdict: 'ok',
    reasons: [],
    ...overrides,
  };
}
