import { existsSync, linkSync, lstatSync, mkdtempSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRpcServer, resolveGroup, serveSocket, silentLogger, type Transport } from '../../src/service';
import { stubEngine } from '../support/stub-engine';
import type { Reply } from '../support/line-client';

/** A line-protocol client over a Unix socket: collects every line it receives. */
async function connect(path: string): Promise<{ sock: Socket; lines: string[]; next(n: number): Promise<Reply[]> }> {
  const sock = createConnection(path);
  await new Promise((r, j) => sock.once('connect', r).once('error', j));
  const lines: string[] = [];
  let buf = '';
  sock.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  const next = async (n: number) => {
    for (let i = 0; i < 200 && lines.length < n; i++) await new Promise((r) => setTimeout(r, 10));
    return lines.splice(0, n).map((l) => JSON.parse(l));
  };
  return { sock, lines, next };
}

describe('Unix socket transport', () => {
  let dir: string;
  let transport: Transport | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pi-sock-'));
  });
  afterEach(async () => {
    await transport?.close();
    transport = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the socket 0660, answers several clients and broadcasts events to all', async () => {
    const engine = stubEngine();
    const path = join(dir, 'engine.sock');
    transport = await serveSocket(createRpcServer(engine, silentLogger), { path }, silentLogger);
    expect(lstatSync(path).isSocket()).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o660);

    const a = await connect(path);
    const b = await connect(path);
    a.sock.write('{"jsonrpc":"2.0","id":1,"method":"getInfo"}\n');
    b.sock.write('{"jsonrpc":"2.0","id":2,"method":"listDisks"}\nnot json\n');
    expect((await a.next(1))[0]).toMatchObject({ id: 1, result: { protocol: 1 } });
    // Requests are answered concurrently, so match replies by id rather than by order.
    const replies = await b.next(2);
    const rb = replies.find((r) => r.id === 2);
    const bad = replies.find((r) => r.id === null);
    expect(rb).toMatchObject({ id: 2, result: { disks: [{ path: '/dev/vda' }] } });
    expect(bad).toMatchObject({ id: null, error: { code: -32700 } });

    engine.emit('disksChanged', {});
    expect(await a.next(1)).toEqual([{ jsonrpc: '2.0', method: 'event.disksChanged', params: {} }]);
    expect(await b.next(1)).toEqual([{ jsonrpc: '2.0', method: 'event.disksChanged', params: {} }]);
    a.sock.destroy();
    b.sock.destroy();

    await transport.close();
    transport = undefined;
    expect(existsSync(path)).toBe(false);
  });

  it('honours a stricter mode', async () => {
    const path = join(dir, 'strict.sock');
    transport = await serveSocket(createRpcServer(stubEngine(), silentLogger), { path, mode: 0o600 }, silentLogger);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('replaces a stale socket file but refuses a live one or a regular file', async () => {
    const path = join(dir, 'engine.sock');
    // A socket left behind by a crashed service: bound, then the listener is gone without unlinking.
    const stale = createServer();
    await new Promise<void>((r) => stale.listen(path, r));
    const keep = `${path}.keep`;
    // Keep the inode via a hard link so the file outlives the close (which unlinks the path).
    linkSync(path, keep);
    await new Promise<void>((r) => stale.close(() => r()));
    renameSync(keep, path);
    expect(lstatSync(path).isSocket()).toBe(true);
    transport = await serveSocket(createRpcServer(stubEngine(), silentLogger), { path }, silentLogger);
    const c = await connect(path);
    c.sock.write('{"jsonrpc":"2.0","id":1,"method":"getInfo"}\n');
    expect((await c.next(1))[0]?.id).toBe(1);
    c.sock.destroy();

    await expect(serveSocket(createRpcServer(stubEngine(), silentLogger), { path }, silentLogger)).rejects.toThrow(/already listening/);
    const file = join(dir, 'precious.txt');
    writeFileSync(file, 'data');
    await expect(serveSocket(createRpcServer(stubEngine(), silentLogger), { path: file }, silentLogger)).rejects.toThrow(/not a socket/);
    expect(existsSync(file)).toBe(true);
    unlinkSync(file);
  });

  if (process.getuid?.() !== 0) console.warn('[unit] socket ownership test skipped: chown needs root');
  it.skipIf(process.getuid?.() !== 0)('gives the socket to the live user when root', async () => {
    const path = join(dir, 'owned.sock');
    transport = await serveSocket(createRpcServer(stubEngine(), silentLogger), { path, owner: 1000, group: '1000' }, silentLogger);
    expect(statSync(path).uid).toBe(1000);
    expect(statSync(path).gid).toBe(1000);
  });

  it('resolves group names from a group file', () => {
    const groups = join(dir, 'group');
    writeFileSync(groups, 'root:x:0:\nlive:x:1000:live\n');
    expect(resolveGroup('live', groups)).toBe(1000);
    expect(resolveGroup('42', groups)).toBe(42);
    expect(() => resolveGroup('nobody-here', groups)).toThrow(/no such group/);
  });
});
