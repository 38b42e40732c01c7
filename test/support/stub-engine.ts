import type { Engine, Handlers } from '../../src/engine/engine';
import { DEFAULT_MINIMUM_DISK_SIZE, type Disk, type EventName, type EventPayload } from '../../src/shared';

/** A Disk as the classifier would return it, with overridable fields. */
export function fakeDisk(overrides: Partial<Disk> = {}): Disk {
  return {
    path: '/dev/vda',
    name: 'vda',
    byIdPath: null,
    model: 'Virtual disk',
    vendor: null,
    serial: 'SN-1',
    wwn: null,
    size: 64 * 1024 ** 3,
    logicalSectorSize: 512,
    physicalSectorSize: 512,
    rotational: false,
    removable: false,
    readOnly: false,
    transport: 'virtio',
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

/**
 * An Engine with canned answers and a working event bus, so service tests never touch disks.
 * Pass `handlers` to replace any method (e.g. one that throws).
 */
export function stubEngine(handlers: Partial<Handlers> = {}): Engine {
  const listeners = new Map<EventName, Set<(p: unknown) => void>>();
  const base: Handlers = {
    getInfo: async () => ({ version: '0.0.0-test', protocol: 1, mode: 'test', root: false, firmware: 'uefi', arch: 'x64' }),
    listDisks: async () => ({
      disks: [fakeDisk()],
      minimumSize: DEFAULT_MINIMUM_DISK_SIZE,
      allowLoop: false,
      probedAt: new Date(0).toISOString(),
    }),
    validateAnswerFile: async () => ({ valid: true, errors: [] }),
  };
  return {
    handlers: { ...base, ...handlers },
    on(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener as (p: unknown) => void);
      return () => set.delete(listener as (p: unknown) => void);
    },
    emit<E extends EventName>(event: E, payload: EventPayload<E>) {
      for (const l of listeners.get(event) ?? []) l(payload);
    },
  };
}
