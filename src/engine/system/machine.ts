/** What the installer tells about the machine it runs on: in the summary and in the log bundle. */
export interface MachineIdentity {
  readonly vendor: string | null;
  readonly model: string | null;
  readonly version: string | null;
  readonly virtual: boolean;
}

export interface NetworkInterfaceFact {
  readonly name: string;
  readonly kind: 'wired' | 'wireless' | 'virtual' | 'other';
  /** The kernel's operstate: up, down, dormant, unknown… */
  readonly state: string;
  /** Carries the default route. */
  readonly isDefault: boolean;
  readonly ipv4: string | null;
}

export interface GraphicsFact {
  readonly vendor: string | null;
  readonly model: string | null;
  readonly bus: string | null;
}

export interface MachineProbe {
  identity(): Promise<MachineIdentity>;
  memoryBytes(): Promise<number | null>;
  interfaces(): Promise<NetworkInterfaceFact[]>;
  graphics(): Promise<GraphicsFact[]>;
}

declare const __PARTICLE_ENGINE_BUNDLE__: boolean | undefined;

let loaded: Promise<MachineProbe> | null = null;

/**
 * The systeminformation-backed probe, loaded on first use: beside the engine's bundle as
 * machine-si.mjs (scripts/build-engine.mjs), or the TypeScript source when run unbundled.
 */
export function machineProbe(): Promise<MachineProbe> {
  const file = typeof __PARTICLE_ENGINE_BUNDLE__ === 'boolean' ? './machine-si.mjs' : './machine-si.ts';
  loaded ??= (import(/* @vite-ignore */ new URL(file, import.meta.url).href) as Promise<{ probe: MachineProbe }>).then((m) => m.probe);
  return loaded;
}

/**
 * Everything the probe knows, for the log bundle: each part or the reason it is missing, never
 * waiting more than `timeoutMs` (dmidecode or lspci can hang on broken firmware).
 */
export async function machineReport(load: () => Promise<MachineProbe> = machineProbe, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  const within = <T>(p: Promise<T>): Promise<T> =>
    Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs).unref())]);
  let probe: MachineProbe;
  try {
    probe = await within(load());
  } catch (e) {
    return { error: `the machine probe could not be loaded: ${(e as Error).message}` };
  }
  const parts: Record<string, () => Promise<unknown>> = { identity: () => probe.identity(), memoryBytes: () => probe.memoryBytes(), graphics: () => probe.graphics(), interfaces: () => probe.interfaces() };
  const settled = await Promise.allSettled(Object.values(parts).map((f) => within(f())));
  return Object.fromEntries(Object.keys(parts).map((k, i) => {
    const r = settled[i]!;
    return [k, r.status === 'fulfilled' ? r.value : { error: (r.reason as Error).message }];
  }));
}

/** One line naming the machine, or null when the firmware does not say. */
export function describeMachine(m: MachineIdentity): string | null {
  const vendor = m.vendor ?? '';
  // Many models already start with the vendor's name ("Lenovo ThinkPad…" under "LENOVO").
  const model = m.model === null ? '' : m.model.toLowerCase().startsWith(vendor.toLowerCase()) && vendor !== '' ? m.model.slice(vendor.length).trim() : m.model;
  const name = [vendor, model].filter((s) => s !== '').join(' ');
  if (name === '') return null;
  return m.virtual ? `${name} (virtual machine)` : name;
}
