/**
 * What the live ISO promises the QA harness (live-iso/README.md), as constants and pure parsers:
 * the GRUB menu on the serial console, the kernel arguments, and the `particle-live:` lines the live
 * system prints there. Nothing here starts a process, so test/unit/qa-contract.test.ts covers it all.
 */

/** GRUB's menu entries, in order; the first is the default. */
export const MENU_ENTRIES = ['Install Particle', 'Install Particle (safe graphics)', 'Install Particle with remote access', 'Boot to a shell'] as const;
export type MenuEntry = (typeof MENU_ENTRIES)[number];

/** The last entry's text: once it is on the serial console, the whole menu is. */
export const MENU_DRAWN = /Boot to a shell/;
/** GRUB's command-line prompt (after `c` at the menu). */
export const GRUB_PROMPT = /grub> ?$/;

/** Kernel and initrd on the medium. */
export const LIVE_KERNEL = '/live/vmlinuz';
export const LIVE_INITRD = '/live/initrd.img';
/** The menu entries' common kernel arguments. */
export const BASE_KERNEL_ARGS = 'boot=live components console=tty0 console=ttyS0,115200';

/** The engine's port in remote-access mode; the forwarded host port must be the same (the engine checks Host). */
export const REMOTE_PORT = 8470;
/** The serial getty's account on the live system. */
export const LIVE_USER = 'live';
export const LIVE_PASSWORD = 'live';

/** The path of the ISO's embedded image as the live system sees it. */
export const EMBEDDED_IMAGE = '/run/live/medium/particle/image';

/** A cursor key as a VT100 terminal sends it (GRUB's serial terminal reads these). */
export const KEY_DOWN = '\x1b[B';
export const KEY_ENTER = '\r';

/** The keys that choose `entry` from a freshly drawn menu (the default highlighted) and boot it. */
export function menuKeys(entry: MenuEntry): string[] {
  const index = MENU_ENTRIES.indexOf(entry);
  if (index < 0) throw new Error(`not a menu entry: ${entry}`);
  return [...Array<string>(index).fill(KEY_DOWN), KEY_ENTER];
}

/** The GRUB command lines that boot the live system with an answer file (typed after `c`). */
export function unattendedGrubCommands(configUrl: string): string[] {
  if (/\s/.test(configUrl)) throw new Error(`the answer file URL must not contain spaces: ${configUrl}`);
  return [`linux ${LIVE_KERNEL} ${BASE_KERNEL_ARGS} installer.config=${configUrl}`, `initrd ${LIVE_INITRD}`, 'boot'];
}

/**
 * Splits what is typed at a serial prompt into small pieces: firmware reads a 16-byte UART FIFO by
 * polling, so a long line is sent a few characters at a time with pauses in between.
 */
export function chunks(text: string, size: number): string[] {
  if (size < 1) throw new Error('chunk size must be at least 1');
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

export interface RemoteAccess {
  /** The URL as the live system printed it (its own address). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly token: string;
}

const REMOTE_LINE = /particle-live: remote access (http:\/\/([^\s/:]+):(\d+)\/\?token=([0-9a-f]+))/;

/** The `particle-live: remote access http://IP:8470/?token=HEX` line, or null when it is not there yet. */
export function parseRemoteAccess(text: string): RemoteAccess | null {
  const m = REMOTE_LINE.exec(text);
  if (!m) return null;
  return { url: m[1]!, host: m[2]!, port: Number(m[3]), token: m[4]! };
}

/** Where the host opens the wizard: the forwarded port on loopback, with the guest's token. */
export function hostUrl(token: string, port = REMOTE_PORT): string {
  return `http://127.0.0.1:${port}/?token=${token}`;
}

export const KIOSK_STARTED = /particle-live: kiosk started/;
const UNATTENDED_DONE = /particle-live: unattended install finished \(exit (-?\d+)\)/;

/** N from `particle-live: unattended install finished (exit N)`, or null when it is not there yet. */
export function parseUnattendedExit(text: string): number | null {
  const m = UNATTENDED_DONE.exec(text);
  return m ? Number(m[1]) : null;
}

export interface MemoryUse {
  readonly totalMiB: number;
  readonly availableMiB: number;
  /** MemTotal − MemAvailable: what the running system holds and could not give back. */
  readonly usedMiB: number;
}

/** Memory in use from /proc/meminfo (values in kB); null when MemTotal or MemAvailable is missing. */
export function parseMeminfo(text: string): MemoryUse | null {
  const kb = (key: string): number | null => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  };
  const total = kb('MemTotal');
  const available = kb('MemAvailable');
  if (total === null || available === null) return null;
  const mib = (k: number): number => Math.round(k / 1024);
  return { totalMiB: mib(total), availableMiB: mib(available), usedMiB: mib(total - available) };
}
