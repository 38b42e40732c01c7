import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LineSplitter, MAX_MESSAGE_BYTES, RPC_INVALID_REQUEST } from '../../src/shared';
import { createRpcServer, serveLines, silentLogger } from '../../src/service';
import { stubEngine } from '../support/stub-engine';

function collect(max?: number): { lines: string[]; overflows: number; splitter: LineSplitter } {
  const out = { lines: [] as string[], overflows: 0, splitter: null as unknown as LineSplitter };
  out.splitter = new LineSplitter((l) => out.lines.push(l), () => out.overflows++, max);
  return out;
}

describe('LineSplitter', () => {
  it('joins a line split across chunks at any point', () => {
    const msg = '{"jsonrpc":"2.0","id":1,"method":"getInfo"}';
    for (let cut = 1; cut < msg.length; cut += 7) {
      const c = collect();
      c.splitter.push(msg.slice(0, cut));
      expect(c.lines).toEqual([]);
      c.splitter.push(`${msg.slice(cut)}\n`);
      expect(c.lines).toEqual([msg]);
    }
  });

  it('emits several lines from one chunk and keeps the tail for later', () => {
    const c = collect();
    c.splitter.push('a\nb\nc');
    expect(c.lines).toEqual(['a', 'b']);
    c.splitter.push('d\n');
    expect(c.lines).toEqual(['a', 'b', 'cd']);
  });

  it('strips CRLF line endings and skips blank lines', () => {
    const c = collect();
    c.splitter.push('one\r\n\r\n   \ntwo\r\n');
    expect(c.lines).toEqual(['one', 'two']);
  });

  it('refuses an oversized line without buffering it, then reads the next line', () => {
    const c = collect(16);
    c.splitter.push('x'.repeat(10));
    c.splitter.push('x'.repeat(10)); // now 20 bytes: over the limit
    c.splitter.push('y'.repeat(100));
    expect(c.overflows).toBe(1);
    c.splitter.push('\nok\n');
    expect(c.lines).toEqual(['ok']);
    expect(c.overflows).toBe(1);
  });

  it('counts UTF-8 bytes, not UTF-16 units', () => {
    const c = collect(8);
    c.splitter.push('ééé\n'); // 6 bytes: fits
    c.splitter.push('éééé\n'); // 8 bytes: fits exactly
    c.splitter.push('€€€\n'); // 9 bytes: too long
    expect(c.lines).toEqual(['ééé', 'éééé']);
    expect(c.overflows).toBe(1);
  });
});

describe('serveLines over a byte stream', () => {
  function harness() {
    const input = new PassThrough();
    const out: string[] = [];
    const done = serveLines(createRpcServer(stubEngine(), silentLogger), input, (l) => out.push(l));
    return { input, out, done };
  }

  it('decodes a multi-byte character split between chunks', async () => {
    const h = harness();
    const line = Buffer.from('{"jsonrpc":"2.0","id":"ü€","method":"getInfo"}\n', 'utf8');
    const cut = line.indexOf(Buffer.from('€')) + 1; // in the middle of the 3-byte euro sign
    h.input.write(line.subarray(0, cut));
    h.input.write(line.subarray(cut));
    h.input.end();
    await h.done;
    expect(h.out).toHaveLength(1);
    expect(JSON.parse(h.out[0]!)).toMatchObject({ id: 'ü€', result: { protocol: 1 } });
  });

  it('answers an oversized message with an error and keeps answering afterwards', async () => {
    const h = harness();
    const huge = `{"jsonrpc":"2.0","id":1,"method":"validateAnswerFile","params":{"document":"${'a'.repeat(MAX_MESSAGE_BYTES)}"}}\n`;
    for (let i = 0; i < huge.length; i += 65536) h.input.write(huge.slice(i, i + 65536));
    h.input.write('{"jsonrpc":"2.0","id":2,"method":"getInfo"}\r\n');
    h.input.end();
    await h.done;
    const msgs = h.out.map((l) => JSON.parse(l));
    expect(msgs).toHaveLength(2);
    expect(msgs[0]).toMatchObject({ id: null, error: { code: RPC_INVALID_REQUEST, data: { code: 'message-too-large' } } });
    expect(msgs[1]).toMatchObject({ id: 2, result: { version: '0.0.0-test' } });
  });

  it('answers a last request that lacks its newline once the stream ends', async () => {
    const h = harness();
    h.input.end('{"jsonrpc":"2.0","id":9,"method":"getInfo"}');
    await h.done;
    expect(JSON.parse(h.out[0]!)).toMatchObject({ id: 9 });
  });
});
