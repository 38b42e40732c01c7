import type { Readable, Writable } from 'node:stream';

/**
 * A JSON-RPC message as tests see it. Tests poke at fields (`r.result.disks[0].path`) and let the
 * assertion fail if one is missing; a loose type keeps that short, and it lives in this one place.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Reply = Record<string, any>;

/**
 * A minimal engine-protocol client over any line stream (a Unix socket, a child's stdio), for
 * tests that want to see the raw JSON-RPC replies rather than the RpcClient's Results.
 */
export class LineClient {
  private nextId = 1;
  private buf = '';
  private readonly waiting = new Map<number, (msg: Reply) => void>();
  /** Notifications received so far (event.*). */
  readonly notifications: Reply[] = [];

  constructor(
    input: Readable,
    private readonly output: Writable,
  ) {
    input.setEncoding('utf8');
    input.on('data', (chunk: string) => {
      this.buf += chunk;
      const lines = this.buf.split('\n');
      this.buf = lines.pop()!;
      for (const line of lines) this.receive(line);
    });
  }

  private receive(line: string): void {
    if (line.trim() === '') return;
    const msg = JSON.parse(line) as Reply;
    if (typeof msg.id === 'number' && this.waiting.has(msg.id)) {
      this.waiting.get(msg.id)!(msg);
      this.waiting.delete(msg.id);
    } else if (msg.id === undefined) {
      this.notifications.push(msg);
    }
  }

  /** Sends a request and resolves with the whole response object; rejects after `timeoutMs`. */
  call(method: string, params: unknown = {}, timeoutMs = 30_000): Promise<Reply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`no answer to ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, (msg) => {
        clearTimeout(timer);
        resolve(msg);
      });
      this.output.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  }
}
