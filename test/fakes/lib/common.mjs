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
  /** Test-only: a directory that plays the host's `/` for what the host form reads from `/`. */
  hostRoot: () => process.env.PARTICLE_FAKE_HOST_ROOT || '/',
  /**
   * The SELinux policy the image carries ("targeted"), or null for an image without SELinux: its
   * /etc/selinux/config and the policy's file_contexts are then in the image's `/` and deployment.
   */
  selinuxPolicy: () => (/^[A-Za-z0-9_-]+$/.test(process.env.PARTICLE_FAKE_SELINUX_POLICY ?? '') ? process.env.PARTICLE_FAKE_SELINUX_POLICY : null),
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

/** Prints one line on stdout (bootc's `println!`), then waits PARTICLE_FAKE_DELAY_MS so consumers see paced output. */
export async function say(line) {
  process.stdout.write(`${line}\n`);
  await sleep(env.delayMs());
}

/** One line on stderr (bootc's `eprintln!`). */
export function err(line) {
  process.stderr.write(`${line}\n`);
}

/**
 * Prints `error: …` the way bootc's main does: `error: {e:#}`, the anyhow context chain on one line,
 * on stderr, exit 1 (crates/utils/src/lib.rs:59-63@534c76ea). `message` is the whole chain.
 */
export function fail(message) {
  err(`error: ${message}`);
  throw new Exit(1);
}

/**
 * bootc's spinner when stderr is not a terminal: `eprint!("{msg}...")`, the work, then
 * `eprintln!("done ({elapsed})")`, two writes on stderr (crates/lib/src/utils.rs:164-192@534c76ea).
 * A failure in between leaves the line open, so `error: …` follows on the same line, as with bootc.
 */
export async function spinner(msg, work) {
  const started = Date.now();
  process.stderr.write(`${msg}...`);
  const r = await work();
  process.stderr.write(`done (${humanDuration(Date.now() - started)})\n`);
  await sleep(env.delayMs());
  return r;
}

const DURATION_UNITS = [
  [365 * 24 * 3600e3, 'year'],
  [7 * 24 * 3600e3, 'week'],
  [24 * 3600e3, 'day'],
  [3600e3, 'hour'],
  [60e3, 'minute'],
  [1e3, 'second'],
];

/** indicatif's HumanDuration Display (src/format.rs, indicatif 0.18 as locked by bootc): "0 seconds", "1 second", "89 seconds", "2 minutes". */
export function humanDuration(ms) {
  let idx = 0;
  for (let i = 0; i < DURATION_UNITS.length; i++) {
    idx = i;
    const next = DURATION_UNITS[i + 1];
    const cur = DURATION_UNITS[i][0];
    if (next && ms + next[0] / 2 >= cur + cur / 2) break;
  }
  const [unit, name] = DURATION_UNITS[idx];
  let t = Math.round(ms / unit);
  if (idx < DURATION_UNITS.length - 1) t = Math.max(t, 2);
  return t === 1 ? `${t} ${name}` : `${t} ${name}s`;
}

/**
 * bootc's `Task` (crates/lib/src/task.rs@534c76ea): prints its description with `println!` (and with
 * `verbose()` a `> argv` line), runs the command with stdout/stderr inherited, and fails with
 * `Task <description> failed: <ExitStatus>`. `context` is the chain above it. Returns the exit status.
 */
export async function task(description, argv, { context, verbose = false, cwd, input, quietOutput = false, print = true, display } = {}) {
  if (print) await say(description);
  if (print && verbose) await say(`> ${(display ?? argv).join(' ')}`);
  const r = spawnSync(argv[0], argv.slice(1), { cwd, input, stdio: [input === undefined ? 'ignore' : 'pipe', quietOutput ? 'pipe' : 'inherit', quietOutput ? 'pipe' : 'inherit'] });
  if (r.error || r.status !== 0) {
    if (quietOutput) process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}`);
    fail(`${context}: Task ${description} failed: ${exitStatus(r)}`);
  }
}

/** Rust's `ExitStatus` Debug on Linux: `ExitStatus(unix_wait_status(<raw wait status>))`. */
export function exitStatus(r) {
  const raw = r.signal ? { SIGTERM: 15, SIGKILL: 9, SIGINT: 2 }[r.signal] ?? 9 : (r.status ?? 127) << 8;
  return `ExitStatus(unix_wait_status(${raw}))`;
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
 * The message for an injected failure kind, with the context chain bootc puts above the real error.
 * `ctx`: { verb ("Installing to filesystem" or "Installing to disk"), image (the source image name
 * bootc pulls from), registry (repo:tag a registry would be asked for) }. The registry texts are
 * containers/image's (through skopeo's OpenImage), not bootc's.
 */
export function failureMessage(stage, kind, ctx) {
  const { repo, tag } = splitRef((ctx.registry ?? ctx.image ?? 'quay.io/example/os:latest').replace(/@sha256:[0-9a-f]+$/, ''));
  // install_container's #[context] (install.rs:1025), ImageImporter::prepare's and prepare_internal's
  // (ostree-ext container/store.rs:716, 940), the proxy's "failed to invoke method" (containers-image-proxy).
  const fetch = `${ctx.verb}: Creating ostree deployment: Preparing import: Fetching manifest: failed to invoke method OpenImage`;
  switch (kind) {
    case 'no-space':
      // deploy.rs:430-450: the image name, not the target path.
      return `${ctx.verb}: Creating ostree deployment: Insufficient free space for ${ctx.image} (available: 1.2 GB required: 2.2 GB)`;
    case 'manifest-unknown':
      return `${fetch}: reading manifest ${tag} in ${repo}: manifest unknown`;
    case 'unauthorized':
      return `${fetch}: reading manifest ${tag} in ${repo}: unauthorized: access to the requested resource is not authorized`;
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

/**
 * With PARTICLE_FAKE_HANG set, a signal ends the process the way podman's signal proxy does
 * (128 + signal) at any point of the run, not only once the hang is reached: a test that signals as
 * soon as it reads the last line before the hang must not race the handler being installed.
 */
if (process.env.PARTICLE_FAKE_HANG) {
  // A real process takes a moment to unwind; exit codes follow the shell's 128+signal rule.
  const quit = (code) =>
    setTimeout(() => {
      for (const fn of signalCleanups.splice(0).reverse()) fn();
      process.exit(code);
    }, 200);
  process.on('SIGTERM', () => quit(143));
  process.on('SIGINT', () => quit(130));
}

/** When PARTICLE_FAKE_HANG names this stage: block until a signal ends the process. */
export async function maybeHang(stage) {
  if (process.env.PARTICLE_FAKE_HANG !== stage) return;
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

/**
 * glib's g_format_size() with default flags, which bootc and ostree-ext use for sizes
 * (ostree-ext container/store.rs:445, deploy.rs:443-444): "1 byte", "17 bytes", "2.1 MB", "2.2 GB".
 */
export function humanSize(bytes) {
  if (bytes < 1000) return bytes === 1 ? '1 byte' : `${bytes} bytes`;
  const units = ['kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** Runs a tool with an argv array (never a shell); returns { status, stdout, stderr }. */
export function run(argv, input) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
  return { status: r.error ? 127 : r.status, stdout: r.stdout ?? '', stderr: r.stderr || (r.error ? String(r.error) : '') };
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
