import { spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha512Crypt, verifyPassword } from '../../src/engine/crypt';

// The engine's SHA-512 crypt against OpenSSL's, for random passwords (multi-byte UTF-8 among them)
// and salts. It spawns openssl 20 times and hashes 40 times: 1.3 s on a two-core machine at load
// 4.5; once over vitest's default 5 s on a busy fresh machine, so 60 s.

const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' });
const opensslMissing = openssl.error !== undefined || openssl.status !== 0 ? 'openssl is not installed' : null;
if (opensslMissing) console.warn(`[integration] crypt: agreement with openssl skipped: ${opensslMissing}`);

const SALT_CHARS = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const EXTRA = ['ä', 'ß', 'é', '€', 'Ω', 'ж', '中', '文', '😀', ' ', '$', ':', '\\', '"', "'", '!'];

/** A random password mixing ASCII and multi-byte UTF-8, 1 to 80 characters, no line breaks. */
function randomPassword(): string {
  const len = randomInt(1, 81); // openssl passwd -stdin prints nothing for an empty line
  let s = '';
  for (let i = 0; i < len; i++) s += randomInt(4) === 0 ? (EXTRA[randomInt(EXTRA.length)] as string) : String.fromCharCode(randomInt(0x21, 0x7f));
  return s;
}

describe.skipIf(opensslMissing !== null)('agreement with openssl passwd -6', { timeout: 60_000 }, () => {
  it('gives the same hash for 20 random passwords and salts', () => {
    for (let i = 0; i < 20; i++) {
      const password = i === 0 ? 'pässwörd 中文 😀' : randomPassword();
      const salt = Array.from(randomBytes(randomInt(1, 17)), (b) => SALT_CHARS[b & 63]).join('');
      // The password goes on stdin (-stdin), never in argv; stdin is read up to the first newline.
      const r = spawnSync('openssl', ['passwd', '-6', '-stdin', '-salt', salt], { input: `${password}\n`, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const expected = r.stdout.trim();
      expect(sha512Crypt(password, salt), JSON.stringify({ password, salt })).toBe(expected);
      expect(verifyPassword(password, expected)).toBe(true);
    }
  });
});
