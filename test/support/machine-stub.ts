import type { MachineIdentity, MachineProbe } from '../../src/engine/system/machine';

/** A machine for tests that must not run systeminformation's programs (unit tests start none). */
export function stubMachine(identity: MachineIdentity = { vendor: 'QEMU', model: 'Standard PC (Q35 + ICH9, 2009)', version: null, virtual: true }, memoryBytes = 8 * 1024 ** 3): () => Promise<MachineProbe> {
  const probe: MachineProbe = { identity: async () => identity, memoryBytes: async () => memoryBytes, interfaces: async () => [], graphics: async () => [] };
  return async () => probe;
}
