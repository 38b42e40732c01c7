import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { Disk, RequirementCheck, Requirements } from '../../shared';
import type { z } from 'zod';
import { SAFE_GRAPHICS_ARG, type Machine, type RequirementsParamsSchema } from '../../shared/system';
import { formatBytes } from '../disks';
import { reason, type SystemDeps } from './deps';
import { describeMachine, type MachineProbe } from './machine';

/**
 * The requirement checks the welcome page shows: measured now, on this machine, each with what was
 * measured and what is needed, so a UI can explain a failure instead of just blocking.
 */

export type RequirementsParams = z.output<typeof RequirementsParamsSchema>;

export interface RequirementsDeps extends Pick<SystemDeps, 'exec' | 'paths' | 'which'> {
  readonly probe: () => Promise<Disk[]>;
  /** Memory, identity and network interfaces (systeminformation; a stub in tests). */
  readonly machine: () => Promise<MachineProbe>;
  readonly minimumSize: number;
  /** Opens and closes a TCP connection; rejects on failure or after timeoutMs. */
  readonly tcpConnect?: (host: string, port: number, timeoutMs: number) => Promise<void>;
}

export async function checkRequirements(params: RequirementsParams, deps: RequirementsDeps): Promise<Requirements> {
  const machine = deps.machine();
  const [memory, disk, network, identity] = await Promise.all([
    memoryCheck(params.minimumMemory, machine),
    diskCheck(deps),
    networkCheck(params, deps),
    machine.then((m) => m.identity()).then(
      (i): Pick<Machine, 'vendor' | 'model' | 'virtual' | 'name'> => ({ vendor: i.vendor, model: i.model, virtual: i.virtual, name: describeMachine(i) }),
      () => null,
    ),
  ]);
  const graphics = await machine.then((m) => m.graphics()).then(
    (cards) => cards.map((c) => [c.vendor, c.model].filter((x) => x !== null).join(' ')).filter((n) => n !== ''),
    () => [],
  );
  const safeGraphics = bootArgs(deps.paths.proc).filter((a) => SAFE_GRAPHICS_ARG.test(a));
  return { checks: [memory, disk, firmwareCheck(params.firmware, deps.paths.sys), powerCheck(deps.paths.sys), network], machine: identity && { ...identity, graphics, safeGraphics } };
}

/** The arguments the running kernel was started with. */
function bootArgs(proc: string): string[] {
  try {
    return readFileSync(join(proc, 'cmdline'), 'utf8').split(/\s+/).filter((a) => a !== '');
  } catch {
    return [];
  }
}

async function memoryCheck(required: number, machine: Promise<MachineProbe>): Promise<RequirementCheck> {
  let measured: number | null = null;
  try {
    measured = await (await machine).memoryBytes();
  } catch {
    measured = null;
  }
  if (measured === null) return { id: 'memory', status: 'unknown', measured: null, required, message: 'The amount of memory could not be read (/proc/meminfo).' };
  return measured >= required
    ? { id: 'memory', status: 'ok', measured, required, message: `${formatBytes(measured)} of memory; ${formatBytes(required)} is needed.` }
    : { id: 'memory', status: 'failed', measured, required, message: `This computer has ${formatBytes(measured)} of memory, but ${formatBytes(required)} is needed.` };
}

async function diskCheck(deps: RequirementsDeps): Promise<RequirementCheck> {
  const required = deps.minimumSize;
  let disks: Disk[];
  try {
    disks = await deps.probe();
  } catch (e) {
    return { id: 'disk', status: 'unknown', measured: null, required, message: `The disks could not be listed: ${reason(e)}` };
  }
  const usable = disks.filter((d) => d.verdict !== 'refused');
  // A disk refused only for being too small still says how far off the machine is.
  const measuredOn = [...usable, ...disks.filter((d) => d.verdict === 'refused' && d.reasons.every((r) => r.code === 'too-small'))];
  const largest = measuredOn.reduce<number | null>((max, d) => (max === null || d.size > max ? d.size : max), null);
  if (usable.length > 0) {
    return { id: 'disk', status: 'ok', measured: largest, required, message: `A disk of ${formatBytes(largest ?? 0)} can be installed to; ${formatBytes(required)} is needed.` };
  }
  return {
    id: 'disk',
    status: 'failed',
    measured: largest,
    required,
    message: largest === null ? `No disk that can be installed to was found; one of at least ${formatBytes(required)} is needed.` : `The largest disk has ${formatBytes(largest)}, but ${formatBytes(required)} is needed.`,
  };
}

function firmwareCheck(wanted: 'any' | 'uefi', sys: string): RequirementCheck {
  const measured = existsSync(join(sys, 'firmware/efi')) ? 'uefi' : 'bios';
  const required = wanted === 'uefi' ? 'uefi' : null;
  if (required === 'uefi' && measured === 'bios') {
    return { id: 'firmware', status: 'failed', measured, required, message: 'This computer started in BIOS (legacy) mode, but the system to install boots with UEFI only.' };
  }
  return { id: 'firmware', status: 'ok', measured, required, message: `This computer started with ${measured === 'uefi' ? 'UEFI' : 'BIOS'} firmware.` };
}

/**
 * 'ac' when a mains or USB supply is online, 'battery' when only batteries power it, else 'no-battery'.
 * Read by hand, not with systeminformation: its battery() looks only at supplies named BAT0/BAT1 and
 * AC/AC0 (lib/battery.js:86-105 in 5.33.23), so it misreads machines whose supplies are ACAD, ADP1,
 * BAT2, CMB0 or a USB-C port, and counts no device batteries out; every supply here is read by type.
 */
export function powerSource(sys: string): 'ac' | 'battery' | 'no-battery' {
  const dir = join(sys, 'class/power_supply');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 'no-battery';
  }
  const read = (name: string, attr: string): string | null => {
    try {
      return readFileSync(join(dir, name, attr), 'utf8').trim();
    } catch {
      return null;
    }
  };
  let battery = false;
  for (const name of names) {
    const type = read(name, 'type');
    if ((type === 'Mains' || type === 'USB') && read(name, 'online') === '1') return 'ac';
    // A wireless mouse's battery (scope "Device") does not power the computer.
    if (type === 'Battery' && read(name, 'scope') !== 'Device') battery = true;
  }
  return battery ? 'battery' : 'no-battery';
}

function powerCheck(sys: string): RequirementCheck {
  const measured = powerSource(sys);
  if (measured === 'battery') {
    return { id: 'power', status: 'failed', measured, required: 'ac', message: 'This computer runs on battery; plug it in so the install is not cut short.' };
  }
  return { id: 'power', status: 'ok', measured, required: 'ac', message: measured === 'ac' ? 'This computer is plugged in.' : 'This computer has no battery.' };
}

/**
 * Whether a routing table (/proc/net/route or ipv6_route text) has a default route. Read by hand:
 * systeminformation's networkGatewayDefault() runs `ip route` (24 ms here, against 0.1 ms for the
 * two reads, and it needs iproute2), and this is on the Welcome page's path.
 */
export function hasDefaultRoute(route: string, ipv6Route: string): boolean {
  const v4 = route
    .split('\n')
    .slice(1)
    .some((line) => {
      const f = line.trim().split(/\s+/);
      // Iface Destination Gateway Flags RefCnt Use Metric Mask …; flag 0x1 = up.
      return f.length >= 8 && f[1] === '00000000' && f[7] === '00000000' && (parseInt(f[3] ?? '0', 16) & 1) === 1;
    });
  if (v4) return true;
  return ipv6Route.split('\n').some((line) => {
    const f = line.trim().split(/\s+/);
    // dest plen src splen nexthop metric refcnt use flags iface; the kernel's unreachable default lives on lo.
    return f.length >= 10 && /^0{32}$/.test(f[0] ?? '') && f[1] === '00' && f[9] !== 'lo' && (parseInt(f[8] ?? '0', 16) & 1) === 1;
  });
}

/** The registry host and port a reference is pulled from, as containers/image resolves it. */
export function registryEndpoint(reference: string): { host: string; port: number } {
  const slash = reference.indexOf('/');
  const firstPart = slash === -1 ? '' : reference.slice(0, slash);
  const isHost = firstPart !== '' && (firstPart.includes('.') || firstPart.includes(':') || firstPart === 'localhost');
  let host = isHost ? firstPart : 'docker.io';
  let port = 443;
  const colon = host.lastIndexOf(':');
  if (colon > 0 && !host.endsWith(']') && /^\d+$/.test(host.slice(colon + 1))) {
    port = Number(host.slice(colon + 1));
    host = host.slice(0, colon);
  }
  if (host === 'docker.io' || host === 'index.docker.io') host = 'registry-1.docker.io';
  return { host: host.replace(/^\[(.*)\]$/, '$1'), port };
}

export function tcpConnect(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.end();
      socket.destroy();
      resolve();
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    });
  });
}

async function networkCheck(params: RequirementsParams, deps: RequirementsDeps): Promise<RequirementCheck> {
  const skipped = (message: string): RequirementCheck => ({ id: 'network', status: 'skipped', measured: null, required: null, message });
  const image = params.image;
  if (!image) return skipped('No image was named, so the network is not checked.');
  if (image.transport !== 'registry') return skipped('The image is on this computer; no network is needed.');
  if (deps.which('podman')) {
    try {
      const r = await deps.exec(['podman', 'image', 'exists', image.reference], { timeoutMs: 15_000, okExitCodes: [0, 1] });
      if (r.exitCode === 0) return skipped('The image is already in local container storage; no network is needed.');
    } catch {
      // Cannot tell: check the network as if it had to be pulled.
    }
  }
  const read = (f: string): string => {
    try {
      return readFileSync(join(deps.paths.proc, f), 'utf8');
    } catch {
      return '';
    }
  };
  if (!hasDefaultRoute(read('net/route'), read('net/ipv6_route'))) {
    // Off the happy path, so the slower listing (about 0.4 s) is affordable: say what is there.
    let seen = '';
    try {
      const list = await (await deps.machine()).interfaces();
      seen = list.length === 0 ? ' No network interface was found.' : ` Interfaces: ${list.map((i) => `${i.name} (${i.kind}, ${i.state})`).join(', ')}.`;
    } catch {
      seen = '';
    }
    return { id: 'network', status: 'failed', measured: 'no-route', required: 'registry', message: `This computer is not connected to a network (no default route), and the image must be downloaded.${seen}` };
  }
  const { host, port } = registryEndpoint(image.reference);
  try {
    await (deps.tcpConnect ?? tcpConnect)(host, port, 3_000);
    return { id: 'network', status: 'ok', measured: 'connected', required: 'registry', message: `The image registry ${host} can be reached.` };
  } catch (e) {
    return { id: 'network', status: 'failed', measured: 'unreachable', required: 'registry', message: `The image registry ${host} cannot be reached on port ${port}: ${reason(e)}.` };
  }
}
