import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AnswerFileExportSchema, validateAnswerFile } from '../../src/shared';
import { verifyPassword } from '../../src/engine/crypt';
import { CommandError } from '../../src/engine/exec';
import { planSecrets } from '../../src/engine/plan';
import { ANSWER_FILE_SCHEMA_ID, EXPORTED_PASSPHRASE_FILE, exportAnswerFile } from '../../src/engine/system/answer-export';
import { KEY, PASSPHRASE, PW, request, valid } from '../support/answer-request';

const tmp = mkdtempSync(join(tmpdir(), 'system-export-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('exportAnswerFile', () => {
  const out = exportAnswerFile(request());
  const doc = JSON.parse(out.text) as Record<string, unknown>;

  it('is pretty JSON with $schema and version first, ending in a newline', () => {
    expect(AnswerFileExportSchema.parse(out)).toEqual(out);
    expect(Object.keys(doc).slice(0, 2)).toEqual(['$schema', 'version']);
    expect(doc.$schema).toBe(ANSWER_FILE_SCHEMA_ID);
    expect(out.text).toBe(`${JSON.stringify(doc, null, 2)}\n`);
  });

  it('hashes plain passwords with sha512-crypt and keeps existing hashes', () => {
    const v = valid(doc);
    expect(v.users[0]!.password).toBeUndefined();
    expect(verifyPassword(PW, v.users[0]!.passwordHash!)).toBe(true);
    expect(v.users[1]!.passwordHash).toBe('$6$salt$hash');
    expect(out.text).not.toContain(PW);
  });

  it('leaves the passphrase and recovery key out, names a passphrase file instead, and still validates', () => {
    expect(out.omitted).toEqual(['layout.encryption.passphrase', 'layout.encryption.recoveryKey']);
    expect(out.text).not.toContain(PASSPHRASE);
    expect(out.text).not.toContain(KEY);
    const v = valid(doc);
    expect(v.layout).toMatchObject({ encryption: { type: 'luks2-tpm2', passphraseFile: EXPORTED_PASSPHRASE_FILE } });
  });

  it('omits nothing when there is nothing secret', () => {
    const plain = exportAnswerFile(request({ layout: { type: 'erase' }, users: [] }));
    expect(plain.omitted).toEqual([]);
  });

  it('refuses an invalid request with every field error', () => {
    expect(() => exportAnswerFile({ version: 1, users: [{ name: 'root' }] })).toThrow(expect.objectContaining({ error: expect.objectContaining({ code: 'invalid-answer-file', detail: expect.stringContaining('users[0].name') }) }));
  });
});

describe('passphraseFile in answer files', () => {
  const enc = (e: object) => validateAnswerFile(request({ layout: { type: 'erase', encryption: e as never } }));

  it('is an alternative to passphrase: exactly one of the two', () => {
    expect(enc({ type: 'luks2', passphraseFile: '/etc/particle-installer/luks-passphrase' }).ok).toBe(true);
    const both = enc({ type: 'luks2', passphrase: PASSPHRASE, passphraseFile: '/etc/x' });
    const neither = enc({ type: 'luks2-tpm2' });
    for (const r of [both, neither]) {
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.errors).toContainEqual({ field: 'layout.encryption.passphrase', message: 'give exactly one of passphrase and passphraseFile' });
    }
  });

  it('must be absolute, without ".."', () => {
    for (const p of ['relative/file', '/etc/../root/key', '/etc/x\nmore']) expect(enc({ type: 'luks2', passphraseFile: p }).ok).toBe(false);
  });

  it('is read when the request is planned: one trailing newline stripped', () => {
    const file = join(tmp, 'pass');
    writeFileSync(file, `${PASSPHRASE}\n`);
    const secrets = planSecrets(valid(request({ layout: { type: 'erase', encryption: { type: 'luks2-tpm2', passphraseFile: file, recoveryKey: KEY } } })));
    expect(secrets.get('luks-passphrase')).toBe(PASSPHRASE);
    expect(secrets.get('luks-recovery-key')).toBe(KEY);
    // Anything past that one newline is part of the passphrase, and a line break cannot be typed at the unlock prompt.
    writeFileSync(file, `${PASSPHRASE}\n\n`);
    expect(() => planSecrets(valid(request({ layout: { type: 'erase', encryption: { type: 'luks2', passphraseFile: file } } })))).toThrow(/control characters/);
  });

  it('a missing or too short file stops planning as an invalid answer file', () => {
    const missing = valid(request({ layout: { type: 'erase', encryption: { type: 'luks2', passphraseFile: join(tmp, 'missing') } } }));
    expect(() => planSecrets(missing)).toThrow(CommandError);
    expect(() => planSecrets(missing)).toThrow(/passphraseFile: .*missing does not exist/);
    const short = join(tmp, 'short');
    writeFileSync(short, 'abc\n');
    expect(() => planSecrets(valid(request({ layout: { type: 'erase', encryption: { type: 'luks2', passphraseFile: short } } })))).toThrow(/at least 8/);
  });
});
