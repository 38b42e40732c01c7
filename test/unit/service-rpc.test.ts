import { describe, expect, it } from 'vitest';
import {
  MAX_JSON_DEPTH,
  MAX_MESSAGE_BYTES,
  RPC_APP_ERROR,
  RPC_INTERNAL_ERROR,
  RPC_INVALID_PARAMS,
  RPC_INVALID_REQUEST,
  RPC_METHOD_NOT_FOUND,
  RPC_PARSE_ERROR,
  RpcClient,
  RpcResponseSchema,
  makeError,
  type DiskList,
} from '../../src/shared';
import { CommandError } from '../../src/engine/exec';
import { createRpcServer, type Logger } from '../../src/service';
import { fakeDisk, stubEngine } from '../support/stub-engine';
import type { Reply } from '../support/line-client';

function recordingLogger(): Logger & { errors: string[] } {
  const errors: string[] = [];
  return { errors, info: () => {}, warn: () => {}, error: (m) => errors.push(m) };
}

async function ask(server: ReturnType<typeof createRpcServer>, line: string): Promise<Reply> {
  const out = await server.handleLine(line);
  expect(out).not.toBeNull();
  const parsed = JSON.parse(out!);
  // Every answer, good or bad, must itself be a valid JSON-RPC response.
  expect(RpcResponseSchema.safeParse(parsed).success).toBe(true);
  return parsed;
}

describe('RPC core', () => {
  const server = createRpcServer(stubEngine(), recordingLogger());

  it('answers a valid request with the validated result', async () => {
    const r = await ask(server, '{"jsonrpc":"2.0","id":7,"method":"listDisks","params":{}}');
    expect(r.id).toBe(7);
    expect(r.result.disks[0].path).toBe('/dev/vda');
  });

  it('treats omitted params as {}', async () => {
    expect((await ask(server, '{"jsonrpc":"2.0","id":"a","method":"getInfo"}')).result.protocol).toBe(1);
  });

  it('refuses malformed JSON with -32700', async () => {
    const r = await ask(server, '{"jsonrpc":"2.0","id":1,');
    expect(r).toMatchObject({ id: null, error: { code: RPC_PARSE_ERROR } });
  });

  it('refuses batches with -32600', async () => {
    const r = await ask(server, '[{"jsonrpc":"2.0","id":1,"method":"getInfo"}]');
    expect(r.error.code).toBe(RPC_INVALID_REQUEST);
    expect(r.error.message).toMatch(/batch/);
  });

  it.each(['42', '"getInfo"', 'null', 'true'])('refuses the non-object %s with -32600', async (line) => {
    expect((await ask(server, line)).error.code).toBe(RPC_INVALID_REQUEST);
  });

  it('refuses a bad envelope with -32600, keeping the id when it is usable', async () => {
    const r = await ask(server, '{"jsonrpc":"1.0","id":5,"method":"getInfo"}');
    expect(r).toMatchObject({ id: 5, error: { code: RPC_INVALID_REQUEST } });
    expect(r.error.message).toMatch(/jsonrpc/);
    const extra = await ask(server, '{"jsonrpc":"2.0","id":6,"method":"getInfo","extra":1}');
    expect(extra.error.code).toBe(RPC_INVALID_REQUEST);
  });

  it('answers an unknown method with -32601', async () => {
    const r = await ask(server, '{"jsonrpc":"2.0","id":3,"method":"formatEverything","params":{}}');
    expect(r).toMatchObject({ id: 3, error: { code: RPC_METHOD_NOT_FOUND, data: { code: 'method-not-found' } } });
  });

  it('does not treat inherited properties as methods', async () => {
    for (const m of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const r = await ask(server, JSON.stringify({ jsonrpc: '2.0', id: 1, method: m }));
      expect(r.error.code).toBe(RPC_METHOD_NOT_FOUND);
    }
  });

  it('answers wrong params with -32602 naming the field', async () => {
    const r = await ask(server, '{"jsonrpc":"2.0","id":4,"method":"getInfo","params":{"verbose":true}}');
    expect(r.error.code).toBe(RPC_INVALID_PARAMS);
    expect(r.error.message).toMatch(/verbose/);
    const missing = await ask(server, '{"jsonrpc":"2.0","id":4,"method":"validateAnswerFile","params":{"doc":1}}');
    expect(missing.error.code).toBe(RPC_INVALID_PARAMS);
    expect(missing.error.message).toMatch(/doc/);
    expect(missing.error.data.code).toBe('invalid-input');
  });

  it('refuses params that are not an object', async () => {
    const r = await ask(server, '{"jsonrpc":"2.0","id":4,"method":"getInfo","params":[1,2]}');
    expect([RPC_INVALID_REQUEST, RPC_INVALID_PARAMS]).toContain(r.error.code);
    expect(r.error.message).toMatch(/params/);
  });

  it('refuses JSON nested deeper than the limit', async () => {
    const deep = `${'['.repeat(MAX_JSON_DEPTH + 5)}${']'.repeat(MAX_JSON_DEPTH + 5)}`;
    const line = `{"jsonrpc":"2.0","id":1,"method":"validateAnswerFile","params":{"document":${deep}}}`;
    const r = await ask(server, line);
    expect(r.error.code).toBe(RPC_INVALID_REQUEST);
    expect(r.error.message).toMatch(/deep/);
    // Very deep input must not blow the stack either.
    const r2 = await ask(server, `${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    expect(r2.error.code).toBe(RPC_INVALID_REQUEST);
  });

  it('refuses a message over MAX_MESSAGE_BYTES handed to it directly', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'validateAnswerFile', params: { document: 'x'.repeat(MAX_MESSAGE_BYTES) } });
    const r = await ask(server, big);
    expect(r.error.data.code).toBe('message-too-large');
    expect((await ask(server, '{"jsonrpc":"2.0","id":2,"method":"getInfo"}')).result).toBeDefined();
  });

  it('never answers a notification, even a failing one', async () => {
    expect(await server.handleLine('{"jsonrpc":"2.0","method":"getInfo"}')).toBeNull();
    expect(await server.handleLine('{"jsonrpc":"2.0","method":"nope"}')).toBeNull();
    expect(await server.handleLine('{"jsonrpc":"2.0","method":"getInfo","params":{"bad":1}}')).toBeNull();
  });

  it('turns a CommandError into -32000 with the InstallerError as data', async () => {
    const failure = makeError('command-failed', 'lsblk exited with code 1.', { command: ['lsblk'], exitCode: 1, stderrTail: 'boom' });
    const s = createRpcServer(stubEngine({ listDisks: async () => Promise.reject(new CommandError(failure)) }), recordingLogger());
    const r = await ask(s, '{"jsonrpc":"2.0","id":1,"method":"listDisks"}');
    expect(r.error).toEqual({ code: RPC_APP_ERROR, message: failure.message, data: failure });
  });

  it('turns any other exception into -32603 without leaking the stack', async () => {
    const log = recordingLogger();
    const s = createRpcServer(stubEngine({ listDisks: async () => Promise.reject(new Error('secret internals at /root/x')) }), log);
    const r = await ask(s, '{"jsonrpc":"2.0","id":1,"method":"listDisks"}');
    expect(r.error.code).toBe(RPC_INTERNAL_ERROR);
    expect(r.error.data.code).toBe('internal');
    expect(JSON.stringify(r)).not.toMatch(/secret internals|at \//);
    expect(log.errors.join('\n')).toMatch(/secret internals/); // the operator still sees it on stderr
  });

  it('turns a result that breaks the contract into -32603 instead of sending it', async () => {
    const bad = { disks: [{ ...fakeDisk(), size: -1 }], minimumSize: 0, allowLoop: false, probedAt: 'now' } as DiskList;
    const s = createRpcServer(stubEngine({ listDisks: async () => bad }), recordingLogger());
    const r = await ask(s, '{"jsonrpc":"2.0","id":1,"method":"listDisks"}');
    expect(r.error.code).toBe(RPC_INTERNAL_ERROR);
    expect(r.error.data.detail).toMatch(/disks\[0\]\.size/);
    expect(r.result).toBeUndefined();
  });

  it('broadcasts valid events as event.<name> notifications and drops invalid ones', () => {
    const engine = stubEngine();
    const s = createRpcServer(engine, recordingLogger());
    const got: string[] = [];
    const off = s.subscribe((l) => got.push(l));
    engine.emit('disksChanged', {});
    engine.emit('log', { level: 'loud', message: 'x', time: 't' } as never);
    off();
    engine.emit('disksChanged', {});
    expect(got.map((l) => JSON.parse(l))).toEqual([{ jsonrpc: '2.0', method: 'event.disksChanged', params: {} }]);
  });

  it('survives arbitrary input: always a valid response or nothing, never a rejection', async () => {
    let seed = 42;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const pieces = ['{', '}', '[', ']', '"jsonrpc"', '"2.0"', '"id"', '"method"', '"getInfo"', '"params"', ':', ',', '1', 'null', '"\\u0000"', '\u00e9', '-1e999', '"__proto__"'];
    for (let i = 0; i < 500; i++) {
      const line = Array.from({ length: 1 + rand(20) }, () => pieces[rand(pieces.length)]).join('');
      const out = await server.handleLine(line);
      if (out !== null) expect(RpcResponseSchema.safeParse(JSON.parse(out)).success, line).toBe(true);
    }
  });

  it('works end to end with the shared RpcClient', async () => {
    const engine = stubEngine();
    const s = createRpcServer(engine, recordingLogger());
    const client = new RpcClient((line) => void s.handleLine(line).then((r) => r && client.receive(r)));
    s.subscribe((l) => client.receive(l));
    const api = client.api();
    const info = await api.getInfo({});
    expect(info.ok && info.value.mode).toBe('test');
    let changed = 0;
    api.on('disksChanged', () => changed++);
    engine.emit('disksChanged', {});
    expect(changed).toBe(1);
  });
});
