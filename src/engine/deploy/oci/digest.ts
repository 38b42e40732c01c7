import { createHash, type Hash } from 'node:crypto';
import { CORRUPT_HINT, OciError } from './errors';

/**
 * Digests name blob files, so a digest is a path component: only `sha256:` followed by exactly 64
 * lowercase hex digits is accepted (nothing like `sha256:../../etc/shadow` reaches a path join).
 */
const DIGEST = /^sha256:([a-f0-9]{64})$/;

export function isDigest(d: string): boolean {
  return DIGEST.test(d);
}

/** The hex part of a valid digest; an OciError naming `what` otherwise. */
export function digestHex(d: string, what: string): string {
  const m = DIGEST.exec(d);
  if (!m) {
    const alg = /^([a-z0-9+._-]+):/.exec(d)?.[1];
    const why = alg && alg !== 'sha256' ? `uses the ${alg} algorithm; only sha256 is supported` : 'is not of the form sha256:<64 hex digits>';
    throw new OciError(`The ${what} digest "${d.slice(0, 100)}" ${why}.`, 'Rebuild or re-export the image with sha256 digests.');
  }
  return m[1]!;
}

export function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** A running sha256 plus a byte count, for blobs verified while they stream. */
export class DigestCounter {
  private readonly hash: Hash = createHash('sha256');
  bytes = 0;

  update(chunk: Buffer): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
  }

  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}

/** Refuses a blob whose content does not hash to what its descriptor says. */
export function checkDigest(what: string, expected: string, got: string): void {
  if (got !== expected) throw new OciError(`The ${what} does not match its digest: expected ${expected}, got ${got}.`, CORRUPT_HINT);
}

export function checkSize(what: string, expected: number, got: number): void {
  if (got !== expected) throw new OciError(`The ${what} is ${got} bytes but its descriptor says ${expected}.`, CORRUPT_HINT);
}
