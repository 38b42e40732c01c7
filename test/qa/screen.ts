import { connect, type Socket } from 'node:net';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { sleep } from './serial';

/**
 * The guest's screen: QEMU's human monitor (HMP) on a Unix socket takes `screendump FILE` (a PPM),
 * which becomes a PNG here, so no image tool has to be installed.
 */

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A binary PPM (P6, 8 bits per sample) as a PNG (RGB, 8 bits). */
export function ppmToPng(ppm: Buffer): Buffer {
  // Header: P6, width, height, maxval, separated by whitespace, with # comments; then one whitespace byte.
  const fields: string[] = [];
  let i = 0;
  while (fields.length < 4) {
    while (i < ppm.length && /\s/.test(String.fromCharCode(ppm[i]!))) i++;
    if (ppm[i] === 0x23) {
      while (i < ppm.length && ppm[i] !== 0x0a) i++;
      continue;
    }
    const start = i;
    while (i < ppm.length && !/\s/.test(String.fromCharCode(ppm[i]!))) i++;
    if (start === i) throw new Error('not a PPM: the header ends early');
    fields.push(ppm.toString('latin1', start, i));
  }
  i++;
  const [magic, w, h, max] = fields;
  const width = Number(w);
  const height = Number(h);
  if (magic !== 'P6' || Number(max) !== 255 || !(width > 0) || !(height > 0)) throw new Error(`not an 8-bit P6 PPM (${fields.join(' ')})`);
  const row = width * 3;
  if (ppm.length - i < row * height) throw new Error(`the PPM is cut short: ${ppm.length - i} of ${row * height} bytes of pixels`);
  const raw = Buffer.alloc((row + 1) * height);
  for (let y = 0; y < height; y++) ppm.copy(raw, y * (row + 1) + 1, i + y * row, i + (y + 1) * row);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** One HMP session: a command, then everything up to the next `(qemu) ` prompt is its answer. */
export class Monitor {
  private buf = '';
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8').on('data', (d: string) => (this.buf += d));
  }

  /** Connects to QEMU's `-monitor unix:PATH,server=on,wait=off`, waiting for QEMU to create it. */
  static async connect(path: string, timeoutMs = 30_000, alive: () => boolean = () => true): Promise<Monitor> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (!alive()) throw new Error('QEMU exited before its monitor answered');
      try {
        const socket = await new Promise<Socket>((resolve, reject) => {
          const s = connect(path, () => resolve(s));
          s.once('error', reject);
        });
        const m = new Monitor(socket);
        await m.prompt(10_000);
        return m;
      } catch (e) {
        if (performance.now() > deadline) throw new Error(`QEMU's monitor at ${path} did not answer: ${(e as Error).message}`);
        await sleep(200);
      }
    }
  }

  private async prompt(timeoutMs: number): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    while (!this.buf.includes('(qemu) ')) {
      if (this.socket.destroyed) throw new Error('the monitor connection closed');
      if (performance.now() > deadline) throw new Error(`no monitor prompt within ${timeoutMs / 1000} s`);
      await sleep(20);
    }
    const at = this.buf.indexOf('(qemu) ');
    const before = this.buf.slice(0, at);
    this.buf = this.buf.slice(at + 7);
    return before;
  }

  /** Runs one HMP command and returns what QEMU answered (echo and control sequences removed). */
  command(line: string, timeoutMs = 30_000): Promise<string> {
    const run = async (): Promise<string> => {
      this.socket.write(`${line}\n`);
      const answer = await this.prompt(timeoutMs);
      // eslint-disable-next-line no-control-regex
      const plain = answer.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[A-Za-z]|\r/g, '');
      return plain.split('\n').slice(1).join('\n').trim();
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Writes the screen as `base`.png (or keeps the PPM when it cannot be converted); the file written. */
  async screendump(base: string): Promise<string> {
    const ppm = `${base}.ppm`;
    const answer = await this.command(`screendump ${ppm}`);
    if (!existsSync(ppm)) throw new Error(`screendump wrote nothing: ${answer || '(no answer)'}`);
    try {
      writeFileSync(`${base}.png`, ppmToPng(readFileSync(ppm)));
      rmSync(ppm);
      return `${base}.png`;
    } catch {
      return ppm;
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
