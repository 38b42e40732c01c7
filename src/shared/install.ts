import { z } from 'zod';
import { DiskIdentitySchema } from './disk';
import { InstallerErrorSchema } from './errors';

/**
 * An install as data: the plan the engine will carry out (every command's exact argv, what each step
 * writes, where the point of no return is), the progress events it emits while doing so, and the
 * state a reconnecting front end reads. Secrets never appear here: a command that needs one names
 * it (`stdinSecret`) and the engine feeds it on stdin.
 */

export const STEP_IDS = [
  'preflight',
  'verify-disk',
  'wipe',
  'partition',
  'settle',
  'encrypt',
  'format',
  'mount',
  'pull',
  'deploy',
  'configure',
  'bootloader',
  'finalize',
  'teardown',
] as const;
export const StepIdSchema = z.enum(STEP_IDS);
export type StepId = z.infer<typeof StepIdSchema>;

/**
 * What a step is doing right now, finer than the step: a long command's purpose ("Building the
 * initramfs"). The engine names it; UIs translate it by id, as they do step ids.
 */
export const ACTIVITY_IDS = [
  'image-prepare',
  'image-deploy',
  'image-unpack',
  'initramfs',
  'bootloader',
  'boot-menu',
  'kernel',
  'filesystem-finish',
  'flush',
] as const;
export const ActivityIdSchema = z.enum(ACTIVITY_IDS);
export type ActivityId = z.infer<typeof ActivityIdSchema>;

/** Placeholders the runner fills in at run time, because they exist only once earlier steps ran. */
export const PLAN_PLACEHOLDERS = ['{deployment}', '{stateroot-var}', '{kernel-version}'] as const;

/**
 * A condition on the target, checked right before the action would run: a plan for an image whose
 * contents are known only once it is unpacked (does it carry grub-install or bootctl, update-initramfs
 * or dracut?) lists both branches, each with the condition that picks it. All conditions must hold.
 */
export const PlanConditionSchema = z
  .object({
    /** Absolute path, possibly with a placeholder. */
    path: z.string(),
    test: z.enum(['exists', 'missing', 'writable', 'not-writable']),
  })
  .strict();
export type PlanCondition = z.infer<typeof PlanConditionSchema>;

export const PlanActionSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('run'),
    /** The exact argv; never run through a shell. May contain a placeholder from PLAN_PLACEHOLDERS. */
    argv: z.array(z.string()).min(1),
    /** Name of a secret fed on stdin (e.g. "luks-passphrase"); the value is never in the plan. */
    stdinSecret: z.string().optional(),
    /**
     * Environment variables whose values are secrets, by name of the secret (e.g. PASSWORD →
     * "luks-passphrase"), for tools that read a secret from the environment; values never in the plan.
     */
    secretEnv: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/), z.string()).optional(),
    /** Plain environment variables for the command (e.g. podman's TMPDIR on the target). */
    env: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/), z.string()).optional(),
    /** Non-secret text fed on stdin (an sfdisk script). */
    stdin: z.string().optional(),
    /** Exit codes that count as success; default [0]. */
    okExitCodes: z.array(z.number().int()).optional(),
    /** Seconds before the command is stopped. */
    timeoutSeconds: z.number().int().positive().optional(),
    /** Run it again (every 200 ms) while it fails, for up to this many seconds: a wait for something to appear. */
    retryForSeconds: z.number().positive().max(600).optional(),
    /** Run only when every condition holds; otherwise the action is skipped (and logged as skipped). */
    when: z.array(PlanConditionSchema).min(1).optional(),
    /**
     * What the command's standard output names, for later actions: `deployment` is the path of the
     * ostree deployment bootc made (`ostree admin --print-current-dir`), which `{deployment}` stands
     * for, with `{stateroot-var}` the stateroot's var beside it.
     */
    resolves: z.literal('deployment').optional(),
  }),
  z.object({
    kind: z.literal('unpack'),
    /** A local image: an OCI layout directory (with an optional tag), an OCI archive or a `docker save` archive. */
    source: z.object({ transport: z.enum(['oci', 'oci-archive', 'docker-archive']), path: z.string(), ref: z.string().optional() }).strict(),
    /** The mounted root the layers are unpacked onto, in order, whiteouts honoured, each layer's digest verified. */
    target: z.string(),
    /** Paths under target that the image's whiteouts must not remove (the staging copy of a pulled image). */
    protect: z.array(z.string()).default([]),
  }),
  z.object({
    kind: z.literal('write'),
    /** Absolute path, possibly under a placeholder. */
    path: z.string(),
    /** File content (never a secret: password hashes only). */
    content: z.string(),
    /** Octal mode, e.g. "0644". */
    mode: z.string().regex(/^0[0-7]{3}$/),
    /** Write only when every condition holds (a drop-in for a tool the image may not carry). */
    when: z.array(PlanConditionSchema).min(1).optional(),
  }),
  z.object({ kind: z.literal('symlink'), path: z.string(), target: z.string() }),
  z.object({
    kind: z.literal('save-log'),
    /**
     * Where the install's log so far (secrets already masked) is kept on the installed system, mode
     * 0600, its directory made when missing: the record of how the system was installed, as
     * Anaconda and Calamares leave one, and the mark of an install that reached its last step.
     */
    path: z.string(),
  }),
  z.object({ kind: z.literal('mkdir'), path: z.string(), mode: z.string().regex(/^0[0-7]{3}$/) }),
  z.object({
    kind: z.literal('preflight'),
    /**
     * What is checked before the first step that writes to the disk, in English: commands on this
     * system, the image and its fit, booting. The engine checks them when the install starts and
     * refuses to start, with the disk untouched, when one fails; the runner logs them as passed.
     */
    checks: z.array(z.string()).min(1),
  }),
  z.object({
    kind: z.literal('relabel'),
    /**
     * The installed system's root. Its /etc/selinux/config decides: no file, or SELINUX=disabled, and
     * the action is skipped; otherwise setfiles labels `paths` from that policy's file_contexts.
     */
    root: z.string(),
    /** Absolute paths under root, labelled recursively as the booted system will see them. */
    paths: z.array(z.string()).min(1),
  }),
]);
export type PlanAction = z.infer<typeof PlanActionSchema>;

export const PlanStepSchema = z.object({
  id: StepIdSchema,
  /** Present-tense English title ("Creating partitions"); UIs translate by id. */
  title: z.string(),
  /** Relative share of the whole install's time. */
  weight: z.number().nonnegative(),
  /** Writes to the target disk: from the first such step on, the disk's old contents are gone. */
  destructive: z.boolean(),
  /** Whether a retry may start again from this step after it failed (else from partitioning). */
  resumable: z.boolean(),
  actions: z.array(PlanActionSchema),
});
export type PlanStep = z.infer<typeof PlanStepSchema>;

/**
 * Something the plan cannot do for this choice and a person should know before installing, such as
 * a LUKS prompt that will not use the chosen keyboard layout. Where it depends on what the image
 * carries, `when` says so: the Summary shows it as a possibility, and the runner logs it as a fact
 * once it checked the conditions on the unpacked image, right before the step `checkBefore`.
 */
export const PlanWarningSchema = z
  .object({
    /** Stable name, for UIs to translate by. */
    id: z.enum(['luks-keymap-default', 'no-update-source', 'image-in-memory']),
    /** The same in English, for the log, the CLI and UIs that do not know the id. */
    message: z.string(),
    when: z.array(PlanConditionSchema).min(1).optional(),
    checkBefore: StepIdSchema.optional(),
  })
  .strict();
export type PlanWarning = z.infer<typeof PlanWarningSchema>;

export const PlannedPartitionSchema = z.object({
  number: z.number().int().positive(),
  /** Device node the partition will have, e.g. /dev/nvme0n1p2. */
  path: z.string(),
  /** GPT partition name. */
  label: z.string(),
  typeGuid: z.string(),
  /** Size in bytes; null for "the rest of the disk". */
  size: z.number().int().positive().nullable(),
  /** What goes on it: a filesystem, LUKS, or nothing (BIOS boot). */
  content: z.enum(['bios-boot', 'vfat', 'ext4', 'xfs', 'btrfs', 'luks2', 'swap']),
  /** Where it is mounted in the installed system, if anywhere. */
  mountpoint: z.string().nullable(),
  /** UUID its filesystem (or LUKS header) will get; chosen by the planner so kernel arguments are known up front. */
  uuid: z.string(),
});
export type PlannedPartition = z.infer<typeof PlannedPartitionSchema>;

export const InstallPlanSchema = z.object({
  /** Random id; startInstall must name it, so an install runs only a plan someone has seen. */
  id: z.string(),
  createdAt: z.string(),
  /** The disk, as identified when planning; checked again right before anything is written. */
  disk: DiskIdentitySchema,
  firmware: z.enum(['uefi', 'bios']),
  arch: z.string(),
  layout: z.enum(['erase', 'bootc', 'existing']),
  partitions: z.array(PlannedPartitionSchema),
  /** Kernel arguments the deployment gets. */
  kernelArgs: z.array(z.string()),
  /** "docker://quay.io/…", "oci:/path"… as bootc's --source-imgref. */
  sourceImgref: z.string(),
  targetImgref: z.string().nullable(),
  steps: z.array(PlanStepSchema),
  /** Index of the first destructive step; before it, cancelling leaves the disk untouched. */
  pointOfNoReturn: z.number().int().nonnegative(),
  /** Plain-English lines for a summary ("Erase Samsung 980 PRO, 1 TB (nvme0n1): …"). */
  summary: z.array(z.string()),
  /** What a person should know before installing; also among the summary lines, in English. */
  warnings: z.array(PlanWarningSchema).default([]),
});
export type InstallPlan = z.infer<typeof InstallPlanSchema>;

export const OverallSchema = z.object({
  /**
   * 0..1 across the whole install, from step weights and sub-progress; while a step runs it grows by
   * at least 0.001 every 10 s (engine/install/progress.ts), so a UI showing tenths of a percent moves.
   */
  fraction: z.number().min(0).max(1),
  /** Estimated seconds left, or null while unknown; at least 1 until the install has finished. */
  etaSeconds: z.number().nonnegative().nullable(),
  /**
   * True while the running command has gone on longer than expected without saying how far it is:
   * etaSeconds is then only a lower bound, and a UI says "taking longer than expected" instead.
   */
  overrun: z.boolean().optional(),
  /** With overrun: whole seconds the late command has been running, for "(3 minutes so far)". */
  runningSeconds: z.number().int().nonnegative().optional(),
});

/** What the disk holds after an install ended: what a person must be told. */
export const DiskStateSchema = z.enum(['untouched', 'partially-written', 'installed']);
export type DiskState = z.infer<typeof DiskStateSchema>;

export const RetryAdviceSchema = z.object({
  /** The step a retry starts from. */
  from: StepIdSchema,
  /** Why from there ("the target holds a half-written repository and must be wiped"). */
  reason: z.string(),
});

export const ProgressEventSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('step-started'), step: StepIdSchema, index: z.number().int(), title: z.string(), overall: OverallSchema }),
  z.object({
    kind: z.literal('step-progress'),
    step: StepIdSchema,
    fraction: z.number().min(0).max(1),
    /** What the step is doing, in English (terminal, log). */
    message: z.string().optional(),
    /** The same as an id a UI translates; absent when the step's title says it all. */
    activity: ActivityIdSchema.optional(),
    overall: OverallSchema,
  }),
  z.object({ kind: z.literal('step-finished'), step: StepIdSchema, durationMs: z.number().nonnegative(), overall: OverallSchema }),
  z.object({ kind: z.literal('log'), level: z.enum(['debug', 'info', 'warn', 'error']), message: z.string(), time: z.string() }),
  z.object({ kind: z.literal('finished'), durationMs: z.number().nonnegative(), reboot: z.boolean(), overall: OverallSchema }),
  z.object({
    kind: z.literal('failed'),
    error: InstallerErrorSchema,
    diskState: DiskStateSchema,
    retry: RetryAdviceSchema,
    cancelled: z.boolean(),
    overall: OverallSchema,
  }),
]);
export type ProgressEvent = z.infer<typeof ProgressEventSchema>;

export const InstallPhaseSchema = z.enum(['idle', 'running', 'cancelling', 'finished', 'failed', 'cancelled']);

/** What a (re)connecting front end reads to show the install in progress: the engine is the source of truth. */
export const InstallStateSchema = z.object({
  phase: InstallPhaseSchema,
  plan: InstallPlanSchema.nullable(),
  /** Index of the current (or failed) step. */
  currentStep: z.number().int().nullable(),
  overall: OverallSchema,
  /** What the current step is doing, when it says (see ProgressEvent step-progress). */
  activity: ActivityIdSchema.nullable().optional(),
  /** Per step: pending, running, done, failed, skipped. */
  steps: z.array(z.enum(['pending', 'running', 'done', 'failed', 'skipped'])),
  /** The last event of kind finished or failed, when the install ended. */
  outcome: ProgressEventSchema.nullable(),
  /** The last log lines, oldest first. */
  log: z.array(z.string()),
});
export type InstallState = z.infer<typeof InstallStateSchema>;
