import { randomBytes } from 'node:crypto';

/**
 * Recovery keys in systemd-cryptenroll's format: 32 random bytes as "modhex" (the YubiKey
 * alphabet, chosen because it types the same on most keyboard layouts), each byte as two
 * characters, high nibble first, in 8 groups of 8 joined by "-". Typed at the LUKS prompt it is
 * simply a passphrase, so it unlocks the volume wherever systemd's own recovery keys do.
 */

export const MODHEX = 'cbdefghijklnrtuv';

export function modhex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += MODHEX[b >> 4]! + MODHEX[b & 15]!;
  return out;
}

export function recoveryKeyFrom(bytes: Uint8Array): string {
  if (bytes.length !== 32) throw new RangeError('a recovery key is made from 32 bytes');
  return modhex(bytes).match(/.{8}/g)!.join('-');
}

export function generateRecoveryKey(random: (n: number) => Uint8Array = randomBytes): { key: string } {
  return { key: recoveryKeyFrom(random(32)) };
}
