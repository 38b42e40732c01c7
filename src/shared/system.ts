import { z } from 'zod';
import { ImageSchema } from './answer-file';

/**
 * What the wizard asks the machine besides disks: keyboard layouts, time zones, requirement checks,
 * image facts, places to save files, and power. The engine answers from the system's own data
 * (xkb-data, tzdata, /proc, /sys) so the lists match what the installed system will accept.
 */

const XKB_NAME = z.string().regex(/^[a-z0-9][a-z0-9_()-]{0,63}$/);

export const KeyboardVariantSchema = z.object({
  name: z.string(),
  /** English description from the XKB rules ("German (no dead keys)"). */
  description: z.string(),
});
export type KeyboardVariant = z.infer<typeof KeyboardVariantSchema>;

export const KeyboardLayoutSchema = z.object({
  /** XKB layout name ("de"). */
  name: z.string(),
  /** English description from the XKB rules ("German"). */
  description: z.string(),
  /** ISO 639 language codes the rules attach to the layout ("ger", "deu" or "de" as listed). */
  languages: z.array(z.string()),
  /** ISO 3166 country codes the rules attach to the layout. */
  countries: z.array(z.string()),
  variants: z.array(KeyboardVariantSchema),
});
export type KeyboardLayout = z.infer<typeof KeyboardLayoutSchema>;

export const KeyboardChoiceSchema = z.object({ layout: XKB_NAME, variant: XKB_NAME.optional() }).strict();
export type KeyboardChoice = z.infer<typeof KeyboardChoiceSchema>;

export const KeyboardLayoutsSchema = z.object({
  layouts: z.array(KeyboardLayoutSchema),
  /** The live session's layout now, when it can be read. */
  current: KeyboardChoiceSchema.nullable(),
});
export type KeyboardLayouts = z.infer<typeof KeyboardLayoutsSchema>;

export const ApplyResultSchema = z.object({
  /**
   * Whether the running session now uses the choice: for a keyboard, the session the person types
   * in was switched (setxkbmap, or swaymsg with the keyboards read back), not merely a setting saved.
   */
  applied: z.boolean(),
  /** How (e.g. "setxkbmap", "localectl"), or why not ("demo mode leaves this computer's keyboard alone"). */
  detail: z.string(),
  /**
   * Keyboard only: saved for sessions started later (localectl) although, when `applied` is false,
   * the screen the person types in now still uses its previous layout.
   */
  saved: z.boolean().optional(),
});
export type ApplyResult = z.infer<typeof ApplyResultSchema>;

export const TimeZoneSchema = z.object({
  /** IANA name ("America/Argentina/Buenos_Aires"). */
  id: z.string(),
  /** First component ("America"). */
  region: z.string(),
  /** The rest, with underscores as spaces ("Argentina/Buenos Aires"). */
  city: z.string(),
  /** ISO 3166 codes of the countries the zone covers (zone1970.tab). */
  countries: z.array(z.string()),
  latitude: z.number(),
  longitude: z.number(),
});
export type TimeZone = z.infer<typeof TimeZoneSchema>;

export const TimeZonesSchema = z.object({
  zones: z.array(TimeZoneSchema),
  /** The live system's zone (from /etc/localtime), when it is one of `zones` or UTC. */
  current: z.string().nullable(),
  /** English country names by ISO 3166 code (iso3166.tab); UIs may translate with Intl.DisplayNames. */
  countryNames: z.record(z.string(), z.string()),
});
export type TimeZones = z.infer<typeof TimeZonesSchema>;

export const REQUIREMENT_IDS = ['memory', 'disk', 'firmware', 'power', 'network'] as const;
export const RequirementIdSchema = z.enum(REQUIREMENT_IDS);
export type RequirementId = z.infer<typeof RequirementIdSchema>;

export const RequirementCheckSchema = z.object({
  id: RequirementIdSchema,
  /** ok: met; failed: not met; unknown: could not be measured; skipped: does not apply (network for a local image). */
  status: z.enum(['ok', 'failed', 'unknown', 'skipped']),
  /** What was measured (bytes of memory, bytes of the largest disk, "uefi", "battery", …). */
  measured: z.union([z.number(), z.string()]).nullable(),
  /** What is needed, in the same unit; null where there is no threshold. */
  required: z.union([z.number(), z.string()]).nullable(),
  /** English sentence for logs; UIs translate on id and status. */
  message: z.string(),
});
export type RequirementCheck = z.infer<typeof RequirementCheckSchema>;

export const RequirementsParamsSchema = z
  .object({
    /** Memory needed, in bytes. */
    minimumMemory: z.number().int().nonnegative().max(2 ** 50),
    /** Firmware the image boots on: either, or UEFI only. */
    firmware: z.enum(['any', 'uefi']).default('any'),
    /** The image to install: network is needed only when it must be pulled. */
    image: ImageSchema.optional(),
  })
  .strict();

/**
 * Kernel arguments that keep the graphics card's own driver from setting the display mode ("safe
 * graphics"): `nomodeset` (the live ISO's boot menu entry) or a driver's own `modeset=0`. With them
 * the screen stays on the firmware's framebuffer, which is what a machine whose graphics driver fails
 * needs.
 */
export const SAFE_GRAPHICS_ARG = /^(?:nomodeset|(?:nouveau|i915|xe|radeon|amdgpu)\.modeset=0)$/;

/** The computer, as its firmware names it (shown in the summary); null fields where it does not say. */
export const MachineSchema = z.object({
  vendor: z.string().nullable(),
  model: z.string().nullable(),
  virtual: z.boolean(),
  /** Vendor and model in one line, null when neither is known. */
  name: z.string().nullable(),
  /** The graphics cards, each as vendor and model in one line (empty when none could be read). */
  graphics: z.array(z.string().max(200)).max(16).default([]),
  /** The safe-graphics kernel arguments this session started with (nomodeset…); the install keeps them. */
  safeGraphics: z.array(z.string().max(64)).max(8).default([]),
});
export type Machine = z.infer<typeof MachineSchema>;

export const RequirementsSchema = z.object({ checks: z.array(RequirementCheckSchema), machine: MachineSchema.nullable().optional() });
export type Requirements = z.infer<typeof RequirementsSchema>;

export const ImageInfoSchema = z.object({
  reference: z.string(),
  /** sha256:… of the manifest, when it could be read without pulling the image. */
  digest: z.string().nullable(),
  /**
   * verified: the signature policy requires a signature for this image; unverified: the policy
   * accepts it unsigned; unknown: no policy could be read.
   */
  signature: z.enum(['verified', 'unverified', 'unknown']),
  /** Compressed size in bytes, when known. */
  size: z.number().nullable(),
  /** English sentence: where the facts came from or why they are missing. */
  detail: z.string(),
  /**
   * The root filesystem the image's bootc install config asks for (`root-fs-type`), when its config
   * was read and names one; UIs preselect it. Absent when it could not be read before the install
   * (a registry image).
   */
  rootFsType: z.enum(['xfs', 'ext4', 'btrfs']).nullable().optional(),
});
export type ImageInfo = z.infer<typeof ImageInfoSchema>;

export const AnswerFileExportSchema = z.object({
  /** The answer file as pretty JSON: password hashes only, no passphrases. */
  text: z.string(),
  /** Dotted paths of secrets left out ("layout.encryption.passphrase"), so the UI can say so. */
  omitted: z.array(z.string()),
});
export type AnswerFileExport = z.infer<typeof AnswerFileExportSchema>;

export const SaveTargetSchema = z.object({
  /** Partition device path ("/dev/sdb1"). */
  path: z.string(),
  /** Filesystem label, model and size, for a person to recognise the stick. */
  label: z.string().nullable(),
  model: z.string().nullable(),
  size: z.number(),
  fsType: z.string(),
});
export type SaveTarget = z.infer<typeof SaveTargetSchema>;

export const SaveTargetsSchema = z.object({ targets: z.array(SaveTargetSchema) });

export const SaveParamsSchema = z
  .object({
    kind: z.enum(['answer-file', 'log-bundle']),
    /** For answer-file: the text from exportAnswerFile (checked again before it is written). */
    text: z.string().max(1024 * 1024).optional(),
    /** download: returned as base64 for the front end to offer; device: written to a removable partition. */
    target: z.discriminatedUnion('type', [
      z.object({ type: z.literal('download') }).strict(),
      z.object({ type: z.literal('device'), path: z.string().regex(/^\/dev\/[A-Za-z0-9/_.:+-]+$/) }).strict(),
    ]),
  })
  .strict();

export const SaveResultSchema = z.object({
  /** Suggested file name ("particle-install-2026-11-22T10-00-00.tar.gz"). */
  fileName: z.string(),
  bytes: z.number(),
  /** For download: the content. */
  contentBase64: z.string().optional(),
  /** For device: where on the device it was written ("/particle-install-….tar.gz"). */
  writtenTo: z.string().optional(),
});
export type SaveResult = z.infer<typeof SaveResultSchema>;

export const PowerParamsSchema = z.object({ action: z.enum(['reboot', 'poweroff']) }).strict();

export const RecoveryKeySchema = z.object({
  /** Eight groups of eight modhex characters, as systemd-cryptenroll prints its recovery keys. */
  key: z.string().regex(/^([cbdefghijklnrtuv]{8}-){7}[cbdefghijklnrtuv]{8}$/),
});
export const RECOVERY_KEY = /^([cbdefghijklnrtuv]{8}-){7}[cbdefghijklnrtuv]{8}$/;
