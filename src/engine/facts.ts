import { existsSync, readdirSync } from 'node:fs';
import { arch, totalmem } from 'node:os';
import type { SystemFacts } from './plan';

/** What the planner needs to know about this machine. */
export function systemFacts(root = ''): SystemFacts {
  let tpm = false;
  try {
    tpm = readdirSync(`${root}/sys/class/tpm`).some((d) => d.startsWith('tpm'));
  } catch {
    tpm = false;
  }
  return { firmware: existsSync(`${root}/sys/firmware/efi`) ? 'uefi' : 'bios', arch: arch(), tpm, memoryBytes: totalmem() };
}
