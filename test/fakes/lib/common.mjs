// Shared plumbing of the bootc/podman contract fake: environment knobs, the invocation log, paced
// output, failure injection and a tiny command runner. Plain ESM so the fakes run without a build.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync, rmSync } from 'node:fs';

/** Thrown to end the fake with an exit code after its message has been printed. */
export class Exit extends Error {
  constructor(code) {
    super(`exit ${code}`);
    this.code = code;
  }
}

export const env = {
  delayMs: () => numberEnv('PARTICLE_FAKE_DELAY_MS', 50),
  payloadMiB: () => numberEnv('PARTICLE_FAKE_PAYLOAD_MIB', 8),
  /** Pause after each layer's data is written, so a transfer takes time as a real one does. */
  layerDelayMs: () => numberEnv('PARTICLE_FAKE_LAYER_DELAY_MS', 0),
  layers: () => Math.max(1, Math.floor(numberEnv('PARTICLE_FAKE_LAYERS', 5))),
  storage: () => process.env.PARTICLE_FAKE_STORAGE || '/var/lib/containers/particle-fake',
  allowNoDm: () => Boolean(process.env.PARTICLE_FAKE_ALLOW_NO_DM),
};

function numberEnv(name, fallback) {
  const n = Number(process.env[name]);
  return process.env[name] !== undefined && process.env[name] !== '' && Number.isFinite(n) && n >= 0 ? n : fallback;
}

/** One JSON line per invocation, so tests can assert the exact argv the engine sent. */
export function logInvocation(tool, argv, extra = {}) {
  const file = process.env.PARTICLE_FAKE_LOG;
  if (!file) return;
  const particleEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('PARTICLE_')));
  const uid = typeof process.getuid === 'function' ? process.getuid() : null;
  const line = { tool, argv, cwd: process.cwd(), uid, env: particleEnv, time: new Date().toISOString(), ...extra };
  appendFileSync(file, `${JSON.stringify(line)}\n`);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Prints one line on stdout, then waits PARTICLE_FAKE_DELAY_MS so consumers see paced output. */
export async function say(line) {
  process.stdout.write(`${line}\n`);
  await sleep(env.delayMs());
}

export function err(line) {
  process.stderr.write(`${line}\n`);
}

/** Prints `error: …` the way bootc's anyhow chain does and exits 1. */
export function fail(message) {
  err(`error: ${message}`);
  throw new Exit(1);
}

export const STAGES = ['pull', 'init', 'deploy', 'bootloader', 'finalize'];

/**
 * The injected failure for this run: { stage, kind, once } or null. PARTICLE_FAKE_FAIL wins; else
 * the content of PARTICLE_FAKE_FAIL_ONCE_FILE (same syntax), which the failure uses up (spendFailure),
 * so a long-running engine sees one failure and then a retry that succeeds.
 */
export function injectedFailure() {
  const fromEnv = process.env.PARTICLE_FAKE_FAIL;
  const raw = fromEnv || readOnceFile();
  if (!raw) return null;
  const [stage, kind = 'generic'] = raw.split(':');
  return STAGES.includes(stage) ? { stage, kind, once: !fromEnv } : null;
}

function readOnceFile() {
  const file = process.env.PARTICLE_FAKE_FAIL_ONCE_FILE;
  if (!file) return '';
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Called when an injected failure fires: a failure from the once-file happens only this time. */
export function spendFailure(f) {
  if (f?.once && process.env.PARTICLE_FAKE_FAIL_ONCE_FILE) rmSync(process.env.PARTICLE_FAKE_FAIL_ONCE_FILE, { force: true });
}

/**
 * The documented message for an injected failure kind; `ctx` gives the image and target so the text
 * reads like what bootc would print for this very run.
 */
export function failureMessage(stage, kind, ctx) {
  const { repo, tag } = splitRef(ctx.image ?? 'quay.io/example/os:latest');
  switch (kind) {
    case 'no-space':
      return `Installing to filesystem: Insufficient free space for ${ctx.target ?? '/target'} (available: 1.2 GB required: 2.2 GB)`;
    case 'manifest-unknown':
      return `Installing to filesystem: Creating ostree deployment: Pulling: Creating importer: failed to invoke method OpenImage: reading manifest ${tag} in ${repo}: manifest unknown`;
    case 'unauthorized':
      return `Installing to filesystem: Creating ostree deployment: Pulling: Creating importer: failed to invoke method OpenImage: reading manifest ${tag} in ${repo}: unauthorized: access to the requested resource is not authorized`;
    case 'esp-not-found':
      return `Installing bootloader: Failed to find ESP device on ${ctx.disk ?? '/dev/vda'}`;
    default:
      return `${stage}: injected failure`;
  }
}

const signalCleanups = [];

/** Registers an undo step (unmount, detach) that must also run when a signal ends a hung run. */
export function onSignalExit(fn) {
  signalCleanups.push(fn);
  return () => signalCleanups.splice(signalCleanups.indexOf(fn), 1);
}

/** When PARTICLE_FAKE_HANG names this stage: block until a signal ends the process. */
export async function maybeHang(stage) {
  if (process.env.PARTICLE_FAKE_HANG !== stage) return;
  // A real process takes a moment to unwind; exit codes follow the shell's 128+signal rule.
  const quit = (code) =>
    setTimeout(() => {
      for (const fn of signalCleanups.splice(0).reverse()) fn();
      process.exit(code);
    }, 200);
  process.on('SIGTERM', () => quit(143));
  process.on('SIGINT', () => quit(130));
  for (;;) await sleep(60_000);
}

/** `quay.io/example/os:42` → { repo: 'quay.io/example/os', tag: '42' } (digest refs keep the digest as tag). */
export function splitRef(ref) {
  const at = ref.indexOf('@');
  if (at >= 0) return { repo: ref.slice(0, at), tag: ref.slice(at + 1) };
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repo: ref, tag: 'latest' };
}

export const sha256 = (text) => createHash('sha256').update(text).digest('hex');

/** Sizes the way containers/image prints them: decimal units, one decimal ("2.2 GB"). */
export function humanSize(bytes) {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Runs a tool with an argv array (never a shell); returns { status, stdout, stderr }. */
export function run(argv, input) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
  return { status: r.error ? 127 : r.status, stdout: r.stdout ?? '', stderr: r.stderr || (r.error ? String(r.error) : '') };
}

/** Runs a tool that must succeed; otherwise fails the install with its stderr, like bootc's `Task` does. */
export function must(argv, context, input) {
  const r = run(argv, input);
  if (r.status !== 0) fail(`${context}: ${argv.join(' ')} failed: ${r.stderr.trim().split('\n').pop() ?? ''}`);
  return r.stdout;
}

/** Runs an entry point, turning Exit into the process exit code and anything else into a crash. */
export async function main(fn) {
  try {
    await fn();
    process.exitCode = 0;
  } catch (e) {
    if (e instanceof Exit) {
      process.exitCode = e.code;
      return;
    }
    err(`error: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  }
}
