import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Writable } from 'node:stream';

/** Where a command writes; the real streams, or buffers in tests. */
export interface CliIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
}

export const PROGRAM = 'particle-installer';

/** The command line itself is wrong: exit 2 and show the usage. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** Which usage text to show. */
    readonly command: string | null,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A failure the user can act on: print the message (never a stack) and exit with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** parseArgs in strict mode, turning its errors into UsageErrors for `command`. */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  args: readonly string[],
  options: T,
  allowPositionals = false,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const r = parseArgs({ args: [...args], options, strict: true, allowPositionals });
    return { values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals };
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e), command);
  }
}

/** Writes text followed by a newline when it lacks one. */
export function println(stream: Writable, text = ''): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}
