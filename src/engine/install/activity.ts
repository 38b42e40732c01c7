import type { ActivityId, PlanAction } from '../../shared/install';
import type { OutputProgress } from './types';

/**
 * What the runner knows about an action before it runs: roughly how long it takes on an ordinary
 * machine (its share of the step, and how fast the bar moves while the command says nothing), what
 * to call it, and how to read its output. Commands run in the target (`chroot DIR cmd …`) are
 * judged by the command inside. The durations are guesses, which is why the runner also reads the
 * output where there is some, and says so when a command takes longer than guessed.
 */

export interface ActionProfile {
  /** On an ordinary machine; the runner scales it to this one (speed.ts). */
  readonly expectedMs: number;
  /**
   * The time is a property of the machine (CPU and disk on a job of about the same size on every
   * install), so the runner learns the machine's speed from it: not an image-sized unpack or pull,
   * a wait (udevadm settle, sync), nor a command whose expected time is a generous ceiling rather
   * than a typical time (mkfs, which mostly finishes in a second).
   */
  readonly calibrates: boolean;
  readonly activity: ActivityId | null;
  /** A fresh reader of this command's output lines, or null for actions that are not commands. */
  readonly reader: (() => OutputReader) | null;
}

/** Fed one line at a time; returns the command's own fraction (0..1) when the line moved it. */
export type OutputReader = (line: string) => OutputProgress | null;

/** English for each activity: the step-progress message (terminal, log); UIs translate the id. */
export const ACTIVITY_MESSAGE: Readonly<Record<ActivityId, string>> = {
  'image-prepare': 'Preparing the image',
  'image-deploy': 'Deploying the image',
  'image-unpack': 'Unpacking the image',
  initramfs: 'Building the initramfs',
  bootloader: 'Installing the boot loader',
  'boot-menu': 'Writing the boot menu',
  kernel: 'Installing the kernel and its initramfs',
  'filesystem-finish': 'Finalizing the file system',
  flush: 'Writing the last data to the disk',
};

const S = 1000;

interface CommandInfo {
  readonly seconds: number;
  /** See ActionProfile.calibrates. */
  readonly machine?: true;
  readonly activity?: ActivityId;
  readonly reader?: () => OutputReader;
}

/**
 * Lines nobody recognises still mean the command is getting on: each one covers a little of the
 * way left (1/(n+8) of the first 90 %), so a chatty command moves the bar and a quiet one is left
 * to the clock.
 */
export function lineCounter(): OutputReader {
  let n = 0;
  return () => {
    n++;
    return 0.9 * (n / (n + 8));
  };
}

/** Stage lines first; any other line counts as a small step, never past the next stage. */
function stagedReader(stages: readonly (readonly [RegExp, number])[], counted: (n: number) => number): () => OutputReader {
  return () => {
    let at = 0;
    let n = 0;
    return (raw) => {
      const line = raw.trim();
      const stage = stages.find(([re]) => re.test(line));
      if (stage) {
        at = Math.max(at, stage[1]);
        return at;
      }
      n++;
      const next = stages.map(([, f]) => f).filter((f) => f > at).sort((a, b) => a - b)[0] ?? 0.95;
      const f = Math.max(at, Math.min(next - 0.01, counted(n)));
      return f > at ? f : null;
    };
  };
}

/**
 * dracut (verbose, or distributions that print its info lines): a line per module, then a few
 * stage lines; "Creating initramfs image file '…' done" ends one image.
 */
export const dracutReader = stagedReader(
  [
    [/Including modules done/, 0.6],
    [/Installing kernel module dependencies/, 0.62],
    [/Resolving executable dependencies/, 0.66],
    [/Stripping files/, 0.7],
    [/Hardlinking files/, 0.72],
    [/Generating early-microcode cpio image/, 0.76],
    [/Store current command line parameters/, 0.78],
    [/Creating image file/, 0.8],
    [/Creating initramfs image file .* done/, 0.99],
  ],
  // "*** Including module: bash ***" and friends: forty to eighty of them.
  (n) => 0.02 + 0.56 * (n / (n + 30)),
);

/** update-initramfs says which image it generates, then mkinitramfs is quiet but for warnings. */
export const initramfsToolsReader = stagedReader([[/^update-initramfs: Generating /, 0.02]], (n) => 0.02 + 0.5 * (n / (n + 20)));

/** grub-install: the platform at the start, the verdict at the end. */
export const grubInstallReader = stagedReader(
  [
    [/^Installing for \S+ platform\./, 0.2],
    [/^Installation finished\. No error reported\./, 0.98],
  ],
  (n) => 0.2 * (n / (n + 4)),
);

/** grub-mkconfig: a header, a line per kernel and initrd found, firmware entries, "done". */
export const grubMkconfigReader = stagedReader(
  [
    [/^Generating grub configuration file/, 0.05],
    [/^Adding boot menu entry for UEFI Firmware Settings/, 0.85],
    [/^done$/, 0.98],
  ],
  (n) => 0.05 + 0.75 * (n / (n + 4)),
);

const COMMANDS: Readonly<Record<string, CommandInfo>> = {
  'update-initramfs': { seconds: 45, machine: true, activity: 'initramfs', reader: initramfsToolsReader },
  dracut: { seconds: 60, machine: true, activity: 'initramfs', reader: dracutReader },
  mkinitcpio: { seconds: 45, machine: true, activity: 'initramfs' },
  'kernel-install': { seconds: 60, machine: true, activity: 'kernel', reader: dracutReader },
  'grub-install': { seconds: 15, machine: true, activity: 'bootloader', reader: grubInstallReader },
  'grub2-install': { seconds: 15, machine: true, activity: 'bootloader', reader: grubInstallReader },
  'grub-mkconfig': { seconds: 15, machine: true, activity: 'boot-menu', reader: grubMkconfigReader },
  'grub2-mkconfig': { seconds: 15, machine: true, activity: 'boot-menu', reader: grubMkconfigReader },
  'update-grub': { seconds: 15, machine: true, activity: 'boot-menu', reader: grubMkconfigReader },
  bootctl: { seconds: 5, machine: true, activity: 'bootloader' },
  bootupctl: { seconds: 15, machine: true, activity: 'bootloader' },
  efibootmgr: { seconds: 2, activity: 'bootloader' },
  'mkfs.xfs': { seconds: 10 },
  'mkfs.ext4': { seconds: 10 },
  'mkfs.btrfs': { seconds: 10 },
  'mkfs.vfat': { seconds: 2 },
  mkswap: { seconds: 2 },
  'systemd-cryptenroll': { seconds: 10 },
  sfdisk: { seconds: 3 },
  wipefs: { seconds: 1 },
  partx: { seconds: 1 },
  udevadm: { seconds: 3 },
  lsblk: { seconds: 0.5 },
  blockdev: { seconds: 0.2 },
  mount: { seconds: 0.5 },
  umount: { seconds: 3, activity: 'flush' },
  swapon: { seconds: 0.5 },
  swapoff: { seconds: 2 },
  sync: { seconds: 10, activity: 'flush' },
  fstrim: { seconds: 30, activity: 'filesystem-finish' },
  btrfs: { seconds: 1 },
  useradd: { seconds: 1 },
  groupadd: { seconds: 1 },
  usermod: { seconds: 1 },
  chpasswd: { seconds: 1 },
  chown: { seconds: 1 },
  rm: { seconds: 5 },
  test: { seconds: 0.1 },
  skopeo: { seconds: 300 },
};

/** Any command not in the table. */
const OTHER: CommandInfo = { seconds: 5 };

/** The command an argv runs: past `chroot DIR` and `env NAME=VALUE…`, without its directory. */
export function commandName(argv: readonly string[]): string {
  let rest = argv;
  for (;;) {
    if (rest[0] !== undefined && baseName(rest[0]) === 'chroot') rest = rest.slice(2);
    else if (rest[0] !== undefined && baseName(rest[0]) === 'env') {
      const command = rest.slice(1).findIndex((a) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(a));
      rest = command < 0 ? [] : rest.slice(1 + command);
    }
    else break;
  }
  return baseName(rest[0] ?? '');
}

const baseName = (path: string): string => path.slice(path.lastIndexOf('/') + 1);

function commandInfo(argv: readonly string[]): CommandInfo {
  const name = commandName(argv);
  if (name === 'podman' || name === 'bootc') {
    if (argv.includes('pull')) return { seconds: 300 };
    if (argv.includes('finalize')) return { seconds: 10, activity: 'filesystem-finish' };
    // bootc install, in a container or on the host: the deploy parser names its stages.
    if (argv.includes('install')) return { seconds: 600 };
    return { seconds: 10 };
  }
  if (name === 'cryptsetup') return { seconds: argv.includes('luksFormat') ? 15 : argv.includes('open') || argv.includes('luksOpen') ? 5 : 1 };
  return COMMANDS[name] ?? OTHER;
}

export function actionProfile(action: PlanAction): ActionProfile {
  switch (action.kind) {
    case 'run': {
      const info = commandInfo(action.argv);
      return { expectedMs: info.seconds * S, calibrates: info.machine === true, activity: info.activity ?? null, reader: info.reader ?? lineCounter };
    }
    case 'unpack':
      return { expectedMs: 300 * S, calibrates: false, activity: 'image-unpack', reader: null };
    case 'preflight':
      return { expectedMs: 10, calibrates: false, activity: null, reader: null };
    case 'relabel':
      return { expectedMs: 5 * S, calibrates: false, activity: null, reader: null };
    case 'write':
    case 'symlink':
    case 'mkdir':
    case 'save-log':
      return { expectedMs: 50, calibrates: false, activity: null, reader: null };
  }
}
