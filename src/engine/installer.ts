import { mkdirSync, renameSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import {
  makeError,
  validateAnswerFile,
  type AnswerFile,
  type Disk,
  type InstallPlan,
  type InstallState,
  type ProgressEvent,
} from '../shared';
import { hashRequestPasswords } from './crypt';
import { BootcProgress, parsePodmanPullLine } from './deploy/progress';
import { CommandError, type Exec } from './exec';
import { findDeployment, findKernel, InstallLog, realFs, realProbes, removeRunDir, runPlan, type EngineState, type ExecStreaming, type RecoveryReport, type RunContext, type RunOutcome } from './install';
import { scrubSecrets } from './install/scrub';
import { installConfigProblems, type InstallConfigResult } from './system/install-config';
import { imagePreflight, preflight, rootCapacity, signatureCheckProblems, signaturePreflight, type PreflightHost } from './install/preflight';
import type { ImageFacts, ImageRef, SignatureVerdict } from './system/image';
import type { SignatureCheck } from './system/signature';
import { redact } from './exec';
import { planInstall, planSecrets, type SystemFacts } from './plan';

/**
 * One install at a time, with the engine as the source of truth: plans are kept by id (so only a
 * plan someone was shown can run), the disk is checked again against its identity right before
 * anything is written, and a reconnecting front end reads the whole state.
 */

export interface InstallerDeps {
  readonly exec: Exec;
  readonly execStreaming?: ExecStreaming;
  /** Probes and classifies the disks as the engine's mode says. */
  readonly probe: () => Promise<Disk[]>;
  readonly facts: () => SystemFacts;
  /** Parent of each install's private run directory. */
  readonly runRoot: string;
  readonly emit: (ev: ProgressEvent) => void;
  /** Where the last install's log, plan and redacted request are kept for `bundle-logs`; none when absent. */
  readonly logDir?: string;
  /** The OCI unpacker for oci-rootfs installs; default the one in deploy/oci. */
  readonly unpack?: NonNullable<RunContext['unpack']>;
  /** This engine's state file, so a successor can release what a killed install left. */
  readonly state?: EngineState;
  /** Settles once what dead engines left has been released; no install is planned or started before. */
  readonly recovered?: Promise<readonly RecoveryReport[]>;
  /**
   * Fault injection for the recovery tests (test mode only): the engine kills itself with SIGKILL
   * right after this step finishes, the sharpest interruption at a step boundary there is.
   */
  readonly killAfterStep?: string;
  /** Where the pre-flight looks for programs and for files bootc reads from this system; PATH and / by default. */
  readonly preflightHost?: PreflightHost;
  /** Reads an image's digest, size, architecture and labels without pulling it, for the pre-flight. */
  readonly imageFacts?: (image: ImageRef) => Promise<ImageFacts>;
  /** The image's bootc install config, read before the wipe where that is possible (system/install-config-read.ts). */
  readonly installConfig?: (image: ImageRef) => Promise<InstallConfigResult>;
  /** The id podman gives an image pulled from an OCI layout (system/image.ts layoutImageId). */
  readonly layoutImageId?: (reference: string) => string | null;
  /** What this system's containers-policy.json demands of an image (for image.enforceSignaturePolicy). */
  readonly signaturePolicy?: (image: ImageRef) => SignatureVerdict;
  /** The image's signature against the policy, before the wipe (system/signature.ts). */
  readonly verifySignature?: (image: ImageRef) => Promise<SignatureCheck>;
}

interface Planned {
  readonly plan: InstallPlan;
  readonly request: AnswerFile;
  readonly secrets: Map<string, string>;
}

const EMPTY: InstallState = { phase: 'idle', plan: null, currentStep: null, overall: { fraction: 0, etaSeconds: null }, steps: [], outcome: null, log: [] };

export class Installer {
  private readonly plans = new Map<string, Planned>();
  private state: InstallState = EMPTY;
  private current: { planned: Planned; abort: AbortController; log: InstallLog; done: Promise<RunOutcome> } | null = null;
  /** Set while an install is being started (the disk is checked first): a cancel then still counts. */
  private starting: { cancelled: boolean } | null = null;

  constructor(private readonly deps: InstallerDeps) {}

  /** Validates, hashes passwords at once, probes, plans. Secrets stay here; the plan has none. */
  async plan(document: unknown): Promise<InstallPlan> {
    await this.ensureRecovered();
    const v = validateAnswerFile(document);
    if (!v.ok) {
      throw new CommandError(
        makeError('invalid-answer-file', `The request is not valid: ${v.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`, {
          detail: v.errors.map((e) => `${e.field}: ${e.message}`).join('\n'),
        }),
      );
    }
    const request = hashRequestPasswords(v.value);
    // The LUKS passphrase (typed, or read from passphraseFile now) and the recovery key.
    const secrets = planSecrets(request);
    const id = randomUUID();
    const imageId = request.image.transport === 'oci' && request.deployer !== 'oci-rootfs' ? (this.deps.layoutImageId?.(request.image.reference) ?? null) : null;
    const r = planInstall(request, await this.deps.probe(), this.deps.facts(), {
      id,
      createdAt: new Date().toISOString(),
      runDir: `${this.deps.runRoot}/${id.slice(0, 8)}`,
      uuid: randomUUID,
      ...(imageId !== null ? { layoutImageId: imageId } : {}),
    });
    if (!r.ok) throw new CommandError(r.error);
    // Keep only a few plans: each holds secrets in memory.
    if (this.plans.size >= 8) this.plans.delete(this.plans.keys().next().value!);
    this.plans.set(id, { plan: r.plan, request, secrets });
    return r.plan;
  }

  async start(planId: string): Promise<InstallState> {
    const planned = this.plans.get(planId);
    if (!planned) throw new CommandError(makeError('invalid-input', 'No such plan: make a plan first and start that one.'));
    return this.launch(planned, undefined);
  }

  async retry(): Promise<InstallState> {
    const last = this.current;
    const outcome = this.state.outcome;
    if (!last || this.state.phase === 'running' || this.state.phase === 'cancelling' || outcome?.kind !== 'failed') {
      throw new CommandError(makeError('invalid-input', 'There is no failed install to retry.'));
    }
    const from = last.planned.plan.steps.findIndex((s) => s.id === outcome.retry.from);
    return this.launch(last.planned, from > 0 ? from : undefined);
  }

  cancel(): InstallState {
    if (this.starting) this.starting.cancelled = true;
    if (this.current && this.state.phase === 'running') {
      this.state = { ...this.state, phase: 'cancelling' };
      this.current.abort.abort();
    }
    return this.getState();
  }

  getState(): InstallState {
    return { ...this.state, log: this.current?.log.lastLines() ?? [] };
  }

  /** Resolves when the running install (if any) has ended. */
  async settled(): Promise<void> {
    await this.current?.done;
  }

  /** The log and request of the last install, for a support bundle. */
  lastInstall(): { log: InstallLog; plan: InstallPlan; request: AnswerFile; secrets: string[] } | null {
    const c = this.current;
    return c ? { log: c.log, plan: c.planned.plan, request: c.planned.request, secrets: [...c.planned.secrets.values()] } : null;
  }

  private async launch(planned: Planned, resumeFrom: number | undefined): Promise<InstallState> {
    if (this.starting || this.state.phase === 'running' || this.state.phase === 'cancelling') {
      throw new CommandError(makeError('invalid-input', 'An install is already running.'));
    }
    const starting = { cancelled: false };
    this.starting = starting;
    /** What pre-flight learned beyond pass or fail, for the install's log. */
    const notes: string[] = [];
    try {
      await this.ensureRecovered();
      await this.verifyDisk(planned.plan, resumeFrom !== undefined);
      const problems = preflight(planned.plan, this.deps.preflightHost ?? { path: process.env.PATH ?? '', root: '/' }, resumeFrom ?? 0);
      // The image: a file or local storage is read here, a registry is asked (skopeo inspect),
      // so an unreachable or missing image stops the install before the wipe, not at the pull.
      const { image } = planned.request;
      if (this.deps.imageFacts && resumeFrom === undefined) {
        const facts = await this.deps.imageFacts({ reference: image.reference, transport: image.transport });
        problems.push(...imagePreflight({ image: image.reference, bootc: planned.request.deployer !== 'oci-rootfs', machineArch: this.deps.facts().arch, rootBytes: rootCapacity(planned.plan), facts }));
      }
      const bootc = planned.request.deployer !== 'oci-rootfs';
      if (bootc && this.deps.installConfig && resumeFrom === undefined) {
        const layout = planned.request.layout;
        const result = await this.deps.installConfig({ reference: image.reference, transport: image.transport });
        problems.push(...installConfigProblems(result, { image: image.reference, toDisk: layout.type === 'bootc' ? { blockSetup: layout.blockSetup } : null }));
        if (result.kind === 'unread') notes.push(`The image's install config was not checked before the start: ${result.why}.`);
        else if (result.kind === 'read') notes.push(result.config === null ? 'The image has no bootc install config.' : `The image's bootc install config (${result.files.join(', ')}) allows this layout.`);
      }
      if (image.enforceSignaturePolicy && this.deps.signaturePolicy && resumeFrom === undefined) {
        const verdict = this.deps.signaturePolicy({ reference: image.reference, transport: image.transport });
        problems.push(...signaturePreflight(image.reference, verdict));
        // The policy demands a signature: the signature itself is checked now, not at the pull,
        // which comes after the disk was partitioned.
        if (verdict.signature === 'verified' && image.transport === 'registry' && this.deps.verifySignature) {
          const check = await this.deps.verifySignature({ reference: image.reference, transport: image.transport });
          if (check.ok) notes.push(`Signature: ${check.detail}.`);
          problems.push(...signatureCheckProblems(image.reference, check));
        }
      }
      if (problems.length > 0) {
        throw new CommandError(
          makeError('command-failed', `This system cannot carry out the plan: ${problems.map((p) => `${p.what}; ${p.fix}`).join('. ')}. Nothing was written to ${planned.plan.disk.path}.`, {
            kind: 'system',
            detail: problems.map((p) => `${p.what}: ${p.fix}`).join('\n'),
          }),
        );
      }
    } finally {
      this.starting = null;
    }
    const { plan } = planned;
    const runDir = plan.steps.flatMap((s) => s.actions).find((a) => a.kind === 'mkdir')?.path.replace(/\/[^/]+$/, '') ?? `${this.deps.runRoot}/${plan.id.slice(0, 8)}`;
    mkdirSync(runDir, { recursive: true, mode: 0o700 });
    const log = new InstallLog({ secrets: planned.secrets.values() });
    for (const n of notes) log.message('info', n, 'preflight');
    const abort = new AbortController();
    // Cancelled while the disk was being checked: the runner sees the abort before any action.
    if (starting.cancelled) abort.abort();
    this.state = {
      phase: 'running',
      plan,
      currentStep: resumeFrom ?? 0,
      overall: { fraction: 0, etaSeconds: null },
      steps: plan.steps.map((_, i) => (resumeFrom !== undefined && i < resumeFrom ? 'done' : 'pending')),
      outcome: null,
      log: [],
    };
    this.deps.state?.beginInstall({ planId: plan.id, disk: plan.disk.path, runDir, teardown: plan.steps.find((s) => s.id === 'teardown')?.actions ?? [] });
    let stepId: string | null = null;
    const emit = (ev: ProgressEvent): void => {
      if (ev.kind === 'step-started') {
        stepId = plan.steps[ev.index]?.id ?? null;
        if (stepId !== null) this.deps.state?.stepStarted(stepId);
      }
      this.track(ev);
      this.deps.emit(ev);
      if (ev.kind === 'step-finished' && stepId !== null && stepId === this.deps.killAfterStep) process.kill(process.pid, 'SIGKILL');
    };
    const probes = realProbes();
    const done = runPlan(
      plan,
      {
        exec: this.deps.exec,
        ...(this.deps.execStreaming ? { execStreaming: this.deps.execStreaming } : {}),
        secrets: planned.secrets,
        signal: abort.signal,
        emit,
        log,
        fs: realFs,
        now: Date.now,
        targetRoot: `${runDir}/target`,
        findDeployment,
        findKernel,
        unpack: this.deps.unpack ?? (async (req) => (await import('./deploy/oci')).unpackImage({ ...req, protect: [...req.protect] })),
        ...probes,
        progressFor: (step) => {
          if (step.id === 'deploy') {
            const p = new BootcProgress();
            // bootc prints no byte counts when not on a terminal: measure what lands on the target
            // against the size it announced ("layers needed: N (2.2 GB)").
            const target = `${runDir}/target`;
            const used = (): number | null => {
              try {
                const st = statfsSync(target);
                return (st.blocks - st.bfree) * st.bsize;
              } catch {
                return null;
              }
            };
            const baseline = used() ?? 0;
            const parser = (line: string) => {
              const u = p.line(line);
              return u ? { fraction: u.fraction, message: u.message, activity: u.activity } : null;
            };
            return Object.assign(parser, {
              poll: () => {
                const now = used();
                const u = now === null ? null : p.bytesWritten(Math.max(0, now - baseline));
                return u ? { fraction: u.fraction, message: u.message, activity: u.activity } : null;
              },
            });
          }
          if (step.id === 'pull') {
            let blobs = 0;
            return (line) => {
              const ev = parsePodmanPullLine(line);
              if (!ev) return null;
              if (ev.kind === 'blob') blobs++;
              // Blob count is all a non-terminal podman pull tells; approach 0.9 until the manifest.
              return ev.kind === 'manifest' ? 1 : Math.min(0.9, 1 - 1 / (blobs + 1));
            };
          }
          return null;
        },
      },
      resumeFrom === undefined ? {} : { resumeFrom },
    );
    this.current = { planned, abort, log, done };
    void done.then((outcome) => {
      // The run's own teardown has run: nothing of it is left for a successor to release.
      this.deps.state?.endInstall();
      const phase = outcome.ok ? 'finished' : outcome.cancelled ? 'cancelled' : 'failed';
      this.state = { ...this.state, phase };
      if (this.deps.logDir) saveLastInstall(this.deps.logDir, log, plan, planned.request, [...planned.secrets.values()]);
      // A finished install needs its run directory no more (a failed one keeps it for a retry).
      if (outcome.ok) removeRunDir(runDir);
    });
    return this.getState();
  }

  /** Waits for the release of what a killed engine left; refuses while something is still held. */
  private async ensureRecovered(): Promise<void> {
    const reports = (await this.deps.recovered) ?? [];
    const held = reports.flatMap((r) => r.problems);
    if (held.length > 0) {
      throw new CommandError(
        makeError('disk-refused', `An earlier install was interrupted and left things that could not be released: ${held.join('; ')}. Release them (or restart the computer) and try again.`, { kind: 'system' }),
      );
    }
  }

  /**
   * The disk must still be the one planned for: same identity, not refused now, nothing mounted.
   * Identity is size, serial, WWN and by-id name, plus the kernel's disk sequence number (a loop
   * device re-attached to another file, or a stick swapped at the same path, gets a new one). A
   * fresh install also wants the same partition table; a retry does not, since its own partition
   * step changed it.
   */
  private async verifyDisk(plan: InstallPlan, resuming: boolean): Promise<void> {
    const disks = await this.deps.probe();
    const now = disks.find((d) => d.path === plan.disk.path);
    const id = plan.disk;
    const changed: string[] = [];
    if (!now) changed.push('it is gone');
    else {
      if (now.size !== id.size) changed.push(`its size (${id.size} → ${now.size} bytes)`);
      if (now.serial !== id.serial) changed.push('its serial number');
      if (now.wwn !== id.wwn) changed.push('its WWN');
      if (now.byIdPath !== id.byIdPath) changed.push('its /dev/disk/by-id name');
      if (id.diskSeq !== null && now.diskSeq !== id.diskSeq) changed.push(`its kernel disk sequence number (${id.diskSeq} → ${now.diskSeq ?? 'none'}: the device was detached and attached again, or its medium changed)`);
      if (!resuming && now.ptUuid !== id.ptUuid) changed.push('its partition table');
    }
    if (changed.length > 0) {
      throw new CommandError(
        makeError('disk-changed', `${id.path} is no longer the disk that was planned for: ${changed.join(', ')}. Nothing was written; plan again.`),
      );
    }
    if (now!.verdict === 'refused') {
      throw new CommandError(makeError('disk-refused', `${id.path} cannot be installed to any more: ${now!.reasons.map((r) => r.message).join(' ')} Nothing was written.`));
    }
  }

  private track(ev: ProgressEvent): void {
    const s = this.state;
    switch (ev.kind) {
      case 'step-started':
        this.state = { ...s, currentStep: ev.index, overall: ev.overall, activity: null, steps: s.steps.map((x, i) => (i === ev.index ? 'running' : x)) };
        break;
      case 'step-progress':
        this.state = { ...s, overall: ev.overall, activity: ev.activity ?? null };
        break;
      case 'step-finished':
        this.state = { ...s, overall: ev.overall, activity: null, steps: s.steps.map((x, i) => (i === s.currentStep ? 'done' : x)) };
        break;
      case 'finished':
        this.state = { ...s, phase: 'finished', overall: ev.overall, activity: null, outcome: ev };
        break;
      case 'failed':
        this.state = {
          ...s,
          phase: ev.cancelled ? 'cancelled' : 'failed',
          overall: ev.overall,
          activity: null,
          outcome: ev,
          steps: s.steps.map((x, i) => (i === s.currentStep && x === 'running' ? 'failed' : x)),
        };
        break;
      case 'log':
        break;
    }
  }
}

/** Files `bundle-logs` reads from `<logDir>/last`. */
export const LAST_INSTALL_FILES = { log: 'install.log', plan: 'plan.json', request: 'answer-file.json' } as const;

/**
 * Keeps the last install's log, plan and request (secrets removed) where `bundle-logs` finds them,
 * written to a fresh directory and swapped in, readable by root only.
 */
function saveLastInstall(logDir: string, log: InstallLog, plan: InstallPlan, request: AnswerFile, secrets: string[]): void {
  try {
    const clean = (s: string): string => redact(s, secrets);
    const next = join(logDir, `last.${process.pid}`);
    mkdirSync(next, { recursive: true, mode: 0o700 });
    writeFileSync(join(next, LAST_INSTALL_FILES.log), clean(log.toText()), { mode: 0o600 });
    writeFileSync(join(next, LAST_INSTALL_FILES.plan), `${JSON.stringify(plan, null, 2)}\n`, { mode: 0o600 });
    writeFileSync(join(next, LAST_INSTALL_FILES.request), `${JSON.stringify(scrubSecrets(request, clean), null, 2)}\n`, { mode: 0o600 });
    rmSync(join(logDir, 'last'), { recursive: true, force: true });
    renameSync(next, join(logDir, 'last'));
  } catch {
    // A log that cannot be kept must not turn a finished install into a failed one.
  }
}
