import { execFile, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect, createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PeerCredentialsError, cookieName, parsePeerInode, peerCredentials, processUids, socketHolders } from '../../src/service';
import { spawnCli } from '../support/cli';
import { openWs, wsCall } from '../support/http';
import { countWhenPassed } from './counts';

/**
 * Adversarial authentication of the two ways into the engine besides stdio.
 *
 * `serve` (HTTP + WebSocket, spawned as a real process in test mode, so no disk is touched): every
 * request needs the token, as the cookie the `/?token=` link trades it for or as a Bearer header,
 * under a Host the server is really bound to; a WebSocket upgrade with the cookie must also come
 * from the page's own Origin. Wrong, truncated, extended, misplaced tokens, foreign Origins and
 * DNS-rebinding Hosts are all tried, over a raw TCP socket so every header is exactly as written.
 *
 * `service --socket` (Unix socket): the file belongs to the live user with mode 0660, and the peer
 * of every connection is identified (src/service/peercred.ts) so that only the live user and root
 * are served, even when the file mode would let someone else in.
 *
 * Every refusal that passed its assertions is counted as `auth-refused`.
 */


// ---------------------------------------------------------------------------------------------
// Raw HTTP

interface RawReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Whether the server closed the connection (a refused upgrade must). */
  readonly closed: boolean;
}

/** The payload of a chunked body (latin1 text in, latin1 text out). */
function dechunk(text: string): string {
  let out = '';
  for (let at = 0; ; ) {
    const nl = text.indexOf('\r\n', at);
    if (nl === -1) return out;
    const size = parseInt(text.slice(at, nl), 16);
    if (!Number.isFinite(size) || size === 0) return out;
    out += text.slice(nl + 2, nl + 2 + size);
    at = nl + 2 + size + 2;
  }
}

/** Sends `request` bytes as they are and reads the reply; a 101 is returned as soon as its head is in. */
function rawExchange(port: number, request: Buffer | string, timeoutMs = 5000): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let settled = false;
    const finish = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      const text = buf.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end === -1) return reject(new Error(`no complete reply head: ${JSON.stringify(text.slice(0, 200))}`));
      const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim().toLowerCase();
        headers[name] = headers[name] === undefined ? line.slice(colon + 1).trim() : `${headers[name]}, ${line.slice(colon + 1).trim()}`;
      }
      let body = text.slice(end + 4);
      if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = dechunk(body);
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0), headers, body, closed });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (/^HTTP\/1\.1 101 /.test(buf.toString('latin1')) && buf.includes('\r\n\r\n')) finish(false);
    });
    sock.on('end', () => finish(true));
    sock.on('close', () => finish(true));
    sock.on('error', (e) => (buf.length > 0 ? finish(true) : reject(e)));
    sock.write(request);
  });
}

interface RequestSpec {
  readonly path?: string;
  readonly method?: string;
  /** The Host header; null leaves it out. */
  readonly host?: string | null;
  readonly headers?: Readonly<Record<string, string>>;
  /** A WebSocket upgrade instead of a plain request. */
  readonly upgrade?: boolean;
  readonly version?: '1.0' | '1.1';
  /** Bytes sent right after the head (frames pipelined behind an upgrade). */
  readonly after?: Buffer;
}

function requestBytes(port: number, spec: RequestSpec): Buffer {
  const lines = [`${spec.method ?? 'GET'} ${spec.path ?? (spec.upgrade ? '/rpc' : '/')} HTTP/${spec.version ?? '1.1'}`];
  const host = spec.host === undefined ? `127.0.0.1:${port}` : spec.host;
  if (host !== null) lines.push(`Host: ${host}`);
  if (spec.upgrade) {
    lines.push('Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, 'Sec-WebSocket-Version: 13');
  } else {
    lines.push('Connection: close');
  }
  for (const [name, value] of Object.entries(spec.headers ?? {})) {
    if (/[\r\n]/.test(name + value)) throw new Error('header with a line break');
    lines.push(`${name}: ${value}`);
  }
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), spec.after ?? Buffer.alloc(0)]);
}

/** A masked WebSocket text frame, as a client sends it. */
function wsTextFrame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  if (payload.length >= 126) throw new Error('frame too long for this helper');
  const mask = randomBytes(4);
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!))]);
}

// ---------------------------------------------------------------------------------------------
// serve

const UI_MARKER = 'ui-marker-c4f1e2';

/** Reads the child's stdout until its first full line. */
function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl !== -1) resolve(buf.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code} before printing its address`)));
  });
}

function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  return exited.finally(() => clearTimeout(timer));
}

describe('serve: token, Host and Origin', () => {
  let dir: string;
  let child: ChildProcess | undefined;
  let port: number;
  let token: string;
  let url: string;
  let tokenFile: string;
  let cookie: string;
  let self: string;
  let otherPort: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pi-sec-auth-'));
    mkdirSync(join(dir, 'ui', 'assets'), { recursive: true });
    writeFileSync(join(dir, 'ui', 'index.html'), `<!doctype html><title>${UI_MARKER}</title>`);
    writeFileSync(join(dir, 'ui', 'assets', 'app.js'), `console.log('${UI_MARKER}')`);
    tokenFile = join(dir, 'url');
    child = spawnCli(['serve', '--test-mode', '--port', '0', '--ui-dir', join(dir, 'ui'), '--token-file', tokenFile]);
    child.stderr!.resume();
    const listening = JSON.parse(await firstLine(child)) as { url: string; port: number };
    url = listening.url;
    port = listening.port;
    token = new URL(url).searchParams.get('token')!;
    cookie = `${cookieName(port)}=${token}`;
    self = `http://127.0.0.1:${port}`;
    otherPort = port === 65535 ? port - 1 : port + 1;
  });

  afterAll(async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (spec: RequestSpec): Promise<RawReply> => rawExchange(port, requestBytes(port, spec));
  const upgrade = (spec: RequestSpec): Promise<RawReply> => rawExchange(port, requestBytes(port, { ...spec, upgrade: true }));

  /** A refusal: the status, a short text at most, no UI, no engine data, no cookie; counted. */
  function expectRefused(r: RawReply, status: number | readonly number[], label: string): void {
    const statuses = typeof status === 'number' ? [status] : status;
    expect(statuses, `${label}: status ${r.status}`).toContain(r.status);
    expect(r.body.length, `${label}: body ${JSON.stringify(r.body)}`).toBeLessThanOrEqual(32);
    expect(r.body, label).not.toContain(UI_MARKER);
    expect(r.body, label).not.toMatch(/jsonrpc|result/);
    expect(r.headers['set-cookie'], label).toBeUndefined();
    expect(r.headers['access-control-allow-origin'], label).toBeUndefined();
    countWhenPassed('auth-refused');
  }

  /** A refused upgrade also leaves no open connection behind. */
  function expectUpgradeRefused(r: RawReply, status: number | readonly number[], label: string): void {
    expect(r.status, label).not.toBe(101);
    expect(r.closed, `${label}: the connection stays open`).toBe(true);
    expectRefused(r, status, label);
  }

  function expectUi(r: RawReply, label: string): void {
    expect(r.status, label).toBe(200);
    expect(r.body, label).toContain(UI_MARKER);
  }

  it('binds 127.0.0.1 only, and writes the URL to a 0600 token file', () => {
    const pid = child!.pid!;
    const inodes = new Set<string>();
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      } catch {
        /* closed meanwhile */
      }
    }
    const listening = (file: string): string[] =>
      readFileSync(file, 'utf8')
        .split('\n')
        .slice(1)
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => f.length > 9 && f[3] === '0A' && inodes.has(f[9]!))
        .map((f) => f[1]!);
    // /proc/net/tcp writes the IPv4 address as a little-endian hex word: 127.0.0.1 is 0100007F.
    const portHex = port.toString(16).toUpperCase().padStart(4, '0');
    expect(listening('/proc/net/tcp')).toEqual([`0100007F:${portHex}`]);
    expect(existsSync('/proc/net/tcp6') ? listening('/proc/net/tcp6') : []).toEqual([]);

    const st = statSync(tokenFile);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.uid).toBe(process.getuid!());
    expect(readFileSync(tokenFile, 'utf8').trim()).toBe(url);
    expect(url).toBe(`http://127.0.0.1:${port}/?token=${token}`);
  });

  it('trades the token link for an HttpOnly, SameSite=Strict, host-only session cookie', async () => {
    const r = await get({ path: `/?token=${token}` });
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe('/');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.body).toBe('');
    const attrs = r.headers['set-cookie']!.split(';').map((a) => a.trim());
    expect(attrs[0]).toBe(cookie);
    expect(attrs.slice(1).map((a) => a.toLowerCase())).toEqual(expect.arrayContaining(['httponly', 'samesite=strict', 'path=/']));
    // Host-only (no Domain), and a session cookie (no Expires, no Max-Age).
    expect(attrs.some((a) => /^(domain|expires|max-age)=/i.test(a))).toBe(false);
    expectUi(await get({ headers: { Cookie: cookie } }), 'the traded cookie');
  });

  it('refuses every request without a token, for the UI and for /rpc', async () => {
    for (const path of ['/', '/index.html', '/assets/app.js', '/rpc', '/favicon.ico']) {
      expectRefused(await get({ path }), 401, `GET ${path}`);
    }
    for (const method of ['HEAD', 'POST', 'PUT', 'OPTIONS']) expectRefused(await get({ method }), 401, method);
    expectUpgradeRefused(await upgrade({}), 401, 'upgrade, no Origin');
    expectUpgradeRefused(await upgrade({ headers: { Origin: self } }), 401, 'upgrade, same Origin');
  });

  it('refuses wrong tokens in every accepted place: changed, truncated, extended, empty, upper-cased', async () => {
    const flip = (c: string): string => (c === 'a' ? 'b' : 'a');
    const wrong: Array<[string, string]> = [
      ['first char changed', flip(token[0]!) + token.slice(1)],
      ['last char changed', token.slice(0, -1) + flip(token.at(-1)!)],
      ['another random token', randomBytes(16).toString('hex')],
      ['prefix (31)', token.slice(0, -1)],
      ['prefix (16)', token.slice(0, 16)],
      ['one char appended', `${token}a`],
      ['two chars appended', `${token}00`],
      ['doubled', token + token],
      ['empty', ''],
    ];
    if (token.toUpperCase() !== token) wrong.push(['upper-cased', token.toUpperCase()]);
    for (const [label, t] of wrong) {
      expectRefused(await get({ path: `/?token=${encodeURIComponent(t)}` }), 401, `link: ${label}`);
      expectRefused(await get({ headers: { Cookie: `${cookieName(port)}=${t}` } }), 401, `cookie: ${label}`);
      expectRefused(await get({ headers: { Authorization: `Bearer ${t}` } }), 401, `bearer: ${label}`);
      expectUpgradeRefused(await upgrade({ headers: { Cookie: `${cookieName(port)}=${t}`, Origin: self } }), 401, `upgrade cookie: ${label}`);
      expectUpgradeRefused(await upgrade({ headers: { Authorization: `Bearer ${t}` } }), 401, `upgrade bearer: ${label}`);
    }
    // The link trades only an exact token: padding is not trimmed away.
    for (const t of [` ${token}`, `${token} `, `${token}\t`]) {
      expectRefused(await get({ path: `/?token=${encodeURIComponent(t)}` }), 401, `link: ${JSON.stringify(t)}`);
    }
  });

  it('refuses the right token in the wrong place', async () => {
    const name = cookieName(port);
    const basic = (s: string): string => `Basic ${Buffer.from(s).toString('base64')}`;
    // Places the design does not read the token from: each must be as good as no token at all.
    const misplaced: Array<[string, Record<string, string>]> = [
      ['X-Token header', { 'X-Token': token }],
      ['X-Particle-Token header', { 'X-Particle-Token': token }],
      ['X-Auth-Token header', { 'X-Auth-Token': token }],
      ['Token header', { Token: token }],
      ['X-Api-Key header', { 'X-Api-Key': token }],
      ['cookie named token', { Cookie: `token=${token}` }],
      ['cookie without the port', { Cookie: `particle_installer=${token}` }],
      ['cookie of another port', { Cookie: `${cookieName(otherPort)}=${token}` }],
      ['cookie name in another case', { Cookie: `${name.toUpperCase()}=${token}` }],
      ['cookie name with a suffix', { Cookie: `${name}x=${token}` }],
      ['cookie with a quoted value', { Cookie: `${name}="${token}"` }],
      ['Basic user:token', { Authorization: basic(`user:${token}`) }],
      ['Basic token:', { Authorization: basic(`${token}:`) }],
      ['Basic :token', { Authorization: basic(`:${token}`) }],
      ['Basic with the raw token', { Authorization: `Basic ${token}` }],
      ['Authorization without a scheme', { Authorization: token }],
      ['Token scheme', { Authorization: `Token ${token}` }],
      ['Bearer without a space', { Authorization: `Bearer${token}` }],
      ['Bearer=token', { Authorization: `Bearer=${token}` }],
      ['Bearer, quoted', { Authorization: `Bearer "${token}"` }],
      ['Bearer, then more', { Authorization: `Bearer ${token} extra` }],
      ['Bearer, then a comma', { Authorization: `Bearer ${token},` }],
      ['Bearer twice', { Authorization: `Bearer Bearer ${token}` }],
      ['in the Origin', { Origin: `${self}/?token=${token}` }],
      ['in the Referer', { Referer: `${self}/?token=${token}` }],
      ['as a WebSocket subprotocol', { 'Sec-WebSocket-Protocol': token }],
      ['as Proxy-Authorization', { 'Proxy-Authorization': `Bearer ${token}` }],
    ];
    for (const [label, headers] of misplaced) {
      expectRefused(await get({ headers }), 401, `GET: ${label}`);
      // Same Origin added where none is given, so the token's absence is what refuses the upgrade.
      expectUpgradeRefused(await upgrade({ headers: { Origin: self, ...headers } }), 401, `upgrade: ${label}`);
    }
    for (const path of [`/${token}`, `/token/${token}`, `/token=${token}`, `/;token=${token}`, `/?tok=${token}`, `/?Token=${token}`, `/?TOKEN=${token}`, `/?token%00=${token}`]) {
      expectRefused(await get({ path }), 401, `GET ${path}`);
    }
    // The link trade is for the page; /rpc takes only the cookie or Bearer, never a URL that logs keep.
    for (const path of [`/rpc?token=${token}`, `/rpc?access_token=${token}`]) {
      expectUpgradeRefused(await upgrade({ path, headers: { Origin: self } }), 401, `upgrade ${path}`);
    }
    // Anything but /rpc is no WebSocket endpoint at all, whatever it carries.
    for (const path of [`/rpc/${token}`, `/${token}`, `/rpc;token=${token}`, '/rpc/', '/RPC']) {
      expectUpgradeRefused(await upgrade({ path, headers: { Origin: self, Cookie: cookie } }), 404, `upgrade ${path}`);
    }
  });

  it('accepts Bearer as RFC 7235 allows it: any case of the scheme, more than one space', async () => {
    for (const value of [`Bearer ${token}`, `bearer ${token}`, `BEARER ${token}`, `Bearer    ${token}`, `Bearer ${token}   `]) {
      expectUi(await get({ headers: { Authorization: value } }), JSON.stringify(value));
      const r = await upgrade({ headers: { Authorization: value } });
      expect(r.status, JSON.stringify(value)).toBe(101);
    }
    // And the engine really answers over a WebSocket opened with the cookie from the page's Origin.
    const opened = await openWs(port, { Cookie: cookie, Origin: self });
    expect('ws' in opened).toBe(true);
    if ('ws' in opened) {
      const reply = await wsCall(opened.ws, 1, 'getInfo');
      expect(reply.result).toMatchObject({ protocol: 1, mode: 'test' });
      opened.ws.close();
    }
  });

  it('refuses a WebSocket from any other Origin, even with a valid cookie or Bearer', async () => {
    const origins = [
      'http://evil.example',
      `http://evil.example:${port}`,
      'null',
      'file://',
      'file:///',
      `http://127.0.0.1:${otherPort}`,
      `https://127.0.0.1:${port}`,
      `ws://127.0.0.1:${port}`,
      `http://localhost:${port}`,
      `http://[::1]:${port}`,
      `http://127.0.0.1:${port}.evil.example`,
      `http://127.0.0.1:${port}@evil.example`,
      `${self}/`,
      `${self}/index.html`,
      'chrome-extension://abcdefghijklmnop',
      '',
    ];
    for (const origin of origins) {
      expectUpgradeRefused(await upgrade({ headers: { Cookie: cookie, Origin: origin } }), 403, `cookie, Origin ${JSON.stringify(origin)}`);
      expectUpgradeRefused(await upgrade({ headers: { Authorization: `Bearer ${token}`, Origin: origin } }), 403, `bearer, Origin ${JSON.stringify(origin)}`);
    }
    // A browser always sends an Origin with a WebSocket; a cookie without one is not a browser's request.
    expectUpgradeRefused(await upgrade({ headers: { Cookie: cookie } }), 403, 'cookie without an Origin');
    // The page's own Origin works, under either loopback name.
    expect((await upgrade({ headers: { Cookie: cookie, Origin: self } })).status).toBe(101);
    expect((await upgrade({ host: `localhost:${port}`, headers: { Cookie: cookie, Origin: `http://localhost:${port}` } })).status).toBe(101);
  });

  it('gives another Origin no readable copy of the UI (no CORS)', async () => {
    // The static UI holds no engine data and a browser would not send the SameSite=Strict cookie
    // cross-site anyway; but even a request that carries it gets no CORS grant to read the answer.
    for (const origin of ['http://evil.example', 'null']) {
      const page = await get({ headers: { Cookie: cookie, Origin: origin } });
      expectUi(page, origin);
      expect(page.headers['access-control-allow-origin']).toBeUndefined();
      expect(page.headers['access-control-allow-credentials']).toBeUndefined();
      const preflight = await get({ method: 'OPTIONS', headers: { Cookie: cookie, Origin: origin, 'Access-Control-Request-Method': 'GET' } });
      expect(preflight.status).toBe(405);
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    }
  });

  it('refuses DNS-rebinding Host headers even with a valid token', async () => {
    const hosts = [
      `evil.example:${port}`,
      'evil.example',
      `localhost.evil.example:${port}`,
      `127.0.0.1.nip.io:${port}`,
      `127-0-0-1.sslip.io:${port}`,
      `127.0.0.1:${otherPort}`,
      `localhost:${otherPort}`,
      '127.0.0.1',
      'localhost',
      `127.0.0.1:0${port}`,
      `127.0.0.2:${port}`,
      `0.0.0.0:${port}`,
      `127.1:${port}`,
      `2130706433:${port}`,
      `0x7f000001:${port}`,
      `localhost.:${port}`,
      `127.0.0.1.:${port}`,
      `127.0.0.1:${port}.evil.example`,
      `127.0.0.1:${port}@evil.example`,
      `evil.example@127.0.0.1:${port}`,
      `[::1]:${port}`,
      `[::ffff:127.0.0.1]:${port}`,
      `[::ffff:7f00:1]:${port}`,
      `[::]:${port}`,
      `::1:${port}`,
      `[0:0:0:0:0:0:0:1]:${port}`,
    ];
    for (const host of hosts) {
      const origin = `http://${host}`;
      expectRefused(await get({ host, headers: { Cookie: cookie } }), 403, `GET, Host ${host}, cookie`);
      expectRefused(await get({ host, headers: { Authorization: `Bearer ${token}` } }), 403, `GET, Host ${host}, bearer`);
      expectRefused(await get({ host, path: `/?token=${token}` }), 403, `link trade, Host ${host}`);
      expectUpgradeRefused(await upgrade({ host, headers: { Cookie: cookie, Origin: origin } }), 403, `upgrade, Host ${host}, cookie`);
      expectUpgradeRefused(await upgrade({ host, headers: { Authorization: `Bearer ${token}` } }), 403, `upgrade, Host ${host}, bearer`);
    }
    // No Host at all: Node itself rejects an HTTP/1.1 request without one (400); HTTP/1.0 reaches our check.
    expectRefused(await get({ host: null, headers: { Cookie: cookie } }), [400, 403], 'HTTP/1.1 without Host');
    expectRefused(await get({ host: null, version: '1.0', headers: { Authorization: `Bearer ${token}` } }), 403, 'HTTP/1.0 without Host');
    expectUpgradeRefused(await upgrade({ host: null, headers: { Authorization: `Bearer ${token}` } }), [400, 403], 'upgrade without Host');
    expectRefused(await get({ host: '', headers: { Cookie: cookie } }), [400, 403], 'empty Host');
    // Two Host headers, the foreign one first.
    expectRefused(await get({ host: `evil.example:${port}`, headers: { Host: `127.0.0.1:${port}`, Cookie: cookie } }), [400, 403], 'two Hosts');
    // The bound names still work, in any case (DNS names are case-insensitive).
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`]) expectUi(await get({ host, headers: { Cookie: cookie } }), host);
  });

  it('answers nothing to WebSocket frames pipelined behind a refused upgrade', async () => {
    const frames = Buffer.concat([wsTextFrame('{"jsonrpc":"2.0","id":1,"method":"getInfo"}'), wsTextFrame('{"jsonrpc":"2.0","id":2,"method":"listDisks"}')]);
    const cases: Array<[string, RequestSpec, number]> = [
      ['no token', { headers: { Origin: self } }, 401],
      ['foreign Origin', { headers: { Origin: 'http://evil.example', Cookie: cookie } }, 403],
      ['rebinding Host', { host: `evil.example:${port}`, headers: { Authorization: `Bearer ${token}` } }, 403],
    ];
    for (const [label, spec, status] of cases) {
      const r = await rawExchange(port, requestBytes(port, { ...spec, upgrade: true, after: frames }));
      expectUpgradeRefused(r, status, label);
      expect(r.body.trim()).toMatch(/^(Unauthorized|Forbidden)$/);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Unix socket: peer credentials

/** A saved `ss -xnH` listing (iproute2 6.1), with a socket path holding spaces and regex characters. */
const SS_SAMPLE = [
  'u_str ESTAB 0      0                                  * 1186   * 1187  ',
  'u_str ESTAB 0      0      /run/dbus/system_bus_socket 20411  * 20410 ',
  'u_str ESTAB 0      0      /run/pi engine (1)+.sock 330699 * 330698',
  'u_str ESTAB 0      0      /run/pi engine (1)+.sock 330702 * 330701',
  'u_str ESTAB 0      0                                  * 330698 * 330699',
  'u_seq ESTAB 0      0      @/tmp/.X11-unix/X0 44120 * 44119',
  '',
].join('\n');
const SS_PATH = '/run/pi engine (1)+.sock';

describe('peer credentials: the ss parser', () => {
  it('finds the peer inode of our row, and only of our row', () => {
    expect(parsePeerInode(SS_SAMPLE, SS_PATH, 330699)).toBe(330698);
    expect(parsePeerInode(SS_SAMPLE, SS_PATH, 330702)).toBe(330701);
    expect(parsePeerInode(SS_SAMPLE, '/run/dbus/system_bus_socket', 20411)).toBe(20410);
  });

  it('refuses to guess: missing row, another path, no peer, a named peer, a forged row', () => {
    const attempts: Array<[string, string, string, number]> = [
      ['no such inode', SS_SAMPLE, SS_PATH, 999999],
      ['the inode under another path', SS_SAMPLE, '/run/other.sock', 330699],
      ['an inode that is a peer, not ours', SS_SAMPLE, SS_PATH, 330698],
      ['empty output', '', SS_PATH, 330699],
      ['the peer has gone (inode 0)', `u_str ESTAB 0 0 ${SS_PATH} 330699 * 0\n`, SS_PATH, 330699],
      // A client that bound its end to a name: that name sits in our row, before the peer inode.
      ['a named peer', `u_str ESTAB 0 0 ${SS_PATH} 330699 /tmp/client.sock 330698\n`, SS_PATH, 330699],
      // ...and one whose name ends the line early and forges the rest: "x * 1\n" puts "* 1" where the inode goes.
      ['a name ending the row early', `u_str ESTAB 0 0 ${SS_PATH} 330699 x * 1\n 330698\n`, SS_PATH, 330699],
      // A socket whose name carries a whole forged row for our inode, pointing at a root-held socket.
      ['a forged row in a name', `u_str ESTAB 0 0 /tmp/a\nu_str ESTAB 0 0 ${SS_PATH} 330699 * 20410\n 555 * 556\n${SS_SAMPLE}`, SS_PATH, 330699],
      ['garbage', 'ss: netlink failure\n', SS_PATH, 330699],
    ];
    for (const [label, text, path, inode] of attempts) {
      expect(() => parsePeerInode(text, path, inode), label).toThrow(PeerCredentialsError);
    }
  });
});

describe('peer credentials: procfs', () => {
  let fake: string;
  beforeAll(() => {
    fake = mkdtempSync(join(tmpdir(), 'pi-sec-proc-'));
    const proc = (pid: number, uids: string, fds: Record<string, string>): void => {
      mkdirSync(join(fake, String(pid), 'fd'), { recursive: true });
      writeFileSync(join(fake, String(pid), 'status'), `Name:\tx\nUmask:\t0022\nUid:\t${uids}\nGid:\t0\t0\t0\t0\n`);
      for (const [fd, target] of Object.entries(fds)) symlinkSync(target, join(fake, String(pid), 'fd', fd));
    };
    proc(100, '1000\t1000\t1000\t1000', { '0': '/dev/null', '5': 'socket:[4242]' });
    proc(200, '65534\t0\t0\t0', { '3': 'socket:[42420]', '9': 'socket:[4242]' });
    proc(300, '0\t0\t0\t0', { '1': 'socket:[4243]' });
    mkdirSync(join(fake, 'self'));
    mkdirSync(join(fake, '400')); // a process without a readable fd directory
  });
  afterAll(() => rmSync(fake, { recursive: true, force: true }));

  it('lists every holder of an inode, and reads real and effective uids', async () => {
    expect(await socketHolders(4242, fake)).toEqual([100, 200]);
    expect(await socketHolders(4243, fake)).toEqual([300]);
    expect(await socketHolders(424, fake)).toEqual([]);
    expect(await processUids(200, fake)).toEqual({ pid: 200, uid: 65534, euid: 0 });
    await expect(processUids(400, fake)).rejects.toThrow(PeerCredentialsError);
  });

  const hasSs = spawnSync('ss', ['-V'], { stdio: 'ignore' }).status === 0;
  if (!hasSs) console.warn('[security] live peer-credential test skipped: ss (iproute2) is not installed');
  it.skipIf(!hasSs)('identifies a live peer: this process, then a child process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pi-sec-peer-'));
    const path = join(dir, 'p.sock');
    const accepted: Socket[] = [];
    const server: Server = createServer((s) => void accepted.push(s));
    await new Promise<void>((r) => server.listen(path, r));
    try {
      const client = createConnection(path);
      await new Promise((r) => client.once('connect', r));
      while (accepted.length < 1) await new Promise((r) => setTimeout(r, 10));
      const mine = await peerCredentials(accepted[0]!, path);
      expect(mine.processes).toEqual([{ pid: process.pid, uid: process.getuid!(), euid: process.geteuid!() }]);
      client.destroy();

      const holder = execFile(process.execPath, ['-e', 'const s=require("net").createConnection(process.argv[1]);s.on("connect",()=>console.log("up"));setTimeout(()=>{},30000)', path]);
      try {
        await new Promise<void>((r) => holder.stdout!.once('data', () => r()));
        while (accepted.length < 2) await new Promise((r) => setTimeout(r, 10));
        const theirs = await peerCredentials(accepted[1]!, path);
        expect(theirs.processes.map((p) => p.pid)).toEqual([holder.pid]);
      } finally {
        holder.kill('SIGKILL');
      }
    } finally {
      for (const s of accepted) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const hasPython = spawnSync('python3', ['-c', 'import socket'], { stdio: 'ignore' }).status === 0;
  if (hasSs && !hasPython) console.warn('[security] forged-listing test skipped: python3 is not installed (it binds the decoy socket)');
  it.skipIf(!hasSs || !hasPython)('refuses to identify a peer when a socket name forges our row in the listing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pi-sec-forge-'));
    const path = join(dir, 'p.sock');
    const accepted: Socket[] = [];
    const server: Server = createServer((s) => void accepted.push(s));
    await new Promise<void>((r) => server.listen(path, r));
    const client = createConnection(path);
    let decoy: ChildProcess | undefined;
    try {
      await new Promise((r) => client.once('connect', r));
      while (accepted.length < 1) await new Promise((r) => setTimeout(r, 10));
      const real = await peerCredentials(accepted[0]!, path);
      // A local user binds a socket (abstract, so any bytes go) whose name ends ss's line and then
      // writes our row again, pointing at another socket; it connects it so that ss lists it.
      const inode = real.inode;
      const script = [
        'import socket, sys',
        'tag = sys.argv[1]',
        'l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)',
        'l.bind("\\0pi-sec-l-" + tag)',
        'l.listen()',
        'c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)',
        'c.bind("\\0pi-sec-d-" + tag + "\\nu_str ESTAB 0 0 " + sys.argv[2] + " " + sys.argv[3] + " * 1")',
        'c.connect("\\0pi-sec-l-" + tag)',
        'a, _ = l.accept()',
        'print("up", flush=True)',
        'sys.stdin.read()',
      ].join('\n');
      decoy = execFile('python3', ['-c', script, randomBytes(4).toString('hex'), path, String(inode)]);
      await new Promise<void>((resolve, reject) => {
        decoy!.stdout!.once('data', () => resolve());
        decoy!.once('exit', (code) => reject(new Error(`decoy exited with ${code}`)));
      });
      await expect(peerCredentials(accepted[0]!, path)).rejects.toThrow(/appears 2 times/);
      countWhenPassed('auth-refused');
      decoy.stdin!.end();
      await new Promise((r) => decoy!.once('exit', r));
      // With the decoy gone, the same connection is identified again.
      expect((await peerCredentials(accepted[0]!, path)).peerInode).toBe(real.peerInode);
    } finally {
      if (decoy && decoy.exitCode === null) decoy.kill('SIGKILL');
      client.destroy();
      for (const s of accepted) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Runs a line-protocol client as `uid`/`gid` through setpriv (or with setpriv's own id options); resolves with what it saw. */
function clientAs(uid: number | readonly string[], gid: number, path: string, cwd: string): Promise<{ error?: string; lines: string[]; timeout?: boolean }> {
  const script = [
    'const s = require("net").createConnection(process.argv[1]);',
    'let out = "";',
    'const done = (x) => { console.log(JSON.stringify({ ...x, lines: out.split("\\n").filter(Boolean) })); process.exit(0); };',
    's.on("error", (e) => done({ error: e.code }));',
    's.on("connect", () => s.write(JSON.stringify({ jsonrpc: "2.0", id: 7, method: "getInfo" }) + "\\n"));',
    's.setEncoding("utf8").on("data", (d) => { out += d; if (out.includes("\\"id\\":7")) s.end(); });',
    's.on("close", () => done({}));',
    'setTimeout(() => done({ timeout: true }), 8000);',
  ].join('\n');
  return new Promise((resolve, reject) => {
    execFile(
      'setpriv',
      [...(typeof uid === 'number' ? [`--reuid=${uid}`, `--regid=${gid}`] : uid), '--clear-groups', process.execPath, '-e', script, path],
      { cwd, timeout: 15_000, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`setpriv client failed: ${error.message} ${stderr}`));
        resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as { error?: string; lines: string[]; timeout?: boolean });
      },
    );
  });
}

/** What a refused client must have seen: one JSON-RPC error line, unauthorized, and a closed connection. */
function expectPeerRefused(seen: { error?: string; lines: string[]; timeout?: boolean }, label: string): void {
  expect(seen.error, label).toBeUndefined();
  expect(seen.timeout, `${label}: the engine kept the connection open`).toBeUndefined();
  expect(seen.lines, label).toHaveLength(1);
  const msg = JSON.parse(seen.lines[0]!) as { id: unknown; result?: unknown; error: { code: number; data: { code: string; kind: string } } };
  expect(msg.id, label).toBeNull();
  expect(msg.result, label).toBeUndefined();
  expect(msg.error.code, label).toBe(-32000);
  expect(msg.error.data, label).toMatchObject({ code: 'unauthorized', kind: 'user' });
  countWhenPassed('auth-refused');
}

function expectServed(seen: { error?: string; lines: string[] }, label: string): void {
  expect(seen.error, label).toBeUndefined();
  const reply = seen.lines.map((l) => JSON.parse(l) as { id?: unknown; result?: { protocol?: number } }).find((m) => m.id === 7);
  expect(reply?.result?.protocol, label).toBe(1);
}

/** Starts `service --socket` and waits until it listens; resolves with the child and its stderr so far. */
async function startSocketService(args: readonly string[]): Promise<{ child: ChildProcess; stderr: () => string }> {
  const child = spawnCli(['service', '--mode', 'test', ...args]);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout!.resume();
  for (let i = 0; i < 600 && !/listening on /.test(stderr); i++) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!/listening on /.test(stderr)) throw new Error(`service did not start listening: ${stderr}`);
  return { child, stderr: () => stderr };
}

const isRoot = process.getuid?.() === 0;
const hasSetpriv = spawnSync('setpriv', ['--version'], { stdio: 'ignore' }).status === 0;
const hasSs = spawnSync('ss', ['-V'], { stdio: 'ignore' }).status === 0;
const socketSkip = !isRoot ? 'needs root (chown of the socket, clients run as other users)' : !hasSetpriv ? 'setpriv (util-linux) is not installed' : !hasSs ? 'ss (iproute2) is not installed' : null;
if (socketSkip) console.warn(`[security] Unix socket peer-credential tests skipped: ${socketSkip}`);

describe.skipIf(socketSkip !== null)('service --socket: only the live user and root', () => {
  const LIVE = 1000;
  let dir: string;
  let path: string;
  let service: { child: ChildProcess; stderr: () => string } | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pi-sec-sock-'));
    // Other users must reach the socket file, so that its mode and the peer check are what decide.
    chmodSync(dir, 0o755);
    path = join(dir, 'engine.sock');
    service = await startSocketService(['--socket', path, '--socket-owner', String(LIVE)]);
  });

  afterAll(async () => {
    await stopChild(service?.child);
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the socket 0660, owned by the live user', () => {
    const st = lstatSync(path);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o660);
    expect(st.uid).toBe(LIVE);
    expect(st.gid).toBe(0);
  });

  it('serves root and the live user', async () => {
    expectServed(await clientAs(0, 0, path, dir), 'root');
    expectServed(await clientAs(LIVE, LIVE, path, dir), 'live user');
    // The uid decides, not the group.
    expectServed(await clientAs(LIVE, 0, path, dir), 'live user in group root');
  });

  it('keeps other users out by the file mode', async () => {
    for (const uid of [65534, 1001]) {
      const seen = await clientAs(uid, uid, path, dir);
      expect(seen.error, `uid ${uid}`).toBe('EACCES');
      countWhenPassed('auth-refused');
    }
  });

  it('refuses other users by their peer credentials when the file mode would let them in', async () => {
    const before = (service!.stderr().match(/refused a connection/g) ?? []).length;
    chmodSync(path, 0o666);
    try {
      expectPeerRefused(await clientAs(65534, 65534, path, dir), 'nobody');
      expectPeerRefused(await clientAs(1001, 1001, path, dir), 'uid 1001');
      expectPeerRefused(await clientAs(65534, LIVE, path, dir), 'nobody in the live group');
      // Real and effective uid must both be allowed: the live user's euid with another real uid is not enough.
      const mixed = ['--ruid=65534', `--euid=${LIVE}`, '--regid=65534'];
      expectPeerRefused(await clientAs(mixed, 0, path, dir), 'real nobody, effective live user');
      // The live user is still served meanwhile.
      expectServed(await clientAs(LIVE, LIVE, path, dir), 'live user, socket 0666');
    } finally {
      chmodSync(path, 0o660);
    }
    await new Promise((r) => setTimeout(r, 100));
    const logged = (service!.stderr().match(/refused a connection/g) ?? []).length - before;
    expect(logged).toBe(4);
    expect(service!.stderr()).toMatch(/refused a connection on .* from pid \d+ uid 65534 euid 65534: uid 65534 not allowed/);
  });

  it('lets --socket-allow-uid add a user, and no one else', async () => {
    const path2 = join(dir, 'second.sock');
    const second = await startSocketService(['--socket', path2, '--socket-owner', String(LIVE), '--socket-allow-uid', '1001']);
    try {
      chmodSync(path2, 0o666);
      expectServed(await clientAs(1001, 1001, path2, dir), 'uid 1001, allowed');
      expectServed(await clientAs(LIVE, LIVE, path2, dir), 'live user');
      expectPeerRefused(await clientAs(65534, 65534, path2, dir), 'nobody');
    } finally {
      await stopChild(second.child);
    }
    expect(existsSync(path2)).toBe(false);
  });
});
