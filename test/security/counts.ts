import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * What the security tests did, for the summary `npm run test:security` prints at the end. Each
 * test adds what it really sent or tried, after its assertions pass; the runner script sums the
 * lines. Kept as appended JSON lines so parallel files never overwrite each other.
 */
export type SecurityCounter =
  /** Malformed, oversized, deeply nested or wrongly typed protocol messages sent to a transport. */
  | 'messages-fuzzed'
  /** Connections or requests with a missing, wrong or misplaced credential that were refused. */
  | 'auth-refused'
  /** Hostile field values tried against the validator, planner and runner. */
  | 'injections-tried'
  /** Of those, the ones refused with a message (the rest were passed through safely, as one argv element). */
  | 'injections-refused'
  /** Disk-safety scenarios (swapped disk, mounted partition, live medium…) refused as they must be. */
  | 'disk-safety-refused'
  /** Electron hardening checks that passed. */
  | 'hardening-checks'
  /** Interrupted installs recovered from: leftovers torn down, disk in its documented state. */
  | 'recovery-passed';

export const COUNTS_FILE = resolve(import.meta.dirname, '../../test-results/security/counts.jsonl');

export function recordCount(counter: SecurityCounter, n: number, file = COUNTS_FILE): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`bad count for ${counter}: ${n}`);
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${JSON.stringify({ counter, n })}\n`);
}
