import { makeError, type InstallerError } from '../../shared/errors';
import { PLAN_PLACEHOLDERS, type ActivityId, type PlanAction, type PlanCondition, type PlanStep } from '../../shared/install';
import { CommandError, tail, type ExecResult } from '../exec';
import { actionProfile } from './activity';
import { parseBootcError } from '../deploy/progress';
import type { OutputProgress, DeploymentPaths, RunAction, RunContext } from './types';

/**
 * Carrying out one plan action: placeholders resolved, secrets fed on stdin and redacted, the
 * command logged, its output turned into sub-progress. Failures come out as StepFailure, which
 * carries an InstallerError that already names the step.
 */

export class StepFailure extends Error {
  constructor(readonly error: InstallerError) {
    super(error.message);
    this.name = 'StepFailure';
  }
}

/**
 * `{deployment}` and `{stateroot-var}` exist only once bootc has deployed, and `{kernel-version}` once
 * an image is on the target, so they are looked up the first time an action needs them and remembered.
 */
export class Placeholders {
  private found: DeploymentPaths | null = null;
  private kernel: string | null = null;

  constructor(private readonly ctx: Pick<RunContext, 'findDeployment' | 'findKernel' | 'targetRoot' | 'fs'>) {}

  static uses(text: string): boolean {
    return PLAN_PLACEHOLDERS.some((p) => text.includes(p));
  }

  /**
   * What `ostree admin --sysroot=ROOT --print-current-dir` printed: the sysroot's first deployment,
   * ROOT/ostree/deploy/<stateroot>/deploy/<checksum>.<serial> (ot-main.c:628-654 at ostreedev/ostree
   * 46204655; the directory from ostree_sysroot_get_deployment_directory). Anything else, or a
   * directory that is not there, is a failure of the step, named with what ostree said.
   */
  async located(stdout: string, step: PlanStep): Promise<DeploymentPaths> {
    const line = stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '').pop() ?? '';
    const root = this.ctx.targetRoot.replace(/\/+$/, '');
    const m = /^(.*)\/ostree\/deploy\/([^/]+)\/deploy\/[0-9a-f]{64}\.\d+$/.exec(line);
    const fail = (why: string): never => {
      throw new StepFailure(
        makeError('internal', `Step ${step.id} asked ostree where bootc's deployment is, and ${why}.`, {
          step: step.id,
          detail: `ostree printed: ${line === '' ? '(nothing)' : line}. The installed system is incomplete; install again, and report this if it happens again.`,
        }),
      );
    };
    if (m === null || m[1] !== root) return fail(`the answer is not a deployment under ${root}`);
    if (!(await this.ctx.fs.test(line, 'exists'))) return fail('the directory it named does not exist');
    this.found = { deployment: line, staterootVar: `${root}/ostree/deploy/${m[2]}/var` };
    return this.found;
  }

  /** Null when the text needs something that does not exist (teardown after an early failure). */
  async tryResolve(text: string, step: PlanStep): Promise<string | null> {
    try {
      return await this.resolve(text, step);
    } catch (e) {
      if (e instanceof StepFailure) return null;
      throw e;
    }
  }

  async resolve(text: string, step: PlanStep): Promise<string> {
    if (!Placeholders.uses(text)) return text;
    let out = text;
    if (out.includes('{deployment}') || out.includes('{stateroot-var}')) {
      this.found ??= await this.ctx.findDeployment(this.ctx.targetRoot);
      if (!this.found) {
        throw new StepFailure(
          makeError('internal', `Step ${step.id} needs the deployment's path, but no deployment was found under ${this.ctx.targetRoot}.`, {
            step: step.id,
            detail: `Unresolved placeholder in "${text}". It is known only after the deploy step has run.`,
          }),
        );
      }
      out = out.split('{deployment}').join(this.found.deployment).split('{stateroot-var}').join(this.found.staterootVar);
    }
    if (out.includes('{kernel-version}')) {
      this.kernel ??= (await this.ctx.findKernel?.(this.ctx.targetRoot)) ?? null;
      if (!this.kernel) {
        throw new StepFailure(
          makeError('image-invalid', `Step ${step.id} needs the installed kernel's version, but the image has no kernel under ${this.ctx.targetRoot}/usr/lib/modules.`, {
            step: step.id,
            kind: 'user',
            detail: 'An image installed with oci-rootfs must carry a kernel (for Debian: linux-image-amd64) to boot. Choose an image with a kernel.',
          }),
        );
      }
      out = out.split('{kernel-version}').join(this.kernel);
    }
    return out;
  }
}

/** Whether every condition of an action (or a plan warning) holds, with the first one that does not. */
export async function conditionsHold(
  action: { readonly when?: readonly PlanCondition[] | undefined },
  step: PlanStep,
  hooks: Pick<ActionHooks, 'ctx' | 'placeholders'>,
): Promise<{ ok: true } | { ok: false; failed: string }> {
  for (const c of action.when ?? []) {
    const path = await hooks.placeholders.resolve(c.path, step);
    const holds = await hooks.ctx.fs.test(path, c.test);
    if (!holds) return { ok: false, failed: `${c.test} ${path}` };
  }
  return { ok: true };
}

export interface ActionHooks {
  readonly ctx: RunContext;
  readonly placeholders: Placeholders;
  /** The signal commands get: the install's own, or a fresh one during teardown. */
  readonly signal: AbortSignal;
  /** Called with the command's own progress (0..1) when a parser understood a line. */
  readonly onFraction: (fraction: number, message?: string, activity?: ActivityId) => void;
}

export function parseMode(mode: string): number {
  return parseInt(mode, 8);
}

/** Whether an action ran, or was skipped because its `when` conditions did not hold. */
export type ActionRun = 'ran' | 'skipped';

export async function runAction(step: PlanStep, action: PlanAction, hooks: ActionHooks): Promise<ActionRun> {
  const { ctx, placeholders } = hooks;
  const resolve = (s: string): Promise<string> => placeholders.resolve(s, step);
  switch (action.kind) {
    case 'run': {
      if (action.when) {
        const c = await conditionsHold(action, step, hooks);
        if (!c.ok) {
          ctx.log.message('info', `skipped ${action.argv.join(' ')} (condition not met: ${c.failed})`, step.id);
          return 'skipped';
        }
      }
      const argv = await Promise.all(action.argv.map(resolve));
      if (action.retryForSeconds === undefined) {
        const result = await runCommand(step, action, hooks, argv);
        if (action.resolves === 'deployment') {
          const found = await placeholders.located(result.stdout, step);
          ctx.log.message('info', `deployment: ${found.deployment}`, step.id);
        }
        return 'ran';
      }
      // A wait (for partition nodes to appear): the last failure is the one reported.
      const deadline = hooks.ctx.now() + action.retryForSeconds * 1000;
      for (;;) {
        try {
          await runCommand(step, action, hooks, argv);
          return 'ran';
        } catch (e) {
          if (hooks.signal.aborted || hooks.ctx.now() >= deadline || !(e instanceof StepFailure) || e.error.code !== 'command-failed') throw e;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    }
    case 'write': {
      if (action.when) {
        const c = await conditionsHold(action, step, hooks);
        if (!c.ok) {
          ctx.log.message('info', `skipped write ${action.path} (condition not met: ${c.failed})`, step.id);
          return 'skipped';
        }
      }
      const path = await resolve(action.path);
      await fsStep(step, ['write', path], () => ctx.fs.writeFile(path, action.content, parseMode(action.mode)), ctx);
      return 'ran';
    }
    case 'symlink': {
      const path = await resolve(action.path);
      const target = await resolve(action.target);
      await fsStep(step, ['symlink', target, path], () => ctx.fs.symlink(target, path), ctx);
      return 'ran';
    }
    case 'save-log': {
      const path = await resolve(action.path);
      const dir = path.slice(0, path.lastIndexOf('/'));
      await fsStep(step, ['mkdir', dir], () => ctx.fs.mkdir(dir, 0o755), ctx);
      await fsStep(step, ['write', path], () => ctx.fs.writeFile(path, ctx.log.toText(), 0o600), ctx);
      return 'ran';
    }
    case 'mkdir': {
      const path = await resolve(action.path);
      await fsStep(step, ['mkdir', path], () => ctx.fs.mkdir(path, parseMode(action.mode)), ctx);
      return 'ran';
    }
    case 'unpack':
      await unpackAction(step, action, hooks);
      return 'ran';
    case 'relabel':
      return relabelAction(step, action, hooks);
    case 'preflight':
      // The engine ran these checks when the install started and would not have started otherwise.
      for (const c of action.checks) ctx.log.message('info', `checked before the start: ${c}`, step.id);
      return 'ran';
  }
}

/**
 * The image's SELinux settings as libselinux reads /etc/selinux/config: `SELINUX=` (enforcing,
 * permissive or disabled) and `SELINUXTYPE=` (the policy's directory, "targeted" when unset).
 * Null when the image has no config, which is an image without SELinux.
 */
export function parseSelinuxConfig(text: string | null): { mode: string; policy: string } | null {
  if (text === null) return null;
  let mode = 'enforcing';
  let policy = 'targeted';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const m = /^(SELINUX|SELINUXTYPE)\s*=\s*"?([^"\s#]*)"?/.exec(line);
    if (!m || m[2] === undefined || m[2] === '') continue;
    if (m[1] === 'SELINUX') mode = m[2].toLowerCase();
    else policy = m[2];
  }
  return { mode, policy };
}

/**
 * Labels what the installer wrote after bootc (or the unpacker) finished. bootc relabels the
 * physical root as its last step (install.rs:2099-2108 at 534c76ea474a356aa288f6767635e579ea2614d5),
 * so accounts, settings and homes written afterwards carry no label, and an enforcing system denies
 * logins to an unlabelled /etc/shadow or home. setfiles works from the image's own policy files and
 * needs no SELinux on this machine: the kernel stores security.selinux like any other xattr.
 */
async function relabelAction(step: PlanStep, action: Extract<PlanAction, { kind: 'relabel' }>, hooks: ActionHooks): Promise<ActionRun> {
  const { ctx, placeholders } = hooks;
  const root = await placeholders.resolve(action.root, step);
  const config = parseSelinuxConfig(await ctx.fs.readFile(`${root}/etc/selinux/config`));
  if (config === null || config.mode === 'disabled') {
    ctx.log.message('info', `skipped SELinux labelling: ${config === null ? 'the image has no /etc/selinux/config' : 'the image sets SELINUX=disabled'}`, step.id);
    return 'skipped';
  }
  if (!/^[A-Za-z0-9_.-]+$/.test(config.policy)) {
    throw new StepFailure(makeError('image-invalid', `The image's /etc/selinux/config names the policy "${config.policy}", which is not a directory name.`, { kind: 'user', step: step.id, detail: 'Fix SELINUXTYPE= in the image, or choose another image.' }));
  }
  const contexts = `${root}/etc/selinux/${config.policy}/contexts/files/file_contexts`;
  if (!(await ctx.fs.test(contexts, 'exists'))) {
    throw new StepFailure(
      makeError('image-invalid', `The image turns SELinux on (SELINUXTYPE=${config.policy}) but has no ${contexts.slice(root.length)}, so what the installer wrote cannot be labelled and an enforcing system would refuse logins.`, {
        kind: 'user',
        step: step.id,
        detail: `Install the policy package for "${config.policy}" in the image, or set SELINUX=disabled in its /etc/selinux/config.`,
      }),
    );
  }
  const paths: string[] = [];
  for (const p of action.paths) {
    const resolved = await placeholders.resolve(p, step);
    if (await ctx.fs.test(resolved, 'exists')) paths.push(resolved);
  }
  if (paths.length === 0) return 'skipped';
  // -r: the paths' labels are looked up as the booted system sees them (without the root prefix).
  const argv = ['setfiles', '-r', root, contexts, ...paths];
  await runCommand(step, { kind: 'run', argv, timeoutSeconds: 1800 }, hooks, argv);
  return 'ran';
}

async function fsStep(step: PlanStep, what: string[], op: () => Promise<void>, ctx: RunContext): Promise<void> {
  try {
    await op();
    ctx.log.message('debug', what.join(' '), step.id);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    // No error code fits a failed file write better; it is the machine's fault, not the user's.
    throw new StepFailure(makeError('command-failed', `Could not ${what[0]} ${what[what.length - 1]}: ${reason}`, { kind: 'system', step: step.id }));
  }
}

async function runCommand(step: PlanStep, action: RunAction, hooks: ActionHooks, argv: string[]): Promise<ExecResult> {
  const { ctx } = hooks;
  const secrets = [...ctx.secrets.values()];
  // Plain stdin (an sfdisk script) or a secret; a plan asking for both is a planner bug.
  let input: string | undefined = action.stdin;
  if (action.stdinSecret !== undefined && action.stdin !== undefined) {
    throw new StepFailure(makeError('internal', `Step ${step.id} gives ${argv[0]} both a secret and text on stdin.`, { step: step.id, command: argv.map((a) => ctx.log.redact(a)) }));
  }
  if (action.stdinSecret !== undefined) {
    input = ctx.secrets.get(action.stdinSecret);
    if (input === undefined) {
      throw new StepFailure(makeError('internal', `Step ${step.id} needs the secret "${action.stdinSecret}", which was not given.`, { step: step.id, command: argv.map((a) => ctx.log.redact(a)) }));
    }
  }
  // Secrets some tools take only from the environment (systemd-cryptenroll's PASSWORD and
  // NEWPASSWORD): resolved like stdinSecret, never in argv, and redacted like every other secret.
  let env: Record<string, string> | undefined = action.env === undefined ? undefined : { ...action.env };
  for (const [name, secret] of Object.entries(action.secretEnv ?? {})) {
    const value = ctx.secrets.get(secret);
    if (value === undefined) {
      throw new StepFailure(makeError('internal', `Step ${step.id} needs the secret "${secret}", which was not given.`, { step: step.id, command: argv.map((a) => ctx.log.redact(a)) }));
    }
    (env ??= {})[name] = value;
  }
  const options = {
    ...(input === undefined ? {} : { input }),
    ...(env === undefined ? {} : { env }),
    secrets,
    signal: hooks.signal,
    ...(action.timeoutSeconds === undefined ? {} : { timeoutMs: action.timeoutSeconds * 1000 }),
    ...(action.okExitCodes === undefined ? {} : { okExitCodes: action.okExitCodes }),
  };
  // The deploy step's own parsers where the engine has them, else what activity.ts knows of the command.
  const parser = ctx.progressFor?.(step, action) ?? actionProfile(action).reader?.() ?? null;
  const listening = parser !== null || ctx.onCommandOutput !== undefined;
  const deliver = (p: OutputProgress | null): void => {
    const f = typeof p === 'number' ? p : p?.fraction;
    if (f === undefined || !Number.isFinite(f)) return;
    const said = typeof p === 'object' && p !== null ? p : undefined;
    hooks.onFraction(Math.min(1, Math.max(0, f)), said?.message, said?.activity);
  };
  const started = ctx.now();
  let result: ExecResult;
  try {
    if (listening && ctx.execStreaming) {
      const lines = new LineSplitter((line) => {
        ctx.onCommandOutput?.(step.id, ctx.log.redact(line));
        if (parser) deliver(parser(line));
      });
      // A parser may also measure progress itself (bytes written to the target) between lines.
      const poll = parser && 'poll' in parser && typeof parser.poll === 'function' ? (parser.poll as () => OutputProgress | null) : null;
      const timer = poll ? setInterval(() => deliver(poll()), 500) : null;
      try {
        result = await ctx.execStreaming(argv, { ...options, onOutput: (chunk) => lines.push(chunk) });
      } finally {
        if (timer) clearInterval(timer);
      }
      lines.end();
    } else {
      result = await ctx.exec(argv, options);
    }
  } catch (e) {
    const error = e instanceof CommandError ? e.error : makeError('internal', `${argv[0]} could not be run: ${e instanceof Error ? e.message : String(e)}`);
    ctx.log.command({ step: step.id, argv, exitCode: error.exitCode ?? null, durationMs: ctx.now() - started, ...(error.stderrTail ? { stderrTail: error.stderrTail } : {}) });
    throw new StepFailure({ ...withBootcReason(error, argv), step: step.id, command: error.command ?? argv });
  }
  const stderrTail = tail(result.stderr, 5);
  ctx.log.command({ step: step.id, argv, exitCode: result.exitCode, durationMs: ctx.now() - started, ...(stderrTail ? { stderrTail } : {}) });
  return result;
}

/**
 * A failed bootc (or the podman that runs it) says why on stderr, as `error: <context>: <cause>`
 * (bootc's main, crates/utils/src/lib.rs:59-63 at 534c76ea474a356aa288f6767635e579ea2614d5): that
 * reason, and what to do about it when it is a known one, go into the message a person reads, after
 * "bootc exited with code 1".
 */
export function withBootcReason(error: InstallerError, argv: readonly string[]): InstallerError {
  if (error.code !== 'command-failed' || !error.stderrTail || !(argv[0] === 'podman' || argv.includes('bootc'))) return error;
  const reason = parseBootcError(error.stderrTail);
  if (!reason) return error;
  const head = error.message.replace(/\.$/, '');
  return { ...error, message: `${head}: ${reason.message}${reason.hint ? ` ${reason.hint}` : ''}` };
}

/** Cuts streamed output into lines; "\r" ends a line too, because progress bars redraw with it. */
export class LineSplitter {
  private rest = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: string): void {
    const parts = (this.rest + chunk).split(/\r\n|\r|\n/);
    this.rest = parts.pop() ?? '';
    for (const p of parts) if (p !== '') this.onLine(p);
  }

  end(): void {
    if (this.rest !== '') this.onLine(this.rest);
    this.rest = '';
  }
}

type UnpackAction = Extract<PlanAction, { kind: 'unpack' }>;

/** The oci-rootfs deploy: the image's layers onto the target, with progress in bytes. */
async function unpackAction(step: PlanStep, action: UnpackAction, hooks: ActionHooks): Promise<void> {
  const { ctx } = hooks;
  if (!ctx.unpack) throw new StepFailure(makeError('internal', 'This engine cannot unpack OCI images (no unpacker was given).', { step: step.id }));
  const started = ctx.now();
  const what = `unpack ${action.source.transport}:${action.source.path}${action.source.ref ? `:${action.source.ref}` : ''} onto ${action.target}`;
  try {
    const r = await ctx.unpack({
      source: action.source,
      target: action.target,
      protect: action.protect ?? [],
      signal: hooks.signal,
      onProgress: (p) => hooks.onFraction(p.bytesTotal > 0 ? p.bytesDone / p.bytesTotal : 0, `layer ${p.layer} of ${p.layers}`),
    });
    ctx.log.message('info', `${what}: ${r.layers} layers, ${r.compressedBytes} bytes read, ${r.uncompressedBytes} bytes unpacked, manifest ${r.manifestDigest}`, step.id);
  } catch (e) {
    if (e instanceof StepFailure) throw e;
    const err = e as Error & { hint?: string; command?: string[]; stderrTail?: string };
    ctx.log.message('error', `${what} failed after ${((ctx.now() - started) / 1000).toFixed(1)} s: ${err.message}`, step.id);
    if (hooks.signal.aborted) throw new StepFailure(makeError('cancelled', 'The install was cancelled while the image was being unpacked.', { step: step.id, kind: 'user' }));
    throw new StepFailure(
      makeError(err.command ? 'command-failed' : 'image-invalid', `Unpacking the image failed: ${err.message}`, {
        step: step.id,
        ...(err.hint ? { detail: err.hint } : {}),
        ...(err.command ? { command: err.command } : {}),
        ...(err.stderrTail ? { stderrTail: err.stderrTail } : {}),
      }),
    );
  }
}
