import { chmodSync, chownSync, lstatSync, readFileSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { RPC_APP_ERROR, makeError, rpcError } from '../shared';
import type { Logger } from './log';
import { serveLines } from './lines';
import { peerCredentials, type PeerCredentials, type PeerCredentialsOptions } from './peercred';
import type { RpcServer } from './rpc-core';
import type { Transport } from './stdio';

/** Who may connect to the Unix socket. */
export interface SocketOptions {
  readonly path: string;
  /** File mode of the socket; 0o660 lets the group in, 0o600 only the owner. */
  readonly mode?: number;
  /** Group name or numeric gid given the socket (the live user's group). */
  readonly group?: string;
  /** Numeric uid given the socket (the live user). */
  readonly owner?: number;
  /**
   * When set, the peer of every connection is identified (see peercred.ts) and only processes whose
   * real and effective uids are all in this list, or root (uid 0, always allowed), are served. A
   * connection whose peer cannot be identified is refused too. Unset: the file mode alone decides.
   */
  readonly allowedUids?: readonly number[];
  /** How peers are identified (tests). */
  readonly peerCredentials?: PeerCredentialsOptions;
}

/** Whether the peer check lets a connection in: the uids it found, or why not. */
type PeerVerdict = { readonly ok: true; readonly uids: readonly number[] } | { readonly ok: false; readonly message: string; readonly log: string };

async function checkPeer(socket: Socket, options: SocketOptions, allowed: ReadonlySet<number>): Promise<PeerVerdict> {
  let processes: PeerCredentials['processes'];
  try {
    processes = (await peerCredentials(socket, options.path, options.peerCredentials)).processes;
  } catch (e) {
    return {
      ok: false,
      message: 'The engine could not tell which user is connecting, so it refused the connection.',
      log: `refused a connection on ${options.path}: cannot identify the peer: ${e instanceof Error ? e.message : String(e)}`,
    };
  }
  const uids = [...new Set(processes.flatMap((p) => [p.uid, p.euid]))].sort((a, b) => a - b);
  const denied = uids.filter((u) => u !== 0 && !allowed.has(u));
  if (denied.length === 0) return { ok: true, uids };
  const who = processes.map((p) => `pid ${p.pid} uid ${p.uid} euid ${p.euid}`).join(', ');
  return {
    ok: false,
    message: `Connections from uid ${denied.join(', ')} are not allowed on this socket: only the users the engine was started for, and root, may use it.`,
    log: `refused a connection on ${options.path} from ${who}: uid ${denied.join(', ')} not allowed`,
  };
}

/** Resolves a group name to its gid from /etc/group; numeric strings pass through. */
export function resolveGroup(group: string, groupFile = '/etc/group'): number {
  if (/^\d+$/.test(group)) return Number(group);
  for (const line of readFileSync(groupFile, 'utf8').split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  throw new Error(`no such group: ${group}`);
}

// Only a socket nobody answers on is stale; a live one means another service owns the path, and a
// regular file is someone else's data that we must not delete.
async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return;
  }
  if (!isSocket) throw new Error(`${path} exists and is not a socket; refusing to replace it`);
  const alive = await new Promise<boolean>((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`another engine service is already listening on ${path}`);
  unlinkSync(path);
}

/**
 * The Unix socket transport: any number of clients, each speaking the line protocol; events go
 * to all of them. The socket is created with a restrictive umask so it is never briefly open to
 * everyone, then given its owner and group.
 */
export async function serveSocket(server: RpcServer, options: SocketOptions, log: Logger): Promise<Transport> {
  const mode = options.mode ?? 0o660;
  const gid = options.group === undefined ? undefined : resolveGroup(options.group);
  await removeStaleSocket(options.path);

  const allowed = options.allowedUids === undefined ? undefined : new Set(options.allowedUids);
  // Every open connection (closed on close()); only those past the peer check get events.
  const connections = new Set<Socket>();
  const clients = new Set<Socket>();
  const serve = (socket: Socket): void => {
    clients.add(socket);
    const write = (line: string): void => {
      if (socket.writable) socket.write(`${line}\n`);
    };
    void serveLines(server, socket, write).finally(() => {
      clients.delete(socket);
      socket.end();
    });
  };
  const net = createServer((socket) => {
    connections.add(socket);
    socket.on('close', () => {
      connections.delete(socket);
      clients.delete(socket);
    });
    socket.on('error', () => clients.delete(socket));
    if (allowed === undefined) return serve(socket);
    // Nothing is read until the peer is known: the stream stays paused and buffers what arrives.
    void checkPeer(socket, options, allowed).then((verdict) => {
      if (socket.destroyed) return;
      if (verdict.ok) return serve(socket);
      log.warn(verdict.log);
      const error = makeError('unauthorized', verdict.message);
      socket.end(`${rpcError(null, RPC_APP_ERROR, error.message, error)}\n`, () => socket.destroy());
    });
  });
  const unsubscribe = server.subscribe((line) => {
    for (const c of clients) if (c.writable) c.write(`${line}\n`);
  });

  const oldUmask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      net.once('error', reject);
      net.listen(options.path, () => {
        net.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(oldUmask);
  }
  try {
    if (options.owner !== undefined || gid !== undefined) chownSync(options.path, options.owner ?? -1, gid ?? -1);
    chmodSync(options.path, mode);
  } catch (e) {
    // Never leave a socket listening with the wrong owner: stop and remove it.
    unsubscribe();
    await new Promise<void>((r) => net.close(() => r()));
    throw new Error(`cannot give ${options.path} its owner and mode: ${(e as Error).message}`);
  }
  const who = allowed === undefined ? '' : `, uids ${['0', ...[...allowed].filter((u) => u !== 0).map(String)].join(', ')} only`;
  log.info(`listening on ${options.path} (mode ${mode.toString(8)}${who})`);

  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= new Promise<void>((resolve) => {
      unsubscribe();
      for (const c of connections) c.destroy();
      // libuv unlinks the socket file on close; check anyway so no stale file is left behind.
      net.close(() => {
        try {
          if (lstatSync(options.path).isSocket()) unlinkSync(options.path);
        } catch {
          /* already gone */
        }
        resolve();
        resolveDone();
      });
    }));
  return { done, close };
}
