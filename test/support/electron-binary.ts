import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';

/** The Electron binary npm installed, or why there is none (the download may be impossible). */
export function electronBinary(): { path: string } | { reason: string } {
  try {
    const p = createRequire(import.meta.url)('electron') as unknown;
    if (typeof p === 'string' && existsSync(p)) return { path: p };
    return { reason: `the electron package points at ${String(p)}, which does not exist` };
  } catch (e) {
    return { reason: `no Electron binary is installed (${(e as Error).message.split('\n')[0]}); install with the binary download allowed to run this level` };
  }
}
