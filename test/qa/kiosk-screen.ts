import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LiveVm } from './live-vm';
import { findPhrase, ocr, screenText, type Box, type Word } from './ocr';
import { buttonLabelPpm, cropPpm, filledButtons, isBlank, ppmToPng, readPpm, upscalePpm, type Ppm, type ScreenStats } from './screen';
import { sleep } from './serial';

/**
 * The kiosk as the person at the machine meets it: the guest's screen read from its screendumps
 * (OCR), its own keyboard and pointer driven through QEMU. Every look at the screen is one sample of
 * a timeline, so the harness can say how long the screen stayed blank and when each page appeared.
 */

export interface Sample {
  /** Seconds since QEMU started. */
  readonly at: number;
  readonly blank: boolean;
  readonly dominant: string;
  readonly dominantShare: number;
}

export interface Look {
  /** Seconds since QEMU started when the screendump was taken. */
  readonly at: number;
  readonly file: string;
  readonly stats: ScreenStats;
  /** What was read: the whole screen, or only the part in `band` when the look asked for one. */
  readonly words: Word[];
  readonly band?: Box;
  /** The words in `band` of this same screendump, read alone (as a look with that band reads them). */
  readonly inBand: (band: Box) => Promise<Word[]>;
  /** The words of the picture read at twice its size (on first use), in the screen's coordinates: small text, white labels on dark buttons. */
  readonly enlarged: () => Promise<Word[]>;
  /** The labels of filled buttons, each read alone (on first use): a short white label on a coloured button. */
  readonly buttons: () => Promise<Word[]>;
}

/** Where `phrase` is on a look: in the screen's reading, else at twice the size, else on a filled button. */
export async function locate(look: Look, phrase: string, exact?: boolean): Promise<Box | null> {
  for (const read of [async () => look.words, look.enlarged, look.buttons]) {
    const box = findPhrase(await read(), phrase, { exact })[0];
    if (box) return box;
  }
  return null;
}

/** The longest run of blank samples that began at or after `from` (seconds), as [start, end]; end is the first non-blank sample or the last one. */
export function longestBlank(samples: readonly Sample[], from = 0): { start: number; end: number; seconds: number } | null {
  let best: { start: number; end: number; seconds: number } | null = null;
  let start: number | null = null;
  const list = samples.filter((s) => s.at >= from);
  for (let i = 0; i < list.length; i++) {
    const s = list[i]!;
    if (s.blank && start === null) start = s.at;
    const ends = !s.blank || i === list.length - 1;
    if (start !== null && ends) {
      const end = s.at;
      if (!best || end - start > best.seconds) best = { start, end, seconds: end - start };
      if (!s.blank) start = null;
    }
  }
  return best;
}

/** What a screen needs of a VM: its monitor (screendumps), its keyboard and pointer, its clock. */
export type ScreenVm = Pick<LiveVm, 'monitor' | 'input' | 'now'>;

export class KioskScreen {
  readonly samples: Sample[] = [];
  /** The screendumps kept (named), in order. */
  readonly kept: string[] = [];
  private n = 0;
  private last: Look | null = null;

  constructor(
    private readonly vm: ScreenVm,
    private readonly dir: string,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  /** Seconds since the VM started. */
  now(): number {
    return this.vm.now();
  }

  /**
   * Takes a screendump (kept as NN-name.png when `name` is given, else overwritten as scratch) and
   * reads it, or only the part of it in `band` (words in the screen's coordinates): a strip of the
   * screen costs tesseract about half the CPU time of the whole (0.28 s against 0.62 s here).
   */
  async look(name?: string, o: { band?: Box } = {}): Promise<Look> {
    const base = name ? join(this.dir, `screen-${String(++this.n).padStart(2, '0')}-${name}`) : join(this.dir, 'screen-scratch');
    const at = this.vm.now();
    const { file, stats, ppm } = await this.vm.monitor.capture(base);
    if (!stats) throw new Error(`the screendump ${file} could not be read`);
    const uniform = stats.dominantShare >= 0.9999;
    // The same picture as the last look reads the same: OCR only what changed.
    const sameBand = JSON.stringify(this.last?.band) === JSON.stringify(o.band);
    const same = sameBand && this.last?.stats.digest === stats.digest ? this.last : null;
    // A screen of one colour but for a line of text (a console saying what it waits for) is not
    // blank to a person: blank is one colour and nothing OCR can read.
    const words = uniform ? [] : same ? same.words : o.band && ppm ? await this.readBand(readPpm(ppm), o.band) : await ocr(file);
    const blank = isBlank(stats) && words.length === 0;
    this.samples.push({ at, blank, dominant: stats.dominant, dominantShare: stats.dominantShare });
    let enlarged: Promise<Word[]> | null = null;
    const enlargedFile = join(this.dir, 'screen-enlarged.png');
    const readEnlarged = (): Promise<Word[]> => {
      if (same) return same.enlarged();
      enlarged ??= (async () => {
        if (!ppm || uniform) return [];
        writeFileSync(enlargedFile, ppmToPng(upscalePpm(ppm)));
        try {
          const half = (n: number): number => Math.round(n / 2);
          return (await ocr(enlargedFile)).map((x) => ({ ...x, left: half(x.left), top: half(x.top), width: half(x.width), height: half(x.height) }));
        } finally {
          rmSync(enlargedFile, { force: true });
        }
      })();
      return enlarged;
    };
    let buttons: Promise<Word[]> | null = null;
    const readButtons = (): Promise<Word[]> => {
      if (same) return same.buttons();
      buttons ??= (async () => {
        if (!ppm || uniform) return [];
        const picture = readPpm(ppm);
        const out: Word[] = [];
        const labelFile = join(this.dir, 'screen-button.png');
        try {
          for (const [k, box] of filledButtons(picture).entries()) {
            writeFileSync(labelFile, ppmToPng(buttonLabelPpm(picture, box)));
            // Each word of the label gets the button's box: a click goes to the button's middle.
            for (const w of await ocr(labelFile, 60_000, { singleLine: true })) out.push({ ...w, ...box, line: `button.${k}` });
          }
        } finally {
          rmSync(labelFile, { force: true });
        }
        return out;
      })();
      return buttons;
    };
    const inBand = async (b: Box): Promise<Word[]> => (o.band && JSON.stringify(b) === JSON.stringify(o.band) ? words : ppm && !uniform ? this.readBand(readPpm(ppm), b) : []);
    this.last = { at, file, stats, words, band: o.band, inBand, enlarged: readEnlarged, buttons: readButtons };
    return this.last;
  }

  private async readBand(picture: Ppm, band: Box): Promise<Word[]> {
    const file = join(this.dir, 'screen-band.ppm');
    writeFileSync(file, cropPpm(picture, band));
    try {
      return (await ocr(file)).map((w) => ({ ...w, left: w.left + band.left, top: w.top + band.top }));
    } finally {
      rmSync(file, { force: true });
    }
  }

  /** Keeps the current screen under `name` (a fresh screendump). */
  async keep(name: string): Promise<string> {
    const file = (await this.look(name)).file;
    this.kept.push(file);
    return file;
  }

  /**
   * Looks every `everyMs` until `phrase` is on the screen; fails after `timeoutMs`, or as soon as the
   * screen has been blank for `blankLimitS` seconds in a row (when given), with what it last read.
   */
  async waitFor(phrase: string, o: { timeoutMs: number; exact?: boolean; blankLimitS?: number; everyMs?: number; what?: string }): Promise<{ box: Box; look: Look }> {
    const deadline = performance.now() + o.timeoutMs;
    let blankSince: number | null = null;
    for (;;) {
      const look = await this.look();
      const box = await locate(look, phrase, o.exact);
      if (box) return { box, look };
      const now = this.vm.now();
      if (this.samples.at(-1)?.blank) blankSince ??= now;
      else blankSince = null;
      const what = o.what ?? `"${phrase}" on the guest's screen`;
      if (o.blankLimitS !== undefined && blankSince !== null && now - blankSince > o.blankLimitS) {
        const file = await this.keep('blank');
        throw new Error(`${what}: the screen has been blank (${look.stats.dominant}, ${(look.stats.dominantShare * 100).toFixed(1)} % one colour) for ${(now - blankSince).toFixed(0)} s (limit ${o.blankLimitS} s); see ${file}`);
      }
      if (performance.now() > deadline) {
        const file = await this.keep('timeout');
        throw new Error(`${what} never appeared within ${(o.timeoutMs / 1000).toFixed(0)} s; the screen (${file}) read:\n${screenText(look.words).slice(0, 1500)}`);
      }
      await sleep(o.everyMs ?? 2000);
    }
  }

  /** Clicks the middle of the first place `phrase` is read (waiting up to `timeoutMs` for it). */
  async click(phrase: string, o: { timeoutMs?: number; exact?: boolean; dx?: number; dy?: number } = {}): Promise<Box> {
    const { box, look } = await this.waitFor(phrase, { timeoutMs: o.timeoutMs ?? 60_000, exact: o.exact, what: `"${phrase}" to click` });
    const x = box.left + box.width / 2 + (o.dx ?? 0);
    const y = box.top + box.height / 2 + (o.dy ?? 0);
    this.log(`click "${phrase}" at ${Math.round(x)},${Math.round(y)}`);
    await this.vm.input.click(x, y, look.stats.width, look.stats.height);
    await this.park(look.stats.width, look.stats.height);
    return box;
  }

  /**
   * Moves the pointer to the screen's left edge after a click, as a person moves the mouse away: a
   * pointer left on a button changes its colour (hover) and covers its label, and the next page's
   * button in the same place would be read through it.
   */
  private async park(width: number, height: number): Promise<void> {
    await sleep(300);
    await this.vm.input.pointTo(2, Math.round(height / 2), width, height);
    await sleep(200);
  }

  /** Clicks pixel (x, y) of the screen last looked at. */
  async clickAt(x: number, y: number, what: string): Promise<void> {
    const size = this.last?.stats ?? (await this.look()).stats;
    this.log(`click ${what} at ${Math.round(x)},${Math.round(y)}`);
    await this.vm.input.click(x, y, size.width, size.height);
    await this.park(size.width, size.height);
  }

  /** Scrolls the page under pixel (x, y) with the wheel (positive: down). */
  /**
   * Scrolls with the wheel at (x, y), three notches at a time, until `phrase` is read on the screen;
   * fails after `maxScrolls` turns with what the screen read last.
   */
  async scrollUntil(phrase: string, o: { x: number; y: number; maxScrolls?: number; exact?: boolean; notches?: number }): Promise<Box> {
    const max = o.maxScrolls ?? 8;
    for (let i = 0; ; i++) {
      const look = await this.look();
      const box = await locate(look, phrase, o.exact);
      if (box) return box;
      if (i >= max) {
        const file = await this.keep('scroll-not-found');
        throw new Error(`"${phrase}" not read on the screen after scrolling ${max} times (${file}); it read:\n${screenText(look.words).slice(0, 1500)}`);
      }
      await this.scroll(o.x, o.y, o.notches ?? 3);
    }
  }

  async scroll(x: number, y: number, notches: number): Promise<void> {
    const size = this.last?.stats ?? (await this.look()).stats;
    await this.vm.input.wheel(x, y, size.width, size.height, notches);
    await sleep(800);
  }

  /** Types with the guest's keyboard, as the keys a person presses on a US keyboard. */
  async type(text: string): Promise<void> {
    await this.vm.input.typeUs(text);
  }

  /** Types like `type`, with `gapMs` between keys (a console that shows nothing typed cannot be read back). */
  async typeKeys(text: string, gapMs: number): Promise<void> {
    await this.vm.input.typeUs(text, gapMs);
  }

  async press(qcode: string, modifiers: readonly string[] = []): Promise<void> {
    await this.vm.input.press(qcode, modifiers);
    await sleep(150);
  }
}
