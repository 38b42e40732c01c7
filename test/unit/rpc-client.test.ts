import { describe, expect, it } from 'vitest';
import { RpcClient } from '../../src/shared/rpc-client';
import { makeError } from '../../src/shared/errors';
import { METHOD_NAMES } from '../../src/shared/api';

function pair() {
  const sent: Array<{ id: number; method: string; params: unknown }> = [];
  const client = new RpcClient((line) => sent.push(JSON.parse(line)), 1000);
  return { client, sent };
}

const info = { version: '1.0.0', protocol: 1, mode: 'demo', root: true, firmware: 'uefi', arch: 'x64', tpm2: false };

describe('RpcClient', () => {
  it('sends JSON-RPC 2.0 requests and resolves validated results', async () => {
    const { client, sent } = pair();
    const p = client.call('getInfo', {});
    expect(sent[0]).toMatchObject({ jsonrpc: '2.0', method: 'getInfo', params: {} });
    client.receive(JSON.stringify({ jsonrpc: '2.0', id: sent[0]!.id, result: info }));
    expect(await p).toEqual({ ok: true, value: info });
  });

  it('turns a result that breaks the contract into an internal error', async () => {
    const { client, sent } = pair();
    const p = client.call('getInfo', {});
    client.receive(JSON.stringify({ jsonrpc: '2.0', id: sent[0]!.id, result: { ...info, mode: 'root-shell' } }));
    const r = await p;
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('internal');
  });

  it('passes application errors through as data', async () => {
    const { client, sent } = pair();
    const p = client.call('listDisks', {});
    const err = makeError('command-failed', 'lsblk exited with code 1.', { command: ['lsblk'], exitCode: 1 });
    client.receive(JSON.stringify({ jsonrpc: '2.0', id: sent[0]!.id, error: { code: -32000, message: err.message, data: err } }));
    expect(await p).toEqual({ ok: false, error: err });
  });

  it('ignores garbage, unknown ids and unknown events; delivers valid events', () => {
    const { client } = pair();
    const seen: unknown[] = [];
    client.on('log', (e) => seen.push(e));
    client.receive('not json');
    client.receive(JSON.stringify({ jsonrpc: '2.0', id: 999, result: {} }));
    client.receive(JSON.stringify({ jsonrpc: '2.0', method: 'event.nope', params: {} }));
    client.receive(JSON.stringify({ jsonrpc: '2.0', method: 'event.log', params: { level: 'shout', message: 'x', time: 't' } }));
    client.receive(JSON.stringify({ jsonrpc: '2.0', method: 'event.log', params: { level: 'info', message: 'hello', time: 't' } }));
    expect(seen).toEqual([{ level: 'info', message: 'hello', time: 't' }]);
  });

  it('fails pending calls when the connection closes, and later calls at once', async () => {
    const { client } = pair();
    const lost: unknown[] = [];
    client.on('engineLost', (e) => lost.push(e));
    const p = client.call('listDisks', {});
    client.close(makeError('internal', 'engine stopped'));
    const r = await p;
    expect(r.ok).toBe(false);
    expect(lost).toHaveLength(1);
    const r2 = await client.call('getInfo', {});
    expect(r2.ok).toBe(false);
  });

  it('times out a call the engine never answers', async () => {
    const client = new RpcClient(() => {}, 50);
    const r = await client.call('getInfo', {});
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('timeout');
  });

  it('api() exposes one function per method plus on', () => {
    const { client } = pair();
    expect(Object.keys(client.api()).sort()).toEqual([...METHOD_NAMES, 'on'].sort());
    expect(METHOD_NAMES).toEqual(expect.arrayContaining(['getInfo', 'listDisks', 'planInstall', 'startInstall', 'cancelInstall', 'retryInstall', 'getInstallState']));
  });
});
