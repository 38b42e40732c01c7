import { createHash, randomBytes, timingSafeEqual, type Hash } from 'node:crypto';
import type { AnswerFile } from '../shared/answer-file';

/**
 * Password hashing, so a plain password never travels past the engine's front door: the engine
 * calls hashRequestPasswords the moment a request arrives, and everything after (plan, logs, the
 * configure step's argv) only ever sees a crypt(3) hash.
 *
 * The scheme is SHA-512-crypt ("$6$"), written from Ulrich Drepper's specification "Unix crypt
 * using SHA-256 and SHA-512" with node:crypto's sha512 as the only primitive. Fedora and Debian
 * default to yescrypt ("$y$") nowadays, but yescrypt needs scrypt's ROMix with its own parameters
 * and no native binding ships with Node; every libxcrypt/glibc still accepts "$6$", so the
 * installed system can log in and re-hashes with its own default on the next password change.
 */

const ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const PREFIX = '$6$';
const ROUNDS_PREFIX = 'rounds=';
export const DEFAULT_ROUNDS = 5000;
export const MIN_ROUNDS = 1000;
export const MAX_ROUNDS = 999_999_999;
const SALT_MAX = 16;

/** The parts of a "$6$[rounds=N$]salt[$checksum]" string. */
interface Setting {
  readonly salt: string;
  /** Undefined when the setting named no rounds: the default applies and is not written out. */
  readonly rounds: number | undefined;
  readonly checksum: string | undefined;
}

/** Splits a setting or full hash the way the reference implementation does. */
function parseSetting(s: string): Setting {
  let rest = s.startsWith(PREFIX) ? s.slice(PREFIX.length) : s;
  let rounds: number | undefined;
  // "rounds=" counts only when digits and a "$" follow; otherwise it is part of the salt (as in the spec).
  const m = /^rounds=([0-9]+)\$/.exec(rest);
  if (m?.[1] !== undefined) {
    rounds = Number(m[1]);
    rest = rest.slice(ROUNDS_PREFIX.length + m[1].length + 1);
  }
  const dollar = rest.indexOf('$');
  const salt = (dollar === -1 ? rest : rest.slice(0, dollar)).slice(0, SALT_MAX);
  const checksum = dollar === -1 ? undefined : rest.slice(dollar + 1);
  return { salt, rounds, checksum };
}

/** Rounds outside 1000..999999999 are clamped, as the specification says, not refused. */
export function clampRounds(n: number): number {
  if (!Number.isFinite(n)) throw new Error('rounds must be a finite number');
  return Math.min(MAX_ROUNDS, Math.max(MIN_ROUNDS, Math.trunc(n)));
}

/** 16 characters from ./0-9A-Za-z; 256 is a multiple of 64, so masking a random byte is unbiased. */
export function randomSalt(length = SALT_MAX): string {
  return Array.from(randomBytes(length), (b) => ALPHABET[b & 63]).join('');
}

function sha512(...parts: Buffer[]): Buffer {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** `length` bytes of `digest` repeated (steps 16 and 20 of the spec: the P and S byte sequences). */
function repeatTo(digest: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += 64) digest.copy(out, i, 0, Math.min(64, length - i));
  return out;
}

/** Adds `bytes` bytes of `block`, a whole block at a time then the remainder (spec step 9/10). */
function addRepeated(h: Hash, block: Buffer, bytes: number): void {
  let n = bytes;
  for (; n > 64; n -= 64) h.update(block);
  h.update(block.subarray(0, n));
}

/**
 * The spec's final permutation: 21 groups of three bytes, each index triple being (i, i+21, i+42)
 * rotated left by i mod 3 — (0,21,42), (22,43,1), (44,2,23), (3,24,45)… — then the last byte alone. Each group becomes four characters, low bits first.
 */
function encode(c: Buffer): string {
  let out = '';
  const put = (b2: number, b1: number, b0: number, n: number): void => {
    let w = (b2 << 16) | (b1 << 8) | b0;
    for (let k = 0; k < n; k++, w >>= 6) out += ALPHABET[w & 63];
  };
  for (let i = 0; i < 21; i++) {
    const idx = [i, i + 21, i + 42];
    const r = i % 3;
    const [a, b, d] = [idx[r], idx[(r + 1) % 3], idx[(r + 2) % 3]] as [number, number, number];
    put(c[a] as number, c[b] as number, c[d] as number, 4);
  }
  put(0, 0, c[63] as number, 2);
  return out;
}

function digest(password: Buffer, salt: Buffer, rounds: number): Buffer {
  const p = password;
  const s = salt;
  // Steps 4–8: digest B = sha512(P S P).
  const b = sha512(p, s, p);
  // Steps 1–3, 9–12: digest A.
  const a = createHash('sha512').update(p).update(s);
  addRepeated(a, b, p.length);
  for (let n = p.length; n > 0; n >>= 1) a.update(n & 1 ? b : p);
  let c = a.digest();
  // Steps 13–16: the P sequence, from digest DP = sha512(P repeated |P| times).
  const dp = createHash('sha512');
  for (let i = 0; i < p.length; i++) dp.update(p);
  const pSeq = repeatTo(dp.digest(), p.length);
  // Steps 17–20: the S sequence, from digest DS = sha512(S repeated 16 + A[0] times).
  const ds = createHash('sha512');
  for (let i = 0; i < 16 + (c[0] as number); i++) ds.update(s);
  const sSeq = repeatTo(ds.digest(), s.length);
  // Step 21: the rounds that make the hash slow.
  for (let i = 0; i < rounds; i++) {
    const h = createHash('sha512');
    h.update(i & 1 ? pSeq : c);
    if (i % 3 !== 0) h.update(sSeq);
    if (i % 7 !== 0) h.update(pSeq);
    h.update(i & 1 ? c : pSeq);
    c = h.digest();
  }
  return c;
}

/**
 * SHA-512-crypt of `password` (UTF-8). `salt` is either a bare salt or a "$6$[rounds=N$]salt…"
 * setting, as crypt(3) takes it; salts are cut at the first "$" and after 16 characters, like the
 * reference implementation. Without `rounds` (and no rounds in the setting) the default 5000 is used
 * and not written out; rounds given explicitly are clamped to 1000..999999999 and written out, which
 * is what glibc does and what the specification's rounds=5000 test vector expects.
 */
export function sha512Crypt(password: string, salt?: string, rounds?: number): string {
  const setting = parseSetting(salt ?? randomSalt());
  const wanted = rounds ?? setting.rounds;
  const n = wanted === undefined ? DEFAULT_ROUNDS : clampRounds(wanted);
  const checksum = encode(digest(Buffer.from(password, 'utf8'), Buffer.from(setting.salt, 'utf8'), n));
  const roundsPart = wanted === undefined ? '' : `${ROUNDS_PREFIX}${n}$`;
  return `${PREFIX}${roundsPart}${setting.salt}$${checksum}`;
}

/** A fresh "$6$" hash with a random salt and the default rounds. */
export function hashPassword(password: string): string {
  return sha512Crypt(password, randomSalt());
}

/**
 * Whether `password` matches a "$6$" hash. Throws for other schemes rather than answering false,
 * so "cannot check" is never mistaken for "wrong password".
 */
export function verifyPassword(password: string, hash: string): boolean {
  if (!hash.startsWith(PREFIX)) throw new Error('verifyPassword handles only SHA-512-crypt ("$6$") hashes');
  const setting = parseSetting(hash);
  if (setting.checksum === undefined || !/^[./0-9A-Za-z]{86}$/.test(setting.checksum)) return false;
  const computed = parseSetting(sha512Crypt(password, hash)).checksum ?? '';
  // Constant-time comparison: equal lengths are guaranteed by the check above.
  return timingSafeEqual(Buffer.from(computed), Buffer.from(setting.checksum));
}

/**
 * A copy of the request in which every user's plain `password` is replaced by `passwordHash`.
 * LUKS passphrases stay: cryptsetup needs the passphrase itself (they go on stdin, never argv).
 */
export function hashRequestPasswords(request: AnswerFile): AnswerFile {
  const copy = structuredClone(request);
  copy.users = copy.users.map((user) => {
    const { password, ...rest } = user;
    return password === undefined ? rest : { ...rest, passwordHash: hashPassword(password) };
  });
  return copy;
}
