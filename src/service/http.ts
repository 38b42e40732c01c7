import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_MESSAGE_BYTES } from '../shared';
import { allowedHosts, authenticate, hostAllowed, newToken, originAllowed, sessionCookie, tokenMatches } from './auth';
import type { Logger } from './log';
import type { RpcServer } from './rpc-core';
import { SECURITY_HEADERS, sendText, serveStatic } from './static';

export interface HttpOptions {
  /** Address to bind; 127.0.0.1 unless asked otherwise. */
  readonly host?: string;
  /** Port; 0 picks a free one. */
  readonly port?: number;
  /** Directory of the built renderer. */
  readonly uiDir: string;
  /** Fixed token (tests); a fresh random one by default. */
  readonly token?: string;
}

export interface HttpService {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  /** Settles once the server has stopped. */
  readonly done: Promise<void>;
  close(): Promise<void>;
}

/** Path of the WebSocket endpoint speaking the engine protocol, one message per frame. */
export const RPC_PATH = '/rpc';

/**
 * Largest WebSocket frame read at all. A message over MAX_MESSAGE_BYTES but under this cap gets the
 * same in-band error as on the line transports and the connection stays usable; only a frame over
 * the cap makes ws close the connection (1009) without buffering it.
 */
export const WS_MAX_FRAME_BYTES = 4 * MAX_MESSAGE_BYTES;

function refuseUpgrade(socket: Duplex, status: 401 | 403 | 404, text: string): void {
  const reason = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' }[status];
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: ${text.length + 1}\r\n\r\n${text}\n`);
}

function pathAndQuery(req: IncomingMessage): { path: string; query: URLSearchParams } {
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  return { path: q === -1 ? raw : raw.slice(0, q), query: new URLSearchParams(q === -1 ? '' : raw.slice(q + 1)) };
}

/**
 * Whether a request comes from a navigation another site started (Fetch Metadata: `cross-site` or
 * `same-site`, which covers a file:// page). Typed addresses, bookmarks and command lines send
 * `none`; browsers without Fetch Metadata send nothing and keep the plain redirect.
 */
export function crossSiteNavigation(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  return site === 'cross-site' || site === 'same-site';
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * The page that follows a token trade started by another site: it moves on to `location` at once
 * (no script: the CSP allows none inline), in the wizard's background colour, with a link for a
 * browser that does not follow refreshes. `notice` is what the wizard's own page shows until its code
 * has run (see `loadingNotice`): with it, this page reads the same as the next one. On a loaded
 * one-CPU machine the kiosk's screen was one colour for 19 s from the start of this navigation to the
 * wizard's first text; with the notice, the longest such stretch was 7 s (the browser does not keep
 * this page on the screen until the next one paints: 3-4 s of plain background came between them).
 */
export function tradePage(location: string, notice = ''): string {
  const to = escapeHtml(location);
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0; url=${to}"><title>Particle Installer</title><style>html,body{margin:0;background:#f3f5f8;color:#334155;font-family:sans-serif}.moves-on{position:absolute;left:0.5rem;top:0.5rem}</style></head><body><p class="moves-on"><a href="${to}">Particle Installer</a></p>${notice}</body></html>\n`;
}

/**
 * The notice the built wizard's page shows until its code has run: the content of its root element
 * (`<div id="root">…</div>`, ending where the page's script begins), or '' when the page has none. It
 * is static markup from the build (no script, only inline styles), so the trade page can show it too.
 */
export function loadingNotice(indexHtml: string): string {
  const m = /<div id="root">([\s\S]*?)<\/div>\s*(?:<script\b|<\/body>)/.exec(indexHtml);
  if (!m?.[1]) return '';
  const inner = m[1].replace(/<!--[\s\S]*?-->/g, '').trim();
  return /<script\b|\son\w+\s*=|javascript:/i.test(inner) ? '' : inner;
}

/**
 * `serve`: the renderer bundle over HTTP and the engine protocol over a WebSocket, for a browser
 * (remote install, QA, kiosk fallback). Bound to loopback by default and guarded by a token.
 */
export async function serveHttp(server: RpcServer, options: HttpOptions, log: Logger): Promise<HttpService> {
  const token = options.token ?? newToken();
  const bindHost = options.host ?? '127.0.0.1';
  let allowed = new Set<string>();
  let port = 0;
  const notice = loadingNotice(await readFile(join(options.uiDir, 'index.html'), 'utf8').catch(() => ''));

  const wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_FRAME_BYTES });
  const clients = new Set<WebSocket>();
  const unsubscribe = server.subscribe((line) => {
    for (const ws of clients) if (ws.readyState === ws.OPEN) ws.send(line);
  });

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostAllowed(req.headers, allowed)) return sendText(res, 403, 'Forbidden');
    const { path, query } = pathAndQuery(req);
    const offered = query.get('token');
    if (offered !== null) {
      if (!tokenMatches(token, offered)) return sendText(res, 401, 'Unauthorized');
      // Only the link itself (a GET of the page) trades the token; nothing else takes it from the query.
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'Method not allowed', { Allow: 'GET, HEAD' });
      // Trade the token in the link for a cookie, and drop it from the address bar and history; other
      // parameters (?pseudo=1) stay.
      const rest = new URLSearchParams(query);
      rest.delete('token');
      const location = rest.size > 0 ? `/?${rest.toString()}` : '/';
      if (crossSiteNavigation(req)) {
        // Followed from another site (the kiosk's file:// starting page, a link in a web page): a
        // browser would not send the SameSite=Strict cookie on a redirect at the end of that
        // navigation, and the wizard would answer "Unauthorized". A page of this origin that moves on
        // by itself starts a navigation of its own, which is same-site and carries the cookie.
        const body = tradePage(location, notice);
        res.writeHead(200, {
          ...SECURITY_HEADERS,
          'Set-Cookie': sessionCookie(token, port),
          'Content-Type': 'text/html; charset=utf-8',
          'Content-Length': String(Buffer.byteLength(body)),
          'Cache-Control': 'no-store',
        });
        return void res.end(req.method === 'HEAD' ? undefined : body);
      }
      res.writeHead(303, { 'Set-Cookie': sessionCookie(token, port), Location: location, 'Cache-Control': 'no-store' });
      return void res.end();
    }
    if (authenticate(req.headers, token, port) === null) return sendText(res, 401, 'Unauthorized');
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'Method not allowed', { Allow: 'GET, HEAD' });
    await serveStatic(options.uiDir, path, req.method, res);
  }

  const http = createServer((req, res) => {
    onRequest(req, res).catch((e: unknown) => {
      log.error(`HTTP ${req.method ?? '?'} failed: ${String(e)}`);
      if (!res.headersSent) sendText(res, 500, 'Internal error');
      else res.destroy();
    });
  });

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (!hostAllowed(req.headers, allowed)) return refuseUpgrade(socket, 403, 'Forbidden');
    if (pathAndQuery(req).path !== RPC_PATH) return refuseUpgrade(socket, 404, 'Not found');
    const how = authenticate(req.headers, token, port);
    if (how === null) return refuseUpgrade(socket, 401, 'Unauthorized');
    if (!originAllowed(req.headers, how)) return refuseUpgrade(socket, 403, 'Forbidden');
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      ws.on('message', (data, isBinary) => {
        // Too large (but under the cap): refuse it in-band without decoding it, like the line transports.
        const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
        if (size > MAX_MESSAGE_BYTES) {
          if (ws.readyState === ws.OPEN) ws.send(server.overflowResponse());
          return;
        }
        const line = isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString();
        void server.handleLine(line).then((response) => {
          if (response !== null && ws.readyState === ws.OPEN) ws.send(response);
        });
      });
      ws.on('close', () => clients.delete(ws));
      ws.on('error', () => clients.delete(ws));
    });
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, bindHost, () => {
      http.off('error', reject);
      resolve();
    });
  });
  port = (http.address() as AddressInfo).port;
  allowed = allowedHosts(bindHost, port);
  const shownHost = bindHost === '0.0.0.0' || bindHost === '::' ? '127.0.0.1' : bindHost;
  const url = `http://${isIP(shownHost) === 6 ? `[${shownHost}]` : shownHost}:${port}/?token=${token}`;

  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= new Promise<void>((resolve) => {
      unsubscribe();
      for (const ws of clients) ws.terminate();
      wss.close();
      http.close(() => {
        resolve();
        resolveDone();
      });
      http.closeAllConnections();
    }));
  return { url, port, token, done, close };
}
