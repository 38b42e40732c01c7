import { redact } from '../exec';
import { redactDeep } from './scrub';

/**
 * The install log: every command, step boundary and message of one install, with timestamps. It is
 * what a person attaches to a bug report, so no secret may ever be stored in it: every string is
 * redacted when recorded, and again when rendered, in case a secret became known later.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type LogEntry =
  | { readonly type: 'message'; readonly time: string; readonly level: LogLevel; readonly step?: string; readonly message: string }
  | { readonly type: 'step'; readonly time: string; readonly step: string; readonly event: 'started' | 'finished' | 'failed' | 'skipped'; readonly title?: string; readonly durationMs?: number }
  | {
      readonly type: 'command';
      readonly time: string;
      readonly step?: string;
      readonly argv: readonly string[];
      /** null when the command was killed or never started. */
      readonly exitCode: number | null;
      readonly durationMs: number;
      readonly stderrTail?: string;
    };

export interface CommandRecord {
  readonly step?: string;
  readonly argv: readonly string[];
  readonly exitCode: number | null;
  readonly durationMs: number;
  readonly stderrTail?: string;
}

export interface InstallLogOptions {
  readonly secrets?: Iterable<string>;
  /** Milliseconds since the epoch. */
  readonly now?: () => number;
  /** How many rendered lines `lastLines()` keeps for InstallState.log. */
  readonly keepLines?: number;
}

export class InstallLog {
  private readonly secretSet = new Set<string>();
  private sortedSecrets: string[] = [];
  private readonly list: LogEntry[] = [];
  private readonly recent: string[] = [];
  private readonly clock: () => number;
  private readonly keepLines: number;

  constructor(options: InstallLogOptions = {}) {
    this.clock = options.now ?? Date.now;
    this.keepLines = options.keepLines ?? 200;
    this.addSecrets(options.secrets ?? []);
  }

  /** Secrets may become known after the log was created (the runner adds its context's). */
  addSecrets(values: Iterable<string>): void {
    for (const v of values) if (v.length > 0) this.secretSet.add(v);
    // Longest first, so a secret that contains another is replaced whole, not half.
    this.sortedSecrets = [...this.secretSet].sort((a, b) => b.length - a.length);
  }

  redact(text: string): string {
    return redact(text, this.sortedSecrets);
  }

  message(level: LogLevel, message: string, step?: string): void {
    this.push({ type: 'message', time: this.time(), level, ...(step ? { step } : {}), message: this.redact(message) });
  }

  stepStarted(step: string, title: string): void {
    this.push({ type: 'step', time: this.time(), step, event: 'started', title: this.redact(title) });
  }

  stepEnded(step: string, event: 'finished' | 'failed' | 'skipped', durationMs?: number): void {
    this.push({ type: 'step', time: this.time(), step, event, ...(durationMs === undefined ? {} : { durationMs: Math.round(durationMs) }) });
  }

  command(record: CommandRecord): void {
    this.push({
      type: 'command',
      time: this.time(),
      ...(record.step ? { step: record.step } : {}),
      argv: record.argv.map((a) => this.redact(a)),
      exitCode: record.exitCode,
      durationMs: Math.round(record.durationMs),
      ...(record.stderrTail ? { stderrTail: this.redact(record.stderrTail) } : {}),
    });
  }

  entries(): readonly LogEntry[] {
    return this.list.map((e) => this.scrub(e));
  }

  /** The last rendered lines, oldest first (InstallState.log). */
  lastLines(): string[] {
    return this.recent.map((l) => this.redact(l));
  }

  toText(): string {
    return this.list.map((e) => this.render(this.scrub(e))).join('\n') + (this.list.length > 0 ? '\n' : '');
  }

  toJSON(): { version: 1; entries: LogEntry[] } {
    return { version: 1, entries: this.list.map((e) => this.scrub(e)) };
  }

  private time(): string {
    return new Date(this.clock()).toISOString();
  }

  private push(entry: LogEntry): void {
    this.list.push(entry);
    this.recent.push(...this.render(entry).split('\n'));
    if (this.recent.length > this.keepLines) this.recent.splice(0, this.recent.length - this.keepLines);
  }

  /** Redacts again on the way out: a secret added after an entry was recorded is still hidden. */
  private scrub(entry: LogEntry): LogEntry {
    return redactDeep(entry, (s) => this.redact(s));
  }

  private render(e: LogEntry): string {
    const where = 'step' in e && e.step ? ` [${e.step}]` : '';
    switch (e.type) {
      case 'message':
        return `${e.time} ${e.level.toUpperCase()}${where} ${e.message}`;
      case 'step': {
        const took = e.durationMs === undefined ? '' : ` (${e.durationMs} ms)`;
        return `${e.time} STEP${where} ${e.event}${e.title ? `: ${e.title}` : ''}${took}`;
      }
      case 'command': {
        const head = `${e.time} RUN${where} ${e.argv.map(quote).join(' ')} -> ${e.exitCode ?? 'killed'} in ${e.durationMs} ms`;
        if (!e.stderrTail) return head;
        return [head, ...e.stderrTail.split('\n').map((l) => `    stderr: ${l}`)].join('\n');
      }
    }
  }
}

/** Quotes an argument for reading only (the log is never executed). */
function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
