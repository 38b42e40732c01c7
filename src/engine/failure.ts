import { makeError, type ErrorCode, type InstallerError } from '../shared';

/**
 * An error a handler throws on purpose: the service sends `error` to the client as it is (code,
 * English message, detail), instead of a generic "internal error".
 */
export class EngineFailure extends Error {
  constructor(readonly error: InstallerError) {
    super(error.message);
  }

  static of(code: ErrorCode, message: string, extra: Partial<Omit<InstallerError, 'code' | 'message'>> = {}): EngineFailure {
    return new EngineFailure(makeError(code, message, extra));
  }
}
