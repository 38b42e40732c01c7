import type { Writable } from 'node:stream';

/**
 * Where the service says what it is doing. It always goes to stderr (or a stream the caller
 * chooses), never stdout: on the stdio transport stdout carries the protocol and nothing else.
 */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** A logger writing `particle-installer: level: message` lines to `stream`. */
export function createLogger(stream: Writable = process.stderr, quiet = false): Logger {
  const write = (level: string, message: string): void => {
    if (stream.writable) stream.write(`particle-installer: ${level}: ${message}\n`);
  };
  return {
    info: (m) => {
      if (!quiet) write('info', m);
    },
    warn: (m) => write('warning', m),
    error: (m) => write('error', m),
  };
}

/** A logger that discards everything (tests). */
export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
