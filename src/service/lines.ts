import type { Readable } from 'node:stream';
import { LineSplitter } from '../shared';
import type { RpcServer } from './rpc-core';

/**
 * Runs the line protocol over one byte stream: splits what arrives into lines, answers each one
 * through the RPC core and writes the responses with `write`. Requests are answered concurrently
 * (a slow listDisks does not hold up getInfo); responses carry ids, so order does not matter.
 * Resolves once the input has ended and every pending request has been answered.
 */
export function serveLines(server: RpcServer, input: Readable, write: (line: string) => void): Promise<void> {
  const pending = new Set<Promise<void>>();
  const answer = (line: string): void => {
    const p = server.handleLine(line).then((response) => {
      if (response !== null) write(response);
    });
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  const splitter = new LineSplitter(answer, () => write(server.overflowResponse()));
  // The decoder inside setEncoding keeps a multi-byte character split across chunks whole.
  input.setEncoding('utf8');
  input.on('data', (chunk: string) => splitter.push(chunk));

  return new Promise((resolve) => {
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      void Promise.allSettled([...pending]).then(() => resolve());
    };
    input.once('end', () => {
      // A last request without its newline is still a whole message once the stream has ended.
      splitter.push('\n');
      finish();
    });
    input.once('close', finish);
    // A reset connection is just a client going away; it must not take the service down.
    input.once('error', finish);
  });
}
