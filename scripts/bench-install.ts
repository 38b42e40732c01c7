// npm run bench, install figures: an erase-disk install (xfs, no LUKS) on a loop device with the
// bootc/podman contract fake at zero delay, through the engine against the same plan as a plain
// bash script; progress events a subscriber gets; the engine's peak RSS. Root only, except the
// synthetic event rate, which needs no disk. Everything made lives in one temp dir; loops are
// detached and mounts undone on the way out, on failure and on SIGINT/SIGTERM too.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { build } from 'esbuild';
import type { InstallPlan } from '../src/shared';
import { planToShell } from './bench-shell-plan';

const RUNS = 3;
const GiB = 1024 ** 3;
const SYNTHETIC_EVENTS = 50_000;
const TOOLS = ['bash', 'sfdisk', 'mkfs.xfs', 'mkfs.vfat', 'wipefs', 'partx', 'udevadm', 'useradd', 'groupadd'];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Why the install figures cannot be measured here, or null when they can. */
function skipReason(): string | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'not running as root (loop devices, mkfs and mount need it)';
  if (!existsSync('/dev/loop-control')) return 'no /dev/loop-control (loop module missing)';
  const probe = spawnSync('losetup', ['--find'], { encoding: 'utf8' });
  if (probe.status !== 0) return `losetup --find failed: ${(probe.stderr || String(probe.error)).trim()}`;
  for (const tool of TOOLS) if (spawnSync('sh', ['-c', 'command -v "$1"', 'sh', tool]).status !== 0) return `${tool} is not installed`;
  return null;
}

interface Done {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** A temp dir with everything the bench makes in it, and the undoing of all of it. */
class Workspace {
  readonly dir = mkdtempSync(join(tmpdir(), 'particle-bench-'));
  private readonly loops = new Set<string>();
  private readonly children = new Set<ChildProcess>();
  private readonly onSignal = (sig: NodeJS.Signals): void => {
    this.cleanup();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };

  constructor() {
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
  }

  /** A 12 GiB sparse file attached as a loop device. */
  disk(name: string): string {
    const file = join(this.dir, `${name}.img`);
    const fd = openSync(file, 'w', 0o600);
    try {
      ftruncateSync(fd, 12 * GiB);
    } finally {
      closeSync(fd);
    }
    const r = spawnSync('losetup', ['--find', '--show', file], { encoding: 'utf8' });
    const dev = r.stdout.trim();
    if (r.status !== 0 || !/^\/dev\/loop\d+$/.test(dev)) throw new Error(`losetup failed: ${r.stderr.trim()}`);
    this.loops.add(dev);
    // A loop device keeps partitions partx added after it is detached: start from none, every run alike.
    spawnSync('partx', ['--delete', dev], { stdio: 'ignore' });
    return dev;
  }

  /** Undoes mounts under the dir, detaches the loop and removes its file. */
  release(dev: string, name: string): void {
    this.unmountAll();
    this.detach(dev);
    this.loops.delete(dev);
    rmSync(join(this.dir, `${name}.img`), { force: true });
  }

  run(argv: string[], env: NodeJS.ProcessEnv, input?: string): Promise<Done> {
    return new Promise((done, fail) => {
      const t0 = performance.now();
      // Its own process group, so a stop takes its commands (sfdisk, the fakes) down with it.
      const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      this.children.add(child);
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      child.on('error', fail);
      child.on('close', (code) => {
        this.children.delete(child);
        done({ code, stdout, stderr, ms: performance.now() - t0 });
      });
      child.stdin.end(input ?? '');
    });
  }

  track(child: ChildProcess): void {
    this.children.add(child);
    child.on('close', () => this.children.delete(child));
  }

  cleanup(): void {
    for (const c of this.children) {
      try {
        process.kill(-c.pid!, 'SIGKILL');
      } catch {
        c.kill('SIGKILL');
      }
    }
    this.unmountAll();
    for (const l of this.loops) this.detach(l);
    this.loops.clear();
    rmSync(this.dir, { recursive: true, force: true });
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }

  /** Drops the partitions partx made (detaching alone leaves them), then detaches. */
  private detach(dev: string): void {
    spawnSync('partx', ['--delete', dev], { stdio: 'ignore' });
    spawnSync('losetup', ['--detach', dev], { stdio: 'ignore' });
  }

  private unmountAll(): void {
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => (l.split(' ')[4] ?? '').replace(/\\040/g, ' '))
      .filter((t) => t === this.dir || t.startsWith(`${this.dir}/`));
    for (const m of mounts.reverse()) spawnSync('umount', ['--lazy', m], { stdio: 'ignore' });
  }
}

/** The children bundled as the engine ships (one ESM file for node), so RSS is not tsx's. */
async function bundleChildren(dir: string): Promise<{ install: string; events: string }> {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
  await build({
    entryPoints: { install: 'scripts/bench-install-child.ts', events: 'scripts/bench-events-child.ts' },
    outdir: join(dir, 'bundle'),
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    define: { __APP_VERSION__: JSON.stringify(pkg.version) },
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'warning',
  });
  return { install: join(dir, 'bundle/install.mjs'), events: join(dir, 'bundle/events.mjs') };
}

interface EngineRun {
  ok: boolean;
  error: string | null;
  installMs: number;
  events: number;
  byKind: Record<string, number>;
  maxRssKiB: number;
}

function fakeEnv(ws: Workspace, name: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${resolve('test/fakes/bin')}${delimiter}${process.env.PATH ?? ''}`,
    PARTICLE_FAKE_DELAY_MS: '0',
    PARTICLE_FAKE_PAYLOAD_MIB: '4',
    PARTICLE_FAKE_STORAGE: join(ws.dir, `storage-${name}`),
  };
  for (const k of ['PARTICLE_FAKE_LOG', 'PARTICLE_FAKE_FAIL', 'PARTICLE_FAKE_HANG'] as const) delete env[k];
  return env;
}

async function engineRun(ws: Workspace, child: string, name: string): Promise<EngineRun> {
  const disk = ws.disk(name);
  try {
    const r = await ws.run([process.execPath, child, 'install', disk, join(ws.dir, `run-${name}`)], fakeEnv(ws, name));
    if (r.code !== 0) throw new Error(`engine install ${name} exited ${r.code}: ${r.stderr.trim().slice(-800)}`);
    const out = JSON.parse(r.stdout) as EngineRun;
    if (!out.ok) throw new Error(`engine install ${name} failed: ${out.error}`);
    return out;
  } finally {
    ws.release(disk, name);
  }
}

/** Plans for a fresh loop device (untimed), then times `bash script` carrying the plan out. */
async function scriptRun(ws: Workspace, child: string, name: string): Promise<number> {
  const disk = ws.disk(name);
  try {
    const env = fakeEnv(ws, name);
    const p = await ws.run([process.execPath, child, 'plan', disk, join(ws.dir, `run-${name}`)], env);
    if (p.code !== 0) throw new Error(`planning ${name} exited ${p.code}: ${p.stderr.trim().slice(-800)}`);
    const file = join(ws.dir, `${name}.sh`);
    writeFileSync(file, planToShell(JSON.parse(p.stdout) as InstallPlan), { mode: 0o700 });
    const r = await ws.run(['bash', file], env);
    if (r.code !== 0) throw new Error(`bash ${file} exited ${r.code}: ${r.stderr.trim().slice(-800)}`);
    return r.ms;
  } finally {
    ws.release(disk, name);
  }
}

/** Progress notifications a client receives and parses per second over the stdio service. */
async function syntheticEvents(ws: Workspace, child: string): Promise<{ count: number; perSecond: number }> {
  const proc = spawn(process.execPath, [child, String(SYNTHETIC_EVENTS)], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
  ws.track(proc);
  let buf = '';
  let count = 0;
  let first = 0;
  let last = 0;
  proc.stdout.setEncoding('utf8').on('data', (c: string) => {
    buf += c;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const msg = JSON.parse(buf.slice(0, nl)) as { method?: string; params?: { kind?: string } };
      buf = buf.slice(nl + 1);
      if (msg.method !== 'event.progress' || msg.params?.kind !== 'step-progress') continue;
      last = performance.now();
      if (count++ === 0) first = last;
    }
  });
  const closed = new Promise<number | null>((r) => proc.on('close', r));
  // Let it load before the clock starts: the first request line is the start signal.
  await new Promise((r) => setTimeout(r, 300));
  proc.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getInfo', params: {} })}\n`);
  const code = await closed;
  if (code !== 0 || count !== SYNTHETIC_EVENTS) throw new Error(`synthetic events: exit ${code}, ${count} of ${SYNTHETIC_EVENTS} received`);
  return { count, perSecond: (count - 1) / ((last - first) / 1000) };
}

/** Prints the install figures (or why they were skipped). */
export async function installFigures(): Promise<void> {
  const ws = new Workspace();
  try {
    const children = await bundleChildren(ws.dir);
    const why = skipReason();
    if (why) {
      for (const what of ['install overhead', 'progress events during an install', 'engine peak RSS during an install']) console.log(`${what}: skipped: ${why}`);
    } else {
      const engine: EngineRun[] = [];
      const script: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        engine.push(await engineRun(ws, children.install, `engine-${i}`));
        script.push(await scriptRun(ws, children.install, `script-${i}`));
      }
      const e = median(engine.map((r) => r.installMs));
      const s = median(script);
      const ratio = e / s;
      const rate = median(engine.map((r) => r.events / (r.installMs / 1000)));
      const kinds = Object.entries(engine[0]!.byKind).map(([k, n]) => `${n} ${k}`).join(', ');
      const rss = Math.max(...engine.map((r) => r.maxRssKiB)) / 1024;
      const each = (ms: number[]): string => ms.map((x) => (x / 1000).toFixed(2)).join(', ');
      console.log(`install via engine (erase, xfs, 12 GiB loop, fake bootc at 0 ms delay, median of ${RUNS}): ${(e / 1000).toFixed(2)} s (runs: ${each(engine.map((r) => r.installMs))})`);
      console.log(`same plan as a plain bash script (median of ${RUNS}, alternating):            ${(s / 1000).toFixed(2)} s (runs: ${each(script)})`);
      console.log(`install ratio engine/script: ${ratio.toFixed(2)} (target <= 1.10) ${ratio <= 1.1 ? 'OK' : 'OVER TARGET'}`);
      console.log(`progress events to an in-process subscriber during the install: ${rate.toFixed(1)} events/s, ${engine[0]!.events} events (${kinds}; step-progress throttled to 5/s by design)`);
      console.log(`engine peak RSS during an install: ${rss.toFixed(1)} MiB (maxRSS of the engine process, bundled as shipped, worst of ${RUNS}; bootc/podman fakes not included)`);
    }
    const syn = await syntheticEvents(ws, children.events);
    console.log(
      `progress events over the stdio service (synthetic): ${Math.round(syn.perSecond)} events/s (${syn.count} step-progress events emitted in a child service, contract-checked, piped as JSON lines and parsed by this process)`,
    );
  } finally {
    ws.cleanup();
  }
}
