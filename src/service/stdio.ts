import type { Readable, Writable } from 'node:stream';
import { serveLines } from './lines';
import type { RpcServer } from './rpc-core';

/** A running transport: `done` settles when it has stopped; `close` stops it. */
export interface Transport {
  readonly done: Promise<void>;
  close(): Promise<void>;
}

/**
 * The stdio transport: requests on stdin, responses and event notifications on stdout, one line
 * each. Used when Electron main starts the engine through pkexec. Stops when stdin closes.
 */
export function serveStdio(server: RpcServer, input: Readable = process.stdin, output: Writable = process.stdout): Transport {
  const write = (line: string): void => {
    if (output.writable) output.write(`${line}\n`);
  };
  // The reader went away (EPIPE): stop quietly instead of dying on an unhandled stream error.
  output.on('error', () => input.destroy());
  const unsubscribe = server.subscribe(write);
  const done = serveLines(server, input, write).finally(unsubscribe);
  return {
    done,
    async close() {
      input.destroy();
      await done;
    },
  };
}
