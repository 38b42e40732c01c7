// One engine install for npm run bench, in its own process so its peak RSS is the engine's alone.
// bench-install.ts bundles this file (as the engine ships, one ESM file) and runs it with node:
//   node child.mjs plan <disk> <runRoot>     → prints the plan as JSON (for the shell form)
//   node child.mjs install <disk> <runRoot>  → installs, prints timings, events and maxRSS as JSON
// The parent sets PATH (fakes first) and PARTICLE_FAKE_*; it owns the loop device and cleans up.
import { createEngine } from '../src/engine/engine';
import type { AnswerFileInput, ProgressEvent } from '../src/shared';

const GiB = 1024 ** 3;
const [cmd, disk, runRoot] = process.argv.slice(2);
if ((cmd !== 'plan' && cmd !== 'install') || !disk || !runRoot) {
  console.error('usage: child (plan|install) <disk> <runRoot>');
  process.exit(2);
}

const benchRequest = (path: string): AnswerFileInput => ({
  version: 1,
  disk: { path },
  layout: { type: 'erase', filesystem: 'xfs' },
  image: { reference: 'quay.io/example/os:42', targetImage: 'quay.io/example/os:stable' },
  hostname: 'particle-bench',
  users: [{ name: 'anna', fullName: 'Anna Example', password: 'Sup3r secret user pw!', admin: true }],
});

const engine = createEngine({ mode: 'test', minimumSize: GiB, runRoot });
const events: { t: number; kind: ProgressEvent['kind'] }[] = [];
engine.on('progress', (ev) => events.push({ t: performance.now(), kind: ev.kind }));

const t0 = performance.now();
const plan = await engine.handlers.planInstall({ request: benchRequest(disk) });
const planMs = performance.now() - t0;
if (cmd === 'plan') {
  process.stdout.write(`${JSON.stringify(plan)}\n`);
} else {
  const t1 = performance.now();
  await engine.handlers.startInstall({ planId: plan.id });
  await engine.installer!.settled();
  const installMs = performance.now() - t1;
  const state = await engine.handlers.getInstallState({});
  const byKind: Record<string, number> = {};
  for (const e of events) byKind[e.kind] = (byKind[e.kind] ?? 0) + 1;
  const outcome = state.outcome;
  process.stdout.write(
    `${JSON.stringify({
      ok: outcome?.kind === 'finished',
      error: outcome?.kind === 'failed' ? outcome.error.message : null,
      planMs,
      installMs,
      events: events.length,
      byKind,
      // KiB on Linux: the largest resident set this process (not its children) ever had.
      maxRssKiB: process.resourceUsage().maxRSS,
    })}\n`,
  );
}
