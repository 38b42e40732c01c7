// The whole test suite: static checks, the build, then every vitest level (in two lanes, see below).
// Ends with one plain summary line: "tests: N passed, N failed, N skipped".
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
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

// The VM boots that neither build nor read out/ run in a second vitest process beside the rest: each
// TCG guest has one CPU (test/vm/qemu.ts), so on two or more cores the two lanes overlap instead of
// queueing, and the whole run takes about half as long. PARTICLE_TEST_LANES=1 runs one process.
// Every other test that boots a VM: they run together in the second phase, after the live ISO QA.
const VM_LANE = ['test/vm/oci-rootfs.test.ts', 'test/vm/install.test.ts', 'test/vm/vm.test.ts', 'test/security/recovery-luks.test.ts'];
// The live ISO QA reads timings off the guest's own screen (how long it stays blank, how long the
// progress page reads the same) under TCG, so no other VM may share the two cores with it: in a run
// where two did, a 5.5 s blank grew past its 25 s limit. It runs in the first phase beside the tests
// that boot no VM, as it always has; the VM lane follows.
const ALONE = ['test/vm/live-iso.test.ts'];
const lanes = Number(process.env.PARTICLE_TEST_LANES ?? (availableParallelism() >= 2 ? 2 : 1));
const vitest = (json, more) => ['npx', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${json}`, ...more];

/**
 * Runs one vitest process. With `logFile` its output goes there and is printed whole when it ends (so
 * two lanes never interleave); otherwise it goes straight to this terminal. Resolves to whether it passed.
 */
function lane(title, argv, { env = {}, logFile } = {}) {
  console.log(`\n== ${title}: ${argv.join(' ')}${logFile ? ` (output in ${logFile}, printed when it ends)` : ''}`);
  const t = performance.now();
  const out = logFile ? createWriteStream(logFile) : null;
  const child = spawn(argv[0], argv.slice(1), { stdio: out ? ['ignore', 'pipe', 'pipe'] : 'inherit', env: { ...process.env, ...env } });
  child.stdout?.pipe(out, { end: false });
  child.stderr?.pipe(out, { end: false });
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      const report = () => {
        console.log(`== ${title}: ${code === 0 ? 'ok' : `FAILED (exit ${code ?? signal})`} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
        resolve(code === 0);
      };
      if (!out) return report();
      out.end(() => {
        console.log(`\n== ${title} output (${logFile}):`);
        process.stdout.write(readFileSync(logFile, 'utf8'));
        report();
      });
    });
  });
}

const MAIN_REPORT = 'test-results/vitest.json';
const VM_REPORT = 'test-results/vitest-vm-lane.json';
const ALONE_REPORT = 'test-results/vitest-live-iso.json';
for (const file of [MAIN_REPORT, VM_REPORT, ALONE_REPORT]) rmSync(file, { force: true });
const reports = lanes >= 2 ? [MAIN_REPORT, VM_REPORT, ALONE_REPORT] : [MAIN_REPORT];
const testsStarted = performance.now();
const vmFiles = [...VM_LANE, ...ALONE].filter((f) => f.startsWith('test/vm/'));
const otherVmFiles = VM_LANE.filter((f) => !f.startsWith('test/vm/'));
const results = await Promise.all(
  lanes >= 2
    ? [
        lane('tests', vitest(MAIN_REPORT, otherVmFiles.flatMap((f) => ['--exclude', f])), { env: { PARTICLE_VM_EXCLUDE: vmFiles.join(',') } }),
        lane('live ISO QA', vitest(ALONE_REPORT, ['--project', 'vm', ...ALONE]), { logFile: 'test-results/live-iso.log' }),
      ]
    : [lane('tests', vitest(MAIN_REPORT, []))],
);
if (lanes >= 2) results.push(await lane('VM lane', vitest(VM_REPORT, ['--project', 'vm', '--project', 'security', ...VM_LANE])));
const tests = results.every(Boolean);
console.log(`== all tests (${lanes >= 2 ? 'the tests beside the live ISO QA, then the VM lane' : 'one lane'}): ${((performance.now() - testsStarted) / 1000).toFixed(1)} s`);

// Every lane's report, summed: a missing report is a failed lane, counted below.
const summary = { numPassedTests: 0, numFailedTests: 0, numPendingTests: 0, numTodoTests: 0, testResults: [] };
let missing = 0;
for (const file of reports) {
  try {
    const r = JSON.parse(readFileSync(file, 'utf8'));
    for (const k of ['numPassedTests', 'numFailedTests', 'numPendingTests', 'numTodoTests']) summary[k] += r[k] ?? 0;
    summary.testResults.push(...(r.testResults ?? []));
  } catch {
    console.error(`no vitest report was written to ${file}`);
    missing += 1;
  }
}
// A file that failed outside any test (a beforeAll hook, an import) leaves its tests skipped: each
// such file counts as one failure, so the summary line never reads "0 failed" for a failed run.
const outsideTests = (summary.testResults ?? []).filter((f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'));
const failedCount = summary.numFailedTests + outsideTests.length + missing;
const failed = failedCount + (okSoFar ? 0 : 1);
printSecurityCounts();
console.log(`\ntests: ${summary.numPassedTests} passed, ${failedCount} failed, ${summary.numPendingTests + summary.numTodoTests} skipped`);
if (outsideTests.length > 0) console.log(`(${outsideTests.length} test file(s) failed outside a test, in a hook or an import: ${outsideTests.map((f) => f.name).join(', ')})`);
if (!okSoFar) console.log('(a static check or the build failed: see above)');
process.exit(tests && failed === 0 ? 0 : 1);
