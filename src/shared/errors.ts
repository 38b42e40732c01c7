import { z } from 'zod';

/**
 * Every failure that crosses a process boundary is one of these codes. `user` errors are
 * things the person can fix (bad input, a refused disk); `system` errors are the machine's
 * (a command failed); `bug` errors are ours and carry detail for a report.
 */
export const ERROR_CODES = [
  'invalid-input',
  'invalid-answer-file',
  'disk-not-found',
  'disk-refused',
  'disk-changed',
  'not-root',
  'command-failed',
  'image-invalid',
  'timeout',
  'cancelled',
  'unauthorized',
  'method-not-found',
  'message-too-large',
  'internal',
] as const;

export const ErrorCodeSchema = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;

export const ErrorKindSchema = z.enum(['user', 'system', 'bug']);

export const InstallerErrorSchema = z.object({
  /** Machine-readable code; UIs translate on it. */
  code: ErrorCodeSchema,
  /** Who can act on it: the user, the system administrator, or the developers. */
  kind: ErrorKindSchema,
  /** One sentence in English saying what went wrong and, where possible, what to do. */
  message: z.string(),
  /** Longer explanation or the list of field errors, for a disclosure. */
  detail: z.string().optional(),
  /** The install step that failed, when an install was running. */
  step: z.string().optional(),
  /** The argv of the failed command, secrets redacted. */
  command: z.array(z.string()).optional(),
  /** Exit code of the failed command. */
  exitCode: z.number().int().optional(),
  /** The last lines the failed command wrote to stderr, secrets redacted. */
  stderrTail: z.string().optional(),
});
export type InstallerError = z.infer<typeof InstallerErrorSchema>;

/** A value or an error, as data: nothing is thrown across a boundary. */
export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: InstallerError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(
  code: ErrorCode,
  message: string,
  extra: Partial<Omit<InstallerError, 'code' | 'message'>> = {},
): Result<T> {
  return { ok: false, error: makeError(code, message, extra) };
}

const USER_CODES: ReadonlySet<ErrorCode> = new Set([
  'invalid-input',
  'invalid-answer-file',
  'disk-not-found',
  'disk-refused',
  'disk-changed',
  'image-invalid',
  'cancelled',
  'unauthorized',
  'method-not-found',
  'message-too-large',
]);

export function makeError(
  code: ErrorCode,
  message: string,
  extra: Partial<Omit<InstallerError, 'code' | 'message'>> = {},
): InstallerError {
  const kind = extra.kind ?? (code === 'internal' ? 'bug' : USER_CODES.has(code) ? 'user' : 'system');
  return { ...extra, code, kind, message };
}

export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}
