import { z } from 'zod';
import { DiskListSchema } from './disk';
import { InstallerErrorSchema, type Result } from './errors';
import { InstallPlanSchema, InstallStateSchema, ProgressEventSchema } from './install';
import {
  AnswerFileExportSchema,
  ApplyResultSchema,
  ImageInfoSchema,
  KeyboardChoiceSchema,
  KeyboardLayoutsSchema,
  PowerParamsSchema,
  RecoveryKeySchema,
  RequirementsParamsSchema,
  RequirementsSchema,
  SaveParamsSchema,
  SaveResultSchema,
  SaveTargetsSchema,
  TimeZonesSchema,
} from './system';
import { AnswerFileSchema, ImageSchema, ImageTransportSchema } from './answer-file';
import type { EventName, MethodName } from './api-names';

export { EVENT_NAMES, IPC_PREFIX, METHOD_NAMES, ipcEventChannel, ipcInvokeChannel, isEventName, isMethodName, type EventName, type MethodName } from './api-names';

/**
 * The InstallerApi: one typed map of every method and event, used by the Electron IPC relay,
 * the engine protocol (JSON-RPC) and the CLI alike. Nothing else names a channel.
 */

export const EngineModeSchema = z.enum(['normal', 'demo', 'test']);
export type EngineMode = z.infer<typeof EngineModeSchema>;

/** The answer file's deployer (bootc or oci-rootfs) without its default, so an offer may leave it out. */
export const DeployerSchema = AnswerFileSchema.shape.deployer.unwrap();
export type Deployer = z.infer<typeof DeployerSchema>;

/** An image as the engine offers it: what to install and where the reference points. */
export const OfferedImageSchema = z.object({
  /** A registry reference, or a path for oci/oci-archive. */
  reference: ImageSchema.shape.reference,
  transport: ImageTransportSchema,
  /** How the image must be installed, when the offer knows (the request's `deployer`); else the answer file's default. */
  deployer: DeployerSchema.optional(),
  /** The registry image the installed system updates from (the request's `image.targetImage`), for an embedded image. */
  targetImage: ImageSchema.shape.targetImage,
});
export type OfferedImage = z.infer<typeof OfferedImageSchema>;

export const EngineInfoSchema = z.object({
  /** Installer version. */
  version: z.string(),
  /** Version of the engine protocol; bumped on incompatible changes. */
  protocol: z.literal(1),
  /** normal: real disks only; demo: virtual loop disks are offered; test: loop devices allowed. */
  mode: EngineModeSchema,
  /** Whether the engine runs as root (and so can write disks). */
  root: z.boolean(),
  /** Firmware the machine booted with. */
  firmware: z.enum(['uefi', 'bios']),
  /** CPU architecture in Node's naming (x64, arm64…). */
  arch: z.string(),
  /** Whether a TPM 2.0 is present, so TPM2 unlocking can be offered. */
  tpm2: z.boolean(),
  /** Why demo mode is limited, when it is (e.g. not root: disks are shown read-only). */
  notice: z.string().optional(),
  /**
   * The image the wizard should install, when the engine was started with one (e.g. an image
   * embedded in the live ISO); without it UIs fall back to their branding's default.
   */
  offeredImage: OfferedImageSchema.optional(),
});
export type EngineInfo = z.infer<typeof EngineInfoSchema>;

export const FieldErrorSchema = z.object({ field: z.string(), message: z.string() });

export const ValidationResultSchema = z.object({
  valid: z.boolean(),
  errors: z.array(FieldErrorSchema),
});
export type ValidationResult = z.infer<typeof ValidationResultSchema>;

const NoParams = z.object({}).strict();

/** Every method: its params and its result. Params are always a JSON object. */
export const METHODS = {
  /** What engine this is and what it may do. */
  getInfo: { params: NoParams, result: EngineInfoSchema },
  /** Probe the disks now and classify each one. */
  listDisks: { params: NoParams, result: DiskListSchema },
  /** Check an answer file (or the wizard's request) without doing anything. */
  validateAnswerFile: {
    params: z.object({ document: z.unknown() }).strict(),
    result: ValidationResultSchema,
  },
  /** Turn a request (an answer file) into a plan; nothing is written. Passwords are hashed on arrival. */
  planInstall: { params: z.object({ request: z.unknown() }).strict(), result: InstallPlanSchema },
  /** Carry out a plan this engine made; the disk is checked again first. */
  startInstall: { params: z.object({ planId: z.string().min(1).max(64) }).strict(), result: InstallStateSchema },
  /** Stop the running install; teardown runs and the true disk state is reported. */
  cancelInstall: { params: NoParams, result: InstallStateSchema },
  /** After a failure: resume from the failed step where safe, else start over from partitioning. */
  retryInstall: { params: NoParams, result: InstallStateSchema },
  /** Where the install is now; a reconnecting UI starts here. */
  getInstallState: { params: NoParams, result: InstallStateSchema },
  /** XKB layouts and variants from the system's rules, and the live session's current one. */
  listKeyboardLayouts: { params: NoParams, result: KeyboardLayoutsSchema },
  /** Switch the live session's keyboard now, so passwords typed later come out in that layout. */
  setKeyboard: { params: KeyboardChoiceSchema, result: ApplyResultSchema },
  /** IANA time zones from tzdata, with countries and coordinates, and the live system's zone. */
  listTimeZones: { params: NoParams, result: TimeZonesSchema },
  /** Memory, disk size, firmware, AC power and network, measured now. */
  checkRequirements: { params: RequirementsParamsSchema, result: RequirementsSchema },
  /** Digest and signature policy of an image, without pulling it. */
  inspectImage: { params: z.object({ image: ImageSchema }).strict(), result: ImageInfoSchema },
  /** The request as an answer file for unattended installs: passwords hashed, passphrases left out. */
  exportAnswerFile: { params: z.object({ request: z.unknown() }).strict(), result: AnswerFileExportSchema },
  /** Removable partitions a file can be saved to (a USB stick). */
  listSaveTargets: { params: NoParams, result: SaveTargetsSchema },
  /** Save the answer file or the log bundle, as a download or onto a removable partition. */
  saveFile: { params: SaveParamsSchema, result: SaveResultSchema },
  /** A fresh recovery key to show, confirm and enrol next to TPM2 unlocking. */
  generateRecoveryKey: { params: NoParams, result: RecoveryKeySchema },
  /** Reboot or power off once the install is over (refused while one runs, and in demo mode). */
  power: { params: PowerParamsSchema, result: ApplyResultSchema },
} as const satisfies Record<MethodName, { params: z.ZodType; result: z.ZodType }>;

export type MethodParams<M extends MethodName> = z.input<(typeof METHODS)[M]['params']>;
export type MethodResult<M extends MethodName> = z.output<(typeof METHODS)[M]['result']>;


/** Events pushed from the engine. */
export const EVENTS = {
  /** The set of disks changed (hot-plug, or a demo disk was made). */
  disksChanged: z.object({}).strict(),
  /** A log line from the engine, secrets already redacted. */
  log: z.object({
    level: z.enum(['debug', 'info', 'warn', 'error']),
    message: z.string(),
    time: z.string(),
  }),
  /** Install progress: steps, fractions, log lines, the outcome. */
  progress: ProgressEventSchema,
  /** The engine stopped or the connection to it was lost. */
  engineLost: z.object({ error: InstallerErrorSchema }),
} as const satisfies Record<EventName, z.ZodType>;

export type EventPayload<E extends EventName> = z.output<(typeof EVENTS)[E]>;

/**
 * What a front end holds: a function per method, returning errors as data, and a subscription
 * per event, each returning its unsubscribe function.
 */
export type InstallerApi = {
  readonly [M in MethodName]: (params: MethodParams<M>) => Promise<Result<MethodResult<M>>>;
} & {
  readonly on: <E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void) => () => void;
};
