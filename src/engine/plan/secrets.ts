import { readFileSync } from 'node:fs';
import { makeError, type AnswerFile } from '../../shared';
import { CommandError } from '../exec';

/**
 * The secrets a plan's commands name (stdinSecret, secretEnv) and their values, gathered when the
 * request is planned. An exported answer file holds no passphrase but `passphraseFile`: the file
 * is read here, at plan time, so a missing or unreadable file stops the install before any disk
 * is touched, and the value then travels exactly like a typed passphrase.
 */

export const SECRET_NAMES = { passphrase: 'luks-passphrase', recoveryKey: 'luks-recovery-key' } as const;

export function planSecrets(request: AnswerFile, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): Map<string, string> {
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
      return refuse(code === 'ENOENT' ? `${enc.passphraseFile} does not exist` : `${enc.passphraseFile} cannot be read (${code ?? 'error'})`);
    }
    // One trailing newline is what `echo … >` and editors leave; anything else is part of the passphrase.
    passphrase = text.replace(/\r?\n$/, '');
    if (passphrase.length < 8) refuse(`the passphrase in ${enc.passphraseFile} must be at least 8 characters`);
    if (passphrase.length > 512) refuse(`the passphrase in ${enc.passphraseFile} must be at most 512 characters`);
  }
  if (passphrase === undefined) throw new CommandError(makeError('invalid-answer-file', 'The request is not valid: layout.encryption.passphrase: give exactly one of passphrase and passphraseFile'));
  secrets.set(SECRET_NAMES.passphrase, passphrase);
  if (enc.type === 'luks2-tpm2' && enc.recoveryKey !== undefined) secrets.set(SECRET_NAMES.recoveryKey, enc.recoveryKey);
  return secrets;
}
