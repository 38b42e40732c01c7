import type { AnswerFile, PlanAction, PlanCondition, PlannedPartition, PlanStep, PlanWarning } from '../../shared';
import { consoleKeymap } from './configure';
import { vfatUuid } from './layout';
import { mkdir, PlanError, refuse, run, step, write } from './steps';
import { makeError } from '../../shared';

/**
 * The oci-rootfs deployer's part of a plan: a plain OCI image (layers of a root filesystem) is
 * unpacked onto the mounted target, then the system is made bootable from inside it, the way
 * image-based provisioning does it: fstab and crypttab from the plan, the initramfs rebuilt with the
 * image's own tool where the image's cannot do (initramfsActions), GRUB (EFI removable path plus BIOS) or systemd-boot installed from a chroot.
 *
 * What the image carries is known only once it is unpacked, so the plan lists each branch with the
 * condition that selects it (`when`), and the summary and `plan --config` show both.
 */

export const STAGING_DIR = '.particle-image';

type Erase = Extract<AnswerFile['layout'], { type: 'erase' }>;

export interface RootfsLayout {
  readonly target: string;
  readonly disk: string;
  readonly arch: string;
  readonly firmware: 'uefi' | 'bios';
  readonly layout: Erase;
  readonly partitions: readonly PlannedPartition[];
  /** UUID of the root filesystem (inside LUKS when encrypted). */
  readonly rootFsUuid: string;
  /** The open LUKS mapping's name; crypttab uses the same one, so the initramfs hook finds the root in it. */
  readonly mapper: string | null;
  /** Kernel arguments the plan adds (rd.luks.*), before the answer file's own. */
  readonly kernelArgs: readonly string[];
}

const when = (path: string, test: PlanCondition['test']): PlanCondition => ({ path, test });

/** pull (for images that are not local files) and deploy (unpack, then drop the staging copy). */
export function rootfsDeploySteps(request: AnswerFile, target: string): PlanStep[] {
  const { transport, reference } = request.image;
  if (request.image.targetImage) refuse('image.targetImage', 'an oci-rootfs install does not update from an image; leave targetImage out');
  if (request.image.enforceSignaturePolicy && (transport === 'oci' || transport === 'oci-archive' || transport === 'docker-archive')) {
    refuse('image.enforceSignaturePolicy', 'a local image file carries no signature to check; copy it with skopeo and a signature policy first, or turn the check off');
  }
  const steps: PlanStep[] = [];
  const staged = `${target}/${STAGING_DIR}`;
  let source: Extract<PlanAction, { kind: 'unpack' }>['source'];
  const deploy: PlanAction[] = [];
  if (transport === 'registry' || transport === 'containers-storage') {
    // Copied onto the target's own filesystem, not into the live system's memory, then unpacked from there.
    const from = transport === 'registry' ? `docker://${reference}` : `containers-storage:${reference}`;
    const policy = request.image.enforceSignaturePolicy ? [] : ['--insecure-policy'];
    steps.push(step('pull', false, [run(['skopeo', 'copy', ...policy, from, `oci:${staged}:image`], { timeoutSeconds: 6 * 3600 })]));
    source = { transport: 'oci', path: staged, ref: 'image' };
  } else {
    const [path, ref] = splitRef(transport, reference);
    source = { transport, path, ...(ref ? { ref } : {}) };
  }
  deploy.push({ kind: 'unpack', source, target, protect: [STAGING_DIR] });
  if (source.path === staged) deploy.push(run(['rm', '-rf', '--one-file-system', staged], { timeoutSeconds: 600 }));
  steps.push(step('deploy', false, deploy));
  return steps;
}

/** `oci:DIR:TAG` is written as reference "DIR:TAG"; a path with a colon in it is not supported. */
function splitRef(transport: 'oci' | 'oci-archive' | 'docker-archive', reference: string): [string, string | undefined] {
  if (!reference.startsWith('/')) refuse('image.reference', `an ${transport} image is given by its absolute path, e.g. /run/media/image${transport === 'oci' ? '' : '.tar'}`);
  if (reference.split('/').includes('..')) refuse('image.reference', 'must not contain ".."');
  const colon = reference.indexOf(':');
  if (colon === -1) return [reference, undefined];
  if (transport === 'docker-archive') refuse('image.reference', 'a docker-archive is given by its path alone');
  const ref = reference.slice(colon + 1);
  if (!/^[A-Za-z0-9._-][A-Za-z0-9._:@/+-]*$/.test(ref)) refuse('image.reference', `"${ref}" is not a tag of an OCI layout`);
  return [reference.slice(0, colon), ref];
}

function rootMountOptions(l: RootfsLayout, subvol: '@' | '@home'): string {
  return l.layout.filesystem === 'btrfs' ? `subvol=${subvol},compress=zstd:1` : 'defaults';
}

export function fstab(l: RootfsLayout): string {
  const lines = ['# Written by the installer. See fstab(5).', '# <file system> <mount point> <type> <options> <dump> <pass>'];
  const fs = l.layout.filesystem;
  // fsck at boot for ext4 only: xfs and btrfs have no boot-time fsck to run.
  lines.push(`UUID=${l.rootFsUuid} / ${fs} ${rootMountOptions(l, '@')} 0 ${fs === 'ext4' ? 1 : 0}`);
  if (fs === 'btrfs') lines.push(`UUID=${l.rootFsUuid} /home btrfs ${rootMountOptions(l, '@home')} 0 0`);
  const boot = l.partitions.find((p) => p.mountpoint === '/boot');
  if (boot) lines.push(`UUID=${boot.uuid} /boot ext4 defaults 0 2`);
  const esp = l.partitions.find((p) => p.content === 'vfat');
  if (esp) lines.push(`UUID=${vfatUuid(esp.uuid)} /boot/efi vfat umask=0077,shortname=winnt 0 2`);
  const swap = l.partitions.find((p) => p.content === 'swap');
  if (swap) lines.push(`UUID=${swap.uuid} none swap defaults 0 0`);
  return `${lines.join('\n')}\n`;
}

export function crypttab(l: RootfsLayout): string | null {
  const root = l.partitions.find((p) => p.mountpoint === '/');
  if (!l.mapper || root?.content !== 'luks2') return null;
  const opts = ['luks', 'discard'];
  if (l.layout.encryption.type === 'luks2-tpm2') opts.push('tpm2-device=auto');
  return `# Written by the installer. See crypttab(5).\n${l.mapper} UUID=${root.uuid} none ${opts.join(',')}\n`;
}

/** The kernel command line both boot loaders get. */
export function commandLine(l: RootfsLayout, extra: readonly string[]): string[] {
  const args = [`root=UUID=${l.rootFsUuid}`, 'rw'];
  if (l.layout.filesystem === 'btrfs') args.push('rootflags=subvol=@');
  return [...args, ...l.kernelArgs, ...extra];
}

/**
 * The grow-on-first-boot service: the root partition is extended to the end of its disk (the backup
 * GPT moved there first), the kernel told with partx, then the filesystem grown online. It runs once.
 */
const GROW_SCRIPT = `#!/bin/sh
# Written by the installer: grows the root partition and its filesystem to fill the disk, once.
set -eu
src=$(findmnt --noheadings --output SOURCE /)
src=\${src%%[*}
dev=$(basename "$(readlink -f "$src")")
part=$(cat "/sys/class/block/$dev/partition")
disk=/dev/$(basename "$(readlink -f "/sys/class/block/$dev/..")")
sfdisk --relocate gpt-bak-std "$disk"
echo ', +' | sfdisk --no-reread --no-tell-kernel --force -N "$part" "$disk"
partx --update --nr "$part" "$disk"
case $(findmnt --noheadings --output FSTYPE /) in
  btrfs) btrfs filesystem resize max / ;;
  ext4) resize2fs "$src" ;;
  xfs) xfs_growfs / ;;
esac
mkdir -p /var/lib/particle-installer
touch /var/lib/particle-installer/root-grown
`;

const GROW_UNIT = `[Unit]
Description=Grow the root file system to fill its disk
Documentation=man:sfdisk(8)
ConditionPathExists=!/var/lib/particle-installer/root-grown
After=local-fs.target
Before=systemd-user-sessions.service

[Service]
Type=oneshot
ExecStart=/usr/local/libexec/particle-grow-root

[Install]
WantedBy=multi-user.target
`;

/** Settings only an unpacked root needs (bootc writes its own fstab): fstab, crypttab, boot loader defaults, growing. */
export function rootfsConfigure(request: AnswerFile, l: RootfsLayout): PlanAction[] {
  const T = l.target;
  const out: PlanAction[] = [mkdir(`${T}/etc`), write(`${T}/etc/fstab`, fstab(l))];
  const ct = crypttab(l);
  if (ct) out.push(write(`${T}/etc/crypttab`, ct, '0600'));
  const cmdline = commandLine(l, request.kernelArgs);
  // Debian's grub-mkconfig reads /etc/default/grub.d/*.cfg after /etc/default/grub; root= it finds itself.
  const grubArgs = cmdline.filter((a) => !a.startsWith('root=') && a !== 'rw' && !a.startsWith('rootflags='));
  out.push(mkdir(`${T}/etc/default`), mkdir(`${T}/etc/default/grub.d`));
  out.push(
    write(
      `${T}/etc/default/grub.d/50-particle-installer.cfg`,
      ['# Written by the installer.', `GRUB_CMDLINE_LINUX="${grubArgs.join(' ')}"`, 'GRUB_TIMEOUT=1', 'GRUB_DISABLE_OS_PROBER=true', ...grubSerial(cmdline), ''].join('\n'),
    ),
  );
  // kernel-install (systemd-boot) takes the command line from here.
  out.push(mkdir(`${T}/etc/kernel`), write(`${T}/etc/kernel/cmdline`, `${cmdline.join(' ')}\n`));
  if (l.layout.growOnFirstBoot) {
    out.push(mkdir(`${T}/usr/local/libexec`), write(`${T}/usr/local/libexec/particle-grow-root`, GROW_SCRIPT, '0755'));
    out.push(mkdir(`${T}/etc/systemd/system/multi-user.target.wants`));
    out.push(write(`${T}/etc/systemd/system/particle-grow-root.service`, GROW_UNIT));
    out.push({ kind: 'symlink', path: `${T}/etc/systemd/system/multi-user.target.wants/particle-grow-root.service`, target: '/etc/systemd/system/particle-grow-root.service' });
  }
  return out;
}

/** A kernel console on a serial port (console=ttyS0,115200) puts GRUB's menu and messages there too. */
export function grubSerial(cmdline: readonly string[]): string[] {
  const m = cmdline.map((a) => /^console=ttyS([0-9]+)(?:,([0-9]+))?/.exec(a)).find((x) => x !== null);
  if (!m) return [];
  return ['GRUB_TERMINAL="console serial"', `GRUB_SERIAL_COMMAND="serial --unit=${m[1]} --speed=${m[2] ?? '115200'}"`];
}

const chroot = (T: string, ...argv: string[]): string[] => ['chroot', T, ...argv];

/** /etc/kernel/install.conf for systemd-boot: kernel-install's $BOOT is the ESP, with Type #1 entries (see bootloaderStep). */
export const KERNEL_INSTALL_CONF = [
  '# Written by the installer: boot entries, kernels and initrds go onto the ESP, which systemd-boot',
  '# reads (a separate /boot is ext4, which the firmware cannot read).',
  'BOOT_ROOT=/boot/efi',
  'layout=bls',
  '',
].join('\n');

/**
 * The boot loader from inside the target: the ESP mounted, /dev, /proc, /sys (and efivars) bound in,
 * the initramfs rebuilt where needed (it then knows crypttab), then GRUB or systemd-boot.
 */
export function bootloaderStep(request: AnswerFile, l: RootfsLayout): PlanStep {
  const T = l.target;
  const esp = l.partitions.find((p) => p.content === 'vfat');
  if (!esp) throw new PlanError(makeError('internal', 'an oci-rootfs plan without an ESP'));
  const choice = request.bootloader;
  if (choice === 'systemd-boot' && l.firmware === 'bios') refuse('bootloader', 'systemd-boot needs UEFI, and this machine started with BIOS; choose grub or auto');
  const efivars = '/sys/firmware/efi/efivars';
  const a: PlanAction[] = [
    mkdir(`${T}/boot/efi`),
    run(['mount', '-o', 'umask=0077', esp.path, `${T}/boot/efi`]),
    mkdir(`${T}/dev`),
    run(['mount', '--bind', '/dev', `${T}/dev`]),
    mkdir(`${T}/proc`),
    run(['mount', '-t', 'proc', 'proc', `${T}/proc`]),
    mkdir(`${T}/sys`),
    run(['mount', '-t', 'sysfs', 'sysfs', `${T}/sys`]),
    run(['mount', '--bind', efivars, `${T}${efivars}`], { when: [when(efivars, 'exists'), when(`${T}${efivars}`, 'exists')] }),
    mkdir(`${T}/run`),
    run(['mount', '-t', 'tmpfs', '-o', 'mode=0755', 'tmpfs', `${T}/run`]),
    ...initramfsActions(l),
  ];
  const hasGrub = `${T}/usr/sbin/grub-install`;
  // auto: GRUB when the image has it; systemd-boot otherwise (UEFI only, so on BIOS GRUB is required).
  const grubIf: PlanCondition[] = choice === 'auto' && l.firmware === 'uefi' ? [when(hasGrub, 'exists')] : [];
  const sdbootIf: PlanCondition[] = choice === 'auto' ? [when(hasGrub, 'missing')] : [];
  if (choice !== 'systemd-boot') {
    const efiTarget = l.arch === 'arm64' ? 'arm64-efi' : 'x86_64-efi';
    const efi = ['grub-install', `--target=${efiTarget}`, '--efi-directory=/boot/efi', '--boot-directory=/boot'];
    // The removable path (EFI/BOOT/BOOTX64.EFI) boots on any firmware, even with no NVRAM entry.
    a.push(run(chroot(T, ...efi, '--removable', '--no-nvram'), { timeoutSeconds: 600, when: [...grubIf, when(`${T}/usr/lib/grub/${efiTarget}`, 'exists')] }));
    // The NVRAM entry, where the firmware's variables can be written and the image can write them.
    a.push(
      run(chroot(T, ...efi), {
        timeoutSeconds: 600,
        when: [...grubIf, when(`${T}/usr/lib/grub/${efiTarget}`, 'exists'), when(efivars, 'writable'), when(`${T}/bin/efibootmgr`, 'exists')],
      }),
    );
    if (l.arch === 'x64') {
      // Into the BIOS boot partition, so the same disk also starts on BIOS machines.
      a.push(run(chroot(T, 'grub-install', '--target=i386-pc', '--boot-directory=/boot', l.disk), { timeoutSeconds: 600, when: [...grubIf, when(`${T}/usr/lib/grub/i386-pc`, 'exists')] }));
    }
    a.push(run(chroot(T, 'grub-mkconfig', '-o', '/boot/grub/grub.cfg'), { timeoutSeconds: 600, ...(grubIf.length ? { when: grubIf } : {}) }));
    // What the machine starts from must be there: the removable EFI loader on UEFI, core.img on BIOS.
    if (l.firmware === 'uefi') a.push(run(['test', '-s', `${T}/boot/efi/EFI/BOOT/${l.arch === 'arm64' ? 'BOOTAA64.EFI' : 'BOOTX64.EFI'}`], grubIf.length ? { when: grubIf } : {}));
    else a.push(run(['test', '-s', `${T}/boot/grub/i386-pc/core.img`]));
  }
  if (choice === 'systemd-boot' || (choice === 'auto' && l.firmware === 'uefi')) {
    a.push(run(chroot(T, 'bootctl', 'install', '--esp-path=/boot/efi'), { when: [...sdbootIf, when(efivars, 'writable')] }));
    a.push(run(chroot(T, 'bootctl', 'install', '--esp-path=/boot/efi', '--no-variables'), { when: [...sdbootIf, when(efivars, 'not-writable')] }));
    const kv = '{kernel-version}';
    // The entry, kernel and initrd go onto the ESP, the one file system systemd-boot reads here (it
    // reads an XBOOTLDR partition too, through the firmware's drivers, and a separate /boot is ext4).
    // kernel-install (systemd's src/kernel-install/kernel-install.c, read at 00dbaf94934d):
    // - $BOOT_ROOT comes from the environment, else from /etc/kernel/install.conf, else the XBOOTLDR
    //   partition, else the ESP (context_ensure_boot_root). Left to itself in the chroot it picked the
    //   ext4 /boot of an encrypted layout, whose partition type is XBOOTLDR.
    // - The layout comes from install.conf; else it is "bls" only when $BOOT_ROOT holds
    //   loader/entries.srel reading "type1" or a folder named for the entry token, and "other"
    //   otherwise (context_ensure_layout), and 90-loaderentry.install writes nothing for "other".
    //   bootctl install writes entries.srel where it puts entries: on the XBOOTLDR partition when
    //   there is one. So with BOOT_ROOT alone, an encrypted install got a kernel-install that wrote
    //   no entry, and systemd-boot listed only "Reboot Into Firmware Interface" (seen in the VM test).
    // install.conf says both, and it stays: the booted system's kernel updates (Debian's
    // zz-systemd-boot hook runs kernel-install) go to the ESP too. An image's own is kept.
    a.push({
      kind: 'write',
      path: `${T}/etc/kernel/install.conf`,
      content: KERNEL_INSTALL_CONF,
      mode: '0644',
      when: [...sdbootIf, when(`${T}/etc/kernel/install.conf`, 'missing')],
    });
    const ki = (image: string): string[] => chroot(T, 'env', 'BOOT_ROOT=/boot/efi', 'kernel-install', 'add', kv, image);
    a.push(run(ki(`/boot/vmlinuz-${kv}`), { timeoutSeconds: 1800, when: [...sdbootIf, when(`${T}/boot/vmlinuz-${kv}`, 'exists')] }));
    a.push(run(ki(`/usr/lib/modules/${kv}/vmlinuz`), { timeoutSeconds: 1800, when: [...sdbootIf, when(`${T}/boot/vmlinuz-${kv}`, 'missing')] }));
  }
  return step('bootloader', false, a);
}

/**
 * The initramfs, with the image's own tool, only where the one the image ships cannot do the job.
 *
 * - An encrypted root: the initramfs must carry crypttab (initramfs-tools' cryptroot hook copies it
 *   when the image is built into it) and the chosen keymap for the prompt, so it is always rebuilt.
 * - Otherwise, on an initramfs-tools image: the image's own initramfs is kept when there is one for its
 *   kernel. initramfs-tools builds a generic one by default (MODULES=most: every storage and
 *   filesystem driver), root= comes from the kernel command line GRUB writes, and nothing the plan
 *   writes (fstab, locale, users) is read from the initramfs. An image built in a container cannot
 *   have used MODULES=dep (mkinitramfs cannot find a root device there and stops), so what it ships
 *   is the generic kind. This is how bootc treats an image's initramfs too: it never rebuilds one. It
 *   saves the step's costliest command: for the Debian test image, `update-initramfs` starts 2,394
 *   processes (1,020 of them `cp`, counted with strace), which an emulated CPU makes minutes long.
 * - dracut images are always rebuilt: dracut builds host-only images by default, and one built on
 *   the image's build machine may lack this machine's drivers.
 */
export function initramfsActions(l: RootfsLayout): PlanAction[] {
  const T = l.target;
  const tools = when(`${T}/usr/sbin/update-initramfs`, 'exists');
  const dracut = run(chroot(T, 'dracut', '--force', '--regenerate-all'), { timeoutSeconds: 1800, when: [when(`${T}/usr/bin/dracut`, 'exists'), when(`${T}/usr/sbin/update-initramfs`, 'missing')] });
  if (l.mapper !== null) return [run(chroot(T, 'update-initramfs', '-u', '-k', 'all'), { timeoutSeconds: 1800, when: [tools] }), dracut];
  return [run(chroot(T, 'update-initramfs', '-c', '-k', '{kernel-version}'), { timeoutSeconds: 1800, when: [tools, when(`${T}/boot/initrd.img-{kernel-version}`, 'missing')] }), dracut];
}

/** Debian's keyboard file (console-setup reads it; systemd reads vconsole.conf, written for every image). */
export function debianKeyboard(request: AnswerFile, T: string): PlanAction {
  const k = request.keyboard;
  return write(
    `${T}/etc/default/keyboard`,
    `# Written by the installer. See keyboard(5).\nXKBMODEL="pc105"\nXKBLAYOUT="${k.layout}"\nXKBVARIANT="${k.variant ?? ''}"\nXKBOPTIONS=""\nBACKSPACE="guess"\n`,
  );
}

/**
 * An initramfs built by initramfs-tools loads a keyboard layout only when asked: its keymap hook
 * (/usr/share/initramfs-tools/hooks/keymap) does nothing unless KEYMAP is y, and then runs the image's
 * `setupcon --setup-dir` (console-setup), which compiles /etc/default/keyboard into the initramfs;
 * init-top/keymap loads it before local-top/cryptroot asks for the passphrase. mkinitramfs sources
 * every file in /etc/initramfs-tools/conf.d after initramfs.conf (initramfs-tools 0.142, Debian 12),
 * so a drop-in there sets it without editing the image's own file. Written only where initramfs-tools
 * is installed (its package ships that directory); dracut images get the layout from vconsole.conf
 * and rd.vconsole.keymap instead. The US layout is the kernel's own, so it needs nothing.
 */
export function initramfsKeymap(request: AnswerFile, T: string): PlanAction[] {
  if (consoleKeymap(request.keyboard.layout, request.keyboard.variant) === 'us') return [];
  const confd = `${T}/etc/initramfs-tools/conf.d`;
  const content = '# Written by the installer: load the keyboard layout of /etc/default/keyboard in the initramfs too,\n# so the passphrase prompt types with it. See initramfs.conf(5).\nKEYMAP=y\n';
  return [{ kind: 'write', path: `${confd}/particle-keymap`, content, mode: '0644', when: [when(confd, 'exists')] }];
}

/**
 * With an encrypted root, what the plan cannot promise about the passphrase prompt: the initramfs can
 * carry the chosen layout only if the image has the tools for it. initramfs-tools needs console-setup
 * (the keymap hook skips the layout, with just a message, when /bin/setupcon is missing); dracut's
 * i18n module needs kbd's loadkeys. Which tool an image has is known once it is unpacked, so each
 * warning names its condition, checked before the bootloader step, which rebuilds the initramfs.
 */
export function keymapWarnings(request: AnswerFile, T: string): PlanWarning[] {
  const k = request.keyboard;
  const keymap = consoleKeymap(k.layout, k.variant);
  if (keymap === 'us') return [];
  const chosen = `${k.layout}${k.variant ? ` (${k.variant})` : ''}, console keymap ${keymap}`;
  const prompt = `the passphrase prompt at boot will use the image's default keyboard layout (usually US English), not the chosen one (${chosen}); choose a passphrase that types the same in both`;
  const initramfsTools = `${T}/usr/sbin/update-initramfs`;
  return [
    {
      id: 'luks-keymap-default',
      message: `If the image builds its initramfs with initramfs-tools but has no console-setup (setupcon), ${prompt}.`,
      when: [when(initramfsTools, 'exists'), when(`${T}/bin/setupcon`, 'missing')],
      checkBefore: 'bootloader',
    },
    {
      id: 'luks-keymap-default',
      message: `If the image builds its initramfs with dracut but has no kbd (loadkeys), ${prompt}.`,
      when: [when(initramfsTools, 'missing'), when(`${T}/usr/bin/dracut`, 'exists'), when(`${T}/usr/bin/loadkeys`, 'missing')],
      checkBefore: 'bootloader',
    },
  ];
}
