import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { arch, totalmem } from 'node:os';
import { SAFE_GRAPHICS_ARG } from '../shared';
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
    safeGraphicsArgs: safeGraphicsArgs(root),
    bootcOnHost: whichOnPath()('bootc') !== null,
  };
}

function bootArgs(root: string): string[] {
  try {
    return readFileSync(`${root}/proc/cmdline`, 'utf8').split(/\s+/).filter((a) => a !== '');
  } catch {
    return [];
  }
}

/** The `console=` arguments this system was booted with, in their order (the last is /dev/console). */
export function consoleArgs(root = ''): string[] {
  return bootArgs(root).filter((a) => /^console=[A-Za-z0-9,._-]+$/.test(a));
}

/** The safe-graphics arguments this system was booted with, in their order. */
export function safeGraphicsArgs(root = ''): string[] {
  return bootArgs(root).filter((a) => SAFE_GRAPHICS_ARG.test(a));
}
