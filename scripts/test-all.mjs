// The whole test suite: static checks, the build, then every vitest level (in two lanes, see below).
// Ends with one plain summary line: "tests: N passed, N failed, N skipped".
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { printSecurityCounts, resetSecurityCounts } from './security-counts.mjs';

const step = (title, argv) => {
  const t = performance.now();
  console.log(`\n== ${title}: ${argv.join(' ')}`);
  const r = spawnSync(argv[0], argv.slice(1), { stdio: 'inherit' });
  console.log(`== ${title}: ${r.status === 0 ? 'ok' : `FAILED (exit ${r.status})`} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return r.status === 0;
};

// The build comes first (the tests run what it makes); the type check and lint run beside the tests
// (below), as two more processes whose output is printed when each ends. On two cores they took
// about 42 s before the first test could start.
let okSoFar = step('build', ['npm', 'run', '--silent', 'build']);

mkdirSync('test-results', { recursive: true });
resetSecurityCounts();
// Emptied once here: the vitest runs below (more than one) add to the same file.
process.env.PARTICLE_SECURITY_COUNTS = 'keep';

// How the VM tests share two cores. Each TCG guest has one CPU (test/vm/qemu.ts), so two guests at a
// time keep both cores busy and the whole run takes about half as long as one lane would.
// - First, two lanes side by side, each booting one guest at a time: (a) the live ISO's build and its
//   remote and unattended variants, then the real-podman VM test and the LUKS installs; (b) the VM
//   lane: oci-rootfs, the security level's LUKS recovery, its oci-rootfs recovery run in a guest, and
//   the VM harness's own tests.
// - Then the live ISO's kiosk variant beside every test that boots no VM. The kiosk reads timings off
//   the guest's own screen (how long it stays blank, how long the progress page reads the same), so
//   no other guest may share the cores with it: in a run where two did, its longest blank grew from
//   4.6 s (alone) to 27 s, past its 25 s limit. Tests without a VM beside it did not move it.
// PARTICLE_TEST_LANES=1 runs everything in one process.
// The guest scripts now run bundled instead of through tsx, which took about 50 s per start under
// TCG: the VM lane's oci-rootfs recovery starts the engine four times. In the CI run before that
// change the first lane took about 2160 s and the VM lane about 2160 s; the VM lane was expected to
// lose about 300 s and the first lane about 90 s, so the VM harness's own tests (90 s) moved to the VM
// lane.
const HARNESS = 'test/vm/vm.test.ts';
const VM_LANE = ['test/vm/oci-rootfs.test.ts', 'test/security/recovery-luks.test.ts', 'test/vm/recovery-oci-rootfs.test.ts', HARNESS];
// After real podman in the first lane: the LUKS installs.
const LUKS_INSTALLS = 'test/vm/install.test.ts';
const LIVE_ISO = 'test/vm/live-iso.test.ts';
const PODMAN = 'test/vm/podman.test.ts';
const lanes = Number(process.env.PARTICLE_TEST_LANES ?? (availableParallelism() >= 2 ? 2 : 1));
const vitest = (json, more) => ['npx', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${json}`, ...more];
const seconds = (since) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

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
        console.log(`== ${title}: ${code === 0 ? 'ok' : `FAILED (exit ${code ?? signal})`} in ${seconds(t)}`);
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
const OTHERS_REPORT = 'test-results/vitest-live-iso-others.json';
const PODMAN_REPORT = 'test-results/vitest-podman.json';
const KIOSK_REPORT = 'test-results/vitest-live-iso-kiosk.json';
const ISO = 'test-results/qa/iso/particle-live.iso';
for (const file of [MAIN_REPORT, VM_REPORT, OTHERS_REPORT, PODMAN_REPORT, KIOSK_REPORT, 'test-results/vitest-live-iso.json']) rmSync(file, { force: true });
const reports = lanes >= 2 ? [MAIN_REPORT, VM_REPORT, OTHERS_REPORT, PODMAN_REPORT, KIOSK_REPORT] : [MAIN_REPORT];
const testsStarted = performance.now();
const staticChecks = Promise.all([
  lane('typecheck', ['npx', 'tsc', '-b'], { logFile: 'test-results/typecheck.log' }),
  lane('lint', ['npx', 'eslint', '--max-warnings', '0', '.'], { logFile: 'test-results/lint.log' }),
]);
const results = [];
if (lanes >= 2) {
  const vmFiles = [...VM_LANE, LIVE_ISO, PODMAN, LUKS_INSTALLS].filter((f) => f.startsWith('test/vm/'));
  const otherVmFiles = VM_LANE.filter((f) => !f.startsWith('test/vm/'));
  const firstLane = async () => {
    const t = performance.now();
    const others = await lane('live ISO QA: build, remote and unattended', vitest(OTHERS_REPORT, ['--project', 'vm', LIVE_ISO]), {
      env: { PARTICLE_QA_PART: 'others' },
      logFile: 'test-results/live-iso-others.log',
    });
    const podman = await lane('real podman and the LUKS installs (VM)', vitest(PODMAN_REPORT, ['--project', 'vm', PODMAN, LUKS_INSTALLS]), { logFile: 'test-results/podman.log' });
    console.log(`== first lane (the live ISO's build, remote and unattended, then real podman and the LUKS installs): ${seconds(t)}`);
    return others && podman;
  };
  const firstPhase = performance.now();
  results.push(...(await Promise.all([firstLane(), lane('VM lane', vitest(VM_REPORT, ['--project', 'vm', '--project', 'security', ...VM_LANE]), { logFile: 'test-results/vm-lane.log' })])));
  console.log(`== first phase (both lanes): ${seconds(firstPhase)}`);
  // The ISO the first lane built, if it built one in this run; otherwise the kiosk part builds its own.
  let built = null;
  try {
    if (statSync(ISO).mtimeMs >= Date.now() - (performance.now() - testsStarted)) built = ISO;
  } catch {
    built = null;
  }
  const secondPhase = performance.now();
  results.push(
    ...(await Promise.all([
      lane('tests', vitest(MAIN_REPORT, otherVmFiles.flatMap((f) => ['--exclude', f])), { env: { PARTICLE_VM_EXCLUDE: vmFiles.join(',') } }),
      lane('live ISO QA: kiosk, the only VM', vitest(KIOSK_REPORT, ['--project', 'vm', LIVE_ISO]), {
        env: { PARTICLE_QA_PART: 'kiosk', ...(built && !process.env.PARTICLE_QA_ISO ? { PARTICLE_QA_ISO: built } : {}) },
        logFile: 'test-results/live-iso-kiosk.log',
      }),
    ])),
  );
  console.log(`== second phase (the tests that boot no VM, beside the kiosk): ${seconds(secondPhase)}`);
} else {
  results.push(await lane('tests', vitest(MAIN_REPORT, [])));
}
const tests = results.every(Boolean);
okSoFar = (await staticChecks).every(Boolean) && okSoFar;
console.log(`== all tests (${lanes >= 2 ? 'the VM lanes, then the tests without a VM beside the kiosk' : 'one lane'}): ${seconds(testsStarted)}`);

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
