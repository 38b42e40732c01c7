// The counts the security tests record (test/security/counts.ts), summed and printed. Shared by
// `npm run test:security` and `npm test`, which both start from an empty file.
import { existsSync, readFileSync, rmSync } from 'node:fs';

export const COUNTS = 'test-results/security/counts.jsonl';

export function resetSecurityCounts() {
  rmSync(COUNTS, { force: true });
}

export function printSecurityCounts() {
  if (!existsSync(COUNTS)) return;
  const sum = {};
  for (const line of readFileSync(COUNTS, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const { counter, n } = JSON.parse(line);
    sum[counter] = (sum[counter] ?? 0) + n;
  }
  const n = (k) => sum[k] ?? 0;
  const tried = n('injections-tried');
  const refused = n('injections-refused');
  console.log('\nsecurity summary:');
  console.log('\n(each counted only when the test that produced it passed)');
  console.log(`  malformed protocol messages sent to the real service:       ${n('messages-fuzzed')}`);
  console.log(`  bad credentials refused by the real service:                ${n('auth-refused')}`);
  console.log(`  hostile answer-file values tried:                           ${tried} (${refused} refused with a message, ${tried - refused} passed through as one argv element)`);
  console.log(`  disk-safety requests refused:                               ${n('disk-safety-refused')}`);
  console.log(`  distinct hardening checks against a recording double of electron (no Electron runs): ${n('hardening-checks')}`);
  console.log(`  interrupted installs recovered:                             ${n('recovery-passed')}`);
}
