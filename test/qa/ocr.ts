import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Reading the guest's screen as a person does: tesseract turns a screendump into words with their
 * boxes, and the harness finds a heading, a button's label or a field's label among them. Matching
 * forgives what OCR gets wrong at screen resolution (case, punctuation, one wrong letter in a longer
 * word) and nothing more, so a blank or wrong page cannot pass for the right one.
 */

export const TESSERACT = '/usr/bin/tesseract';

export function ocrUnavailable(): string | null {
  return existsSync(TESSERACT) ? null : `${TESSERACT} is missing (apt-get install tesseract-ocr tesseract-ocr-eng)`;
}

export interface Box {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

export interface Word extends Box {
  readonly text: string;
  readonly conf: number;
  /** block.paragraph.line: words of one line share it. */
  readonly line: string;
}

/** tesseract's TSV output (level 5 rows are words) as words with boxes; empty words dropped. */
export function parseTsv(tsv: string): Word[] {
  const rows = tsv.split('\n');
  const head = rows.shift()?.split('\t') ?? [];
  const col = (name: string): number => {
    const i = head.indexOf(name);
    if (i < 0) throw new Error(`not tesseract TSV: no ${name} column in "${head.join(' ')}"`);
    return i;
  };
  const [level, block, par, line, left, top, width, height, conf, text] = ['level', 'block_num', 'par_num', 'line_num', 'left', 'top', 'width', 'height', 'conf', 'text'].map(col) as number[];
  const words: Word[] = [];
  for (const r of rows) {
    const f = r.split('\t');
    if (f[level!] !== '5') continue;
    const t = (f[text!] ?? '').trim();
    if (!t) continue;
    words.push({
      text: t,
      conf: Number(f[conf!]),
      line: `${f[block!]}.${f[par!]}.${f[line!]}`,
      left: Number(f[left!]),
      top: Number(f[top!]),
      width: Number(f[width!]),
      height: Number(f[height!]),
    });
  }
  return words;
}

/** Lower case, letters and digits only (OCR's idea of punctuation is the least reliable part). */
export function normalize(word: string): string {
  return word.toLowerCase().normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[^\p{L}\p{N}]/gu, '');
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const keep = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = keep;
    }
  }
  return d[b.length]!;
}

/** One word read as another: equal once normalized, or one edit apart when the word has 5 letters or more. */
export function sameWord(read: string, want: string): boolean {
  const r = normalize(read);
  const w = normalize(want);
  if (r === w) return w.length > 0;
  return w.length >= 5 && distance(r, w) <= 1;
}

function union(boxes: readonly Box[]): Box {
  const left = Math.min(...boxes.map((b) => b.left));
  const top = Math.min(...boxes.map((b) => b.top));
  const right = Math.max(...boxes.map((b) => b.left + b.width));
  const bottom = Math.max(...boxes.map((b) => b.top + b.height));
  return { left, top, width: right - left, height: bottom - top };
}

/**
 * Every place `phrase` appears as consecutive words of one line, top to bottom; `exact` also wants
 * the line to hold nothing else (a button's label, a heading), so "Install" does not match in
 * "Installing ParticleOS".
 */
export function findPhrase(words: readonly Word[], phrase: string, o: { exact?: boolean } = {}): Box[] {
  const want = phrase.split(/\s+/).filter((w) => normalize(w) !== '');
  if (want.length === 0) throw new Error(`nothing to look for in "${phrase}"`);
  const byLine = new Map<string, Word[]>();
  for (const w of words) {
    if (normalize(w.text) === '') continue;
    byLine.set(w.line, [...(byLine.get(w.line) ?? []), w]);
  }
  const found: Box[] = [];
  for (const line of byLine.values()) {
    // A line may hold several buttons side by side: split it where the gap is wider than words are
    // spaced (about half a letter's height; two buttons' paddings and margin are more than 1.5).
    const groups: Word[][] = [];
    for (const w of line) {
      const last = groups.at(-1)?.at(-1);
      if (last && w.left - (last.left + last.width) <= 1.5 * Math.min(last.height, w.height)) groups.at(-1)!.push(w);
      else groups.push([w]);
    }
    for (const g of groups) {
      for (let i = 0; i + want.length <= g.length; i++) {
        if (!want.every((w, k) => sameWord(g[i + k]!.text, w))) continue;
        if (o.exact && g.length !== want.length) continue;
        found.push(union(g.slice(i, i + want.length)));
      }
    }
  }
  return found.sort((a, b) => a.top - b.top || a.left - b.left);
}

/**
 * Whether a line of `words` holds `want` with at most `maxEdits` letters or digits read wrong, added
 * or lost (OCR of a console font reads "anna@particle-kiosk" as "annagpart icle-kiosk"): only letters
 * and digits count, spaces and punctuation are dropped on both sides.
 */
export function lineIncludes(words: readonly Word[], want: string, maxEdits = 2): boolean {
  const w = normalize(want);
  if (w === '') throw new Error(`nothing to look for in "${want}"`);
  const byLine = new Map<string, string>();
  for (const x of words) byLine.set(x.line, (byLine.get(x.line) ?? '') + normalize(x.text));
  for (const text of byLine.values()) {
    // Edit distance of `w` against any stretch of `text` (free start and end in the text).
    let prev = Array.from({ length: text.length + 1 }, () => 0);
    for (let i = 1; i <= w.length; i++) {
      const cur = [i];
      for (let j = 1; j <= text.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (w[i - 1] === text[j - 1] ? 0 : 1));
      prev = cur;
    }
    if (Math.min(...prev) <= maxEdits) return true;
  }
  return false;
}

/** The words read, line by line, for failure messages. */
export function screenText(words: readonly Word[]): string {
  const byLine = new Map<string, string[]>();
  for (const w of words) byLine.set(w.line, [...(byLine.get(w.line) ?? []), w.text]);
  return [...byLine.values()].map((l) => l.join(' ')).join('\n');
}

/** Runs tesseract on a PNG; its words with boxes. */
export function ocr(png: string, timeoutMs = 60_000, o: { singleLine?: boolean } = {}): Promise<Word[]> {
  return new Promise((resolve, reject) => {
    // One thread: the guest's emulated CPU runs on the other core, and OCR must not starve it.
    const env = { ...process.env, OMP_THREAD_LIMIT: '1' };
    // Page segmentation 3 (automatic) for a screen, 7 (one line of text) for a button's label.
    execFile(TESSERACT, [png, 'stdout', '-l', 'eng', '--psm', o.singleLine ? '7' : '3', 'tsv'], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env }, (err, stdout, stderr) => {
      if (err) reject(new Error(`tesseract failed on ${png}: ${stderr.trim() || err.message}`));
      else resolve(parseTsv(stdout));
    });
  });
}
