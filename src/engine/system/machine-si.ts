import { mem } from 'systeminformation/lib/memory.js';
import { graphics } from 'systeminformation/lib/graphics.js';
import { networkInterfaces } from 'systeminformation/lib/network.js';
import { system } from 'systeminformation/lib/system.js';
import type { GraphicsFact, MachineIdentity, MachineProbe, NetworkInterfaceFact } from './machine';

/**
 * The machine's facts through systeminformation, the project's dependency for them. Built as its own
 * file (out/engine/machine-si.mjs, 160 KiB) that the engine imports the first time it asks, so the
 * engine's start-up never parses it. Only the four modules used are imported, not the whole library.
 *
 * systeminformation starts its helpers (dmidecode, lspci, ip, iw…) as fixed shell command lines;
 * nothing of ours, no user input, reaches them. The engine's own commands stay argv arrays.
 */

/** DMI fields firmware vendors leave unfilled: not a name to show anyone. */
const PLACEHOLDER = /^(|-|none|n\/a|not applicable|not specified|default string|system product name|system manufacturer|to be filled by o\.e\.m\.|o\.e\.m\.|oem|unknown|invalid|0+|x+)$/i;

export function cleanDmi(value: string | undefined): string | null {
  const v = (value ?? '').trim().replace(/\s+/g, ' ');
  return PLACEHOLDER.test(v) ? null : v;
}

export async function identity(): Promise<MachineIdentity> {
  const s = await system();
  return { vendor: cleanDmi(s.manufacturer), model: cleanDmi(s.model), version: cleanDmi(s.version), virtual: s.virtual };
}

export async function memoryBytes(): Promise<number | null> {
  const m = await mem();
  return Number.isFinite(m.total) && m.total > 0 ? m.total : null;
}

export async function interfaces(): Promise<NetworkInterfaceFact[]> {
  const list = await networkInterfaces();
  return (Array.isArray(list) ? list : [list])
    .filter((i) => !i.internal)
    .map((i) => ({
      name: i.iface,
      kind: i.type === 'wireless' ? 'wireless' : i.virtual ? 'virtual' : i.type === 'wired' ? 'wired' : 'other',
      state: i.operstate || 'unknown',
      isDefault: i.default,
      ipv4: i.ip4 === '' ? null : i.ip4,
    }));
}

export async function graphicsControllers(): Promise<GraphicsFact[]> {
  const g = await graphics();
  return g.controllers.map((c) => ({ vendor: cleanDmi(c.vendor), model: cleanDmi(c.model), bus: c.bus || null }));
}

export const probe: MachineProbe = { identity, memoryBytes, interfaces, graphics: graphicsControllers };
