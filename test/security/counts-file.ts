import { resolve } from 'node:path';

/** Where the security tests' counts go (one JSON line per count), summed by scripts/security-counts.mjs. */
export const COUNTS_FILE = resolve(import.meta.dirname, '../../test-results/security/counts.jsonl');
