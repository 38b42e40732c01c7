import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineInfoSchema, MAX_MESSAGE_BYTES, RPC_INVALID_REQUEST, RpcResponseSchema } from '../../src/shared';
import { WS_MAX_FRAME_BYTES } from '../../src/service/http';
import { openWs } from '../support/http';
import type { Reply } from '../support/line-client';
import { countWhenPassed } from './counts';
import { IdSource, POLLUTION_MARK, Rng, deriveSeed, expectedReplies, generateMessages, idKey, replyKind, type FuzzMessage } from './fuzz-gen';

/**
 * Protocol fuzzing of the real engine service, started as a child process the way users start it
 * (`service --stdio`, `service --socket`, `serve`), in normal mode: no message here may make the
 * engine act, so no disk is touched. Every message is generated with the answer it must get
 * (fuzz-gen.ts); the test checks that the service answers each one exactly as it must (or not at
 * all, for a notification), never dies, still answers getInfo correctly afterwards, shows no sign
 * of prototype pollution, and keeps its memory bounded.
 *
 * PARTICLE_FUZZ_SEED repeats a run; PARTICLE_FUZZ_COUNT sets the messages per transport.
 */

const REPO = resolve(import.meta.dirname, '../..');

function envInt(name: string, fallback: () => number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback();
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer from ${min} to ${max} (not "${raw}")`);
  return n;
}

const SEED = envInt('PARTICLE_FUZZ_SEED', () => randomInt(0, 2 ** 32), 0, 2 ** 32 - 1);
const COUNT = envInt('PARTICLE_FUZZ_COUNT', () => 3000, 1, 1_000_000);
/** Messages sent before the memory baseline is taken, so lazy compilation and heap growth are behind us. */
const WARM_UP = Math.min(300, COUNT);
/** How much the service's resident memory may grow over its post-warm-up baseline during a flood. */
const RSS_GROWTH_LIMIT = 64 * 1024 * 1024;
/** How long the replies to one flood may take to arrive. */
const REPLY_TIMEOUT_MS = 60_000;

console.log(`[fuzz] seed ${SEED} (set PARTICLE_FUZZ_SEED=${SEED} to repeat this run); ${COUNT} messages per transport`);

// ---------------------------------------------------------------------------------------------
// The service process

interface Service {
  readonly child: ChildProcess;
  readonly pid: number;
  stderr(): string;
  /** Set once the process has exited. */
  exit(): { code: number | null; signal: NodeJS.Signals | null } | null;
  readonly exited: Promise<void>;
}

const started = new Set<Service>();

function startService(args: readonly string[]): Service {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not start the service (${args.join(' ')})`);
  let err = '';
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<void>((r) =>
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      r();
    }),
  );
  // A pipe the service closes must not crash the test with EPIPE; the exit check reports it instead.
  child.stdin!.on('error', () => {});
  const s: Service = { child, pid: child.pid, stderr: () => err, exit: () => exit, exited };
  started.add(s);
  return s;
}

async function stopService(s: Service): Promise<void> {
  started.delete(s);
  if (s.exit() !== null) return;
  s.child.kill('SIGTERM');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 10_000);
  await s.exited;
  clearTimeout(timer);
}

function assertAlive(s: Service): void {
  expect(s.exit(), `the service exited; its stderr:\n${s.stderr()}`).toBeNull();
}

/** The service logs what must not reach a client (stacks, broken contracts) as errors; a flood must cause none. */
function assertNoErrorsLogged(s: Service): void {
  const errors = s.stderr().split('\n').filter((l) => /^particle-installer: error:/.test(l));
  expect(errors).toEqual([]);
}

/** Polls `cond`; gives up after `timeoutMs`, or at once when `gone` says why waiting is pointless. */
async function waitUntil(cond: () => boolean, timeoutMs: number, what: string, gone: () => string | null = () => null): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    const why = gone();
    if (why !== null) throw new Error(`gave up waiting for ${what}: ${why}`);
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// ---------------------------------------------------------------------------------------------
// Memory

/** The process's resident set in bytes, from /proc; null where there is no /proc. */
function rssOf(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

class RssSampler {
  peak = 0;
  samples = 0;
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly pid: number) {}
  private sample(): void {
    const v = rssOf(this.pid);
    if (v === null) return;
    this.samples++;
    this.peak = Math.max(this.peak, v);
  }
  start(everyMs = 20): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }
  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }
}

const mib = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MiB`;

// ---------------------------------------------------------------------------------------------
// Channels: one connection to the service, sending raw messages and collecting what comes back

interface Channel {
  readonly name: string;
  /** Every message received, as text, in order. */
  readonly received: string[];
  send(messages: readonly FuzzMessage[], rng: Rng): Promise<void>;
  /** Sends one well-formed request as text. */
  sendText(text: string): void;
  /** Why the connection is gone, once it is (so a wait can stop at once instead of timing out). */
  closed(): string | null;
}

/** A line-protocol connection (a child's stdio, a Unix socket). Writes in random chunk sizes. */
function lineChannel(name: string, input: Readable, output: Writable): Channel {
  const received: string[] = [];
  let buf = '';
  let closed: string | null = null;
  input.once('close', () => (closed = 'the stream closed'));
  input.setEncoding('utf8');
  input.on('data', (chunk: string) => {
    buf += chunk;
    const lines = buf.split('\n');
    buf = lines.pop()!;
    received.push(...lines.filter((l) => l !== ''));
  });
  const write = async (chunk: Buffer): Promise<void> => {
    if (!output.write(chunk)) await new Promise<void>((r) => output.once('drain', () => r()));
  };
  return {
    name,
    received,
    async send(messages, rng) {
      const all = Buffer.concat(messages.flatMap((m) => [m.data, Buffer.from('\n')]));
      // Random cuts, tiny ones included, so lines and multi-byte characters arrive split at every kind of place.
      for (let at = 0; at < all.length; ) {
        const r = rng.float();
        const size = r < 0.2 ? rng.int(1, 64) : r < 0.9 ? rng.int(1024, 65_536) : rng.int(65_536, 1 << 20);
        await write(all.subarray(at, at + size));
        at += size;
      }
    },
    sendText(text) {
      output.write(`${text}\n`);
    },
    closed: () => closed,
  };
}

/** A WebSocket connection: one message per frame, binary where the bytes are not UTF-8 (and now and then anyway). */
function wsChannel(name: string, ws: WebSocket): Channel {
  const received: string[] = [];
  let closed: string | null = null;
  ws.on('message', (data: WebSocket.RawData) => received.push(data.toString()));
  ws.once('close', (code) => (closed = `the WebSocket closed with ${code}`));
  return {
    name,
    received,
    async send(messages, rng) {
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i]!;
        ws.send(m.data, { binary: !m.utf8 || rng.bool(0.1) });
        if (i % 50 === 49 || m.data.length > 65_536) {
          while (ws.bufferedAmount > 4 * MAX_MESSAGE_BYTES) await new Promise((r) => setTimeout(r, 5));
          await new Promise((r) => setImmediate(r));
        }
      }
    },
    sendText(text) {
      ws.send(text);
    },
    closed: () => closed,
  };
}

// ---------------------------------------------------------------------------------------------
// One phase: send messages, wait for every reply, then check each one against its expectation

interface PhaseResult {
  readonly sent: number;
  readonly replies: number;
  readonly events: number;
  readonly info: Reply;
}

let syncCounter = 0;

/** Sends a getInfo and resolves with its reply. */
async function getInfo(channel: Channel, timeoutMs = 60_000): Promise<Reply> {
  const id = `sync:${++syncCounter}`;
  const from = channel.received.length;
  channel.sendText(JSON.stringify({ jsonrpc: '2.0', id, method: 'getInfo' }));
  let reply: Reply | undefined;
  await waitUntil(
    () => {
      for (let i = from; i < channel.received.length && !reply; i++) {
        const text = channel.received[i]!;
        if (text.includes(`"${id}"`)) reply = JSON.parse(text) as Reply;
      }
      return reply !== undefined;
    },
    timeoutMs,
    `the reply to getInfo on ${channel.name}`,
    channel.closed,
  );
  return reply!;
}

const isEvent = (msg: Reply): boolean => msg.id === undefined && typeof msg.method === 'string' && msg.method.startsWith('event.');

async function runPhase(channel: Channel, messages: readonly FuzzMessage[], overWebSocket: boolean, rng: Rng, label: string): Promise<PhaseResult> {
  const want = expectedReplies(messages, overWebSocket);
  const from = channel.received.length;
  const counted = (): number => channel.received.length - from;

  await channel.send(messages, rng);
  // Wait for as many replies as there must be; a missing one is reported below, not as a bare timeout.
  await waitUntil(() => counted() >= want.total, REPLY_TIMEOUT_MS, `${want.total} replies on ${channel.name}`, channel.closed).catch(() => {});
  // Then one request sent after everything else: any reply to a notification would have come before its answer.
  const info = await getInfo(channel);
  await new Promise((r) => setTimeout(r, 100));

  const problems: string[] = [];
  const seen = new Set<string>();
  const nullKinds = new Map<string, number>();
  let replies = 0;
  let events = 0;
  for (const text of channel.received.slice(from)) {
    let msg: Reply;
    try {
      msg = JSON.parse(text) as Reply;
    } catch {
      problems.push(`not JSON: ${text.slice(0, 120)}`);
      continue;
    }
    if (msg.id === info.id) continue;
    if (isEvent(msg)) {
      events++;
      continue;
    }
    replies++;
    if (!RpcResponseSchema.safeParse(msg).success || msg.error === undefined) {
      problems.push(`not a JSON-RPC error response: ${text.slice(0, 200)}`);
      continue;
    }
    const code = msg.error.code as number;
    const dataCode = msg.error.data?.code as string | undefined;
    if (msg.id === null) {
      const k = replyKind(code, dataCode);
      nullKinds.set(k, (nullKinds.get(k) ?? 0) + 1);
      continue;
    }
    const key = idKey(msg.id as string | number);
    const expected = want.byId.get(key);
    if (!expected) problems.push(`reply with an id nothing was sent with: ${text.slice(0, 200)}`);
    else if (seen.has(key)) problems.push(`second reply for ${key} (${expected.what})`);
    else if (code !== expected.code || (expected.dataCode !== undefined && dataCode !== expected.dataCode)) {
      problems.push(`${expected.what}: got ${replyKind(code, dataCode)}, want ${replyKind(expected.code, expected.dataCode)}: ${text.slice(0, 200)}`);
    }
    seen.add(key);
  }
  for (const [key, e] of want.byId) if (!seen.has(key)) problems.push(`no reply for ${key} (${e.what})`);
  const kinds = new Set([...want.nullKinds.keys(), ...nullKinds.keys()]);
  for (const k of kinds) {
    if ((want.nullKinds.get(k) ?? 0) !== (nullKinds.get(k) ?? 0)) problems.push(`replies with id null of kind ${k}: got ${nullKinds.get(k) ?? 0}, want ${want.nullKinds.get(k) ?? 0}`);
  }
  if (replies !== want.total) problems.push(`${replies} replies in all, want ${want.total} (one per message that is not a notification)`);
  expect(problems.slice(0, 25), `${label} on ${channel.name}: ${problems.length} problems`).toEqual([]);
  return { sent: messages.length, replies, events, info };
}

/** getInfo still answers as before the flood: the same facts, no key a pollution payload tried to plant. */
function assertInfoUnchanged(info: Reply, baseline: Reply): void {
  expect(info.error).toBeUndefined();
  expect(Object.keys(info).sort()).toEqual(['id', 'jsonrpc', 'result']);
  expect(EngineInfoSchema.strict().safeParse(info.result).success).toBe(true);
  expect(Object.hasOwn(info.result as object, POLLUTION_MARK)).toBe(false);
  expect(info.result).toEqual(baseline.result);
}

interface Run {
  readonly sent: number;
  readonly rssBase: number | null;
  readonly rssPeak: number | null;
  readonly rssEnd: number | null;
  readonly ms: number;
}

/**
 * Warm-up, baseline, flood, checks: the same for every transport. The flood's messages are spread
 * over the channels at random (each channel must get exactly the replies to its own messages).
 */
async function fuzz(transport: string, index: number, service: Service, channels: Channel[], overWebSocket: boolean): Promise<Run> {
  const t0 = Date.now();
  const rng = new Rng(deriveSeed(SEED, `${transport}/spread`));
  const baseline = await getInfo(channels[0]!);
  expect(EngineInfoSchema.safeParse(baseline.result).success, JSON.stringify(baseline)).toBe(true);

  const spread = (messages: FuzzMessage[]): FuzzMessage[][] => {
    const parts = channels.map(() => [] as FuzzMessage[]);
    for (const m of messages) parts[rng.int(0, channels.length - 1)]!.push(m);
    return parts;
  };
  const categories = new Map<string, number>();
  const phase = async (name: string, count: number, numberBase: number): Promise<number> => {
    const messages = generateMessages(deriveSeed(SEED, `${transport}/${name}`), count, new IdSource(`${transport}/${name}:`, numberBase));
    for (const m of messages) categories.set(m.category, (categories.get(m.category) ?? 0) + 1);
    const parts = spread(messages);
    const results = await Promise.all(
      channels.map((ch, i) => runPhase(ch, parts[i]!, overWebSocket, new Rng(deriveSeed(SEED, `${transport}/${name}/send/${i}`)), `${transport} ${name}`)),
    );
    for (const r of results) assertInfoUnchanged(r.info, baseline);
    return messages.length;
  };

  let sent = await phase('warm-up', WARM_UP, (index * 10 + 1) * 1e8);
  await new Promise((r) => setTimeout(r, 300));
  const rssBase = rssOf(service.pid);
  const sampler = new RssSampler(service.pid);
  sampler.start();
  try {
    sent += await phase('flood', COUNT, (index * 10 + 2) * 1e8);
  } finally {
    sampler.stop();
  }
  const rssEnd = rssOf(service.pid);

  assertAlive(service);
  assertNoErrorsLogged(service);
  const run: Run = { sent, rssBase, rssPeak: rssBase === null ? null : sampler.peak, rssEnd, ms: Date.now() - t0 };
  console.log(
    `[fuzz] ${transport}: ${sent} messages over ${channels.length} connection(s) in ${run.ms} ms; RSS ` +
      (rssBase === null ? 'not measured (no /proc)' : `${mib(rssBase)} after warm-up, peak ${mib(sampler.peak)} (+${mib(sampler.peak - rssBase)}, ${sampler.samples} samples), ${mib(rssEnd ?? 0)} at the end`) +
      `\n[fuzz] ${transport} by category: ${[...categories].map(([c, n]) => `${c} ${n}`).join(', ')}`,
  );
  if (rssBase === null) console.warn(`[fuzz] ${transport}: memory bound not checked: /proc/${service.pid}/status is not readable here`);
  else expect(sampler.peak - rssBase, `RSS growth of the ${transport} service`).toBeLessThan(RSS_GROWTH_LIMIT);
  return run;
}

// ---------------------------------------------------------------------------------------------

describe('protocol fuzzing of the real service process', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pi-fuzz-'));
  });
  afterAll(async () => {
    await Promise.all([...started].map((s) => stopService(s)));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('stdio: answers every malformed message exactly once, and stays up', { timeout: 150_000 }, async () => {
    const service = startService(['service', '--stdio']);
    const channel = lineChannel('stdio', service.child.stdout!, service.child.stdin!);
    const run = await fuzz('stdio', 1, service, [channel], false);

    // A last request without its newline is still answered once stdin ends, and the service then exits cleanly.
    const before = channel.received.length;
    service.child.stdin!.end('{"jsonrpc":"2.0","id":"last","method":"getInfo"}');
    await service.exited;
    expect(service.exit()).toEqual({ code: 0, signal: null });
    expect(channel.received.slice(before).map((l) => (JSON.parse(l) as Reply).id)).toEqual(['last']);
    assertNoErrorsLogged(service);
    countWhenPassed('messages-fuzzed', run.sent);
  });

  it('Unix socket: answers every malformed message on the connection it came from, and stays up', { timeout: 150_000 }, async () => {
    const path = join(dir, 'engine.sock');
    const service = startService(['service', '--socket', path]);
    await waitUntil(() => existsSync(path) || service.exit() !== null, 60_000, 'the socket');
    assertAlive(service);
    const connect = async (): Promise<Socket> => {
      const sock = createConnection(path);
      await new Promise((r, j) => sock.once('connect', r).once('error', j));
      return sock;
    };
    const socks = [await connect(), await connect()];
    const channels = socks.map((s, i) => lineChannel(`socket #${i + 1}`, s, s));

    // A client that goes away in the middle of a message, and one in the middle of an oversized one.
    for (const tail of ['{"jsonrpc":"2.0","id":1,"method":"get', `{"jsonrpc":"2.0","id":2,"method":"getInfo","params":{"x":"${'x'.repeat(MAX_MESSAGE_BYTES + 10)}`]) {
      const quitter = await connect();
      quitter.write(tail);
      await new Promise((r) => setTimeout(r, 20));
      quitter.destroy();
    }
    const run = await fuzz('socket', 2, service, channels, false);
    for (const s of socks) s.destroy();
    countWhenPassed('messages-fuzzed', run.sent + 2);
  });

  describe('WebSocket (serve)', () => {
    let service: Service;
    let port: number;
    let token: string;

    beforeAll(async () => {
      const ui = join(dir, 'ui');
      mkdirSync(join(ui, 'assets'), { recursive: true });
      writeFileSync(join(ui, 'index.html'), '<!doctype html><title>fuzz</title>');
      const tokenFile = join(dir, 'token');
      service = startService(['serve', '--port', '0', '--token-file', tokenFile, '--ui-dir', ui]);
      await waitUntil(() => existsSync(tokenFile) || service.exit() !== null, 60_000, 'the token file');
      assertAlive(service);
      const url = new URL(readFileSync(tokenFile, 'utf8').trim());
      port = Number(url.port);
      token = url.searchParams.get('token') ?? '';
    });

    const open = async (): Promise<WebSocket> => {
      const r = await openWs(port, { authorization: `Bearer ${token}` });
      if (!('ws' in r)) throw new Error(`the WebSocket was refused with ${r.status}`);
      r.ws.on('error', () => {});
      return r.ws;
    };
    const closeCode = (ws: WebSocket): Promise<number> => new Promise((r) => ws.once('close', (code) => r(code)));

    it('answers every malformed frame exactly once, and stays up', { timeout: 150_000 }, async () => {
      const ws = await open();
      const run = await fuzz('websocket', 3, service, [wsChannel('websocket', ws)], true);
      expect(ws.readyState).toBe(WebSocket.OPEN);
      ws.close();
      countWhenPassed('messages-fuzzed', run.sent);
    });

    it('answers a frame over the message limit in-band up to the hard cap, and closes with 1009 beyond it', { timeout: 60_000 }, async () => {
      const ws = await open();
      const channel = wsChannel('websocket', ws);
      // At the cap: still read, refused as too large, and the connection goes on.
      ws.send(Buffer.alloc(WS_MAX_FRAME_BYTES, 0x20));
      await waitUntil(() => channel.received.length >= 1, 30_000, 'the reply to a frame at the cap', channel.closed);
      const reply = JSON.parse(channel.received[0]!) as Reply;
      expect(reply).toMatchObject({ id: null, error: { code: RPC_INVALID_REQUEST, data: { code: 'message-too-large' } } });
      expect((await getInfo(channel)).result.protocol).toBe(1);

      // One byte over the cap: ws drops the connection with 1009 (message too big).
      const closed = closeCode(ws);
      ws.send(Buffer.alloc(WS_MAX_FRAME_BYTES + 1, 0x20));
      expect(await closed).toBe(1009);

      // A text frame that is not UTF-8 is a protocol violation too: 1007.
      const ws2 = await open();
      const closed2 = closeCode(ws2);
      ws2.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
      expect(await closed2).toBe(1007);

      // The service lives on and takes new connections.
      const ws3 = await open();
      const info = await getInfo(wsChannel('websocket', ws3));
      expect(info.result.protocol).toBe(1);
      expect(Object.hasOwn(info.result as object, POLLUTION_MARK)).toBe(false);
      ws3.close();
      assertAlive(service);
      assertNoErrorsLogged(service);
      countWhenPassed('messages-fuzzed', 3);
    });
  });
});
