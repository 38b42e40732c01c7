import type { ActivityId } from '../../shared/install';

/**
 * Pure parsers for what podman and bootc print while installing (see docs' bootc reference). bootc
 * has no machine-readable progress for `install`, so the deploy step's sub-progress comes from its
 * one-line stage messages, matched by content (their order changes between versions), plus an
 * optional bytes-written estimate against the `layers needed: N (SIZE)` total.
 */

export type PullEvent =
  | { readonly kind: 'trying'; readonly ref: string }
  | { readonly kind: 'signatures' }
  | { readonly kind: 'blob'; readonly digest: string; readonly skipped: boolean }
  | { readonly kind: 'config'; readonly digest: string }
  | { readonly kind: 'manifest' }
  | { readonly kind: 'loaded'; readonly ref: string }
  | { readonly kind: 'image-id'; readonly id: string }
  | { readonly kind: 'error'; readonly message: string };

/** One line of `podman pull`/`podman load` output (stderr when not a terminal; the id on stdout). */
export function parsePodmanPullLine(raw: string): PullEvent | null {
  const line = raw.trim();
  let m: RegExpExecArray | null;
  if ((m = /^Trying to pull (\S+?)\.\.\.$/.exec(line))) return { kind: 'trying', ref: m[1]! };
  if (line === 'Getting image source signatures') return { kind: 'signatures' };
  if ((m = /^Copying blob (?:sha256:)?([0-9a-f]{12,64})\b(.*)$/.exec(line))) {
    return { kind: 'blob', digest: `sha256:${m[1]!}`, skipped: /skipped|already exists/.test(m[2]!) };
  }
  if ((m = /^Copying config (?:sha256:)?([0-9a-f]{12,64})\b/.exec(line))) return { kind: 'config', digest: `sha256:${m[1]!}` };
  if (line.startsWith('Writing manifest to image destination')) return { kind: 'manifest' };
  if ((m = /^Loaded image(?:\(s\))?: (\S+)$/.exec(line))) return { kind: 'loaded', ref: m[1]! };
  if (/^[0-9a-f]{64}$/.test(line)) return { kind: 'image-id', id: line };
  if ((m = /^Error: (.+)$/.exec(line))) return { kind: 'error', message: m[1]! };
  return null;
}

export type BootcStage =
  | 'image'
  | 'digest'
  | 'init'
  | 'layers'
  | 'deployed'
  | 'injected'
  | 'bootloader'
  | 'bootupd'
  | 'trim'
  | 'finalize'
  | 'complete';

/** Matchers in no particular order: a line is recognised wherever it appears. */
const STAGE_PATTERNS: readonly (readonly [BootcStage, RegExp])[] = [
  ['image', /^Installing image: /],
  ['digest', /^Digest: /],
  ['init', /^Initializing ostree layout/],
  ['layers', /^layers already present: \d+; layers needed: \d+/],
  ['deployed', /^Deploying container image.*done/],
  ['injected', /^Injected: /],
  ['bootloader', /^Bootloader: /],
  ['bootupd', /^Installing bootloader via /],
  ['trim', /^Trimming root/],
  ['finalize', /^Finalizing filesystem root/],
  ['complete', /^Installation complete!?/],
];

export function bootcStage(raw: string): BootcStage | null {
  const line = raw.trim();
  return STAGE_PATTERNS.find(([, re]) => re.test(line))?.[0] ?? null;
}

/**
 * Where each stage puts the deploy step's fraction. Fetching and unpacking the layers is nearly all
 * of the time (minutes for a 2 GB image), so it owns 0.08 → 0.80; bootupd copies a few MB (0.86 →
 * 0.92); the rest are bookkeeping. Values are the fraction reached when the line appears.
 */
export const STAGE_FRACTION: Readonly<Record<BootcStage, number>> = {
  image: 0.02,
  digest: 0.04,
  init: 0.06,
  layers: 0.08,
  deployed: 0.8,
  injected: 0.82,
  bootloader: 0.84,
  bootupd: 0.86,
  trim: 0.92,
  finalize: 0.96,
  complete: 1,
};

const STAGE_MESSAGE: Readonly<Record<BootcStage, string>> = {
  image: 'Preparing the image',
  digest: 'Preparing the image',
  init: 'Initializing the system layout',
  layers: 'Deploying the image',
  deployed: 'Image deployed',
  injected: 'Adding SSH keys',
  bootloader: 'Installing the boot loader',
  bootupd: 'Installing the boot loader',
  trim: 'Finalizing the file system',
  finalize: 'Finalizing the file system',
  complete: 'Installation complete',
};

/** The same stages as ids a UI translates. */
export const STAGE_ACTIVITY: Readonly<Record<BootcStage, ActivityId>> = {
  image: 'image-prepare',
  digest: 'image-prepare',
  init: 'image-prepare',
  layers: 'image-deploy',
  deployed: 'image-deploy',
  injected: 'image-deploy',
  bootloader: 'bootloader',
  bootupd: 'bootloader',
  trim: 'filesystem-finish',
  finalize: 'filesystem-finish',
  complete: 'filesystem-finish',
};

export interface BootcUpdate {
  readonly stage: BootcStage;
  /** 0..1 within the deploy step; never goes backwards. */
  readonly fraction: number;
  readonly message: string;
  readonly activity: ActivityId;
  /** Bytes to transfer, from `layers needed: N (SIZE)`, once seen. */
  readonly totalBytes?: number;
}

const UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** "2.2 GB" → 2.2e9, "512 MiB" → 536870912; kB/KB both decimal as containers/image prints them. */
export function parseSize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]i?B|B)\s*$/.exec(text);
  if (!m) return null;
  const factor = UNITS[m[2]!.toLowerCase()];
  return factor === undefined ? null : Math.round(Number(m[1]) * factor);
}

/** Turns bootc's stdout lines into monotonic progress; unknown lines are ignored. */
export class BootcProgress {
  private fraction = 0;
  private stage: BootcStage | null = null;
  private totalBytes: number | undefined;

  /** Feeds one line; returns the new state when the line was a stage line. */
  line(raw: string): BootcUpdate | null {
    const stage = bootcStage(raw);
    if (!stage) return null;
    if (stage === 'layers') {
      const m = /layers needed: \d+ \(([^)]+)\)/.exec(raw);
      const total = m ? parseSize(m[1]!) : null;
      if (total !== null) this.totalBytes = total;
    }
    this.stage = stage;
    this.fraction = Math.max(this.fraction, STAGE_FRACTION[stage]);
    return this.current();
  }

  /**
   * Interpolates inside the layer transfer from bytes written to the target (e.g. the growth of its
   * used space) against the announced total; capped just below the next stage's value.
   */
  bytesWritten(bytes: number): BootcUpdate | null {
    if (this.stage !== 'layers' || !this.totalBytes) return null;
    const share = Math.min(1, Math.max(0, bytes / this.totalBytes));
    const from = STAGE_FRACTION.layers;
    const to = STAGE_FRACTION.deployed - 0.01;
    this.fraction = Math.max(this.fraction, from + (to - from) * share);
    return this.current();
  }

  current(): BootcUpdate | null {
    if (!this.stage) return null;
    const base = { stage: this.stage, fraction: this.fraction, message: STAGE_MESSAGE[this.stage], activity: STAGE_ACTIVITY[this.stage] };
    return this.totalBytes === undefined ? base : { ...base, totalBytes: this.totalBytes };
  }
}

export interface BootcErrorInfo {
  /** The error line without its `error:`/`Error:` prefix. */
  readonly message: string;
  /** What a user can do about it, in plain English; null when there is nothing specific to say. */
  readonly hint: string | null;
}

const HINTS: readonly (readonly [RegExp, string])[] = [
  [/Insufficient free space|no space left on device/i, 'The target disk does not have enough free space for this image. Free up space or choose a bigger disk.'],
  [/manifest unknown|name unknown|image not known|not found: manifest/i, 'The image was not found. Check the image reference (registry, name and tag).'],
  [/unauthorized|authentication required|requested access to the resource is denied/i, 'The registry refused access to the image. Log in to the registry (podman login) or check the credentials.'],
  // bootupd's error, which bootc prints before its own (bootc's bootloader.rs:223-263 runs bootupctl).
  [/no mounted ESP found|Failed to find ESP/i, 'The disk needs an EFI system partition (vfat, type EFI System) on the same disk as the root file system.'],
  [/bootupd is required/, 'bootc installs the boot loader with bootupd, which it did not find: install from a container of the image (the podman deployer), or install bootupd here.'],
  [/prepare-root\.conf/, 'bootc ran on this system and needs ostree\'s prepare-root.conf from it: install from a container of the image (the podman deployer).'],
  [/--pid=host/, 'bootc must see the host processes: run the container with podman run --pid=host.'],
  [/rootless/i, 'bootc cannot install from rootless podman: run podman as root.'],
  [/--privileged|CAP_SYS_ADMIN|must be executed as the root user/, 'bootc needs full root privileges: run podman as root with --privileged.'],
  [/Not a mountpoint/, 'The target file system must be mounted before installing.'],
  // bootc's empty-root check (require_empty_rootdir and require_dir_contains_only_mounts,
  // crates/lib/src/install.rs:2240-2290 at 534c76ea474a356aa288f6767635e579ea2614d5).
  [/Non-empty root filesystem|Found entry in |Found empty directory: /, 'The target file system is not empty (perhaps from an earlier failed attempt): format it and try again.'],
  [/ostree\.bootable|not a bootable/i, 'This image is not a bootable container image.'],
  [/short-name/, 'Use a fully qualified image reference, such as registry.example.org/os:1.'],
  [/dial tcp|no such host|connection refused|i\/o timeout|network is unreachable/i, 'The registry could not be reached. Check the network connection.'],
  [/unexpected argument|invalid value|unrecognized subcommand|unknown flag/, 'The installer passed an option this bootc or podman version does not accept.'],
];

/** Picks the error out of bootc's (or podman's) stderr and says what to do about it. */
export function parseBootcError(stderr: string): BootcErrorInfo | null {
  const lines = stderr.split('\n').map((l) => l.trimEnd());
  const index = lines.findIndex((l) => /^(?:error|Error): /.test(l));
  if (index < 0) return null;
  const message = lines[index]!.replace(/^(?:error|Error): /, '');
  // clap puts the useful part ("[possible values: …]") on the next lines; keep the whole error block.
  const block = lines.slice(index).join('\n');
  const hint = HINTS.find(([re]) => re.test(block))?.[1] ?? null;
  return { message, hint };
}
