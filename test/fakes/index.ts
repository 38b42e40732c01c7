import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Test-side handles on the bootc/podman contract fake (see README.md here): the bin directory to
 * put first on PATH, an environment builder and a synchronous runner that returns what a command
 * line produced.
 */

export const FAKE_BIN = join(dirname(fileURLToPath(import.meta.url)), 'bin');

export interface FakeOptions {
  /** Fake container storage directory (PARTICLE_FAKE_STORAGE). */
  storage: string;
  /** JSON-lines invocation log (PARTICLE_FAKE_LOG). */
  log?: string;
  /** Pause between output lines in ms; tests want 0. */
  delayMs?: number;
  payloadMiB?: number;
  fail?: string;
  /** A file whose PARTICLE_FAKE_FAIL value fails one run and is then removed (PARTICLE_FAKE_FAIL_ONCE_FILE). */
  failOnceFile?: string;
  hang?: string;
  extra?: Record<string, string>;
}

/** The environment a test runs the engine (or the fakes) with: fakes first on PATH. */
export function fakeEnv(o: FakeOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${FAKE_BIN}${delimiter}${process.env.PATH ?? ''}`,
    PARTICLE_FAKE_STORAGE: o.storage,
    PARTICLE_FAKE_DELAY_MS: String(o.delayMs ?? 0),
    PARTICLE_FAKE_PAYLOAD_MIB: String(o.payloadMiB ?? 2),
  };
  // A test's own knobs only: never inherit a failure or hang meant for another run.
  for (const k of ['PARTICLE_FAKE_LOG', 'PARTICLE_FAKE_FAIL', 'PARTICLE_FAKE_FAIL_ONCE_FILE', 'PARTICLE_FAKE_HANG'] as const) delete env[k];
  Object.assign(env, o.extra);
  if (o.log) env.PARTICLE_FAKE_LOG = o.log;
  if (o.fail) env.PARTICLE_FAKE_FAIL = o.fail;
  if (o.failOnceFile) env.PARTICLE_FAKE_FAIL_ONCE_FILE = o.failOnceFile;
  if (o.hang) env.PARTICLE_FAKE_HANG = o.hang;
  return env;
}

export interface FakeResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `podman` or `bootc` from the fake bin directory and waits for it. */
export function runFake(tool: 'podman' | 'bootc' | 'skopeo', args: readonly string[], env: NodeJS.ProcessEnv): FakeResult {
  const r = spawnSync(join(FAKE_BIN, tool), args, { env, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Starts a fake without waiting (for hang/kill tests). */
export function spawnFake(tool: 'podman' | 'bootc', args: readonly string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(join(FAKE_BIN, tool), args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface FakeInvocation {
  tool: 'podman' | 'bootc';
  argv: string[];
  cwd: string;
  uid: number | null;
  env: Record<string, string>;
  /** True for the bootc that podman ran "inside the container". */
  container?: boolean;
  image?: string;
}

export function readFakeLog(file: string): FakeInvocation[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as FakeInvocation);
}

/** The podman argv prefix the architecture documents, for tests that build command lines by hand. */
export function podmanRunPrefix(hostTarget: string, image: string, extraVolumes: readonly string[] = []): string[] {
  const volumes = ['/dev:/dev', '/var/lib/containers:/var/lib/containers', `${hostTarget}:/target`, ...extraVolumes];
  return ['run', '--rm', '--privileged', '--pid=host', '--security-opt', 'label=type:unconfined_t', ...volumes.flatMap((v) => ['-v', v]), image];
}
