import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { arch, totalmem } from 'node:os';
import type { SystemFacts } from './plan';
import { whichOnPath } from './system/deps';

/** What the planner needs to know about this machine. */
export function systemFacts(root = ''): SystemFacts {
  let tpm = false;
  try {
    tpm = readdirSync(`${root}/sys/class/tpm`).some((d) => d.startsWith('tpm'));
  } catch {
    tpm = false;
  }
  return {
    firmware: existsSync(`${root}/sys/firmware/efi`) ? 'uefi' : 'bios',
    arch: arch(),
    tpm,
    memoryBytes: totalmem(),
    consoleArgs: consoleArgs(root),
    bootcOnHost: whichOnPath()('bootc') !== null,
  };
}

/** The `console=` arguments this system was booted with, in their order (the last is /dev/console). */
export function consoleArgs(root = ''): string[] {
  let cmdline = '';
  try {
    cmdline = readFileSync(`${root}/proc/cmdline`, 'utf8');
  } catch {
    return [];
  }
  return cmdline.split(/\s+/).filter((a) => /^console=[A-Za-z0-9,._-]+$/.test(a));
}
