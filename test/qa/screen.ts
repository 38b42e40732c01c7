import type { Socket } from 'node:net';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { sleep } from './serial';
import { connectQemuSocket } from './unix-socket';
import type { Box } from './ocr';

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

/** A binary PPM (P6, 8 bits per sample): its size and where its pixels start. */
export interface Ppm {
  readonly width: number;
  readonly height: number;
  /** RGB bytes, row by row. */
  readonly pixels: Buffer;
}

export function readPpm(ppm: Buffer): Ppm {
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
  if (ppm.length - i < width * 3 * height) throw new Error(`the PPM is cut short: ${ppm.length - i} of ${width * 3 * height} bytes of pixels`);
  return { width, height, pixels: ppm.subarray(i, i + width * 3 * height) };
}

/** A binary PPM (P6, 8 bits per sample) as a PNG (RGB, 8 bits). */
export function ppmToPng(ppm: Buffer): Buffer {
  const { width, height, pixels } = readPpm(ppm);
  const row = width * 3;
  const raw = Buffer.alloc((row + 1) * height);
  for (let y = 0; y < height; y++) pixels.copy(raw, y * (row + 1) + 1, y * row, (y + 1) * row);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** The picture twice as large (each pixel 2x2): OCR reads small and light-on-dark text better so. */
export function upscalePpm(ppm: Buffer): Buffer {
  const { width, height, pixels } = readPpm(ppm);
  const w2 = width * 2;
  const out = Buffer.alloc(w2 * height * 2 * 3);
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(w2 * 3);
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * 3;
      pixels.copy(row, x * 6, s, s + 3);
      pixels.copy(row, x * 6 + 3, s, s + 3);
    }
    row.copy(out, 2 * y * w2 * 3);
    row.copy(out, (2 * y + 1) * w2 * 3);
  }
  return Buffer.concat([Buffer.from(`P6\n${w2} ${height * 2}\n255\n`, 'latin1'), out]);
}

/**
 * Filled buttons: regions of one dark colour (luminance under 150) shaped like a button (24–100 px
 * tall, 40–600 px wide, at least 60 % of their box filled, the rest being the label). OCR of a whole
 * screen often misses a short white label on a coloured button ("Next"); read alone, as one line,
 * it does not.
 */
export function filledButtons(p: Ppm): Box[] {
  const { width, height, pixels } = p;
  const seen = new Uint8Array(width * height);
  const found: Box[] = [];
  const stack: number[] = [];
  for (let start = 0; start < width * height; start++) {
    if (seen[start]) continue;
    seen[start] = 1;
    const r = pixels[start * 3]!;
    const g = pixels[start * 3 + 1]!;
    const b = pixels[start * 3 + 2]!;
    if (0.299 * r + 0.587 * g + 0.114 * b >= 150) continue;
    // Flood the pixels of exactly this colour, 4-connected.
    let count = 0;
    let minX = width;
    let minY = height;
    let maxX = -1;
    let maxY = -1;
    stack.push(start);
    while (stack.length > 0) {
      const i = stack.pop()!;
      const x = i % width;
      const y = (i - x) / width;
      count++;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
      for (const n of [x > 0 ? i - 1 : -1, x + 1 < width ? i + 1 : -1, y > 0 ? i - width : -1, y + 1 < height ? i + width : -1]) {
        if (n < 0 || seen[n]) continue;
        if (pixels[n * 3] !== r || pixels[n * 3 + 1] !== g || pixels[n * 3 + 2] !== b) continue;
        seen[n] = 1;
        stack.push(n);
      }
    }
    const w = maxX - minX + 1;
    const h = maxY - minY + 1;
    if (h >= 24 && h <= 100 && w >= 40 && w <= 600 && count >= 0.6 * w * h) found.push({ left: minX, top: minY, width: w, height: h });
  }
  return found;
}

/** The part of a picture inside `box`, grey and inverted (a light label on a dark fill reads dark on light), at twice the size, as PPM. */
export function buttonLabelPpm(p: Ppm, box: Box): Buffer {
  const w2 = box.width * 2;
  const h2 = box.height * 2;
  const out = Buffer.alloc(w2 * h2 * 3);
  for (let y = 0; y < h2; y++) {
    for (let x = 0; x < w2; x++) {
      const s = ((box.top + (y >> 1)) * p.width + box.left + (x >> 1)) * 3;
      const v = 255 - Math.round(0.299 * p.pixels[s]! + 0.587 * p.pixels[s + 1]! + 0.114 * p.pixels[s + 2]!);
      out.fill(v, (y * w2 + x) * 3, (y * w2 + x) * 3 + 3);
    }
  }
  return Buffer.concat([Buffer.from(`P6\n${w2} ${h2}\n255\n`, 'latin1'), out]);
}

/** The rows of a picture from `box.top` for `box.height`, across `box.left` for `box.width`, as PPM. */
export function cropPpm(p: Ppm, box: Box): Buffer {
  const rows: Buffer[] = [Buffer.from(`P6\n${box.width} ${box.height}\n255\n`, 'latin1')];
  for (let y = box.top; y < box.top + box.height; y++) rows.push(p.pixels.subarray((y * p.width + box.left) * 3, (y * p.width + box.left + box.width) * 3));
  return Buffer.concat(rows);
}

/** What a screen shows at a glance: its size and how much of it is one colour. */
export interface ScreenStats {
  readonly width: number;
  readonly height: number;
  /** The most common colour, as #rrggbb. */
  readonly dominant: string;
  /** The share of pixels (0..1) within a few levels of the most common colour. */
  readonly dominantShare: number;
  /** A digest of every pixel: equal digests, the same picture. */
  readonly digest: string;
}

/**
 * The screen's dominant colour and its share, from every 4th pixel of every 4th row (a 1024x768
 * screen is ~49,000 samples). A page with a heading and a few lines of text has well under 99 % of
 * one colour; a white, black or single-colour screen has more.
 */
export function screenStats(p: Ppm): ScreenStats {
  const counts = new Map<number, number>();
  let samples = 0;
  for (let y = 0; y < p.height; y += 4) {
    for (let x = 0; x < p.width; x += 4) {
      const o = (y * p.width + x) * 3;
      // 5 bits per channel: anti-aliasing and dithering noise fall into the same bucket.
      const key = ((p.pixels[o]! >> 3) << 10) | ((p.pixels[o + 1]! >> 3) << 5) | (p.pixels[o + 2]! >> 3);
      counts.set(key, (counts.get(key) ?? 0) + 1);
      samples++;
    }
  }
  let best = 0;
  let bestCount = 0;
  for (const [k, c] of counts) if (c > bestCount) [best, bestCount] = [k, c];
  const channel = (v: number): string => ((v << 3) | 4).toString(16).padStart(2, '0');
  return {
    width: p.width,
    height: p.height,
    dominant: `#${channel((best >> 10) & 31)}${channel((best >> 5) & 31)}${channel(best & 31)}`,
    dominantShare: samples === 0 ? 1 : bestCount / samples,
    digest: createHash('sha256').update(p.pixels).digest('hex'),
  };
}

/** A screen a person would call blank: 99.5 % or more of one colour (white, black, or the compositor's background). */
export function isBlank(s: ScreenStats): boolean {
  return s.dominantShare >= 0.995;
}

/** One HMP session: a command, then everything up to the next `(qemu) ` prompt is its answer. */
export class Monitor {
  private buf = '';
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8').on('data', (d: string) => (this.buf += d));
  }

  /** Connects to QEMU's `-monitor unix:PATH,server=on,wait=off`, waiting for QEMU to create it. */
  static connect(path: string, timeoutMs = 30_000, alive: () => boolean = () => true): Promise<Monitor> {
    return connectQemuSocket(path, 'monitor', async (socket) => {
      const m = new Monitor(socket);
      await m.prompt(10_000);
      return m;
    }, timeoutMs, alive);
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
    return (await this.capture(base)).file;
  }

  /** Writes the screen as `base`.png and says what it shows at a glance (null when the PPM could not be read). */
  async capture(base: string): Promise<{ file: string; stats: ScreenStats | null; ppm?: Buffer }> {
    const ppm = `${base}.ppm`;
    const answer = await this.command(`screendump ${ppm}`);
    if (!existsSync(ppm)) throw new Error(`screendump wrote nothing: ${answer || '(no answer)'}`);
    try {
      const data = readFileSync(ppm);
      const stats = screenStats(readPpm(data));
      writeFileSync(`${base}.png`, ppmToPng(data));
      rmSync(ppm);
      return { file: `${base}.png`, stats, ppm: data };
    } catch {
      return { file: ppm, stats: null };
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
