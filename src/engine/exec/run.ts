import { StringDecoder } from 'node:string_decoder';
import { execa } from 'execa';
import { makeError, type InstallerError } from '../../shared/errors';

/**
 * The one command runner. Every command the engine runs goes through here: argv arrays only
 * (never a shell), a timeout, an AbortSignal, secrets redacted from what is logged, and one error
 * type that carries the command, its exit code and the tail of its stderr.
 */

export interface ExecOptions {
  /** Written to the command's stdin (passphrases go here, never into argv). */
  readonly input?: string;
  /** Milliseconds before the command is killed. Default 60 s. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Exit codes that count as success. Default [0]. */
  readonly okExitCodes?: readonly number[];
  /** Strings to replace with "***" wherever the command or its output is logged or reported. */
  readonly secrets?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Each piece of stdout and stderr as it arrives, decoded as UTF-8 (for progress parsers). */
  readonly onOutput?: (chunk: string) => void;
}

export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
}

export type Exec = (argv: readonly string[], options?: ExecOptions) => Promise<ExecResult>;

export interface ExecLogEntry {
  readonly argv: readonly string[];
  readonly exitCode: number | null;
  readonly durationMs: number;
  readonly stderrTail: string;
}

export class CommandError extends Error {
  constructor(readonly error: InstallerError) {
    super(error.message);
    this.name = 'CommandError';
  }
}

export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join('***');
  return out;
}

export function tail(text: string, lines = 20): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Makes the real runner. `log` sees every command once it has finished, already redacted. */
export function createExec(log: (entry: ExecLogEntry) => void = () => {}): Exec {
  return async (argv, options = {}) => {
    if (argv.length === 0 || argv[0] === undefined || argv[0] === '') throw new Error('exec: empty argv');
    const secrets = options.secrets ?? [];
    const shown = argv.map((a) => redact(a, secrets));
    const started = performance.now();
    const sub = execa(argv[0], argv.slice(1), {
      input: options.input,
      timeout: options.timeoutMs ?? 60_000,
      cancelSignal: options.signal,
      // Cancel and timeout: SIGTERM first, SIGKILL if it is still there 5 s later.
      killSignal: 'SIGTERM',
      forceKillAfterDelay: 5_000,
      reject: false,
      stripFinalNewline: false,
      env: { LC_ALL: 'C', ...options.env },
      extendEnv: true,
    });
    if (options.onOutput) {
      const onOutput = options.onOutput;
      for (const stream of [sub.stdout, sub.stderr]) {
        const dec = new StringDecoder('utf8');
        stream?.on('data', (b: Buffer) => onOutput(dec.write(b)));
      }
    }
    const r = await sub;
    const durationMs = performance.now() - started;
    const stderr = String(r.stderr ?? '');
    const stdout = String(r.stdout ?? '');
    const exitCode = typeof r.exitCode === 'number' ? r.exitCode : null;
    const stderrTail = redact(tail(stderr), secrets);
    log({ argv: shown, exitCode, durationMs, stderrTail });

    if (r.isCanceled) throw new CommandError(makeError('cancelled', `Cancelled while running ${shown[0]}.`, { command: shown }));
    if (r.timedOut) {
      throw new CommandError(
        makeError('timeout', `${shown[0]} did not finish within ${Math.round((options.timeoutMs ?? 60_000) / 1000)} s.`, {
          command: shown,
          stderrTail,
        }),
      );
    }
    if (exitCode === null || !(options.okExitCodes ?? [0]).includes(exitCode)) {
      const why = r.code === 'ENOENT' ? `${shown[0]} is not installed` : exitCode === null ? `${shown[0]} was killed (${r.signal ?? 'unknown signal'})` : `${shown[0]} exited with code ${exitCode}`;
      throw new CommandError(
        makeError('command-failed', `${why}.`, {
          command: shown,
          ...(exitCode === null ? {} : { exitCode }),
          stderrTail,
        }),
      );
    }
    return { exitCode, stdout, stderr, durationMs };
  };
}
