// What a bootc install leaves in the target root, made with Debian's real ostree: a repo holding the
// image's commit, a deployment with its own etc, the stateroot's var, a BLS loader entry, the kernel
// in /boot and the aleph file. The engine's post-install configuration has something true to edit,
// and ostree itself can read what was made.
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { release } from 'node:os';
import { join, relative } from 'node:path';
import { task } from './common.mjs';
import { canonicalJson } from './config.mjs';

export const KERNEL_VERSION = '6.12.0-1.particle.x86_64';

const BASE = {
  passwd: [
    'root:x:0:0:Super User:/root:/bin/bash',
    'bin:x:1:1:bin:/bin:/usr/sbin/nologin',
    'daemon:x:2:2:daemon:/sbin:/usr/sbin/nologin',
    'systemd-network:x:192:192:systemd Network Management:/:/usr/sbin/nologin',
    'nobody:x:65534:65534:Kernel Overflow User:/:/usr/sbin/nologin',
  ],
  group: ['root:x:0:', 'bin:x:1:', 'daemon:x:2:', 'wheel:x:10:', 'systemd-network:x:192:', 'nobody:x:65534:'],
};

const OS_RELEASE = [
  'NAME="Particle Test OS"',
  'ID=particle-test',
  'VERSION_ID=42',
  'PRETTY_NAME="Particle Test OS 42"',
  'HOME_URL="https://example.org/particle"',
  '',
].join('\n');

function write(path, content, mode = 0o644) {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content, { mode });
}

/**
 * An SELinux image's policy files, as far as labelling needs them: /etc/selinux/config and the
 * policy's file_contexts. The entries are a few of Fedora's targeted policy's, with its type names,
 * so a label that comes out wrong names a real type.
 */
export function selinuxFiles(policy) {
  const fc = [
    ['/.*', 'system_u:object_r:default_t:s0'],
    ['/usr(/.*)?', 'system_u:object_r:usr_t:s0'],
    ['/etc(/.*)?', 'system_u:object_r:etc_t:s0'],
    ['/etc/passwd[-+]?', '--', 'system_u:object_r:passwd_file_t:s0'],
    ['/etc/group[-+]?', '--', 'system_u:object_r:passwd_file_t:s0'],
    ['/etc/shadow.*', '--', 'system_u:object_r:shadow_t:s0'],
    ['/etc/gshadow.*', '--', 'system_u:object_r:shadow_t:s0'],
    ['/etc/hostname', '--', 'system_u:object_r:hostname_etc_t:s0'],
    ['/etc/locale\\.conf', '--', 'system_u:object_r:locale_t:s0'],
    ['/etc/vconsole\\.conf', '--', 'system_u:object_r:locale_t:s0'],
    ['/etc/localtime', '-l', 'system_u:object_r:locale_t:s0'],
    ['/var(/.*)?', 'system_u:object_r:var_t:s0'],
    ['/var/home', '-d', 'system_u:object_r:home_root_t:s0'],
    ['/var/home/[^/]+', '-d', 'unconfined_u:object_r:user_home_dir_t:s0'],
    ['/var/home/[^/]+/.+', 'unconfined_u:object_r:user_home_t:s0'],
    ['/var/roothome(/.*)?', 'system_u:object_r:admin_home_t:s0'],
  ];
  return {
    'etc/selinux/config': `SELINUX=enforcing\nSELINUXTYPE=${policy}\n`,
    [`etc/selinux/${policy}/contexts/files/file_contexts`]: fc.map((f) => f.join('\t')).join('\n') + '\n',
    // The compiled policy is a placeholder: libostree only takes the newest policy.N file's checksum
    // (get_policy_checksum, src/libostree/ostree-sepolicy.c:187-249 at ostreedev/ostree 46204655) and
    // labels from file_contexts (selabel_open, 433-444); nothing here loads a policy into a kernel.
    [`etc/selinux/${policy}/policy/policy.33`]: 'not a compiled policy: a placeholder for its checksum\n',
  };
}

/**
 * The repository settings bootc gives every sysroot it initializes (DEFAULT_REPO_CONFIG,
 * install.rs:231-238, set one by one with `ostree config` at 969-974).
 */
const REPO_CONFIG = [
  ['sysroot.bootloader', 'none'],
  ['sysroot.bootprefix', 'true'],
  ['sysroot.readonly', 'true'],
];

/**
 * ostree-ext's escaping of an image reference into a ref name (escape_for_ref,
 * crates/ostree-ext/src/refescape.rs:15-53): ASCII letters and digits pass, `/` passes after one of
 * them when more follows, `-` passes, `_` doubles, anything else becomes `_XX_` in upper-case hex.
 */
export function escapeForRef(text) {
  let out = '';
  const chars = [...text];
  let prevAlnum = false;
  chars.forEach((c, i) => {
    const alnum = /^[A-Za-z0-9]$/.test(c);
    if (alnum) out += c;
    else if (c === '/' && prevAlnum && i < chars.length - 1) out += c;
    else if (c === '-') out += c;
    else if (c === '_') out += '__';
    else out += `_${c.codePointAt(0).toString(16).toUpperCase().padStart(2, '0')}_`;
    prevAlnum = alnum;
  });
  return out;
}

/** Runs Debian's real ostree; a failure throws with what ostree said, for the caller to word as bootc would. */
export function ostree(args, { cwd } = {}) {
  const r = spawnSync('ostree', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error || r.status !== 0) {
    const e = new Error(`ostree ${args.join(' ')}: ${(r.stderr || String(r.error ?? '')).trim()}`);
    e.result = r;
    throw e;
  }
  return r.stdout;
}

/**
 * "Initializing ostree layout" (initialize_ostree_root, install.rs:903-909): `ostree admin init-fs
 * --modern .` in the physical root, run as a bootc Task (printed, output inherited), then the repo
 * settings, whose output bootc captures.
 */
export async function initLayout(root, verb) {
  await task('Initializing ostree layout', ['ostree', 'admin', 'init-fs', '--modern', '.'], { context: `${verb}: Creating ostree deployment`, cwd: root });
  for (const [k, v] of REPO_CONFIG) ostree(['config', '--repo', 'ostree/repo', 'set', k, v], { cwd: root });
}

/**
 * `sysroot.init_osname(stateroot)`, only when ostree/deploy/<stateroot> is not there yet
 * (install.rs:996-1008): libostree's, played by `ostree admin os-init`.
 */
export function initStateroot(root, stateroot) {
  if (!existsSync(join(root, 'ostree/deploy', stateroot))) ostree(['admin', 'os-init', `--sysroot=${root}`, stateroot]);
}

/** Where the image's files are gathered before they are committed: in the repo's own tmp, on the target. */
export const stageDir = (root) => join(root, 'ostree/repo/tmp/particle-image');

/**
 * The image's layers, as bytes on the target: `bytes` of incompressible data, one file per layer in
 * the staged image, fsynced so the target's used space really grows (the engine estimates progress
 * from it). bootc's ostree-ext imports each layer into the repo before it merges them; here they end
 * up in the image's commit. `limit` stops early (a failure injected mid-deploy leaves a half-written
 * repository, as bootc does).
 */
export async function writePayload(root, image, bytes, { limit = 1, onLayer = async () => {} } = {}) {
  const perLayer = Math.ceil(bytes / image.layers.length);
  const chunk = 1024 * 1024;
  const stop = Math.floor(image.layers.length * limit);
  const dir = join(stageDir(root), 'usr/share/particle-test/layers');
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < stop; i++) {
    const hex = image.layers[i].replace(/^sha256:/, '');
    const fd = openSync(join(dir, hex), 'w', 0o644);
    try {
      for (let left = perLayer; left > 0; left -= chunk) writeSync(fd, randomBytes(Math.min(chunk, left)));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    await onLayer(i);
  }
}

/**
 * The rest of the image as bootc finds it in the container: the system in /usr, its default /etc
 * as /usr/etc (ostree-ext's import moves /etc there), an empty /var, /home and /root pointing into
 * /var, a kernel and initramfs under /usr/lib/modules, bootupd's payload (so bootc picks grub,
 * bootloader.rs:85-96).
 */
function stageImage(stage, { selinuxPolicy }) {
  const etc = join(stage, 'usr/etc');
  for (const d of ['usr/bin', 'usr/sbin', 'usr/lib/bootupd/updates', 'var', 'sysroot', 'boot', 'usr/etc/tmpfiles.d']) mkdirSync(join(stage, d), { recursive: true });
  write(join(stage, 'usr/lib/os-release'), OS_RELEASE);
  symlinkSync('../usr/lib/os-release', join(etc, 'os-release'));
  symlinkSync('var/home', join(stage, 'home'));
  symlinkSync('var/roothome', join(stage, 'root'));
  symlinkSync('var/opt', join(stage, 'opt'));
  write(join(stage, 'usr/lib/modules', KERNEL_VERSION, 'vmlinuz'), 'fake kernel\n');
  write(join(stage, 'usr/lib/modules', KERNEL_VERSION, 'initramfs.img'), 'fake initramfs\n');
  write(join(etc, 'passwd'), `${BASE.passwd.join('\n')}\n`);
  write(join(etc, 'group'), `${BASE.group.join('\n')}\n`);
  // Fedora-style: shadow files are mode 0000 and every base account is locked.
  const users = BASE.passwd.map((l) => l.split(':')[0]);
  write(join(etc, 'shadow'), users.map((u) => `${u}:!*::0:99999:7:::`).join('\n') + '\n', 0o000);
  const groups = BASE.group.map((l) => l.split(':')[0]);
  write(join(etc, 'gshadow'), groups.map((g) => `${g}:!*::`).join('\n') + '\n', 0o000);
  write(join(etc, 'hostname'), '');
  if (selinuxPolicy) for (const [rel, text] of Object.entries(selinuxFiles(selinuxPolicy))) write(join(stage, 'usr', rel), text);
}

/**
 * "Deploying container image" with the real ostree: the staged image committed into
 * ROOT/ostree/repo under the ref ostree-ext gives a pulled image, deployed into the stateroot with
 * the kernel arguments and the origin bootc passes (install.rs:1144-1190), then /etc/fstab when a
 * /boot spec exists (MountSpec::to_fstab, install.rs:771-777, written at 1227-1236) and the
 * stateroot's var/home and var/roothome.
 *
 * Debian's libostree is 2022.7; bootc links a newer one. Where they differ the result is made what
 * the newer one writes (ostreedev/ostree at 46204655): the loader entry is `ostree-<n>.conf`, not
 * `ostree-<n>-<stateroot>.conf` (ostree-sysroot-deploy.c:1797-1810); with `sysroot.bootprefix` its
 * paths start with /boot/ (1876, 2079-2088), which 2022.7 does not know; the deployment directory
 * is not made immutable (2022.7 sets the flag; the newer one leaves it, and only
 * ostree_sysroot_deployment_set_mutable changes it, 4379). Returns the deployment (relative to ROOT).
 */
export function writeDeployment(root, ctx) {
  const stage = stageDir(root);
  stageImage(stage, ctx);
  const ref = `ostree/container/image/${ctx.refName}`;
  ostree(['commit', '--repo=ostree/repo', `--branch=${ref}`, '--consume', `--tree=dir=${stage}`, '--subject', ctx.image.digest], { cwd: root });
  const origin = join(root, 'ostree/repo/tmp/particle-origin');
  write(origin, `[origin]\ncontainer-image-reference=${ctx.origin}\n`);
  ostree(['admin', 'deploy', `--sysroot=${root}`, `--os=${ctx.stateroot}`, ...ctx.kargs.map((k) => `--karg-append=${k}`), `--origin-file=${origin}`, ref]);
  unlinkSync(origin);
  const dep = ostree(['admin', `--sysroot=${root}`, '--print-current-dir']).trim();
  const rel = relative(root, dep);
  spawnSync('chattr', ['-i', dep]);
  newerLoaderEntries(join(root, 'boot'), ctx.stateroot);
  const sr = join(root, 'ostree/deploy', ctx.stateroot);
  mkdirSync(join(sr, 'var/home'), { recursive: true });
  mkdirSync(join(sr, 'var/roothome'), { recursive: true, mode: 0o700 });
  if (ctx.bootSpec) write(join(dep, 'etc/fstab'), `${ctx.bootSpec} /boot auto ro 0 0\n`);
  return { rel };
}

/** The loader entries as bootc's libostree names and writes them (see writeDeployment). */
function newerLoaderEntries(bootDir, stateroot) {
  const entries = join(bootDir, 'loader/entries');
  const prefix = readRepoConfig(join(bootDir, '..')).includes('bootprefix=true');
  for (const f of readdirSync(entries)) {
    const m = /^ostree-(\d+)-(.+)\.conf$/.exec(f);
    if (m === null || m[2] !== stateroot) continue;
    let text = readFileSync(join(entries, f), 'utf8');
    if (prefix) text = text.replace(/^(linux|initrd) \/ostree\//gm, '$1 /boot/ostree/');
    writeFileSync(join(entries, `ostree-${m[1]}.conf`), text);
    unlinkSync(join(entries, f));
  }
}

const readRepoConfig = (root) => readFileSync(join(root, 'ostree/repo/config'), 'utf8');

/**
 * inject_root_ssh_authorized_keys (install/osconfig.rs:14-51@534c76ea): one `f~` line with the file
 * as given, base64, for /var/roothome (the deployment's /root symlink), applied on first boot.
 */
export function injectRootKeys(root, rel, keys) {
  const conf = `f~ /var/roothome/.ssh/authorized_keys 600 root root - ${Buffer.from(keys).toString('base64')}\n`;
  write(join(root, rel, 'etc/tmpfiles.d/bootc-root-ssh.conf'), conf);
  return 'etc/tmpfiles.d/bootc-root-ssh.conf';
}

/**
 * The aleph (install/aleph.rs:21-87@534c76ea): canonical JSON of the pulled image's digest and
 * labels, the source name (left out under /tmp), the target name, `uname -r` of the installing
 * kernel and the SELinux state.
 */
export function writeAleph(root, { image, sourceName, targetName, selinux }) {
  const aleph = { digest: image.digest, kernel: release(), selinux, 'target-image': targetName, timestamp: null, version: null };
  if (!sourceName.startsWith('/tmp')) aleph.image = sourceName;
  if (Object.keys(image.labels ?? {}).length > 0) aleph.labels = image.labels;
  write(join(root, '.bootc-aleph.json'), canonicalJson(aleph));
}
