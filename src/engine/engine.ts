import { arch } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import {
  DEFAULT_MINIMUM_DISK_SIZE,
  validateAnswerFile,
  type DiskList,
  type EngineInfo,
  type EngineMode,
  type EventName,
  type EventPayload,
  type OfferedImage,
} from '../shared';
import { probeDisks } from './disks';
import { systemFacts } from './facts';
import { Installer, type InstallerDeps } from './installer';
import { EngineState, recoverLeftovers, type RecoveryReport } from './install';
import type { ClassifyOptions } from './disks/types';
import { createExec, type Exec } from './exec';
import type { Handlers } from './handlers';
import type { MachineProbe } from './system/machine';
import { systemHandlers, type SystemPaths } from './system';
import { DEFAULT_SYSTEM_PATHS, whichOnPath } from './system/deps';
import { checkRegistrySignature } from './system/signature';
import { imageFacts, layoutImageId, readPolicyVerdict } from './system/image';
import { readInstallConfig } from './system/install-config-read';

declare const __APP_VERSION__: string | undefined;

export interface EngineOptions {
  readonly mode: EngineMode;
  readonly minimumSize?: number;
  readonly exec?: Exec;
  /** Loop devices the demo made; in demo mode only these are offered. */
  readonly demoDisks?: readonly string[];
  /** Installs only to these disks, loop devices included (`install --target-image` attaches its file as one). */
  readonly targetDisks?: readonly string[];
  /** Shown to the user by front ends (e.g. why demo mode is read-only). */
  readonly notice?: string;
  /** Parent of each install's private run directory; default /run/particle-installer. */
  readonly runRoot?: string;
  /** Replaces the OCI unpacker (tests). */
  readonly unpack?: InstallerDeps['unpack'];
  /** Where the last install's log is kept for bundle-logs; default /var/log/particle-installer. */
  readonly logDir?: string;
  /** This engine's state file; one under runRoot by default. The CLI records demo loop devices in it. */
  readonly state?: EngineState;
  /** The release of what killed engines left, when the caller already ran it (before attaching demo disks). */
  readonly recovered?: Promise<readonly RecoveryReport[]>;
  /** Receives what was released after an earlier engine was killed; default: a line on stderr. */
  readonly onRecovery?: (line: string) => void;
  /** The image the wizard should offer (e.g. one embedded in the live ISO), from `--image`. */
  readonly offeredImage?: OfferedImage;
  /** System files the wizard's lists are read from (xkb-data, tzdata, /proc, /sys…); tests point them at fixtures. */
  readonly systemPaths?: Partial<SystemPaths>;
  /** Environment naming the live session (PARTICLE_SESSION_DISPLAY…); default process.env. */
  readonly sessionEnv?: Readonly<Record<string, string | undefined>>;
  /** The machine's facts (memory, identity, interfaces, graphics); systeminformation by default. */
  readonly machine?: () => Promise<MachineProbe>;
  /** Where the pre-flight looks for the plan's programs and bootc's host files; PATH and / by default (tests). */
  readonly preflightHost?: InstallerDeps['preflightHost'];
}

export const DEFAULT_LOG_DIR = '/var/log/particle-installer';

export type { Handlers } from './handlers';
type Listener<E extends EventName> = (payload: EventPayload<E>) => void;

/** The engine as the service sees it: one handler per InstallerApi method, plus events. */
export interface Engine {
  readonly handlers: Handlers;
  /** The install orchestrator (the CLI's install command drives it directly). */
  readonly installer?: Installer;
  /** This engine's state file (loop devices it attached, the install in progress). */
  readonly state?: EngineState;
  /** Settles once what killed engines left under the run root has been released (see leftovers.ts). */
  readonly recovered?: Promise<readonly RecoveryReport[]>;
  on<E extends EventName>(event: E, listener: Listener<E>): () => void;
  emit<E extends EventName>(event: E, payload: EventPayload<E>): void;
}

/** A TPM 2.0 the kernel found (tpm_version_major is absent on kernels before 5.6: then look for tpmrm0, which only 2.0 has). */
export function hasTpm2(sysClass = '/sys/class'): boolean {
  try {
    return readFileSync(`${sysClass}/tpm/tpm0/tpm_version_major`, 'utf8').trim() === '2';
  } catch {
    return existsSync(`${sysClass}/tpmrm/tpmrm0`);
  }
}

export function createEngine(options: EngineOptions): Engine {
  const exec = options.exec ?? createExec();
  const minimumSize = options.minimumSize ?? DEFAULT_MINIMUM_DISK_SIZE;
  const listeners = new Map<EventName, Set<(p: unknown) => void>>();

  const classify: ClassifyOptions = options.targetDisks
    ? { minimumSize, allowLoop: options.targetDisks, restrictTo: options.targetDisks }
    : options.mode === 'test'
      ? { minimumSize, allowLoop: 'all' }
      : options.mode === 'demo'
        ? { minimumSize, allowLoop: options.demoDisks ?? [], restrictTo: options.demoDisks ?? [] }
        : { minimumSize, allowLoop: 'none' };

  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const probe = () => probeDisks({ exec }, classify);
  let emitEvent: (ev: EventPayload<'progress'>) => void = () => {};
  const runRoot = options.runRoot ?? '/run/particle-installer';
  const logDir = options.logDir ?? DEFAULT_LOG_DIR;
  const state = options.state ?? new EngineState(runRoot);
  const onRecovery = options.onRecovery ?? ((line: string) => process.stderr.write(`particle-installer: ${line}\n`));
  // Starts at once; planning and installing wait for it. Reading the state files needs root's
  // run directory, so an unprivileged engine (UI development) simply finds none.
  const recovered = (options.recovered ?? recoverLeftovers(runRoot, { exec, log: onRecovery })).catch((e: unknown) => {
    onRecovery(`recovery failed: ${String(e)}`);
    return [{ pid: 0, step: null, disk: null, released: [], problems: [`the state files under ${runRoot} could not be processed (${String(e)})`] }];
  });
  const killAfterStep = options.mode === 'test' ? process.env.PARTICLE_TEST_KILL_AFTER_STEP : undefined;
  const installer = new Installer({
    state,
    recovered,
    ...(killAfterStep ? { killAfterStep } : {}),
    ...(options.preflightHost ? { preflightHost: options.preflightHost } : {}),
    imageFacts: (image) => imageFacts(image, { exec, which: whichOnPath() }),
    installConfig: (image) => readInstallConfig(image, { exec, which: whichOnPath() }),
    layoutImageId,
    signaturePolicy: (image) => readPolicyVerdict(options.systemPaths?.policyJson ?? DEFAULT_SYSTEM_PATHS.policyJson, image),
    verifySignature: (image) => checkRegistrySignature(image.reference, { exec, which: whichOnPath() }),
    exec,
    execStreaming: exec,
    probe,
    facts: () => systemFacts(),
    runRoot,
    logDir,
    emit: (ev) => emitEvent(ev),
    ...(options.unpack ? { unpack: options.unpack } : {}),
  });

  const handlers: Handlers = {
    getInfo: async (): Promise<EngineInfo> => ({
      version: typeof __APP_VERSION__ === 'string' ? __APP_VERSION__ : '0.0.0-dev',
      protocol: 1,
      mode: options.mode,
      root,
      firmware: existsSync('/sys/firmware/efi') ? 'uefi' : 'bios',
      arch: arch(),
      tpm2: hasTpm2(),
      ...(options.notice ? { notice: options.notice } : {}),
      ...(options.offeredImage ? { offeredImage: options.offeredImage } : {}),
    }),
    listDisks: async (): Promise<DiskList> => ({
      disks: await probe(),
      minimumSize,
      allowLoop: classify.allowLoop !== 'none',
      probedAt: new Date().toISOString(),
    }),
    validateAnswerFile: async ({ document }) => {
      const r = validateAnswerFile(document);
      return r.ok ? { valid: true, errors: [] } : { valid: false, errors: r.errors };
    },
    planInstall: async ({ request }) => installer.plan(request),
    startInstall: async ({ planId }) => installer.start(planId),
    cancelInstall: async () => installer.cancel(),
    retryInstall: async () => installer.retry(),
    getInstallState: async () => installer.getState(),
    ...systemHandlers({
      mode: options.mode,
      exec,
      probe,
      minimumSize,
      runRoot,
      logDir,
      installPhase: () => installer.getState().phase,
      lastInstall: () => installer.lastInstall(),
      ...(options.systemPaths ? { paths: options.systemPaths } : {}),
      ...(options.sessionEnv ? { env: options.sessionEnv } : {}),
      ...(options.machine ? { machine: options.machine } : {}),
    }),
  };

  const engine: Engine = {
    handlers,
    installer,
    state,
    recovered,
    on(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener as (p: unknown) => void);
      return () => set.delete(listener as (p: unknown) => void);
    },
    emit(event, payload) {
      for (const l of listeners.get(event) ?? []) l(payload);
    },
  };
  emitEvent = (ev) => engine.emit('progress', ev);
  return engine;
}
