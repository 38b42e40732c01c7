// The whole test suite: static checks, the build, then every vitest level in one run.
// Ends with one plain summary line: "tests: N passed, N failed, N skipped".
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { printSecurityCounts, resetSecurityCounts } from './security-counts.mjs';

const step = (title, argv) => {
  const t = performance.now();
  console.log(`\n== ${title}: ${argv.join(' ')}`);
  const r = spawnSync(argv[0], argv.slice(1), { stdio: 'inherit' });
  console.log(`== ${title}: ${r.status === 0 ? 'ok' : `FAILED (exit ${r.status})`} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return r.status === 0;
};

let okSoFar = true;
okSoFar = step('typecheck', ['npx', 'tsc', '-b']) && okSoFar;
okSoFar = step('lint', ['npx', 'eslint', '--max-warnings', '0', '.']) && okSoFar;
okSoFar = step('build', ['npm', 'run', '--silent', 'build']) && okSoFar;

mkdirSync('test-results', { recursive: true });
resetSecurityCounts();
const tests = step('tests', ['npx', 'vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile.json=test-results/vitest.json']);

let summary = { numPassedTests: 0, numFailedTests: 0, numPendingTests: 0, numTodoTests: 0 };
try {
  summary = JSON.parse(readFileSync('test-results/vitest.json', 'utf8'));
} catch {
  console.error('no vitest report was written');
}
// A file that failed outside any test (a beforeAll hook, an import) leaves its tests skipped: each
// such file counts as one failure, so the summary line never reads "0 failed" for a failed run.
const outsideTests = (summary.testResults ?? []).filter((f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'));
const failedCount = summary.numFailedTests + outsideTests.length;
const failed = failedCount + (okSoFar ? 0 : 1);
printSecurityCounts();
console.log(`\ntests: ${summary.numPassedTests} passed, ${failedCount} failed, ${summary.numPendingTests + summary.numTodoTests} skipped`);
if (outsideTests.length > 0) console.log(`(${outsideTests.length} test file(s) failed outside a test, in a hook or an import: ${outsideTests.map((f) => f.name).join(', ')})`);
if (!okSoFar) console.log('(a static check or the build failed: see above)');
process.exit(tests && failed === 0 ? 0 : 1);
