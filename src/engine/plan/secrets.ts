import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { makeError, type AnswerFile } from '../../shared';
import { CommandError } from '../exec';

/**
 * The secrets a plan's commands name (stdinSecret, secretEnv) and their values, gathered when the
 * request is planned. An exported answer file holds no passphrase but `passphraseFile`: the file
 * is read here, at plan time, so a missing or unreadable file stops the install before any disk
 * is touched, and the value then travels exactly like a typed passphrase.
 */

export const SECRET_NAMES = { passphrase: 'luks-passphrase', recoveryKey: 'luks-recovery-key' } as const;

/** Longest passphrase file read: a passphrase is at most 512 characters, 4 bytes each in UTF-8. */
const MAX_PASSPHRASE_FILE_BYTES = 4096;

/**
 * Reads a passphrase file, refusing what is not a regular file (a FIFO or /dev/stdin would block
 * the engine, /dev/zero would fill its memory) and anything longer than a passphrase can be.
 */
export function readPassphraseFile(path: string): string {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, forever.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: 'ENOTREG' });
    if (st.size > MAX_PASSPHRASE_FILE_BYTES) throw Object.assign(new Error(`${path} is larger than ${MAX_PASSPHRASE_FILE_BYTES} bytes`), { code: 'ETOOBIG' });
    const buf = Buffer.alloc(st.size);
    const n = readSync(fd, buf, 0, st.size, 0);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

export function planSecrets(request: AnswerFile, readFile: (path: string) => string = readPassphraseFile): Map<string, string> {
  const secrets = new Map<string, string>();
  if (request.layout.type !== 'erase') return secrets;
  const enc = request.layout.encryption;
  if (enc.type === 'none') return secrets;
  let passphrase = enc.passphrase;
  if (passphrase === undefined && enc.passphraseFile !== undefined) {
    const field = 'layout.encryption.passphraseFile';
    const refuse = (why: string): never => {
      throw new CommandError(makeError('invalid-answer-file', `The request is not valid: ${field}: ${why}`, { detail: `${field}: ${why}` }));
    };
    let text: string;
    try {
      text = readFile(enc.passphraseFile);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return refuse(
        code === 'ENOENT'
          ? `${enc.passphraseFile} does not exist`
          : code === 'ENOTREG'
            ? `${enc.passphraseFile} is not a regular file (a pipe or device cannot hold a passphrase file)`
            : code === 'ETOOBIG'
              ? `${enc.passphraseFile} is larger than ${MAX_PASSPHRASE_FILE_BYTES} bytes, too large for a passphrase`
              : `${enc.passphraseFile} cannot be read (${code ?? 'error'})`,
      );
    }
    // One trailing newline is what `echo … >` and editors leave; anything else is part of the passphrase.
    passphrase = text.replace(/\r?\n$/, '');
    if (passphrase.length < 8) refuse(`the passphrase in ${enc.passphraseFile} must be at least 8 characters`);
    if (passphrase.length > 512) refuse(`the passphrase in ${enc.passphraseFile} must be at most 512 characters`);
    // As for a typed passphrase: what cannot be typed at the unlock prompt would lock the owner out.
    if (/[\p{Cc}\p{Cs}]/u.test(passphrase)) refuse(`the passphrase in ${enc.passphraseFile} contains control characters (line breaks, tabs, NUL), which cannot be typed when the disk is unlocked`);
  }
  if (passphrase === undefined) throw new CommandError(makeError('invalid-answer-file', 'The request is not valid: layout.encryption.passphrase: give exactly one of passphrase and passphraseFile'));
  secrets.set(SECRET_NAMES.passphrase, passphrase);
  if (enc.type === 'luks2-tpm2' && enc.recoveryKey !== undefined) secrets.set(SECRET_NAMES.recoveryKey, enc.recoveryKey);
  return secrets;
}
