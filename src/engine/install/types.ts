import type { InstallerError } from '../../shared/errors';
import type { ActivityId, DiskState, PlanAction, PlanCondition, PlanStep, ProgressEvent, StepId } from '../../shared/install';
import type { Exec, ExecOptions, ExecResult } from '../exec';
import type { InstallLog } from './log';
import type { SpeedCalibration } from './speed';

/**
 * What the install runner needs from the outside world. Everything with a side effect is passed in
 * (style.md, "pass side effects in"), so the unit tests replace the commands, the filesystem, the
 * clock and the probes, and the host integration tests pass the real ones from `real.ts`.
 */

/** Filesystem writes a plan performs. Modes are numbers (0o644); the plan carries them as octal strings. */
export interface FsOps {
  writeFile(path: string, content: string, mode: number): Promise<void>;
  symlink(target: string, path: string): Promise<void>;
  mkdir(path: string, mode: number): Promise<void>;
  rm(path: string): Promise<void>;
  /** A small text file's content, or null when it does not exist. */
  readFile(path: string): Promise<string | null>;
  /** A plan condition on a path: exists, missing, writable (a read-write mount), not-writable. */
  test(path: string, test: PlanCondition['test']): Promise<boolean>;
}

/** What the oci-rootfs deploy asks of the unpacker (src/engine/deploy/oci). */
export interface UnpackRequest {
  readonly source: Extract<PlanAction, { kind: 'unpack' }>['source'];
  readonly target: string;
  readonly protect: readonly string[];
  readonly signal: AbortSignal;
  onProgress(p: { bytesDone: number; bytesTotal: number; layer: number; layers: number }): void;
}
export interface UnpackSummary {
  readonly manifestDigest: string;
  readonly layers: number;
  readonly compressedBytes: number;
  readonly uncompressedBytes: number;
}

export interface StreamingExecOptions extends ExecOptions {
  /** Called with each piece of stdout or stderr as it arrives (not line-aligned). */
  readonly onOutput: (chunk: string) => void;
}

/** Same contract as Exec, plus live output, for commands whose progress is parsed while they run. */
export type ExecStreaming = (argv: readonly string[], options: StreamingExecOptions) => Promise<ExecResult>;

/** Where bootc put the deployment, known only after the deploy step. */
export interface DeploymentPaths {
  /** ROOT/ostree/deploy/<stateroot>/deploy/<checksum>.0 */
  readonly deployment: string;
  /** ROOT/ostree/deploy/<stateroot>/var */
  readonly staterootVar: string;
}

export type RunAction = Extract<PlanAction, { kind: 'run' }>;

/**
 * A parser's reading: the command's own fraction (0..1) and, optionally, what it is doing now, in
 * English and as an id UIs translate.
 */
export type OutputProgress = number | { readonly fraction: number; readonly message?: string; readonly activity?: ActivityId };

/**
 * Turns one command's output into progress, or null when a line says nothing about it. Fed one
 * line at a time ("\r" counts as a line end, for progress bars); e.g. a wrapper around the deploy
 * step's BootcProgress, returning its fraction and message.
 */
export type OutputProgressParser = ((chunk: string) => OutputProgress | null) & {
  /** Called twice a second while the command runs, for progress no line announces (bytes written). */
  poll?: () => OutputProgress | null;
};

export interface RunContext {
  readonly exec: Exec;
  /** Used instead of `exec` when someone listens to output (progressFor or onCommandOutput). */
  readonly execStreaming?: ExecStreaming;
  /** Secret values by the name a plan's `stdinSecret` uses; every value is redacted everywhere. */
  readonly secrets: ReadonlyMap<string, string>;
  /** Aborting it cancels the install: the running command is stopped, then teardown runs. */
  readonly signal: AbortSignal;
  emit(ev: ProgressEvent): void;
  readonly log: InstallLog;
  readonly fs: FsOps;
  /** Milliseconds since the epoch; drives durations, ETA, throttling and log timestamps. */
  now(): number;
  /** Where the plan mounts the target root; placeholders are resolved below it. */
  readonly targetRoot: string;
  findDeployment(targetRoot: string): Promise<DeploymentPaths | null>;
  /** The version of the kernel an unpacked image carries (for `{kernel-version}`), or null. */
  findKernel?(targetRoot: string): Promise<string | null>;
  /** Unpacks an OCI image onto the target (the oci-rootfs deploy step). */
  unpack?(request: UnpackRequest): Promise<UnpackSummary>;
  isMounted(path: string): Promise<boolean>;
  mapperExists(name: string): Promise<boolean>;
  swapActive(device: string): Promise<boolean>;
  /** Every line a streamed command writes, e.g. for a live log view. */
  onCommandOutput?(step: StepId, line: string): void;
  /** A parser giving finer progress for one command (the deploy step's bootc stage lines). */
  progressFor?(step: PlanStep, action: RunAction): OutputProgressParser | null;
}

export interface RunOptions {
  /**
   * Index of the step to resume at, after an earlier run failed there. See `reestablish` in
   * runner.ts for what is re-run first.
   */
  readonly resumeFrom?: number;
  /**
   * This machine's speed against the expected durations (speed.ts). By default a fresh one learns
   * it from this run; a test passes its own to watch it, the progress figures a fixed one.
   */
  readonly speed?: SpeedCalibration;
  /** False turns off the floor that keeps the bar moving (progress.ts): only for before/after figures. */
  readonly progressFloor?: boolean;
}

export interface RunOutcome {
  readonly ok: boolean;
  readonly cancelled: boolean;
  readonly diskState: DiskState;
  /** Index into plan.steps of the step that failed or was cancelled. */
  readonly failedStep: number | null;
  readonly error?: InstallerError;
  readonly durationMs: number;
}
