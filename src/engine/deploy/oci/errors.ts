/**
 * The unpacker's one error type. `message` says what failed (naming the blob or entry), `hint`
 * says what the person can do about it; `command` and `stderrTail` are there when a tool failed.
 */
export class OciError extends Error {
  override readonly name = 'OciError';
  constructor(
    message: string,
    readonly hint: string,
    readonly command?: string[],
    readonly stderrTail?: string,
  ) {
    super(message);
  }
}

/** What a cancelled unpack rejects with: recognisable as `name === 'AbortError'`, like fetch's. */
export class UnpackAbortedError extends Error {
  override readonly name = 'AbortError';
  readonly code = 'ABORT_ERR';
  constructor() {
    super('The unpack was cancelled.');
  }
}

export const CORRUPT_HINT = 'The image is corrupt or was changed after it was made: download or copy it again.';
export const INVALID_HINT = 'This is not a valid OCI or docker image: check the path and the transport, or rebuild the image.';
