import type { AnswerFile } from '../../shared/answer-file';
import type { PlanAction } from '../../shared/install';
import { mkdir, run, write } from './steps';

/**
 * What the configure step does to the deployment bootc just wrote: users, autologin, host name,
 * locale, keyboard and time zone, as plan actions (pure: no I/O here). bootc itself creates none of
 * these. The order follows Anaconda's for bootc/ostree deployments: bind the stateroot's var onto the
 * deployment's var, useradd, /etc/localtime, locale.conf, vconsole.conf, hostname, unbind. For a
 * bootc deployment, SELinux labels for what was written are set before the unbind (the homes are
 * reachable as /var/home only then); a plain root is labelled whole at the end (rootfsRelabel).
 *
 * Paths are relative to the placeholders `{deployment}` (the deployment root) and `{stateroot-var}`
 * (the stateroot's var, the installed system's /var), which the runner resolves.
 */

export interface ConfigureOptions {
  /** Administrators' group: "wheel" on Fedora-like images, "sudo" on Debian-like ones. Default wheel. */
  readonly adminGroup?: 'wheel' | 'sudo';
  /**
   * The installed system's root and its /var, for a plain root filesystem (oci-rootfs), where both
   * are known paths; default the bootc placeholders `{deployment}` and `{stateroot-var}`.
   */
  readonly root?: string;
  /**
   * More settings for a bootc deployment's /etc (swap, mounts), written before the SELinux labels
   * are set, so they get theirs too.
   */
  readonly more?: readonly PlanAction[];
}

const DEPLOYMENT = '{deployment}';
const STATEROOT_VAR = '{stateroot-var}';


/**
 * Values come from the validated request, but a NUL or line break that got this far would split a
 * config line or an /etc/passwd entry, so refuse it outright instead of trusting every caller.
 */
function clean(field: string, value: string): string {
  if (/[\0\r\n]/.test(value)) throw new Error(`${field} contains a NUL or line break; refusing to configure the system with it`);
  return value;
}

/**
 * XKB names whose console keymap (kbd) is called differently. Everything else maps to the XKB name
 * itself, or "layout-variant", which is how the keymaps converted from xkeyboard-config are named
 * and what localectl picks on Fedora. Entries are from systemd's kbd-model-map.
 */
const KEYMAP_BY_LAYOUT: Readonly<Record<string, string>> = {
  gb: 'uk',
  ch: 'sg',
  latam: 'la-latin1',
  kr: 'ko',
  si: 'slovene',
  hr: 'croat',
  ee: 'et',
  se: 'sv-latin1',
  jp: 'jp106',
  br: 'br-abnt2',
  pl: 'pl2',
};
const KEYMAP_BY_VARIANT: Readonly<Record<string, string>> = {
  'us:dvorak': 'dvorak',
  'us:intl': 'us-acentos',
  'ch:fr': 'fr_CH',
  'ch:de_nodeadkeys': 'sg-latin1',
  'fr:latin9': 'fr-latin9',
  'es:dvorak': 'es-dvorak',
};

/** The console keymap for an XKB layout and variant. */
export function consoleKeymap(layout: string, variant?: string): string {
  if (variant !== undefined && variant !== '') return KEYMAP_BY_VARIANT[`${layout}:${variant}`] ?? `${layout}-${variant}`;
  return KEYMAP_BY_LAYOUT[layout] ?? layout;
}

/**
 * Kernel arguments that give the installed system's console, and its initrd's passphrase prompt, the
 * chosen layout. systemd-vconsole-setup reads /etc/vconsole.conf, then lets `vconsole.keymap=` on the
 * kernel command line override it; inside the initrd it accepts the `rd.` form as well
 * (proc_cmdline_get_key_many with PROC_CMDLINE_STRIP_RD_PREFIX in systemd's
 * src/vconsole/vconsole-setup.c at 01771226; vconsole.conf(5), "KERNEL COMMAND LINE"), and dracut's
 * i18n module documents `rd.vconsole.keymap=` (dracut.cmdline(7)). The arguments reach where a file
 * cannot: an initramfs built with the image rather than on this machine (bootc images bring their
 * own) has no copy of the vconsole.conf written here. So: `vconsole.keymap=` whenever the keymap is
 * not "us", the kernel's and systemd's default, and `rd.vconsole.keymap=` too when the root is
 * encrypted, for the prompt that asks for its passphrase. An argument the answer file gives wins.
 */
export function keymapKernelArgs(keyboard: { readonly layout: string; readonly variant?: string | undefined }, encrypted: boolean, given: readonly string[] = []): string[] {
  const keymap = consoleKeymap(clean('keyboard layout', keyboard.layout), keyboard.variant === undefined ? undefined : clean('keyboard variant', keyboard.variant));
  if (keymap === 'us') return [];
  const has = (key: string): boolean => given.some((a) => a.startsWith(`${key}=`));
  const out: string[] = [];
  if (!has('vconsole.keymap')) out.push(`vconsole.keymap=${keymap}`);
  if (encrypted && !has('rd.vconsole.keymap')) out.push(`rd.vconsole.keymap=${keymap}`);
  return out;
}

/** LANG with an explicit UTF-8 codeset (before any @modifier), since installed systems are UTF-8. */
export function utf8Locale(locale: string): string {
  if (/\.utf-?8/i.test(locale)) return locale;
  const at = locale.indexOf('@');
  return at === -1 ? `${locale}.UTF-8` : `${locale.slice(0, at)}.UTF-8${locale.slice(at)}`;
}

/** What localectl writes for the X11 keyboard, so Xorg and the Wayland compositors that read it agree. */
function xorgKeyboard(layout: string, variant?: string): string {
  return [
    '# Written by the installer in the format systemd-localed(8) uses; change it with localectl(1).',
    'Section "InputClass"',
    '        Identifier "system-keyboard"',
    '        MatchIsKeyboard "on"',
    `        Option "XkbLayout" "${layout}"`,
    ...(variant ? [`        Option "XkbVariant" "${variant}"`] : []),
    'EndSection',
    '',
  ].join('\n');
}

function userActions(request: AnswerFile, adminGroup: string, D: string, homes: string): PlanAction[] {
  const out: PlanAction[] = [];
  // useradd -G fails when the group is missing from the image; -f makes groupadd a no-op if it exists.
  if (request.users.some((u) => u.admin)) out.push(run(['groupadd', '-R', D, '-f', adminGroup]));
  for (const u of request.users) {
    const name = clean('user name', u.name);
    if ((u as { password?: unknown }).password !== undefined) {
      throw new Error(`user ${name} still has a plain password: hashRequestPasswords must run before planning`);
    }
    const argv = ['useradd', '-R', D, '-m', '-U'];
    if (u.fullName) argv.push('-c', clean('full name', u.fullName));
    if (u.admin) argv.push('-G', adminGroup);
    // The hash goes in argv rather than to `chpasswd -e` on stdin: a PlanAction's stdin is reserved
    // for named secrets, and a crypt hash is not one (the plan may show it). Without -p useradd
    // leaves the account locked ("!" in shadow), which is what a user without password should get;
    // key-based SSH still works, as sshd only honours that lock when it runs without PAM.
    if (u.passwordHash !== undefined) argv.push('-p', clean('password hash', u.passwordHash));
    argv.push('-s', '/bin/bash', name);
    out.push(run(argv));
  }
  for (const u of request.users) {
    if (u.sshKeys.length === 0) continue;
    const home = `${homes}/${u.name}`;
    out.push(mkdir(`${home}/.ssh`, '0700'));
    out.push(write(`${home}/.ssh/authorized_keys`, u.sshKeys.map((k) => `${clean('SSH key', k)}\n`).join(''), '0600'));
    // The user's uid exists only in the deployment's passwd, which the host cannot look names up in;
    // the home directory useradd just created already has the right owner, so copy it from there.
    out.push(run(['chown', '-R', `--reference=${home}`, `${home}/.ssh`]));
  }
  const auto = request.users.find((u) => u.autologin);
  if (auto) {
    // Both display managers: the image decides which one runs, and the other file is inert.
    out.push(mkdir(`${D}/etc/gdm`));
    out.push(write(`${D}/etc/gdm/custom.conf`, `[daemon]\nAutomaticLoginEnable=True\nAutomaticLogin=${auto.name}\n`));
    out.push(mkdir(`${D}/etc/sddm.conf.d`));
    out.push(write(`${D}/etc/sddm.conf.d/autologin.conf`, `[Autologin]\nUser=${auto.name}\n`));
  }
  return out;
}

/**
 * The configure step's actions. Every user must already carry a passwordHash or no password at all
 * (the engine runs hashRequestPasswords on arrival); a plain password here is a bug and throws.
 */
export function configureActions(request: AnswerFile, o: ConfigureOptions = {}): PlanAction[] {
  const adminGroup = o.adminGroup ?? 'wheel';
  const D = o.root ?? DEPLOYMENT;
  // A plain root's /var is its own directory; a bootc deployment's is the stateroot's, bound in below.
  const V = o.root === undefined ? STATEROOT_VAR : `${o.root}/var`;
  const ostree = o.root === undefined;
  const out: PlanAction[] = [];

  if (ostree) {
    // useradd -R resolves /home inside the deployment, which on ostree systems leads into /var; binding
    // the stateroot's var there puts the homes where the booted system will find them.
    out.push(mkdir(`${D}/var`));
    out.push(run(['mount', '--bind', V, `${D}/var`]));
    // A fresh stateroot var is empty until systemd-tmpfiles runs at first boot; useradd -m needs the parent.
    out.push(mkdir(`${V}/home`));
  } else {
    out.push(mkdir(`${D}/home`));
  }
  out.push(...userActions(request, adminGroup, D, ostree ? `${V}/home` : `${D}/home`));

  // A relative link, as systemd writes it, so it also resolves while the deployment is not "/".
  // rm first: the image ships a link already and symlink(2) will not replace it.
  const tz = clean('time zone', request.timezone);
  out.push(run(['rm', '-f', `${D}/etc/localtime`]));
  out.push({ kind: 'symlink', path: `${D}/etc/localtime`, target: `../usr/share/zoneinfo/${tz}` });

  out.push(write(`${D}/etc/locale.conf`, `LANG=${utf8Locale(clean('locale', request.locale))}\n`));

  const layout = clean('keyboard layout', request.keyboard.layout);
  const variant = request.keyboard.variant === undefined ? undefined : clean('keyboard variant', request.keyboard.variant);
  // KEYMAP for the console; XKBLAYOUT and XKBVARIANT as systemd-localed writes them since it keeps
  // the X11 layout in this file too, where it reads them before 00-keyboard.conf (vconsole_read_data
  // and context_get_x11_context in systemd's src/locale/localed-util.c at 0327d5b2). Older systemd
  // ignores them.
  const xkb = [`XKBLAYOUT=${layout}`, ...(variant ? [`XKBVARIANT=${variant}`] : [])];
  out.push(write(`${D}/etc/vconsole.conf`, [`KEYMAP=${consoleKeymap(layout, variant)}`, ...xkb, ''].join('\n')));
  // Parent first: the runner's mkdir need not be recursive, and minimal images lack /etc/X11.
  out.push(mkdir(`${D}/etc/X11`));
  out.push(mkdir(`${D}/etc/X11/xorg.conf.d`));
  out.push(write(`${D}/etc/X11/xorg.conf.d/00-keyboard.conf`, xorgKeyboard(layout, variant)));

  if (request.hostname !== undefined) out.push(write(`${D}/etc/hostname`, `${clean('host name', request.hostname)}\n`));

  out.push(...(o.more ?? []));

  if (ostree) {
    // bootc labelled its own files (install.rs:2099-2108 at 534c76ea474a356aa288f6767635e579ea2614d5);
    // what useradd and the writes above made comes after that and has none.
    out.push({ kind: 'relabel', root: D, paths: [`${D}/etc`, `${D}/var/home`] });
    // The runner's teardown unmounts it too if the step fails halfway.
    out.push(run(['umount', `${D}/var`]));
  }
  return out;
}
