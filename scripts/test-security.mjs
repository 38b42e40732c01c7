// `npm run test:security`: the adversarial tests (vitest project "security"), then what they did,
// summed from the counts each test records after its assertions pass (test/security/counts.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';

const COUNTS = 'test-results/security/counts.jsonl';
rmSync(COUNTS, { force: true });
const r = spawnSync('npx', ['vitest', 'run', '--project', 'security', ...process.argv.slice(2)], { stdio: 'inherit' });

const sum = {};
if (existsSync(COUNTS)) {
  for (const line of readFileSync(COUNTS, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const { counter, n } = JSON.parse(line);
    sum[counter] = (sum[counter] ?? 0) + n;
  }
}
const n = (k) => sum[k] ?? 0;
const tried = n('injections-tried');
const refused = n('injections-refused');
console.log('\nsecurity summary:');
console.log(`  messages fuzzed:                      ${n('messages-fuzzed')}`);
console.log(`  authentication attempts refused:      ${n('auth-refused')}`);
console.log(`  injections tried:                     ${tried} (${refused} refused with a message, ${tried - refused} passed through safely)`);
console.log(`  disk-safety requests refused:         ${n('disk-safety-refused')}`);
console.log(`  Electron hardening checks passed:     ${n('hardening-checks')}`);
console.log(`  recovery scenarios passed:            ${n('recovery-passed')}`);
if (r.status !== 0) console.log('(some security tests failed: the counts above are from the tests that passed)');
process.exit(r.status ?? 1);
