import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeployerSchema, EngineModeSchema, ImageTransportSchema, OfferedImageSchema, type EngineMode, type OfferedImage } from '../shared';
import type { Engine } from '../engine/engine';
import { createLogger, createRpcServer, serveHttp, serveSocket, serveStdio, type HttpService, type Logger, type Transport } from '../service';
import { CliError, UsageError, parseCommandArgs, println, type CliIo } from './io';

/** Parent of each install's run directory and of the engines' state files (see engine/install/leftovers.ts). */
const DEFAULT_RUN_ROOT = '/run/particle-installer';

/** An engine plus what must be undone when the service stops (demo loop devices). */
interface RunningEngine {
  readonly engine: Engine;
  teardown(): Promise<void>;
}

/**
 * `--image TRANSPORT:REFERENCE` (registry:quay.io/fedora/fedora-bootc:42, oci:/srv/image,
 * oci-archive:/srv/image.tar, containers-storage:localhost/os): the image the wizard offers.
 * Paths are made absolute here, since the engine may run in another directory than the caller.
 */
export function parseImageOption(value: string, command: string): OfferedImage {
  const colon = value.indexOf(':');
  const transport = ImageTransportSchema.safeParse(colon === -1 ? '' : value.slice(0, colon));
  if (!transport.success) {
    throw new UsageError(`--image must be TRANSPORT:REFERENCE with TRANSPORT one of ${ImageTransportSchema.options.join(', ')} (not "${value}")`, command);
  }
  let reference = value.slice(colon + 1);
  if ((transport.data === 'oci' || transport.data === 'oci-archive') && reference !== '') reference = resolve(reference);
  const r = OfferedImageSchema.safeParse({ reference, transport: transport.data });
  if (!r.success) throw new UsageError(`--image: the reference ${r.error.issues[0]?.message ?? 'is not valid'} (not "${value}")`, command);
  return r.data;
}

/**
 * `--image` with its optional `--deployer`, as both `service` and `serve` take them: the offered
 * image, or undefined without `--image`.
 */
function offeredImageOption(values: Readonly<Record<string, string | boolean | undefined>>, command: string): OfferedImage | undefined {
  let deployer: OfferedImage['deployer'];
  if (values.deployer !== undefined) {
    const d = DeployerSchema.safeParse(values.deployer);
    if (!d.success) throw new UsageError(`--deployer must be ${DeployerSchema.options.join(' or ')} (not "${String(values.deployer)}")`, command);
    if (typeof values.image !== 'string') throw new UsageError('--deployer needs --image: it says how the offered image is installed', command);
    deployer = d.data;
  }
  let targetImage: string | undefined;
  if (values['target-image'] !== undefined) {
    if (typeof values.image !== 'string') throw new UsageError('--target-image needs --image: it names where the offered image updates from', command);
    if (deployer === 'oci-rootfs') throw new UsageError('--target-image is for bootc: an oci-rootfs system does not update from an image', command);
    const t = OfferedImageSchema.shape.targetImage.safeParse(values['target-image']);
    if (!t.success) throw new UsageError(`--target-image ${t.error.issues[0]?.message ?? 'is not valid'} (not "${String(values['target-image'])}")`, command);
    targetImage = t.data;
  }
  if (typeof values.image !== 'string') return undefined;
  const image = parseImageOption(values.image, command);
  return { ...image, ...(deployer === undefined ? {} : { deployer }), ...(targetImage === undefined ? {} : { targetImage }) };
}

async function startEngine(mode: EngineMode, log: Logger, offeredImage?: OfferedImage, runRoot = DEFAULT_RUN_ROOT): Promise<RunningEngine> {
  // Loaded lazily so the light commands (validate, --help) never load the probing code.
  const { createEngine } = await import('../engine/engine');
  const { createExec } = await import('../engine/exec');
  const { EngineState, recoverLeftovers } = await import('../engine/install');
  const exec = createExec();
  const offered = offeredImage ? { offeredImage } : {};
  // What a killed predecessor left (its install's mounts, its demo loop devices) is released first,
  // before demo disks are attached again, so nothing of ours is mistaken for a leftover.
  const recovered = Promise.resolve(await recoverLeftovers(runRoot, { exec, log: (line) => log.warn(line) }));
  const state = new EngineState(runRoot);
  const common = { exec, runRoot, state, recovered, ...offered };
  if (mode !== 'demo') return { engine: createEngine({ mode, ...common }), teardown: async () => {} };

  const { setUpDemoDisks } = await import('../engine/demo');
  const demo = await setUpDemoDisks({ exec });
  if (demo.notice) log.warn(demo.notice);
  if (demo.disks.length > 0) log.info(`demo disks: ${demo.disks.join(', ')}`);
  for (const dev of demo.attached) state.addLoop(dev);
  let pending = [...demo.attached];
  // Last resort if the process exits without the orderly teardown: `exit` handlers cannot await.
  const onExit = (): void => {
    if (pending.length > 0) spawnSync('losetup', ['--detach', ...pending], { stdio: 'ignore' });
  };
  process.once('exit', onExit);
  return {
    engine: createEngine({ mode: 'demo', ...common, demoDisks: demo.disks, ...(demo.notice ? { notice: demo.notice } : {}) }),
    teardown: async () => {
      await demo.teardown();
      for (const dev of demo.attached) state.removeLoop(dev);
      pending = [];
      process.off('exit', onExit);
    },
  };
}

/**
 * Traps SIGINT, SIGTERM and SIGHUP from the very start of a command, so a signal that arrives
 * while demo disks are still being attached still leads to an orderly teardown.
 */
function trapStopSignals(): { readonly requested: Promise<void>; dispose(): void } {
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  let fire!: () => void;
  const requested = new Promise<void>((r) => (fire = r));
  const handler = (): void => fire();
  for (const s of signals) process.on(s, handler);
  return { requested, dispose: () => signals.forEach((s) => process.off(s, handler)) };
}

/** Runs a transport until it ends by itself or a signal arrives, then tears the engine down. */
async function runUntilStopped(transport: Transport, running: RunningEngine, stop: ReturnType<typeof trapStopSignals>): Promise<number> {
  void stop.requested.then(() => transport.close());
  try {
    await transport.done;
  } finally {
    stop.dispose();
    await running.teardown();
  }
  return 0;
}

/** `service`: the engine over stdio (default) or a Unix socket. */
export async function serviceCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs('service', args, {
    stdio: { type: 'boolean' },
    socket: { type: 'string' },
    'socket-group': { type: 'string' },
    'socket-owner': { type: 'string' },
    'socket-allow-uid': { type: 'string', multiple: true },
    mode: { type: 'string' },
    image: { type: 'string' },
    deployer: { type: 'string' },
    'target-image': { type: 'string' },
    'run-root': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return -1;
  const offeredImage = offeredImageOption(values, 'service');
  const runRoot = typeof values['run-root'] === 'string' ? resolve(values['run-root']) : DEFAULT_RUN_ROOT;
  if (values.stdio && values.socket !== undefined) throw new UsageError('give --stdio or --socket, not both', 'service');
  const mode = EngineModeSchema.safeParse(values.mode ?? 'normal');
  if (!mode.success) throw new UsageError(`--mode must be normal, demo or test (not "${String(values.mode)}")`, 'service');
  const owner = values['socket-owner'];
  if (owner !== undefined && !/^\d+$/.test(String(owner))) throw new UsageError('--socket-owner must be a numeric uid', 'service');
  if (values.socket === undefined && (owner !== undefined || values['socket-group'] !== undefined)) {
    throw new UsageError('--socket-owner and --socket-group need --socket', 'service');
  }
  // Repeatable, so parseArgs gives a list here despite the record's declared value type.
  const allowUids = (values['socket-allow-uid'] as unknown as string[] | undefined) ?? [];
  if (allowUids.some((u) => !/^\d+$/.test(u))) throw new UsageError('--socket-allow-uid must be a numeric uid', 'service');
  if (values.socket === undefined && allowUids.length > 0) throw new UsageError('--socket-allow-uid needs --socket', 'service');
  // With an owner (or extra uids), the peer of every connection is checked too: only those uids and root.
  const allowedUids = [...(owner === undefined ? [] : [Number(owner)]), ...allowUids.map(Number)];

  const log = createLogger(io.stderr);
  const stop = trapStopSignals();
  let running: RunningEngine | undefined;
  let transport: Transport;
  try {
    running = await startEngine(mode.data, log, offeredImage, runRoot);
    const rpc = createRpcServer(running.engine, log);
    transport =
      typeof values.socket === 'string'
        ? await serveSocket(
            rpc,
            {
              path: values.socket,
              ...(owner === undefined ? {} : { owner: Number(owner) }),
              ...(allowedUids.length > 0 ? { allowedUids } : {}),
              ...(typeof values['socket-group'] === 'string' ? { group: values['socket-group'] } : {}),
            },
            log,
          )
        : serveStdio(rpc);
  } catch (e) {
    stop.dispose();
    await running?.teardown();
    throw new CliError(e instanceof Error ? e.message : String(e));
  }
  return runUntilStopped(transport, running, stop);
}

/**
 * Where the built renderer is: next to the bundle (out/engine/cli.mjs → out/renderer) or, when run
 * from source (src/cli/*.ts), in the repository's out/renderer. The first with an index.html wins.
 */
export function defaultUiDir(moduleUrl: string = import.meta.url): string {
  const here = dirname(fileURLToPath(moduleUrl));
  // Bundled: out/engine/cli.mjs → out/renderer. From source: src/cli → out/renderer (src/renderer
  // holds the unbuilt page, which a browser cannot run, hence the check for built assets).
  const candidates = [resolve(here, '../renderer'), resolve(here, '../../out/renderer')];
  return candidates.find((d) => existsSync(join(d, 'index.html')) && existsSync(join(d, 'assets'))) ?? candidates[candidates.length - 1]!;
}

/** Who gets the token file: a user id, and a group id when given. */
interface TokenOwner {
  readonly uid: number;
  readonly gid?: number;
}

/** `--token-owner UID[:GID]`, numeric like `--socket-owner`. */
function parseTokenOwner(value: string): TokenOwner {
  const m = /^(\d+)(?::(\d+))?$/.exec(value);
  if (!m) throw new UsageError(`--token-owner must be a numeric UID or UID:GID (not "${value}")`, 'serve');
  return { uid: Number(m[1]), ...(m[2] === undefined ? {} : { gid: Number(m[2]) }) };
}

/**
 * Writes the URL to a 0600 file via a rename, so a reader never sees it half written, world-readable
 * or (with an owner) still root's: a root engine hands the URL to the kiosk user and no one else.
 */
function writeTokenFile(path: string, url: string, owner?: TokenOwner): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${url}\n`, { mode: 0o600 });
  try {
    if (owner) chownSync(tmp, owner.uid, owner.gid ?? -1);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** PARTICLE_SERVE_TOKEN, when set: 32 to 128 hexadecimal digits (a random token is 32), else a usage error. */
export function presetToken(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^[0-9a-f]{32,128}$/.test(value)) throw new UsageError('PARTICLE_SERVE_TOKEN must be 32 to 128 lower-case hexadecimal digits', 'serve');
  return value;
}

/** `serve`: UI over HTTP plus the engine over a WebSocket, on loopback with a token. */
export async function serveCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs('serve', args, {
    port: { type: 'string' },
    listen: { type: 'string' },
    demo: { type: 'boolean' },
    'test-mode': { type: 'boolean' },
    'token-file': { type: 'string' },
    'token-owner': { type: 'string' },
    'ui-dir': { type: 'string' },
    image: { type: 'string' },
    deployer: { type: 'string' },
    'target-image': { type: 'string' },
    'run-root': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return -1;
  const offeredImage = offeredImageOption(values, 'serve');
  const runRoot = typeof values['run-root'] === 'string' ? resolve(values['run-root']) : DEFAULT_RUN_ROOT;
  const tokenFile = typeof values['token-file'] === 'string' ? values['token-file'] : undefined;
  const tokenOwner = typeof values['token-owner'] === 'string' ? parseTokenOwner(values['token-owner']) : undefined;
  if (tokenOwner && tokenFile === undefined) throw new UsageError('--token-owner needs --token-file: it says who may read that file', 'serve');
  const port = Number(values.port ?? '0');
  if (!/^\d+$/.test(String(values.port ?? '0')) || port > 65535) throw new UsageError(`--port must be 0 to 65535 (not "${String(values.port)}")`, 'serve');
  if (values.demo && values['test-mode']) throw new UsageError('give --demo or --test-mode, not both', 'serve');
  const mode: EngineMode = values.demo ? 'demo' : values['test-mode'] ? 'test' : 'normal';
  const uiDir = typeof values['ui-dir'] === 'string' ? resolve(values['ui-dir']) : defaultUiDir();
  const token = presetToken(process.env.PARTICLE_SERVE_TOKEN);

  const log = createLogger(io.stderr);
  if (!existsSync(join(uiDir, 'index.html'))) log.warn(`no built UI in ${uiDir} (run the build, or give --ui-dir); only /rpc will be useful`);
  const stop = trapStopSignals();
  let running: RunningEngine | undefined;
  let service: HttpService | undefined;
  try {
    running = await startEngine(mode, log, offeredImage, runRoot);
    service = await serveHttp(
      createRpcServer(running.engine, log),
      { host: typeof values.listen === 'string' ? values.listen : '127.0.0.1', port, uiDir, ...(token ? { token } : {}) },
      log,
    );
    if (tokenFile !== undefined) writeTokenFile(tokenFile, service.url, tokenOwner);
  } catch (e) {
    stop.dispose();
    await service?.close();
    await running?.teardown();
    throw new CliError(e instanceof Error ? e.message : String(e));
  }
  if (!/^(127\.|::1$|localhost$)/.test(typeof values.listen === 'string' ? values.listen : '127.0.0.1')) {
    log.warn(`listening on ${String(values.listen)}: anyone who can reach this address and has the token can install`);
  }
  println(io.stderr, `particle-installer: open ${service.url}`);
  println(io.stdout, JSON.stringify({ event: 'listening', url: service.url, port: service.port }));
  return runUntilStopped(service, running, stop);
}
