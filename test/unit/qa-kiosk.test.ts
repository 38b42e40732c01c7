import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lastLoginLine, refusedSinceLastPassword } from '../qa/kiosk';
import { longestBlank, type Sample } from '../qa/kiosk-screen';
import { listOption, longestStill, progressBand, readProgress, usKeysFor } from '../qa/kiosk-wizard';
import { findPhrase, lineIncludes, normalize, parseTsv, sameWord, type Word } from '../qa/ocr';
import { ABS_MAX, keyPressEvents, toAbs, usKeyStrokes } from '../qa/qmp';
import { cropPpm, filledButtons, isBlank, ppmToPng, readPpm, screenStats, upscalePpm } from '../qa/screen';

/** The pure parts of the kiosk-driven QA: key codes, pointer scaling, OCR matching, blank screens. */

const FIXTURE = join(import.meta.dirname, '../fixtures/qa/welcome-1024x768.tsv');

function ppm(width: number, height: number, paint: (x: number, y: number) => [number, number, number]): Buffer {
  const head = Buffer.from(`P6\n# made by a test\n${width} ${height}\n255\n`, 'latin1');
  const px = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) px.set(paint(x, y), (y * width + x) * 3);
  return Buffer.concat([head, px]);
}

describe('the guest keyboard: keys a person presses on a US keyboard', () => {
  it('maps letters, capitals, digits and shifted symbols to key codes', () => {
    expect(usKeyStrokes('aZ9 !_?')).toEqual([
      { qcode: 'a', shift: false },
      { qcode: 'z', shift: true },
      { qcode: '9', shift: false },
      { qcode: 'spc', shift: false },
      { qcode: '1', shift: true },
      { qcode: 'minus', shift: true },
      { qcode: 'slash', shift: true },
    ]);
  });
  it('refuses characters no US key types', () => {
    expect(() => usKeyStrokes('ä')).toThrow(/no key on a US keyboard types "ä"/);
  });
  it('swaps Y and Z so that a German layout shows the text, and refuses what moves elsewhere', () => {
    expect(usKeysFor('Anna Zylka 2026')).toBe('Anna Yzlka 2026');
    expect(usKeysFor('Zypresse yz')).toBe('Yzpresse zy');
    expect(usKeysFor('particle-kiosk')).toBe('particle/kiosk');
    expect(() => usKeysFor('a_b')).toThrow(/different keys/);
    expect(() => usKeysFor('ä')).toThrow(/different keys/);
  });
  it('sends a key press as one batch: modifiers down, the key down and up, modifiers up in reverse', () => {
    const seen = keyPressEvents('a', ['ctrl', 'shift']).map((e) => `${e.data.key.data}${e.data.down ? '↓' : '↑'}`);
    expect(seen).toEqual(['ctrl↓', 'shift↓', 'a↓', 'a↑', 'shift↑', 'ctrl↑']);
    expect(keyPressEvents('ret')).toEqual([
      { type: 'key', data: { down: true, key: { type: 'qcode', data: 'ret' } } },
      { type: 'key', data: { down: false, key: { type: 'qcode', data: 'ret' } } },
    ]);
  });
});

describe("the installed system's console, read back after typing", () => {
  const word = (text: string, line: string, left: number): Word => ({ text, line, conf: 90, left, top: Number(line.split('.')[2]) * 20, width: 10 * text.length, height: 16 });
  const screen = (lines: string[]): Word[] => lines.flatMap((l, i) => l.split(' ').map((t, j) => word(t, `1.1.${i}`, j * 100)));
  it('reads the prompt being typed at, not an earlier one still on the screen', () => {
    const words = screen(['particle-kiosk login: anna', 'Password:', 'Login incorrect', 'particle-kiosk login: Zypresse 2026 yz']);
    const last = lastLoginLine(words);
    expect(last?.map((w) => w.text).join(' ')).toBe('particle-kiosk login: Zypresse 2026 yz');
    expect(lineIncludes(last!, 'login: anna', 1)).toBe(false);
    expect(lineIncludes(last!, `login: ${'Zypresse 2026 yz'}`, 1)).toBe(true);
  });
  it('counts a refusal only after the last password prompt: an earlier one stays on the screen above a later login', () => {
    expect(refusedSinceLastPassword(screen(['particle-kiosk login: anna', 'Password:', 'Login incorrect', '', 'particle-kiosk login:']))).toBe(true);
    expect(refusedSinceLastPassword(screen(['particle-kiosk login: anna', 'Password:', 'Login incorrect', 'particle-kiosk login: anna', 'Password:', 'Linux particle-kiosk 6.12', 'anna@particle-kiosk:~$']))).toBe(false);
    expect(refusedSinceLastPassword(screen(['particle-kiosk login: anna', 'Password:']))).toBe(false);
    expect(refusedSinceLastPassword(screen(['Login incorrect']))).toBe(false);
  });
  it('tells the German reading of the keys from the US one', () => {
    const us = lastLoginLine(screen(['Login incorrect', 'particle-kiosk login: Yzpresse 2026 zy']))!;
    expect(lineIncludes(us, 'login: Zypresse 2026 yz', 1)).toBe(false);
    expect(lastLoginLine(screen(['Debian GNU/Linux 13', 'Password:']))).toBeNull();
  });
});

describe('the guest pointer: screen pixels to QEMU absolute axes', () => {
  it('maps the first and last pixel to the ends of the axis and clamps outside', () => {
    expect(toAbs(0, 1280)).toBe(0);
    expect(toAbs(1279, 1280)).toBe(ABS_MAX);
    expect(toAbs(640, 1281)).toBe(Math.round(ABS_MAX / 2));
    expect(toAbs(-5, 800)).toBe(0);
    expect(toAbs(5000, 800)).toBe(ABS_MAX);
    expect(() => toAbs(1, 0)).toThrow();
  });
});

describe('reading the screen (tesseract TSV of the Welcome page at 1024x768)', () => {
  const words = parseTsv(readFileSync(FIXTURE, 'utf8'));
  it('parses words with boxes and lines', () => {
    expect(words.length).toBeGreaterThan(40);
    const w = words.find((x) => x.text === 'Welcome')!;
    expect(w.line).toMatch(/^\d+\.\d+\.\d+$/);
    expect(w.width).toBeGreaterThan(0);
  });
  it('finds the heading and the buttons where they are drawn', () => {
    const [heading] = findPhrase(words, 'Welcome to ParticleOS');
    expect(heading).toBeDefined();
    expect(heading!.top).toBeGreaterThan(200);
    expect(heading!.top).toBeLessThan(280);
    const [install] = findPhrase(words, 'Install', { exact: true });
    expect(install!.left).toBeGreaterThan(880);
    expect(install!.top).toBeGreaterThan(700);
    expect(findPhrase(words, 'Try the live system')).toHaveLength(1);
  });
  it('does not find what is not there, nor a word inside a longer line when exact', () => {
    expect(findPhrase(words, 'Ready to install')).toEqual([]);
    expect(findPhrase(words, 'Who will use this computer?')).toEqual([]);
    // "rolled back at the next boot" holds Back, but it is no button.
    expect(findPhrase(words, 'Back', { exact: true })).toHaveLength(1);
    expect(findPhrase(words, 'Back').length).toBeGreaterThan(1);
  });
  it('forgives one wrong letter in long words only', () => {
    expect(sameWord('Keyboad', 'Keyboard')).toBe(true);
    expect(sameWord('Zylka', 'Yzlka')).toBe(false);
    expect(sameWord('Bock', 'Back')).toBe(false);
    expect(normalize('“Install”')).toBe('install');
  });
  it('refuses TSV that is not tesseract’s', () => {
    expect(() => parseTsv('a\tb\n1\t2\n')).toThrow(/not tesseract TSV/);
  });
});

describe('reading a list on the screen (the Keyboard page after searching "German", 1280x800)', () => {
  const words = parseTsv(readFileSync(join(import.meta.dirname, '../fixtures/qa/keyboard-german-1280x800.tsv'), 'utf8'));
  it('picks the list option over its key, not the search field nor the hint that also read "German"', () => {
    expect(findPhrase(words, 'German', { exact: true }).length).toBeGreaterThan(1);
    const option = listOption(words, 'German', 'de');
    expect(option).not.toBeNull();
    // The search field is at y≈281 and the hint at y≈319; the first option is below both.
    expect(option!.top).toBeGreaterThan(400);
    expect(listOption(words, 'German', 'fr')).toBeNull();
  });
});

describe('blank screens', () => {
  it('reads a P6 PPM with a comment and converts it to PNG', () => {
    const p = readPpm(ppm(8, 4, () => [1, 2, 3]));
    expect([p.width, p.height, p.pixels.length]).toEqual([8, 4, 96]);
    expect(ppmToPng(ppm(8, 4, () => [1, 2, 3])).subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(() => readPpm(Buffer.from('P6\n8 4\n255\n\x00'))).toThrow(/cut short/);
  });
  it('enlarges a picture to twice its size, each pixel as a 2x2 block', () => {
    const p = readPpm(upscalePpm(ppm(2, 1, (x) => (x === 0 ? [255, 255, 255] : [31, 78, 140]))));
    expect([p.width, p.height]).toEqual([4, 2]);
    const row = [255, 255, 255, 255, 255, 255, 31, 78, 140, 31, 78, 140];
    expect([...p.pixels]).toEqual([...row, ...row]);
  });
  it('calls a white, a black and a one-colour screen with a pointer blank, and a page with text not', () => {
    const white = screenStats(readPpm(ppm(400, 300, () => [255, 255, 255])));
    expect(isBlank(white)).toBe(true);
    expect(white.dominant).toBe('#fcfcfc');
    const pointer = screenStats(readPpm(ppm(400, 300, (x, y) => (x > 100 && x < 112 && y > 100 && y < 118 ? [0, 0, 0] : [243, 245, 248]))));
    expect(isBlank(pointer)).toBe(true);
    // Three lines of dark text across a third of the width.
    const text = screenStats(readPpm(ppm(400, 300, (x, y) => (x > 50 && x < 300 && [100, 140, 180].some((t) => y >= t && y < t + 10) && x % 3 === 0 ? [20, 20, 20] : [255, 255, 255]))));
    expect(isBlank(text)).toBe(false);
  });
  it('finds the longest blank stretch after a point in time', () => {
    const s = (at: number, blank: boolean): Sample => ({ at, blank, dominant: '#000000', dominantShare: blank ? 1 : 0.5 });
    const samples = [s(0, true), s(10, true), s(20, false), s(30, true), s(45, true), s(70, true), s(75, false), s(80, true)];
    expect(longestBlank(samples)).toEqual({ start: 30, end: 75, seconds: 45 });
    expect(longestBlank(samples, 72)).toEqual({ start: 80, end: 80, seconds: 0 });
    expect(longestBlank([s(0, false)])).toBeNull();
  });
});

describe('the progress page as read on the screen', () => {
  /** Words of lines as OCR gives them: one line per string, words split at spaces. */
  const words = (...lines: string[]): Word[] =>
    lines.flatMap((l, i) => l.split(' ').map((text, k) => ({ text, conf: 90, line: `1.1.${i}`, left: k * 60, top: i * 30, width: 50, height: 20 })));

  it('reads the percent and the time-left line, and nothing from another page', () => {
    expect(readProgress(words('Installing ParticleOS', '42.5% done', 'About 3 minutes left'))).toEqual({ percent: '42.5', timeLeft: 'About 3 minutes left' });
    expect(readProgress(words('7 % done', 'Taking longer than expected (4 minutes so far)'))).toEqual({ percent: '7', timeLeft: 'Taking longer than expected (4 minutes so far)' });
    expect(readProgress(words('Choose your keyboard layout', 'Next'))).toEqual({ percent: null, timeLeft: null });
  });

  it('finds the longest stretch a reading stood still, up to the next different reading', () => {
    const s = (at: number, reading: string) => ({ at, reading });
    expect(longestStill([s(0, 'a'), s(5, 'a'), s(9, 'b'), s(12, 'c'), s(30, 'c'), s(41, 'c'), s(44, 'd')])).toEqual({ seconds: 32, from: 12, reading: 'c' });
    expect(longestStill([s(3, 'a')])).toEqual({ seconds: 0, from: 3, reading: 'a' });
    expect(longestStill([])).toBeNull();
  });

  it('finds the strip that holds the percent and the time left on a real progress page, and none on another page', () => {
    const page = parseTsv(readFileSync(join(import.meta.dirname, '../fixtures/qa/progress-1024x768.tsv'), 'utf8'));
    const band = progressBand(page, { width: 1024, height: 768 });
    expect(band).not.toBeNull();
    const inside = page.filter((w) => w.top >= band!.top && w.top + w.height <= band!.top + band!.height);
    // The strip alone reads what the whole page reads, and leaves out the heading and the step list.
    expect(readProgress(inside)).toEqual(readProgress(page));
    expect(readProgress(page)).toEqual({ percent: '83.0', timeLeft: 'Taking longer than expected (2 minutes so far)' });
    expect(inside.map((w) => w.text)).not.toContain('ParticleOS');
    expect(inside.map((w) => w.text)).not.toContain('initramfs');
    expect(band).toMatchObject({ left: 0, width: 1024 });
    expect(progressBand(parseTsv(readFileSync(FIXTURE, 'utf8')), { width: 1024, height: 768 })).toBeNull();
  });
});

describe('a strip of a screendump', () => {
  it('keeps the rows and columns asked for, as a PPM tesseract reads', () => {
    const pixels = Buffer.from(Array.from({ length: 4 * 3 * 3 }, (_, i) => i));
    const strip = readPpm(cropPpm({ width: 4, height: 3, pixels }, { left: 1, top: 1, width: 2, height: 2 }));
    expect([strip.width, strip.height]).toEqual([2, 2]);
    // Row 1 columns 1-2 and row 2 columns 1-2, three bytes a pixel.
    expect([...strip.pixels]).toEqual([15, 16, 17, 18, 19, 20, 27, 28, 29, 30, 31, 32]);
  });
});

describe('filled buttons on a screendump', () => {
  /** A white picture with a blue button (white label strokes inside) and a line of dark text. */
  function picture(): { width: number; height: number; pixels: Buffer } {
    const width = 300;
    const height = 120;
    const pixels = Buffer.alloc(width * height * 3, 255);
    const paint = (x0: number, y0: number, w: number, h: number, rgb: [number, number, number]): void => {
      for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) pixels.set(rgb, (y * width + x) * 3);
    };
    paint(180, 60, 85, 44, [31, 78, 140]);
    // The label: white strokes inside the fill.
    for (let k = 0; k < 5; k++) paint(195 + k * 12, 72, 3, 20, [255, 255, 255]);
    // Dark body text: thin strokes, never a button.
    for (let k = 0; k < 20; k++) paint(10 + k * 8, 20, 2, 14, [24, 32, 44]);
    return { width, height, pixels };
  }

  it("finds the button's box and not the text", () => {
    expect(filledButtons(picture())).toEqual([{ left: 180, top: 60, width: 85, height: 44 }]);
  });
});

describe("the installed system's console as read on its screen", () => {
  const words = parseTsv(readFileSync(join(import.meta.dirname, '../fixtures/qa/tty1-login-1280x800.tsv'), 'utf8'));

  it('finds the shell prompt of the user and host despite the console font (read "annagpart icle-kiosk")', () => {
    expect(lineIncludes(words, 'anna@particle-kiosk')).toBe(true);
  });

  it('does not find another user or host, nor a prompt split over two lines', () => {
    expect(lineIncludes(words, 'root@particle-kiosk')).toBe(false);
    expect(lineIncludes(words, 'anna@particle-qa')).toBe(false);
    expect(lineIncludes(words, 'login anna Password')).toBe(false);
  });
});

describe("the kiosk harness's texts are the wizard's own English strings", () => {
  it('finds every KIOSK_TEXT entry among the English translations (a renamed label fails here, not after a 20-minute VM run)', async () => {
    const { KIOSK_TEXT } = await import('../qa/kiosk-wizard');
    const { RESOURCES } = await import('../../src/renderer/src/i18n/resources');
    const strings: string[] = [];
    const walk = (v: unknown): void => {
      if (typeof v === 'string') strings.push(v.replace(/\{\{product\}\}/g, 'ParticleOS'));
      else if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x);
    };
    walk(RESOURCES.en);
    // The layout's name comes from the guest's XKB rules (evdev.xml), not from the wizard's strings.
    const fromSystem = new Set(['germanNoDeadKeys']);
    const wanted = Object.entries(KIOSK_TEXT).filter(([k]) => !fromSystem.has(k)).flatMap(([k, v]) =>
      typeof v === 'function' ? [[k, v('ParticleOS')] as const] : Array.isArray(v) ? v.map((x) => [k, x] as const) : [[k, v as string] as const],
    );
    expect(wanted.length).toBeGreaterThan(20);
    const missing = wanted.filter(([, text]) => !strings.some((s) => s.startsWith(text)));
    expect(missing).toEqual([]);
  });
});
