import { z } from 'zod';
import { InstallerErrorSchema, type InstallerError } from './errors';

/**
 * The engine protocol: JSON-RPC 2.0, one JSON object per line, over stdio, a Unix socket or a
 * WebSocket. Batches are not supported (a batch is answered with an invalid-request error).
 */

/** Largest message accepted, in bytes of UTF-8, before the line ends. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;
/** Deepest JSON nesting accepted. */
export const MAX_JSON_DEPTH = 64;

export const RPC_PARSE_ERROR = -32700;
export const RPC_INVALID_REQUEST = -32600;
export const RPC_METHOD_NOT_FOUND = -32601;
export const RPC_INVALID_PARAMS = -32602;
export const RPC_INTERNAL_ERROR = -32603;
/** An application error: `data` is an InstallerError. */
export const RPC_APP_ERROR = -32000;

const IdSchema = z.union([z.string().max(128), z.number().int().safe(), z.null()]);

export const RpcRequestSchema = z
  .object({
    jsonrpc: z.literal('2.0'),
    id: IdSchema.optional(),
    method: z.string().min(1).max(128),
    params: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type RpcRequest = z.infer<typeof RpcRequestSchema>;

export const RpcErrorObjectSchema = z.object({
  code: z.number().int(),
  message: z.string(),
  data: InstallerErrorSchema.optional(),
});

export const RpcResponseSchema = z.union([
  z.object({ jsonrpc: z.literal('2.0'), id: IdSchema, result: z.unknown() }).strict(),
  z.object({ jsonrpc: z.literal('2.0'), id: IdSchema, error: RpcErrorObjectSchema }).strict(),
]);
export type RpcResponse = z.infer<typeof RpcResponseSchema>;

export const RpcNotificationSchema = z
  .object({ jsonrpc: z.literal('2.0'), method: z.string(), params: z.unknown() })
  .strict();
export type RpcNotification = z.infer<typeof RpcNotificationSchema>;

/** Event notifications from the engine use this method prefix: `event.disksChanged`. */
export const EVENT_METHOD_PREFIX = 'event.';

export function rpcError(id: string | number | null, code: number, message: string, data?: InstallerError): string {
  return JSON.stringify({ jsonrpc: '2.0', id, error: data ? { code, message, data } : { code, message } });
}

/** Depth of a parsed JSON value, stopping as soon as the limit is passed. */
export function jsonDepthExceeds(value: unknown, limit: number = MAX_JSON_DEPTH): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
  return false;
}

/**
 * Splits a byte stream into lines, refusing any line longer than the limit without buffering it.
 * Feed chunks in; each complete line (or an overflow marker) comes out once.
 */
export class LineSplitter {
  private buf = '';
  private bytes = 0;
  private discarding = false;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly onOverflow: () => void,
    private readonly maxBytes: number = MAX_MESSAGE_BYTES,
  ) {}

  push(chunk: string): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf('\n', start);
      const piece = nl === -1 ? chunk.slice(start) : chunk.slice(start, nl);
      if (!this.discarding) {
        this.bytes += utf8Length(piece);
        if (this.bytes > this.maxBytes) {
          this.discarding = true;
          this.buf = '';
          this.onOverflow();
        } else {
          this.buf += piece;
        }
      }
      if (nl === -1) return;
      if (!this.discarding) {
        const line = this.buf.endsWith('\r') ? this.buf.slice(0, -1) : this.buf;
        if (line.trim() !== '') this.onLine(line);
      }
      this.buf = '';
      this.bytes = 0;
      this.discarding = false;
      start = nl + 1;
    }
  }
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
