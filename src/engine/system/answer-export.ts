import { validateAnswerFile, type AnswerFile, type AnswerFileExport } from '../../shared';
import { hashRequestPasswords } from '../crypt';
import { EngineFailure } from '../failure';

/**
 * The wizard's request as an answer file someone can keep and run unattended later: every plain
 * password replaced by its sha512-crypt hash, the LUKS passphrase and recovery key left out. So
 * that the file still validates and can run, an encrypted layout names a passphrase file instead,
 * which the person puts on the machine that installs from it.
 */

/** The answer file's JSON Schema id (docs/answer-file.schema.json), for editors. */
export const ANSWER_FILE_SCHEMA_ID = 'https://particle-installer.org/schemas/answer-file-v1.json';
/** Where an exported answer file expects the LUKS passphrase. */
export const EXPORTED_PASSPHRASE_FILE = '/etc/particle-installer/luks-passphrase';

function invalid(errors: readonly { field: string; message: string }[]): EngineFailure {
  const lines = errors.map((e) => `${e.field}: ${e.message}`);
  return EngineFailure.of('invalid-answer-file', `The request is not valid: ${lines.join('; ')}`, { detail: lines.join('\n') });
}

export function exportAnswerFile(request: unknown, hash: (r: AnswerFile) => AnswerFile = hashRequestPasswords): AnswerFileExport {
  const v = validateAnswerFile(request);
  if (!v.ok) throw invalid(v.errors);
  const doc = hash(v.value);
  const omitted: string[] = [];
  if (doc.layout.type === 'erase' && doc.layout.encryption.type !== 'none') {
    const enc = doc.layout.encryption;
    if (enc.passphrase !== undefined) {
      delete enc.passphrase;
      enc.passphraseFile = EXPORTED_PASSPHRASE_FILE;
      omitted.push('layout.encryption.passphrase');
    }
    if (enc.type === 'luks2-tpm2' && enc.recoveryKey !== undefined) {
      delete enc.recoveryKey;
      omitted.push('layout.encryption.recoveryKey');
    }
  }
  const { $schema: _schema, version: _version, ...rest } = doc;
  const out = { $schema: ANSWER_FILE_SCHEMA_ID, version: 1 as const, ...rest };
  // What is written must itself be a valid answer file; anything else is a bug here.
  const again = validateAnswerFile(out);
  if (!again.ok) throw EngineFailure.of('internal', 'The exported answer file does not validate.', { kind: 'bug', detail: again.errors.map((e) => `${e.field}: ${e.message}`).join('\n') });
  return { text: `${JSON.stringify(out, null, 2)}\n`, omitted };
}

/** Dotted paths of plain secrets in an answer file: what must not be saved to a file. */
export function plainSecrets(doc: AnswerFile): string[] {
  const found = doc.users.flatMap((u, i) => (u.password !== undefined ? [`users[${i}].password`] : []));
  if (doc.layout.type === 'erase' && doc.layout.encryption.type !== 'none') {
    if (doc.layout.encryption.passphrase !== undefined) found.push('layout.encryption.passphrase');
    if (doc.layout.encryption.type === 'luks2-tpm2' && doc.layout.encryption.recoveryKey !== undefined) found.push('layout.encryption.recoveryKey');
  }
  return found;
}

export { invalid as invalidAnswerFile };
