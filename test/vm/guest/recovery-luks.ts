import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, rmdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AnswerFileInput, InstallPlan } from '../../../src/shared';
import { fakeEnv } from '../../fakes';
import type { Reply } from '../../support/line-client';
import { startServiceChild, type ServiceChild } from '../../support/service-child';
import { blkid, mappers, mountsUnder, plannedRootFsUuid, sh } from './install-checks';

/**
 * Inside the test VM, as root (test/security/recovery-luks.test.ts runs it): the real engine service,
 * as a child over stdio, installs with LUKS2 onto a blank virtio disk and kills itself (test mode's
 * PARTICLE_TEST_KILL_AFTER_STEP) right after one step. A second start of the service must release
 * what the dead one left (the open LUKS mapping, the mounts) before it answers. One blank disk per
 * step (serials rec-encrypt, rec-format, rec-mount, rec-deploy). bootc and podman are the contract
 * fake. Prints one `PARTICLE_RESULT <json>` line per step for the host to judge; exits non-zero
 * only when something threw (a failed check is the host's to judge).
 */

// format is left to the host test (its disk state equals mount's here, minus a mount): a step costs ~90 s under TCG.
const STEPS = ['encrypt', 'mount', 'deploy'] as const;
const REPO = resolve(import.meta.dirname, '../../..');
// The engine service: a bundle of this checkout's sources the host made for this run
// (PARTICLE_ENGINE_CLI, as for the oci-rootfs recovery), else the sources through tsx (about 50 s a
// start under TCG).
const ENGINE = process.env.PARTICLE_ENGINE_CLI ? [process.env.PARTICLE_ENGINE_CLI] : ['--import', 'tsx', 'src/cli/main.ts'];
const RUN_ROOT = '/run/particle-rec';
const STORAGE = '/tmp/particle-rec-storage';
const PASSPHRASE = 'recovery horse battery staple';
const HOSTNAME = 'recovered-luks';
const MARK = 'PARTICLE_RESULT';
/** Prefix of the mappings this script opens to look inside the LUKS volume. */
const LOOK = 'rec-look-';

const started = performance.now();
const since = (): string => `${((performance.now() - started) / 1000).toFixed(1)}s`;
const say = (line: string): void => console.log(`[guest ${since()}] ${line}`);
say('node ready');

type Service = ServiceChild;

const children: ChildProcess[] = [];

/** `service --stdio --mode test` as a child, the fakes first on PATH; `extra` adds to its environment. */
function startService(extra: Record<string, string> = {}): Service {
  const env = fakeEnv({ storage: STORAGE, payloadMiB: 4, extra });
  if (!('PARTICLE_TEST_KILL_AFTER_STEP' in extra)) delete env.PARTICLE_TEST_KILL_AFTER_STEP;
  const svc = startServiceChild(ENGINE, RUN_ROOT, REPO, env);
  children.push(svc.child);
  return svc;
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

function request(serial: string): AnswerFileInput {
  return {
    version: 1,
    disk: { serial },
    layout: { type: 'erase', filesystem: 'xfs', encryption: { type: 'luks2', passphrase: PASSPHRASE } },
    image: { reference: 'quay.io/example/os:42' },
    hostname: HOSTNAME,
    users: [{ name: 'anna', password: 'a long enough password', admin: true }],
  };
}

async function plan(svc: Service, serial: string): Promise<Reply> {
  return svc.client.call('planInstall', { request: request(serial) }, 300_000);
}

/** Deployments (ostree/deploy/STATEROOT/deploy/CSUM.0) under a mounted root, relative to it. */
function deployments(root: string): string[] {
  const base = join(root, 'ostree/deploy');
  if (!existsSync(base)) return [];
  const found: string[] = [];
  for (const stateroot of readdirSync(base)) {
    const dir = join(base, stateroot, 'deploy');
    if (!existsSync(dir)) continue;
    for (const d of readdirSync(dir)) if (d.endsWith('.0')) found.push(`ostree/deploy/${stateroot}/deploy/${d}`);
  }
  return found;
}

interface Inside {
  /** Exit status of `cryptsetup open --readonly` with the passphrase. */
  openExit: number;
  openError?: string;
  /** `blkid -p` of the opened volume: {} when it holds no filesystem. */
  blkid: Record<string, string>;
  /** Set when an xfs was mounted read-only: its deployments, and the first one's /etc/hostname. */
  deployments?: string[];
  deployedHostname?: string | null;
  mountError?: string;
  /** The look-mapping and mount were released again. */
  closed: boolean;
}

/** Opens the LUKS volume read-only with the passphrase and looks inside; closes everything again. */
function lookInside(rootPart: string, step: string): Inside {
  const name = `${LOOK}${step}`;
  const opened = sh(['cryptsetup', 'open', '--readonly', '--key-file', '-', rootPart, name], PASSPHRASE);
  if (opened.code !== 0) return { openExit: opened.code, openError: opened.err.trim(), blkid: {}, closed: !existsSync(`/dev/mapper/${name}`) };
  const r: Inside = { openExit: 0, blkid: {}, closed: false };
  try {
    r.blkid = blkid(`/dev/mapper/${name}`);
    if (r.blkid.TYPE === 'xfs') {
      const mnt = mkdtempSync('/tmp/particle-rec-look-');
      try {
        const m = sh(['mount', '-t', 'xfs', '-o', 'ro', `/dev/mapper/${name}`, mnt]);
        if (m.code !== 0) {
          r.mountError = m.err.trim();
        } else {
          try {
            r.deployments = deployments(mnt);
            const first = r.deployments[0];
            const hostnameFile = first === undefined ? null : join(mnt, first, 'etc/hostname');
            r.deployedHostname = hostnameFile !== null && existsSync(hostnameFile) ? readFileSync(hostnameFile, 'utf8') : null;
          } finally {
            sh(['umount', mnt]);
          }
        }
      } finally {
        // Never recursive: if the unmount failed, the directory stays rather than the disk's content going.
        try {
          rmdirSync(mnt);
        } catch {
          /* still mounted: reported through `closed` */
        }
      }
    }
  } finally {
    sh(['cryptsetup', 'close', name]);
    r.closed = !existsSync(`/dev/mapper/${name}`) && mountsUnder('/tmp').every((t) => !t.startsWith('/tmp/particle-rec-look-'));
  }
  return r;
}

function report(result: Record<string, unknown>): void {
  console.log(`${MARK} ${JSON.stringify(result)}`);
}

async function killedAfter(step: (typeof STEPS)[number]): Promise<void> {
  const serial = `rec-${step}`;
  const dev = realpathSync(`/dev/disk/by-id/virtio-${serial}`);
  say(`${step}: installing onto ${dev} (virtio-${serial}), the engine to kill itself after "${step}"`);
  const t0 = performance.now();

  // 1. An engine that dies right after the step.
  const svc = startService({ PARTICLE_TEST_KILL_AFTER_STEP: step });
  const planned = await plan(svc, serial);
  if (planned.error) {
    svc.child.kill('SIGKILL');
    await svc.exited;
    throw new Error(`planInstall failed: ${JSON.stringify(planned.error)}; stderr: ${svc.stderr()}`);
  }
  const p = planned.result as InstallPlan;
  const ids = p.steps.map((s) => s.id);
  const pid = svc.child.pid!;
  const startReply = svc.client.call('startInstall', { planId: p.id }, 900_000).catch((e: unknown) => ({ error: String(e) }) as Reply);
  let ended: { code: number | null; signal: NodeJS.Signals | null };
  try {
    ended = await within(svc.exited, 900_000, `the engine's death after "${step}"`);
  } catch (e) {
    svc.child.kill('SIGKILL');
    await svc.exited;
    throw e;
  }
  const startAnswer = await Promise.race([startReply, new Promise<Reply>((r) => setTimeout(() => r({ pending: true }), 100))]);
  const killedSeconds = (performance.now() - t0) / 1000;
  say(`${step}: engine ${pid} ended (${ended.signal ?? `exit ${ended.code}`}) after ${killedSeconds.toFixed(1)} s`);

  // 2. What it left.
  const stateFile = join(RUN_ROOT, `engine-${pid}.json`);
  const stateText = existsSync(stateFile) ? readFileSync(stateFile, 'utf8') : null;
  const record = stateText === null ? null : (JSON.parse(stateText) as { install?: { step?: string; disk?: string; runDir?: string } | null });
  const runDir = record?.install?.runDir ?? null;
  const before = {
    exit: ended,
    startInstallError: (startAnswer.error as unknown) ?? null,
    stateFile: stateText !== null,
    stateStep: record?.install?.step ?? null,
    stateDisk: record?.install?.disk ?? null,
    passphraseInStateFile: stateText?.includes(PASSPHRASE) ?? false,
    runDir,
    runDirExists: runDir !== null && existsSync(runDir),
    mappers: mappers('particle-'),
    mounts: mountsUnder(RUN_ROOT),
    stderrTail: svc.stderr().split('\n').slice(-15).join('\n'),
  };

  // 3. A new start: recovery runs before it answers anything.
  const t1 = performance.now();
  const next = startService();
  const info = await next.client.call('getInfo', {}, 300_000);
  const recoverySeconds = (performance.now() - t1) / 1000;
  const stderr = next.stderr();
  const rootPart = p.partitions.find((x) => x.mountpoint === '/')!.path;
  const after = {
    infoMode: (info.result?.mode as unknown) ?? null,
    infoError: (info.error as unknown) ?? null,
    recoveredLines: stderr.split('\n').filter((l) => l.includes('recovered after engine')),
    passphraseInStderr: stderr.includes(PASSPHRASE),
    mappers: mappers('particle-'),
    mounts: mountsUnder(RUN_ROOT),
    stateFileGone: !existsSync(stateFile),
    runDirGone: runDir !== null && !existsSync(runDir),
    rootPart,
    rootIsLuks2: sh(['cryptsetup', 'isLuks', '--type', 'luks2', rootPart]).code === 0,
    inside: lookInside(rootPart, step),
  };
  say(`${step}: recovered in ${recoverySeconds.toFixed(1)} s; inside the LUKS volume: ${after.inside.blkid.TYPE ?? 'nothing'}`);

  // 4. The new engine accepts an install on the same disk; then an orderly stop.
  const again = await plan(next, serial);
  next.child.stdin!.end();
  const stopped = await within(next.exited, 120_000, 'the second service stopping').catch((e: unknown) => {
    next.child.kill('SIGKILL');
    return { code: null, signal: null, error: String(e) };
  });
  report({
    variant: step,
    dev,
    pid,
    plan: p,
    steps: ids,
    rootFsUuid: plannedRootFsUuid(p),
    killedSeconds,
    recoverySeconds,
    before,
    after,
    newPlan: again.error ? { error: again.error as unknown } : { diskPath: (again.result?.disk?.path as unknown) ?? null, id: (again.result?.id as unknown) ?? null },
    stop: stopped,
    stopStderrTail: stopped.code === 0 ? '' : next.stderr().split('\n').slice(-15).join('\n'),
    seconds: (performance.now() - t0) / 1000,
  });
}

/** Whatever is still open or running at the end (a step that threw): closed, unmounted, killed. */
function cleanUp(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const m of mountsUnder(RUN_ROOT).reverse()) sh(['umount', m]);
  for (const m of mountsUnder('/tmp').filter((t) => t.startsWith('/tmp/particle-rec-look-')).reverse()) sh(['umount', m]);
  for (const name of [...mappers('particle-'), ...mappers(LOOK)]) sh(['cryptsetup', 'close', name]);
  if (mountsUnder(RUN_ROOT).length === 0) rmSync(RUN_ROOT, { recursive: true, force: true });
  rmSync(STORAGE, { recursive: true, force: true });
}

let errors = 0;
for (const step of STEPS) {
  try {
    await killedAfter(step);
  } catch (e) {
    errors++;
    console.error(`[guest] ${step}: unexpected exception: ${(e as Error).stack ?? String(e)}`);
    report({ variant: step, exception: String((e as Error).message ?? e) });
    cleanUp();
  }
}
cleanUp();
say(`done; ${errors} unexpected exception(s); mounts under ${RUN_ROOT}: ${mountsUnder(RUN_ROOT).length}; mappers: ${mappers('').join(' ') || 'none'}`);
// A leftover handle (a timer of a call the killed engine never answered) must not hold the VM up.
process.exit(errors > 0 ? 1 : 0);
