import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

/**
 * Who may talk to `serve`: whoever holds the random token printed at start (as a cookie set by
 * the `/?token=` link, or a Bearer header), and only under a Host we are really bound to, so a
 * web page cannot reach the engine through DNS rebinding. This is what Etcher's unauthenticated
 * localhost WebSocket lacked.
 */

/** A fresh 128-bit token, hex. */
export function newToken(): string {
  return randomBytes(16).toString('hex');
}

/** Compares in constant time for equal lengths; different lengths are simply unequal. */
export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Cookie names are per port: two `serve` instances on one host must not overwrite each other. */
export function cookieName(port: number): string {
  return `particle_installer_${port}`;
}

/**
 * Every value of one cookie in a Cookie header. Cookies ignore ports, so another local server can
 * set a cookie of the same name (with a longer Path, sent first): each value is tried, or such a
 * planted cookie would lock the real one out.
 */
export function readCookies(header: string | undefined, name: string): string[] {
  if (header === undefined) return [];
  const values: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) values.push(part.slice(eq + 1).trim());
  }
  return values;
}

/** The first value of one cookie, if any. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  return readCookies(header, name)[0];
}

/** The token from `Authorization: Bearer T`, if any. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  return m?.[1];
}

/** How a request proved itself, if it did. */
export function authenticate(headers: IncomingHttpHeaders, token: string, port: number): 'cookie' | 'bearer' | null {
  if (tokenMatches(token, bearerToken(headers))) return 'bearer';
  if (readCookies(headers.cookie, cookieName(port)).some((v) => tokenMatches(token, v))) return 'cookie';
  return null;
}

/** The Set-Cookie value that logs a browser in. Not Secure: this is plain HTTP on a local address. */
export function sessionCookie(token: string, port: number): string {
  return `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || /^127\./.test(address);
}

function hostPort(address: string, port: number): string {
  return `${isIP(address) === 6 ? `[${address}]` : address}:${port}`.toLowerCase();
}

/**
 * The Host header values accepted for a server bound to `address:port`: that address, plus the
 * loopback names when bound to loopback. A wildcard bind accepts every local interface address
 * (IP literals only; a DNS name is exactly what a rebinding attack would use).
 */
export function allowedHosts(address: string, port: number): Set<string> {
  const hosts = new Set<string>();
  if (WILDCARDS.has(address)) {
    for (const list of Object.values(networkInterfaces())) for (const ni of list ?? []) hosts.add(hostPort(ni.address, port));
    for (const name of ['localhost', '127.0.0.1', '::1']) hosts.add(hostPort(name, port));
    return hosts;
  }
  hosts.add(hostPort(address, port));
  if (isLoopback(address)) for (const name of ['localhost', '127.0.0.1']) hosts.add(hostPort(name, port));
  if (address === '::1') hosts.add(hostPort('::1', port));
  return hosts;
}

/** Whether a request's Host header names this server. */
export function hostAllowed(headers: IncomingHttpHeaders, allowed: ReadonlySet<string>): boolean {
  const host = headers.host;
  return typeof host === 'string' && allowed.has(host.toLowerCase());
}

/**
 * Whether a WebSocket upgrade's Origin is acceptable: a browser must be on this very page
 * (`http://<Host>`); no Origin at all is only allowed for non-browser clients using Bearer.
 */
export function originAllowed(headers: IncomingHttpHeaders, how: 'cookie' | 'bearer'): boolean {
  const origin = headers.origin;
  if (origin === undefined) return how === 'bearer';
  return typeof headers.host === 'string' && origin.toLowerCase() === `http://${headers.host.toLowerCase()}`;
}
