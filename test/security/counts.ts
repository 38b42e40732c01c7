import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { onTestFinished } from 'vitest';

/**
 * What the security tests did, for the summary `npm run test:security` and `npm test` print at the
 * end. A test counts what it really sent, tried or checked with countWhenPassed, which writes only
 * once the test has finished and passed; the runner script sums the lines. Kept as appended JSON
 * lines so parallel files never overwrite each other. Every run starts from an empty file:
 * `npm test` and `npm run test:security` empty it, and any other vitest run of the security project
 * does so in its global setup (counts-setup.ts).
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
  /** Distinct hardening assertions (each place in the test once, however many values it looped over) against a recording double of electron. */
  | 'hardening-checks'
  /** Interrupted installs recovered from: leftovers torn down, disk in its documented state. */
  | 'recovery-passed';

import { COUNTS_FILE } from './counts-file';

export { COUNTS_FILE };

export function recordCount(counter: SecurityCounter, n: number, file = COUNTS_FILE): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`bad count for ${counter}: ${n}`);
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${JSON.stringify({ counter, n })}\n`);
}

/**
 * Adds `n` to `counter` if the test this is called in passes (vitest's onTestFinished sees its final
 * state); a failed or skipped test adds nothing. Call it inside a test, after the assertions it counts.
 */
export function countWhenPassed(counter: SecurityCounter, n = 1, file = COUNTS_FILE): void {
  onTestFinished(({ task }) => {
    if (task.result?.state === 'pass') recordCount(counter, n, file);
  });
}
