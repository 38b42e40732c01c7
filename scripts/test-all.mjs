// The whole test suite: static checks, the build, then every vitest level (in two lanes, see below).
// Ends with one plain summary line: "tests: N passed, N failed, N skipped".
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { printSecurityCounts, resetSecurityCounts } from './security-counts.mjs';

/** Every step's and lane's time, printed again together at the end (each is printed as it ends, too). */
const times = [];
/** Records a step's or lane's time and returns it for its own line ("12.3 s"). */
const record = (title, since, ok) => {
  const s = (performance.now() - since) / 1000;
  times.push({ title, seconds: s, ok });
  return `${s.toFixed(1)} s`;
};

const step = (title, argv) => {
  const t = performance.now();
  console.log(`\n== ${title}: ${argv.join(' ')}`);
  const r = spawnSync(argv[0], argv.slice(1), { stdio: 'inherit' });
  const took = record(title, t, r.status === 0);
  console.log(`== ${title}: ${r.status === 0 ? 'ok' : `FAILED (exit ${r.status})`} in ${took}`);
  return r.status === 0;
};

// The build comes first (the tests run what it makes); the type check and lint run beside the tests
// (below), as two more processes whose output is printed when each ends. On two cores they took
// about 42 s before the first test could start.
const runStarted = performance.now();
let okSoFar = step('build', ['npm', 'run', '--silent', 'build']);

// The live ISO's QA builds the app before it builds an ISO, when run by itself; here it was just built.
if (okSoFar) process.env.PARTICLE_APP_BUILT = '1';

mkdirSync('test-results', { recursive: true });
resetSecurityCounts();
// Emptied once here: the vitest runs below (more than one) add to the same file.
process.env.PARTICLE_SECURITY_COUNTS = 'keep';

// How the VM tests share two cores. Each TCG guest has one CPU (test/vm/qemu.ts), so two guests at a
// time keep both cores busy and the whole run takes about half as long as one lane would.
// - Two slots, each running one VM test file at a time (its own vitest process), longest first, so
//   the slots end close together. The live ISO's build goes first: the kiosk needs its ISO.
// - When no VM file is left to start, a free slot runs every test that boots no VM, and the live
//   ISO's kiosk variant starts once no other guest is running: it reads timings off the guest's own
//   screen (how long it stays blank, how long the progress page reads the same), so no other guest
//   may share the cores with it (in a run where two did, its longest blank grew from 4.6 s alone to
//   27 s, past its 25 s limit). Tests without a VM beside it did not move it.
// Fixed phases (two lanes, then the tests beside the kiosk) left one core idle for 350 s at the end
// of the first phase in a run with a busy loop on one core.
// PARTICLE_TEST_LANES=1 runs everything in one process.
const LIVE_ISO = 'test/vm/live-iso.test.ts';
/**
 * The VM files, each with its project and what it took in a run with a busy loop on one core (the
 * order they start in: longest first; the live ISO's build is always first). Figures of the loaded
 * run of 5b31df8.
 */
const VM_JOBS = [
  { title: 'live ISO QA: build, remote and unattended', file: LIVE_ISO, project: 'vm', env: { PARTICLE_QA_PART: 'others' }, loadedSeconds: 1712 },
  { title: 'oci-rootfs installs that boot', file: 'test/vm/oci-rootfs.test.ts', project: 'vm', loadedSeconds: 2069 },
  { title: 'real podman', file: 'test/vm/podman.test.ts', project: 'vm', loadedSeconds: 694 },
  { title: 'oci-rootfs recovery in a guest', file: 'test/vm/recovery-oci-rootfs.test.ts', project: 'vm', loadedSeconds: 626 },
  { title: 'LUKS installs', file: 'test/vm/install.test.ts', project: 'vm', loadedSeconds: 455 },
  { title: 'LUKS recovery (security level)', file: 'test/security/recovery-luks.test.ts', project: 'security', loadedSeconds: 344 },
  { title: 'VM harness', file: 'test/vm/vm.test.ts', project: 'vm', loadedSeconds: 186 },
];
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
        const took = record(title, t, code === 0);
        console.log(`== ${title}: ${code === 0 ? 'ok' : `FAILED (exit ${code ?? signal})`} in ${took}`);
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
const KIOSK_REPORT = 'test-results/vitest-live-iso-kiosk.json';
const ISO = 'test-results/qa/iso/particle-live.iso';
const slug = (file) => file.replace(/^test\//, '').replace(/\.test\.ts$/, '').replace(/[^A-Za-z0-9]+/g, '-');
/** A VM job's name in its report's and log's file names: the file, and the live ISO's part if one is set. */
const jobName = (job) => `${slug(job.file)}${job.env?.PARTICLE_QA_PART ? `-${job.env.PARTICLE_QA_PART}` : ''}`;
const vmReport = (job) => `test-results/vitest-${jobName(job)}.json`;
for (const file of [MAIN_REPORT, KIOSK_REPORT, ...VM_JOBS.map(vmReport)]) rmSync(file, { force: true });
const reports = lanes >= 2 ? [MAIN_REPORT, KIOSK_REPORT, ...VM_JOBS.map(vmReport)] : [MAIN_REPORT];
const testsStarted = performance.now();
// The type check and lint: with two slots they start when the tests without a VM or the kiosk ends,
// whichever ends first, on the core it leaves free (at the start they took that time from the
// guests: 113 s of CPU beside two of them in a run where one core then sat idle for 405 s at the end
// beside the kiosk).
let staticChecks = null;
const startStaticChecks = () =>
  (staticChecks ??= Promise.all([
    lane('typecheck', ['npx', 'tsc', '-b'], { logFile: 'test-results/typecheck.log' }),
    lane('lint', ['npx', 'eslint', '--max-warnings', '0', '.'], { logFile: 'test-results/lint.log' }),
  ]));
if (lanes < 2) startStaticChecks();
const results = [];
if (lanes >= 2) {
  // The live ISO's build first, then the rest longest first.
  const queue = [VM_JOBS[0], ...VM_JOBS.slice(1).sort((x, y) => y.loadedSeconds - x.loadedSeconds)];
  const vmFiles = VM_JOBS.map((j) => j.file);
  let guests = 0;
  let mainStarted = false;
  let kioskStarted = false;
  const runVmJob = async (job) => {
    guests += 1;
    const ok = await lane(job.title, vitest(vmReport(job), ['--project', job.project, job.file]), { env: job.env ?? {}, logFile: `test-results/${jobName(job)}.log` });
    guests -= 1;
    results.push(ok);
  };
  const runMain = async () => {
    // Everything that boots no VM: the VM project leaves out its files (PARTICLE_VM_EXCLUDE, read by
    // vitest.config.ts), the security project its recovery in a guest (--exclude).
    const outside = vmFiles.filter((f) => !f.startsWith('test/vm/'));
    results.push(await lane('tests (every test that boots no VM)', vitest(MAIN_REPORT, outside.flatMap((f) => ['--exclude', f])), { env: { PARTICLE_VM_EXCLUDE: vmFiles.filter((f) => f.startsWith('test/vm/')).join(',') }, logFile: 'test-results/tests.log' }));
    startStaticChecks();
  };
  const runKiosk = async () => {
    // The ISO the live ISO's build made in this run, if it made one; otherwise the kiosk part builds its own.
    let built = null;
    try {
      if (statSync(ISO).mtimeMs >= Date.now() - (performance.now() - testsStarted)) built = ISO;
    } catch {
      built = null;
    }
    guests += 1;
    results.push(
      await lane('live ISO QA: kiosk, the only VM', vitest(KIOSK_REPORT, ['--project', 'vm', LIVE_ISO]), {
        env: { PARTICLE_QA_PART: 'kiosk', ...(built && !process.env.PARTICLE_QA_ISO ? { PARTICLE_QA_ISO: built } : {}) },
        logFile: 'test-results/live-iso-kiosk.log',
      }),
    );
    guests -= 1;
    startStaticChecks();
  };
  /** What a free slot does next: a VM file while any is left, then the tests without a VM, then the kiosk once it would be the only guest. */
  const next = () => {
    if (queue.length > 0) return runVmJob(queue.shift());
    if (!mainStarted) {
      mainStarted = true;
      return runMain();
    }
    if (!kioskStarted && guests === 0) {
      kioskStarted = true;
      return runKiosk();
    }
    return null;
  };
  const inflight = new Set();
  const slot = async () => {
    for (;;) {
      const work = next();
      if (work) {
        inflight.add(work);
        await work;
        inflight.delete(work);
        continue;
      }
      // Nothing this slot may start now: when everything has started, this slot is done; otherwise
      // the kiosk waits for the other slot's guest to end.
      if (kioskStarted || inflight.size === 0) return;
      await Promise.race(inflight);
    }
  };
  await Promise.all([slot(), slot()]);
} else {
  results.push(await lane('tests', vitest(MAIN_REPORT, [])));
}
const tests = results.every(Boolean);
okSoFar = (await startStaticChecks()).every(Boolean) && okSoFar;
console.log(`== all tests (${lanes >= 2 ? 'two slots' : 'one lane'}): ${seconds(testsStarted)}`);

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
console.log('\n== time of each step and lane (lanes overlap; the phases add up):');
for (const { title, seconds: s, ok } of times) console.log(`   ${s.toFixed(1).padStart(7)} s  ${ok ? 'ok    ' : 'FAILED'}  ${title}`);
console.log(`   ${((performance.now() - runStarted) / 1000).toFixed(1).padStart(7)} s  whole npm test`);
console.log(`\ntests: ${summary.numPassedTests} passed, ${failedCount} failed, ${summary.numPendingTests + summary.numTodoTests} skipped`);
if (outsideTests.length > 0) console.log(`(${outsideTests.length} test file(s) failed outside a test, in a hook or an import: ${outsideTests.map((f) => f.name).join(', ')})`);
if (!okSoFar) console.log('(a static check or the build failed: see above)');
process.exit(tests && failed === 0 ? 0 : 1);
