import { mkdtempSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { createEngine } from '../../../src/engine/engine';
import { InstallStateSchema, type AnswerFileInput, type InstallState } from '../../../src/shared';
import { inspectInstalledDisk, mappers, mountsUnder, plannedRootFsUuid, sh } from './install-checks';

/**
 * Inside the test VM, as root (test/vm/install.test.ts runs it): the real engine installs with LUKS2
 * onto blank virtio disks (serials luks-xfs, luks-ext4, luks-btrfs, luks-fail), bootc and podman
 * being the contract fake. Prints one line `PARTICLE_RESULT <json>` per run for the host to judge;
 * exits non-zero when something threw (a failed check is the host's to judge, not an exception).
 */

const GiB = 1024 ** 3;
const RUN_ROOT = '/run/particle-test';
const PASSPHRASE = 'correct horse battery staple';
const USER_PW = 'Sup3r secret user pw!';
const MARK = 'PARTICLE_RESULT';

process.env.PATH = `${resolve(import.meta.dirname, '../../fakes/bin')}:${process.env.PATH}`;
process.env.PARTICLE_FAKE_DELAY_MS = '0';
process.env.PARTICLE_FAKE_PAYLOAD_MIB = '4';
process.env.PARTICLE_FAKE_STORAGE = '/tmp/fake-storage';
delete process.env.PARTICLE_FAKE_FAIL;

console.log(`[guest] node ready after ${(performance.now() / 1000).toFixed(1)} s`);
const engine = createEngine({ mode: 'test', minimumSize: GiB, runRoot: RUN_ROOT });
const scratch = mkdtempSync('/tmp/particle-check-');
let steps: string[] = [];
let stepSeconds: Record<string, number> = {};
const started = performance.now();
const since = (): string => `${((performance.now() - started) / 1000).toFixed(1)}s`;
engine.on('progress', (ev) => {
  if (ev.kind === 'step-started') steps.push(ev.step);
  if (ev.kind === 'step-finished') stepSeconds[ev.step] = Math.round(ev.durationMs / 100) / 10;
  if (ev.kind === 'step-started' || ev.kind === 'failed' || ev.kind === 'finished') {
    const extra = ev.kind === 'failed' ? ` ${ev.error.step ?? ''}: ${ev.error.message}` : '';
    console.log(`[guest ${since()}] ${ev.kind === 'step-started' ? `step ${ev.step}` : ev.kind}${extra}`);
  }
});

function request(serial: string, filesystem: 'xfs' | 'ext4' | 'btrfs'): AnswerFileInput {
  return {
    version: 1,
    disk: { serial },
    layout: { type: 'erase', filesystem, encryption: { type: 'luks2', passphrase: PASSPHRASE } },
    image: { reference: 'quay.io/example/os:42', targetImage: 'quay.io/example/os:stable' },
    hostname: `particle-${filesystem}`,
    locale: 'de_DE.UTF-8',
    keyboard: { layout: 'de', variant: 'nodeadkeys' },
    timezone: 'Europe/Berlin',
    users: [{ name: 'anna', fullName: 'Anna Example', password: USER_PW, admin: true }],
    kernelArgs: ['quiet'],
  };
}

/** Plans and runs one install to its end; the state, the plan and how long it took. */
async function install(req: AnswerFileInput): Promise<{ state: InstallState; seconds: number }> {
  steps = [];
  stepSeconds = {};
  const t = performance.now();
  const plan = await engine.handlers.planInstall({ request: req });
  await engine.handlers.startInstall({ planId: plan.id });
  await engine.installer!.settled();
  const state = InstallStateSchema.parse(await engine.handlers.getInstallState({}));
  return { state, seconds: (performance.now() - t) / 1000 };
}

/** What is left of the engine's own doing right after an install: mounts, mappers, log secrets. */
function leftovers(state: InstallState): { mountsUnderRunRoot: string[]; particleMappers: string[]; passphraseInLog: boolean } {
  return {
    mountsUnderRunRoot: mountsUnder(RUN_ROOT),
    particleMappers: mappers('particle-'),
    passphraseInLog: JSON.stringify(state).includes(PASSPHRASE) || JSON.stringify(engine.installer!.lastInstall()?.log ?? '').includes(PASSPHRASE),
  };
}

function report(result: Record<string, unknown>): void {
  console.log(`${MARK} ${JSON.stringify(result)}`);
}

let errors = 0;

async function variant(filesystem: 'xfs' | 'ext4' | 'btrfs'): Promise<void> {
  const serial = `luks-${filesystem}`;
  const dev = realpathSync(`/dev/disk/by-id/virtio-${serial}`);
  console.log(`[guest ${since()}] ${filesystem}: installing onto ${dev} (virtio-${serial})`);
  const { state, seconds } = await install(request(serial, filesystem));
  const plan = state.plan!;
  const left = leftovers(state);
  const base = { variant: filesystem, dev, seconds, outcome: state.outcome, steps, stepSeconds, plan, rootFsUuid: plannedRootFsUuid(plan), ...left };
  if (state.outcome?.kind !== 'finished') {
    report({ ...base, log: state.log });
    return;
  }
  const t = performance.now();
  const facts = inspectInstalledDisk({ dev, plan, filesystem, passphrase: PASSPHRASE, userPassword: USER_PW, scratch });
  report({ ...base, facts, checkSeconds: (performance.now() - t) / 1000, mappersAfterChecks: mappers('') });
}

async function failureRun(): Promise<void> {
  const serial = 'luks-fail';
  const dev = realpathSync(`/dev/disk/by-id/virtio-${serial}`);
  console.log(`[guest ${since()}] failure injection (deploy:no-space) onto ${dev}`);
  process.env.PARTICLE_FAKE_FAIL = 'deploy:no-space';
  try {
    const { state, seconds } = await install(request(serial, 'xfs'));
    const plan = state.plan!;
    const root = plan.partitions.find((p) => p.mountpoint === '/')!.path;
    report({
      variant: 'fail-deploy',
      dev,
      seconds,
      outcome: state.outcome,
      steps,
      stepSeconds,
      plan,
      ...leftovers(state),
      rootIsLuks2: sh(['cryptsetup', 'isLuks', '--type', 'luks2', root]).code === 0,
      log: state.log,
    });
  } finally {
    delete process.env.PARTICLE_FAKE_FAIL;
  }
}

const runs: [string, () => Promise<void>][] = [
  ['xfs', () => variant('xfs')],
  ['ext4', () => variant('ext4')],
  ['btrfs', () => variant('btrfs')],
  ['fail-deploy', failureRun],
];
for (const [name, run] of runs) {
  try {
    await run();
  } catch (e) {
    errors++;
    console.error(`[guest] ${name}: unexpected exception: ${(e as Error).stack ?? String(e)}`);
    report({ variant: name, exception: String((e as Error).message ?? e) });
    try {
      await engine.installer?.settled();
    } catch {
      /* already reported */
    }
  }
}
console.log(`[guest ${since()}] done; ${errors} unexpected exception(s); mounts under ${RUN_ROOT}: ${mountsUnder(RUN_ROOT).length}; mappers: ${mappers('').join(' ') || 'none'}`);
// Nothing should keep the event loop alive, but a leftover handle must not hang the VM until its timeout.
process.exit(errors > 0 ? 1 : 0);
