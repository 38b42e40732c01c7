import type { Readable, Writable } from 'node:stream';

/**
 * A guest's serial console as the QA harness reads it: everything it printed (control sequences
 * removed, so GRUB's menu and a login prompt match as plain text), patterns waited for in order, the
 * first time each watched line appeared, and typing, slowly when firmware is listening.
 */

// CSI (colours, cursor moves), the two-byte escapes GRUB and getty send, OSC titles up to BEL or ST.
// eslint-disable-next-line no-control-regex
const CONTROL = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78cDEHMNOZ]|\r|\x00/g;
// An escape sequence cut off at the end of a chunk: kept until the next chunk completes it.
// eslint-disable-next-line no-control-regex
const UNFINISHED = /\x1b(?:\[[0-9;?]*[ -/]*|\][^\x07\x1b]*|[()])?$/;

/** Removes terminal control sequences and carriage returns; returns the text and an unfinished tail. */
export function cleanChunk(text: string): { clean: string; rest: string } {
  const cut = UNFINISHED.exec(text);
  const whole = cut ? text.slice(0, cut.index) : text;
  return { clean: whole.replace(CONTROL, ''), rest: cut ? text.slice(cut.index) : '' };
}

export class ConsoleClosed extends Error {}

interface Watch {
  readonly pattern: RegExp;
  seconds: number | null;
}

export interface SerialOptions {
  /** Where the guest's output arrives (QEMU's stdout with -serial stdio). */
  readonly input: Readable;
  /** Where keys go (QEMU's stdin). */
  readonly output: Writable;
  /** Every chunk, cleaned, as it arrives (the serial log). */
  readonly onText?: (text: string) => void;
  /** Time zero for the seconds reported; default now. */
  readonly startedAt?: number;
  /** What the failure messages call the guest. */
  readonly name?: string;
}

export class SerialConsole {
  private text = '';
  private pending = '';
  private cursor = 0;
  private closed = false;
  private readonly waiters = new Set<() => void>();
  private readonly watches = new Map<string, Watch>();
  readonly startedAt: number;
  private readonly name: string;

  constructor(private readonly o: SerialOptions) {
    this.startedAt = o.startedAt ?? performance.now();
    this.name = o.name ?? 'the guest';
    o.input.setEncoding('utf8');
    o.input.on('data', (d: string) => this.feed(d));
    o.input.on('close', () => this.close());
    o.input.on('end', () => this.close());
  }

  /** Seconds since time zero. */
  now(): number {
    return (performance.now() - this.startedAt) / 1000;
  }

  private feed(data: string): void {
    const { clean, rest } = cleanChunk(this.pending + data);
    this.pending = rest;
    if (clean === '') return;
    const from = Math.max(0, this.text.length - 200);
    this.text += clean;
    this.o.onText?.(clean);
    for (const w of this.watches.values()) if (w.seconds === null && w.pattern.test(this.text.slice(from))) w.seconds = this.now();
    for (const w of this.waiters) w();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters) w();
  }

  /** Everything printed so far, cleaned. */
  transcript(): string {
    return this.text;
  }

  /** The last `n` lines, for failure messages. */
  tail(n = 40): string {
    return this.text.trimEnd().split('\n').slice(-n).join('\n');
  }

  /** Notes when `pattern` first appears (looked for from now on, and in what is already there). */
  watch(name: string, pattern: RegExp): void {
    const flags = pattern.flags.replace('g', '');
    const w: Watch = { pattern: new RegExp(pattern.source, flags), seconds: null };
    if (w.pattern.test(this.text)) w.seconds = this.now();
    this.watches.set(name, w);
  }

  /** Seconds (since time zero) at which a watched pattern first appeared, or null. */
  seenAt(name: string): number | null {
    return this.watches.get(name)?.seconds ?? null;
  }

  /**
   * Waits for `pattern` after what earlier waits matched, and moves past it. Fails when the console
   * closes (QEMU exited) or after `timeoutMs`, with the last lines in the message.
   */
  waitFor(pattern: RegExp, timeoutMs: number, what = String(pattern)): Promise<RegExpExecArray> {
    const re = new RegExp(pattern.source, pattern.flags.replace('g', ''));
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const m = re.exec(this.text.slice(this.cursor));
        if (m) {
          this.cursor += m.index + m[0].length;
          done();
          resolve(m);
        } else if (this.closed) {
          done();
          reject(new ConsoleClosed(`${this.name} stopped before ${what} appeared on its serial console; last lines:\n${this.tail()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${what} did not appear on ${this.name}'s serial console within ${timeoutMs / 1000} s; last lines:\n${this.tail()}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Moves the wait cursor to the end: later waits only see what is printed from now on. */
  skip(): void {
    this.cursor = this.text.length;
  }

  send(keys: string): void {
    this.o.output.write(keys);
  }

  /** Types `text` a few characters at a time, pausing between pieces (for firmware prompts). */
  async type(text: string, o: { chunk?: number; delayMs?: number } = {}): Promise<void> {
    const size = o.chunk ?? 4;
    for (let i = 0; i < text.length; i += size) {
      this.send(text.slice(i, i + size));
      await sleep(o.delayMs ?? 40);
    }
  }

  /** Logs in on a getty and leaves a plain `$ ` prompt (no colours, no bracketed paste). */
  async login(user: string, password: string, timeoutMs = 120_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    const left = (): number => Math.max(1000, deadline - performance.now());
    this.skip();
    // The prompt may have scrolled away under console messages: an empty line makes getty print it again.
    for (;;) {
      this.send('\n');
      try {
        await this.waitFor(/login: *$/m, Math.min(15_000, left()), 'a login prompt');
        break;
      } catch (e) {
        if (e instanceof ConsoleClosed || performance.now() >= deadline) throw e;
      }
    }
    this.send(`${user}\n`);
    await this.waitFor(/Password: *$/m, left(), 'the password prompt');
    this.send(`${password}\n`);
    await this.waitFor(/[$#] *$/m, left(), 'a shell prompt');
    this.send("export TERM=dumb PS1='$ '; stty cols 1000 -echoctl 2>/dev/null; bind 'set enable-bracketed-paste off' 2>/dev/null\n");
    await this.waitFor(/\$ $/m, left(), 'the plain shell prompt');
  }

  /** Runs a command at the shell prompt; its output (without the echoed command line) and exit status. */
  async run(command: string, timeoutMs = 60_000): Promise<{ output: string; exitCode: number }> {
    const marker = `__QA_${Math.random().toString(36).slice(2, 8)}__`;
    this.skip();
    const start = this.text.length;
    this.send(`${command}; echo ${marker}$?\n`);
    const m = await this.waitFor(new RegExp(`${marker}(\\d+)`), timeoutMs, `the end of "${command}"`);
    const all = this.text.slice(start);
    // The echo of the command line holds the marker before "$?"; the output starts after its last echo.
    const echoed = all.lastIndexOf(`${marker}$?`);
    const body = all.slice(all.indexOf('\n', echoed === -1 ? 0 : echoed) + 1, all.lastIndexOf(`${marker}${m[1]}`));
    return { output: body, exitCode: Number(m[1]) };
  }

  /**
   * Runs a diagnostic that must not decide a run: it is bounded in the guest by timeout(1), and when
   * its end still does not come (a guest too busy to answer), Ctrl-C and a fresh marker put the shell
   * back at its prompt. Returns what it printed, with a line saying how it was cut short, if it was.
   * Only a console that closed, or a shell that does not come back, is an error.
   */
  async diagnose(command: string, limitSeconds = 90, graceSeconds = 30): Promise<string> {
    const quoted = `'${command.replace(/'/g, `'\\''`)}'`;
    const start = this.text.length;
    try {
      const r = await this.run(`timeout -k 5 ${limitSeconds} sh -c ${quoted}`, (limitSeconds + graceSeconds) * 1000);
      if (r.exitCode === 124 || r.exitCode === 137) return `${r.output}(cut short: still running after ${limitSeconds} s)\n`;
      return r.output;
    } catch (e) {
      if (e instanceof ConsoleClosed) throw e;
      const got = this.text.slice(start);
      this.send('\x03');
      await this.run('true', 60_000);
      return `${got}\n(no answer within ${limitSeconds + graceSeconds} s; interrupted)\n`;
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
