// The four systeminformation modules machine-si.ts imports one by one (the package's own types
// describe only its index, which would pull in the whole library).
declare module 'systeminformation/lib/memory.js' {
  import type { Systeminformation } from 'systeminformation';
  export function mem(): Promise<Systeminformation.MemData>;
}
declare module 'systeminformation/lib/system.js' {
  import type { Systeminformation } from 'systeminformation';
  export function system(): Promise<Systeminformation.SystemData>;
}
declare module 'systeminformation/lib/network.js' {
  import type { Systeminformation } from 'systeminformation';
  export function networkInterfaces(): Promise<Systeminformation.NetworkInterfacesData[] | Systeminformation.NetworkInterfacesData>;
}
declare module 'systeminformation/lib/graphics.js' {
  import type { Systeminformation } from 'systeminformation';
  export function graphics(): Promise<Systeminformation.GraphicsData>;
}
