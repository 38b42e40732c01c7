import type { InstallerApi } from '../../shared/api';
import { makeError, type InstallerError } from '../../shared/errors';
import { RpcClient } from '../../shared/rpc-client';

/**
 * How the renderer reaches the engine. In Electron the preload exposes `window.installer`; in a plain
 * browser (remote install, QA) the page talks JSON-RPC over a WebSocket to the `serve` command that
 * served it. The server authenticates the socket by the HttpOnly cookie it set for ?token=…, so no
 * secret is handled here.
 */
export interface Connection {
  readonly api: InstallerApi;
  /** How the engine is reached, for messages that differ (the browser hint about the token). */
  readonly transport: 'electron' | 'websocket';
}

declare global {
  interface Window {
    readonly installer?: InstallerApi;
  }
}

export function connect(win: Window = window): Connection {
  if (win.installer) return { api: win.installer, transport: 'electron' };
  return { api: connectWebSocket(rpcUrl(win.location)), transport: 'websocket' };
}

export function rpcUrl(location: Pick<Location, 'protocol' | 'host'>): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/rpc`;
}

function lostError(reason: string): InstallerError {
  // No contract code means "connection lost"; this is the machine's problem, not a bug or the user's.
  return makeError('internal', reason, { kind: 'system' });
}

export function connectWebSocket(url: string, Socket: typeof WebSocket = WebSocket): InstallerApi {
  // Calls made while the socket is still opening wait here, in order.
  const queue: string[] = [];
  let opened = false;
  const ws = new Socket(url);
  const client = new RpcClient((line) => {
    if (ws.readyState === Socket.OPEN) ws.send(line);
    else if (ws.readyState === Socket.CONNECTING) queue.push(line);
    else throw new Error('the connection to the engine is closed');
  });
  ws.onopen = () => {
    opened = true;
    for (const line of queue.splice(0)) ws.send(line);
  };
  ws.onmessage = (event: MessageEvent) => {
    // One JSON object per line; a frame may carry more than one line.
    if (typeof event.data !== 'string') return;
    for (const line of event.data.split('\n')) if (line.trim() !== '') client.receive(line);
  };
  ws.onclose = (event: CloseEvent) => {
    queue.length = 0;
    const why = event.reason ? ` (${event.reason})` : '';
    client.close(
      lostError(
        opened
          ? `The connection to the installer engine at ${url} was lost (code ${event.code})${why}.`
          : `Could not connect to the installer engine at ${url} (code ${event.code})${why}.`,
      ),
    );
  };
  return client.api();
}
