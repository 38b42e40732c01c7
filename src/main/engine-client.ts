import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { existsSync } from 'node:fs';
import { LineSplitter, RpcClient, makeError, type EngineMode } from '../shared';

/**
 * Starts (or connects to) the privileged engine and speaks the engine protocol with it.
 * The UI process never runs as root: the engine is reached through a root-owned Unix socket
 * (the live ISO's systemd service), started directly when we already are root, or through pkexec.
 */

export interface EngineConnection {
  readonly client: RpcClient;
  close(): void;
}

export interface EngineLaunch {
  /** Connect to an engine already listening on this socket instead of starting one. */
  readonly socket?: string;
  readonly mode: EngineMode;
  /** The bundled engine (out/engine/cli.mjs). */
  readonly cliPath: string;
  /** Node binary to run it with. */
  readonly nodePath: string;
  /** An installed launcher covered by the polkit action, preferred over pkexec'ing node. */
  readonly launcher?: string;
  readonly log: (line: string) => void;
}

/** The argv that starts the engine over stdio; exported for tests. */
export function engineArgv(l: Pick<EngineLaunch, 'mode' | 'cliPath' | 'nodePath' | 'launcher'>, isRoot: boolean): string[] {
  const args = ['service', '--stdio', '--mode', l.mode];
  if (l.launcher && existsSync(l.launcher)) return isRoot ? [l.launcher, ...args] : ['pkexec', l.launcher, ...args];
  const direct = [l.nodePath, l.cliPath, ...args];
  return isRoot ? direct : ['pkexec', ...direct];
}

export function connectEngine(l: EngineLaunch): EngineConnection {
  return l.socket ? viaSocket(l.socket, l.log) : viaChild(l);
}

function wire(write: (line: string) => void, log: (line: string) => void): { client: RpcClient; splitter: LineSplitter } {
  const client = new RpcClient((line) => write(`${line}\n`));
  const splitter = new LineSplitter(
    (line) => client.receive(line),
    () => log('engine sent an oversized message; ignored'),
  );
  return { client, splitter };
}

function viaChild(l: EngineLaunch): EngineConnection {
  const isRoot = process.getuid?.() === 0;
  const argv = engineArgv(l, isRoot);
  l.log(`starting engine: ${argv.join(' ')}`);
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  const { client, splitter } = wire((line) => child.stdin?.write(line), l.log);
  child.stdout?.setEncoding('utf8').on('data', (c: string) => splitter.push(c));
  child.stderr?.setEncoding('utf8').on('data', (c: string) => l.log(`engine: ${c.trimEnd()}`));
  child.on('error', (e) =>
    client.close(makeError('internal', `The installer engine could not be started (${argv[0]}): ${e.message}.`, { command: argv })),
  );
  child.on('exit', (code, signal) =>
    client.close(
      makeError('internal', `The installer engine stopped (${signal ?? `exit code ${code}`}). Restart the installer; if it happens again, save the log.`, {
        kind: 'system',
        command: argv,
      }),
    ),
  );
  return {
    client,
    close: () => {
      child.stdin?.end();
      if (child.exitCode === null) child.kill('SIGTERM');
    },
  };
}

function viaSocket(path: string, log: (line: string) => void): EngineConnection {
  const sock: Socket = connect(path);
  const { client, splitter } = wire((line) => sock.write(line), log);
  sock.setEncoding('utf8').on('data', (c: string) => splitter.push(c));
  let connected = false;
  sock.once('connect', () => (connected = true));
  // Before the connection: the engine is not there. After it: the engine went away (a reset when it
  // died with requests unread), which is the same as a closed connection to whoever waits.
  sock.on('error', (e) =>
    client.close(
      connected
        ? makeError('internal', `The connection to the installer engine was closed (${e.message}).`, { kind: 'system' })
        : makeError('internal', `Cannot reach the installer engine at ${path}: ${e.message}.`, { kind: 'system' }),
    ),
  );
  sock.on('close', () => client.close(makeError('internal', 'The connection to the installer engine was closed.', { kind: 'system' })));
  return { client, close: () => sock.end() };
}
