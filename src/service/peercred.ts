import { execFile } from 'node:child_process';
import { fstatSync } from 'node:fs';
import { readFile, readdir, readlink } from 'node:fs/promises';
import type { Socket } from 'node:net';

/**
 * Who is on the other end of an accepted Unix socket connection. Node has no SO_PEERCRED, so the
 * kernel is asked in two steps, both without a shell:
 *
 * 1. `ss -xnH` (iproute2, answered by the kernel's sock_diag) names the peer socket's inode in the
 *    row of our accepted socket (`u_str ESTAB 0 0 <our path> <our inode> * <peer inode>`);
 * 2. /proc/PID/fd of every process is searched for that inode (`socket:[N]`), and each holder's
 *    real and effective uid is read from /proc/PID/status.
 *
 * ss's `-p` column is not used: it prints process names unescaped, and a process may rename itself
 * to anything. Socket names are printed unescaped too, and any local user may bind a socket to a
 * name of their choosing (newlines included) that writes a fake row into the listing. So our row is
 * only trusted when it occurs exactly once in the whole output (ours is always there, so a second
 * one is a forgery) and shows the peer as `*`, as ss does for every peer it reads from sock_diag:
 * then no text of anyone else's lies between our inode and the peer inode. Anything else is refused.
 *
 * Unlike SO_PEERCRED, this sees who holds the peer socket now rather than who connected; every
 * holder must be allowed, so handing the descriptor to another process gains nothing unless all
 * copies go to allowed users.
 */

/** One process holding the peer end of a connection. */
export interface PeerProcess {
  readonly pid: number;
  /** Real uid. */
  readonly uid: number;
  /** Effective uid. */
  readonly euid: number;
}

export interface PeerCredentials {
  /** Inode of our (accepted) socket. */
  readonly inode: number;
  /** Inode of the client's socket. */
  readonly peerInode: number;
  /** Every process holding the client's socket; never empty. */
  readonly processes: readonly PeerProcess[];
}

/** Why the peer could not be identified. */
export class PeerCredentialsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PeerCredentialsError';
  }
}

export interface PeerCredentialsOptions {
  /** The ss program (found on PATH by default). */
  readonly ss?: string;
  /** Where procfs is mounted (tests point this at a fake tree). */
  readonly procRoot?: string;
  /** How long ss may take. */
  readonly timeoutMs?: number;
}

/** The inode of a connected socket, from its file descriptor. */
export function socketInode(socket: Socket): number {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0) throw new PeerCredentialsError('the connection has no file descriptor');
  const st = fstatSync(fd);
  if (!st.isSocket()) throw new PeerCredentialsError(`descriptor ${fd} is not a socket`);
  return st.ino;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Finds the peer inode of our socket `inode`, bound at `localPath`, in `ss -xnH` output. Throws a
 * PeerCredentialsError when the row is missing, occurs more than once (a name forging it), or
 * names the peer (whose text could then fake the inode).
 */
export function parsePeerInode(ssOutput: string, localPath: string, inode: number): number {
  if (!Number.isSafeInteger(inode) || inode <= 0) throw new PeerCredentialsError(`bad socket inode ${inode}`);
  // A row start: line start, netid, state, Recv-Q, Send-Q, then our name and inode. `[ \t]` never
  // crosses a line, so a match is one line of ss's own output or text a socket name put there;
  // ours is always present, so more than one means someone is forging it.
  const prefix = new RegExp(`(?:^|\\n)[ \\t]*u_(?:str|seq)[ \\t]+\\S+[ \\t]+\\d+[ \\t]+\\d+[ \\t]+${escapeRegExp(localPath)}[ \\t]+${inode}[ \\t]`, 'g');
  const matches = [...ssOutput.matchAll(prefix)];
  if (matches.length === 0) throw new PeerCredentialsError(`socket ${inode} is not in the kernel's list of connected sockets`);
  if (matches.length > 1) throw new PeerCredentialsError(`socket ${inode} appears ${matches.length} times in the socket list (a socket name imitates it)`);
  const m = matches[0]!;
  const rest = ssOutput.slice(m.index + m[0].length);
  const tail = /^[ \t]*\*[ \t]+(\d+)[ \t]*(?:\r?\n|$)/.exec(rest);
  if (!tail) throw new PeerCredentialsError(`the row of socket ${inode} does not end in "* <peer inode>"`);
  const peer = Number(tail[1]);
  if (!Number.isSafeInteger(peer) || peer <= 0 || peer === inode) throw new PeerCredentialsError(`socket ${inode} has no peer`);
  return peer;
}

/** The pids of every process with a descriptor for socket `inode`, from procfs. */
export async function socketHolders(inode: number, procRoot = '/proc'): Promise<number[]> {
  const target = `socket:[${inode}]`;
  const pids = (await readdir(procRoot)).filter((name) => /^\d+$/.test(name));
  const holders: number[] = [];
  await Promise.all(
    pids.map(async (pid) => {
      let fds: string[];
      try {
        fds = await readdir(`${procRoot}/${pid}/fd`);
      } catch {
        return; // exited, or a kernel thread
      }
      for (const fd of fds) {
        try {
          if ((await readlink(`${procRoot}/${pid}/fd/${fd}`)) === target) {
            holders.push(Number(pid));
            return;
          }
        } catch {
          /* closed meanwhile */
        }
      }
    }),
  );
  return holders.sort((a, b) => a - b);
}

/** Real and effective uid of a process, from the `Uid:` line of /proc/PID/status. */
export async function processUids(pid: number, procRoot = '/proc'): Promise<PeerProcess> {
  let status: string;
  try {
    status = await readFile(`${procRoot}/${pid}/status`, 'utf8');
  } catch (e) {
    throw new PeerCredentialsError(`cannot read the status of process ${pid}: ${(e as Error).message}`);
  }
  const m = /^Uid:[ \t]+(\d+)[ \t]+(\d+)/m.exec(status);
  if (!m) throw new PeerCredentialsError(`process ${pid} has no Uid line in its status`);
  return { pid, uid: Number(m[1]), euid: Number(m[2]) };
}

function runSs(ss: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      ss,
      ['-xnH'],
      { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } },
      (error, stdout) => {
        if (error) reject(new PeerCredentialsError(`${ss} failed: ${error.message.split('\n')[0] ?? ''}`));
        else resolve(stdout);
      },
    );
  });
}

/**
 * Identifies the processes on the other end of `socket`, a connection accepted by a server
 * listening at `localPath` (exactly as given to listen). Throws a PeerCredentialsError when they
 * cannot be determined; a caller guarding access must then refuse.
 */
export async function peerCredentials(socket: Socket, localPath: string, options: PeerCredentialsOptions = {}): Promise<PeerCredentials> {
  const procRoot = options.procRoot ?? '/proc';
  const inode = socketInode(socket);
  const peerInode = parsePeerInode(await runSs(options.ss ?? 'ss', options.timeoutMs ?? 5000), localPath, inode);
  const pids = await socketHolders(peerInode, procRoot);
  if (pids.length === 0) throw new PeerCredentialsError(`no process visible here holds the peer socket ${peerInode}`);
  const processes = await Promise.all(pids.map((pid) => processUids(pid, procRoot)));
  return { inode, peerInode, processes };
}
