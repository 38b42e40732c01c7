import { describe, expect, it } from 'vitest';
import { AnswerFileSchema, type AnswerFileInput } from '../../src/shared/answer-file';
import { clampRounds, hashPassword, hashRequestPasswords, randomSalt, sha512Crypt, verifyPassword } from '../../src/engine/crypt';

// The test vectors published with Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512".
const VECTORS: ReadonlyArray<readonly [setting: string, password: string, expected: string]> = [
  ['$6$saltstring', 'Hello world!', '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1'],
  ['$6$rounds=10000$saltstringsaltstring', 'Hello world!', '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.'],
  ['$6$rounds=5000$toolongsaltstring', 'This is just a test', '$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0'],
  [
    '$6$rounds=1400$anotherlongsaltstring',
    'a very much longer text to encrypt.  This one even stretches over morethan one line.',
    '$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1',
  ],
  ['$6$rounds=77777$short', 'we have a short salt string but not a short password', '$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0'],
  ['$6$rounds=123456$asaltof16chars..', 'a short string', '$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1'],
  ['$6$rounds=10$roundstoolow', 'the minimum number is still observed', '$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.'],
];

// Pure CPU: the 123456-round vector takes 0.85 s on a two-core machine at load 4.5; 30 s keeps far
// more than twice that on a busier one (vitest's default 5 s once ran out under load).
describe('sha512Crypt', { timeout: 30_000 }, () => {
  it.each(VECTORS)('matches the specification for %s', (setting, password, expected) => {
    expect(sha512Crypt(password, setting)).toBe(expected);
    expect(verifyPassword(password, expected)).toBe(true);
  });

  it('takes salt and rounds as separate arguments', () => {
    expect(sha512Crypt('Hello world!', 'saltstring')).toBe(VECTORS[0]?.[2]);
    expect(sha512Crypt('Hello world!', 'saltstringsaltstring', 10000)).toBe(VECTORS[1]?.[2]);
    expect(sha512Crypt('x', 'abc', 1)).toMatch(/^\$6\$rounds=1000\$abc\$/);
    // The upper bound by itself: a billion rounds would take hours to hash.
    expect(clampRounds(2e9)).toBe(999_999_999);
    expect(clampRounds(999)).toBe(1000);
  });

  it('uses a fresh 16-character salt and the default rounds when none are given', () => {
    const a = sha512Crypt('same');
    const b = sha512Crypt('same');
    expect(a).toMatch(/^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
    expect(a).not.toBe(b);
    expect(randomSalt()).toMatch(/^[./0-9A-Za-z]{16}$/);
    expect(hashPassword('same')).toMatch(/^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
  });

  it('handles empty and long passwords', () => {
    for (const p of ['', 'x'.repeat(64), 'y'.repeat(65), 'z'.repeat(200)]) expect(verifyPassword(p, hashPassword(p))).toBe(true);
  });
});

describe('verifyPassword', () => {
  it('rejects the wrong password and malformed hashes', () => {
    const h = hashPassword('correct horse');
    expect(verifyPassword('correct horse', h)).toBe(true);
    expect(verifyPassword('correct hors', h)).toBe(false);
    expect(verifyPassword('Correct horse', h)).toBe(false);
    expect(verifyPassword('correct horse', h.slice(0, -1))).toBe(false);
    expect(verifyPassword('correct horse', '$6$salt')).toBe(false);
  });

  it('refuses schemes it cannot check instead of answering false', () => {
    expect(() => verifyPassword('x', '$y$j9T$abc$def')).toThrow(/\$6\$/);
  });
});

describe('hashRequestPasswords', () => {
  const input: AnswerFileInput = {
    version: 1,
    disk: { path: '/dev/vda' },
    layout: { type: 'erase', encryption: { type: 'luks2', passphrase: 'luks secret phrase' } },
    image: { reference: 'quay.io/fedora/fedora-bootc:42' },
    users: [
      { name: 'alice', password: 'Sup3r$ecret:ü', admin: true },
      { name: 'bob', passwordHash: '$6$abc$' + 'A'.repeat(86) },
      { name: 'carol' },
    ],
  };

  it('replaces every plain password by a hash and leaves no plaintext', () => {
    const request = AnswerFileSchema.parse(input);
    const out = hashRequestPasswords(request);
    const json = JSON.stringify(out);
    expect(json).not.toContain('Sup3r$ecret');
    expect(json).not.toContain('"password"');
    const [alice, bob, carol] = out.users;
    expect(alice && 'password' in alice).toBe(false);
    expect(verifyPassword('Sup3r$ecret:ü', alice?.passwordHash ?? '')).toBe(true);
    expect(bob?.passwordHash).toBe('$6$abc$' + 'A'.repeat(86));
    expect(carol).toEqual({ name: 'carol', admin: false, autologin: false, sshKeys: [] });
    // The result is still a valid request.
    expect(AnswerFileSchema.safeParse(out).success).toBe(true);
  });

  it('does not touch the original and keeps the LUKS passphrase for cryptsetup', () => {
    const request = AnswerFileSchema.parse(input);
    const out = hashRequestPasswords(request);
    expect(request.users[0]?.password).toBe('Sup3r$ecret:ü');
    expect(out.layout).toEqual(request.layout);
    expect(out.layout).not.toBe(request.layout);
  });
});
