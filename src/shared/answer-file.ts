import { z } from 'zod';

/**
 * The answer file, version 1: everything the wizard asks, so the same install can run unattended.
 * It is also the InstallRequest the UI sends to the engine. Field rules live here once; the JSON
 * Schema in docs/answer-file.schema.json is generated from this file (npm run schema).
 */

const LOCALE = /^[a-z]{2,3}(_[A-Z]{2})?(\.UTF-8)?(@[a-z]+)?$/;
const TIMEZONE = /^(UTC|[A-Z][A-Za-z_+-]+(\/[A-Za-z0-9_+-]+){1,2})$/;
const XKB_NAME = /^[a-z0-9][a-z0-9_()-]{0,63}$/;
const USERNAME = /^[a-z_][a-z0-9_-]{0,31}$/;
const HOSTNAME_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const CRYPT_HASH = /^\$(y|gy|7|2[abxy]|5|6)\$[./A-Za-z0-9$=,]+$/;
// The comment may hold any printable text, but no control character or line separator: a vertical
// tab, form feed, NEL or U+2028/U+2029 splits the line for tools that read authorized_keys with
// Python's splitlines(), an escape sequence would reach the terminal of whoever lists the keys, and a
// lone surrogate cannot be written as UTF-8.
const SSH_KEY = /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/=]+( [^\p{Cc}\p{Zl}\p{Zp}\p{Cs}]*)?$/u;
// A printable string: no control characters (newlines, NUL, escape sequences).
const PRINTABLE = /^[^\p{Cc}]*$/u;
/**
 * A secret a person types at a prompt: the disk's unlock prompt on boot, the login prompt. A control
 * character (line break, tab, NUL, escape; C0 or C1) cannot be typed there, and an unpaired surrogate
 * cannot even be written as UTF-8 (it would land as U+FFFD), so a secret holding one locks its owner out.
 */
const TYPABLE = /^[^\p{Cc}\p{Cs}]*$/u;
const untypable = (where: string): string =>
  `must not contain control characters (line breaks, tabs, NUL) or unpaired surrogates: they cannot be typed ${where}`;
/**
 * One kernel argument. Besides the kernel's command line it is written into GRUB_CMDLINE_LINUX="…",
 * which grub-mkconfig sources as shell, and from there into grub.cfg, which GRUB parses with its own
 * shell-like language; the kernel itself treats '"' as quoting and "--" as the start of init's
 * arguments. So only characters that mean nothing to any of them: no quotes, "$", "`", "\\", ";",
 * "&", "|", "<", ">", "#", braces or glob characters, and no leading "-".
 */
const KERNEL_ARG = /^[A-Za-z0-9_][A-Za-z0-9_.,:/=+@%!~-]*$/;

const RESERVED_USERNAMES = new Set(['root', 'daemon', 'bin', 'sys', 'sync', 'nobody', 'systemd-network', 'messagebus']);

export const ImageTransportSchema = z
  .enum(['registry', 'oci', 'oci-archive', 'docker-archive', 'containers-storage'])
  .describe('Where the reference points: a registry, an OCI layout directory, an OCI archive, a `docker save` archive, or local container storage.');
export type ImageTransport = z.infer<typeof ImageTransportSchema>;

// Registry references are ASCII by the distribution spec; anything else in one (a right-to-left
// override, a homoglyph) only serves to make the summary show another image than the one installed.
const REGISTRY_REF = /^[\x21-\x7e]+$/;

export const ImageSchema = z
  .object({
    reference: z
      .string()
      .min(1)
      .max(512)
      .regex(/^[^\s\p{Cc}\p{Cs}]+$/u, 'must not contain spaces, control characters or unpaired surrogates')
      .refine((s) => !s.startsWith('-'), 'must not start with "-"').describe('What to install: `quay.io/fedora/fedora-bootc:42` for a registry, a path for oci/oci-archive.'),
    transport: ImageTransportSchema.default('registry').describe('Where the reference points.'),
    targetImage: z
      .string()
      .max(512)
      .regex(REGISTRY_REF, 'must be printable ASCII without spaces, as registry references are')
      // It follows --target-imgref as its own argument: one starting with "-" would be read as an option.
      .refine((s) => !s.startsWith('-'), 'must not start with "-"')
      .optional().describe('The image the installed system updates from, when it differs from the source (offline installs).'),
    enforceSignaturePolicy: z.boolean().default(false).describe('Refuse images whose signature does not satisfy the container signature policy.'),
  })
  .strict()
  .superRefine((img, ctx) => {
    if (img.transport === 'registry' && !REGISTRY_REF.test(img.reference)) {
      ctx.addIssue({ code: 'custom', path: ['reference'], message: 'must be printable ASCII without spaces, as registry references are' });
    }
  });

export const DiskSelectorSchema = z
  .object({
    path: z.string().regex(/^\/dev\/[A-Za-z0-9/_.:+-]+$/, 'must be a device path under /dev').refine((p) => !p.includes('..'), 'must not contain ".."').optional().describe('A device node such as /dev/nvme0n1.'),
    byId: z.string().regex(/^(\/dev\/disk\/by-id\/)?[A-Za-z0-9_.:+-]+$/, 'must be a /dev/disk/by-id name').optional().describe('A /dev/disk/by-id path or its last component.'),
    serial: z.string().min(1).max(128).regex(PRINTABLE, 'must not contain control characters').optional().describe('The disk\'s serial number as lsblk reports it.'),
    wwn: z.string().regex(/^(0x|eui\.|naa\.)?[0-9a-fA-F]{8,40}$/, 'must be a WWN such as 0x5002538e40a1b2c3').optional().describe('The disk\'s World Wide Name (0x…).'),
    largestEligible: z.literal(true).optional().describe('Pick the largest disk whose verdict is not "refused".'),
  })
  .strict()
  .refine((d) => Object.values(d).filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of path, byId, serial, wwn, largestEligible',
  });

export const FilesystemSchema = z.enum(['xfs', 'ext4', 'btrfs']).describe('Root filesystem; btrfs gets @ and @home subvolumes and zstd compression.');

/**
 * A LUKS passphrase. Its length is counted in Unicode code points, as zod counts string lengths (since
 * colinhacks/zod#6441): 512 emoji fit, 4 are too short. The wizard checks with this very schema, so
 * the wizard and the engine cannot count differently.
 */
export const PassphraseSchema = z
  .string()
  .min(8, 'must be at least 8 characters')
  .max(512)
  .regex(TYPABLE, untypable('when the disk is unlocked'));
const PASSPHRASE_FILE = z
  .string()
  .max(4096)
  .regex(/^\/[^\p{Cc}]*$/u, 'must be an absolute path without control characters')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ".."')
  .describe('A file holding the passphrase instead (one trailing newline is ignored), read by the engine when it plans; for answer files that must not hold the secret.');
const ONE_PASSPHRASE = {
  message: 'give exactly one of passphrase and passphraseFile',
  path: ['passphrase'],
};
const onePassphrase = (e: { passphrase?: string | undefined; passphraseFile?: string | undefined }): boolean =>
  (e.passphrase === undefined) !== (e.passphraseFile === undefined);

export const EncryptionSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }).strict(),
  z
    .object({
      type: z.literal('luks2'),
      passphrase: PassphraseSchema.optional().describe('Passphrase for the LUKS2 volume; passed on stdin, never logged. Give this or passphraseFile.'),
      passphraseFile: PASSPHRASE_FILE.optional(),
    })
    .strict()
    .refine(onePassphrase, ONE_PASSPHRASE),
  z
    .object({
      type: z.literal('luks2-tpm2'),
      passphrase: PassphraseSchema.optional().describe('Passphrase kept as a fallback next to the TPM2 key slot. Give this or passphraseFile.'),
      passphraseFile: PASSPHRASE_FILE.optional(),
      recoveryKey: z
        .string()
        .regex(/^([cbdefghijklnrtuv]{8}-){7}[cbdefghijklnrtuv]{8}$/, 'must be a recovery key: eight groups of eight modhex letters joined by "-"')
        .optional()
        .describe('Recovery key enrolled in its own key slot, in systemd-cryptenroll\'s format; shown to the user before installing.'),
    })
    .strict()
    .refine(onePassphrase, ONE_PASSPHRASE),
]);

export const SwapSchema = z.enum(['zram', 'partition', 'none']).describe('Swap in compressed memory (zram), on a partition, or none.');

export const LayoutSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('erase').describe('Erase the whole disk and use the default layout.'),
      filesystem: FilesystemSchema.default('xfs'),
      encryption: EncryptionSchema.default({ type: 'none' }),
      swap: SwapSchema.default('zram'),
      rootSize: z.string().regex(/^[1-9][0-9]*[MGT]$/, 'must be a size such as 40G').optional().describe('Root size such as "40G"; the rest of the disk stays free. Omit to fill the disk.'),
      growOnFirstBoot: z
        .boolean()
        .default(false)
        .describe('Grow the root partition and filesystem to fill the disk on the first boot (for disk images written to bigger disks). oci-rootfs only, not with encryption.'),
    })
    .strict(),
  z
    .object({
      type: z.literal('bootc').describe('Let `bootc install to-disk --wipe` lay out the disk itself.'),
      filesystem: FilesystemSchema.default('xfs'),
      blockSetup: z.enum(['direct', 'tpm2-luks']).default('direct').describe('bootc\'s --block-setup.'),
      rootSize: z.string().regex(/^[1-9][0-9]*[MGT]$/, 'must be a size such as 40G').optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('existing').describe('Install into partitions that already exist.'),
      mounts: z
        .array(
          z
            .object({
              partition: z.string().regex(/^\/dev\/[A-Za-z0-9/_.:+-]+$/, 'must be a device path under /dev').describe('The existing partition, e.g. /dev/sda3.'),
              mountpoint: z.enum(['/', '/boot', '/boot/efi', '/home']).describe('Where it is mounted in the installed system.'),
              format: z.boolean().describe('Make a new filesystem on it (erasing it) or keep its contents.'),
              filesystem: z.enum(['xfs', 'ext4', 'btrfs', 'vfat']).optional().describe('Filesystem to make when format is true.'),
            })
            .strict(),
        )
        .min(1)
        .refine((m) => m.some((x) => x.mountpoint === '/'), 'must map a partition to /')
        .refine((m) => new Set(m.map((x) => x.mountpoint)).size === m.length, 'must not map two partitions to one mountpoint')
        .describe('Which partition goes where; / is required.'),
    })
    .strict(),
]);

export const UserSchema = z
  .object({
    name: z
      .string()
      .regex(USERNAME, 'must start with a lowercase letter or "_" and hold only a-z, 0-9, "_" and "-" (at most 32)')
      .refine((n) => !RESERVED_USERNAMES.has(n), 'is reserved for the system').describe('Login name: lower case letters, digits, "_" and "-", starting with a letter or "_", at most 32.'),
    // \p{Zl}/\p{Zp} (U+2028, U+2029) are line breaks to many readers of /etc/passwd; a lone surrogate
    // (\p{Cs}) cannot be written as UTF-8 at all and would land in the file as U+FFFD.
    fullName: z
      .string()
      .max(256)
      .regex(/^[^:\p{Cc}\p{Zl}\p{Zp}\p{Cs}]*$/u, 'must not contain ":", control characters, line separators or unpaired surrogates')
      .optional()
      .describe('Full name shown at login (GECOS); no ":" or control characters.'),
    password: z
      .string()
      .min(1)
      .max(1024)
      .regex(TYPABLE, untypable('at a login prompt'))
      .optional()
      .describe('Plain password; hashed as soon as the engine receives it. No control characters or unpaired surrogates.'),
    passwordHash: z.string().regex(CRYPT_HASH, 'must be a crypt(3) hash such as $y$… or $6$…').optional().describe('A crypt(3) hash (yescrypt $y$ or sha512-crypt $6$) instead of a plain password.'),
    admin: z.boolean().default(false).describe('Member of the administrators\' group (wheel or sudo).'),
    autologin: z.boolean().default(false).describe('Log in without a password on the first graphical session.'),
    sshKeys: z.array(z.string().regex(SSH_KEY, 'must be one OpenSSH public key line')).default([]).describe('SSH public keys for this user.'),
  })
  .strict()
  .refine((u) => !(u.password !== undefined && u.passwordHash !== undefined), {
    message: 'give password or passwordHash, not both',
  });

export const AnswerFileSchema = z
  .object({
    $schema: z.string().optional().describe('Optional pointer to the JSON Schema, for editors.'),
    version: z.literal(1).describe('Format version of this file.'),
    locale: z.string().regex(LOCALE, 'must be a locale such as en_US.UTF-8').default('en_US.UTF-8').describe('System locale, e.g. en_US.UTF-8.'),
    keyboard: z
      .object({
        layout: z.string().regex(XKB_NAME, 'must be an XKB layout name such as "us"').describe('XKB layout, e.g. "us" or "de".'),
        variant: z.string().regex(XKB_NAME, 'must be an XKB variant name').optional().describe('XKB variant, e.g. "nodeadkeys".'),
      })
      .strict()
      .default({ layout: 'us' }),
    timezone: z.string().regex(TIMEZONE, 'must be an IANA time zone such as Europe/Berlin').default('UTC').describe('IANA time zone, e.g. Europe/Berlin, or UTC.'),
    hostname: z
      .string()
      .max(253)
      .refine((h) => h.split('.').every((l) => HOSTNAME_LABEL.test(l)), 'must be lower case letters, digits and "-" in dot-separated labels of 1 to 63')
      .optional().describe('Host name: letters, digits and "-", dot-separated labels, at most 253 characters.'),
    disk: DiskSelectorSchema.describe('Which disk to install to.'),
    layout: LayoutSchema,
    users: z
      .array(UserSchema)
      .default([])
      .refine((us) => new Set(us.map((u) => u.name)).size === us.length, 'must not name the same user twice')
      .refine((us) => us.filter((u) => u.autologin).length <= 1, 'at most one user may log in automatically'),
    rootSshKeys: z.array(z.string().regex(SSH_KEY, 'must be one OpenSSH public key line')).default([]).describe('SSH public keys allowed to log in as root.'),
    image: ImageSchema,
    deployer: z
      .enum(['bootc', 'oci-rootfs'])
      .default('bootc')
      .describe('How the image becomes the system: `bootc install` (a bootable container), or oci-rootfs (the layers unpacked onto the disk and a boot loader installed from inside it, for images without bootc).'),
    bootloader: z
      .enum(['auto', 'grub', 'systemd-boot'])
      .default('auto')
      .describe('oci-rootfs only: the boot loader to install from the image. auto picks GRUB when the image has grub-install, otherwise systemd-boot.'),
    kernelArgs: z
      .array(
        z
          .string()
          .min(1)
          .max(4096)
          .regex(/^[^\s\p{Cc}]+$/u, 'must be one argument without spaces or control characters')
          .regex(KERNEL_ARG, 'must be one kernel argument of letters, digits and _ . , : / = + @ % ! ~ - only, not starting with "-" (no quotes, "$", "\\" or other shell or GRUB syntax)'),
      )
      .default([]).describe('Extra kernel command-line arguments, each of letters, digits and _ . , : / = + @ % ! ~ - (no quotes or shell syntax).'),
    reboot: z.boolean().default(false).describe('Reboot when the install has finished.'),
  })
  .strict();

export type AnswerFile = z.infer<typeof AnswerFileSchema>;
export type AnswerFileInput = z.input<typeof AnswerFileSchema>;

export interface FieldError {
  /** Dotted path to the field, e.g. users[0].name; "(root)" for the whole file. */
  readonly field: string;
  readonly message: string;
}

export function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(root)' : out;
}

/** Validates an answer file; every error names its field. */
export function validateAnswerFile(doc: unknown): { ok: true; value: AnswerFile } | { ok: false; errors: FieldError[] } {
  const r = AnswerFileSchema.safeParse(doc);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, errors: r.error.issues.map((i) => ({ field: fieldPath(i.path), message: i.message })) };
}
