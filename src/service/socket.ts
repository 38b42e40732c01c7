import { chmodSync, chownSync, lstatSync, readFileSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import type { Logger } from './log';
import { serveLines } from './lines';
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

  const clients = new Set<Socket>();
  const net = createServer((socket) => {
    clients.add(socket);
    const write = (line: string): void => {
      if (socket.writable) socket.write(`${line}\n`);
    };
    void serveLines(server, socket, write).finally(() => {
      clients.delete(socket);
      socket.end();
    });
    socket.on('error', () => clients.delete(socket));
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
  log.info(`listening on ${options.path} (mode ${mode.toString(8)})`);

  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= new Promise<void>((resolve) => {
      unsubscribe();
      for (const c of clients) c.destroy();
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
