// What a bootc install leaves in the target root: an ostree repo, a deployment with its own etc,
// the stateroot's var, a BLS loader entry and the aleph file. Small but real files, so the engine's
// post-install configuration has something true to edit.
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { sha256 } from './common.mjs';
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
  };
}

/** "Initializing ostree layout": the repo skeleton at ROOT/ostree/repo. */
export function initLayout(root) {
  const repo = join(root, 'ostree/repo');
  for (const d of ['objects', 'refs/heads', 'refs/remotes', 'tmp', 'state']) mkdirSync(join(repo, d), { recursive: true });
  // DEFAULT_REPO_CONFIG (install.rs:231-238), set with `ostree config` after init-fs.
  write(join(repo, 'config'), '[core]\nrepo_version=1\nmode=bare\n\n[sysroot]\nbootloader=none\nbootprefix=true\nreadonly=true\n');
  mkdirSync(join(root, 'ostree/deploy'), { recursive: true });
}

/**
 * Writes `bytes` of incompressible data as ostree objects, one file per layer, fsynced so the
 * target's used space really grows: the engine estimates progress from it. `limit` stops early
 * (a failure injected mid-deploy leaves a half-written repository, as bootc does).
 */
export async function writePayload(root, image, bytes, { limit = 1, onLayer = async () => {} } = {}) {
  const perLayer = Math.ceil(bytes / image.layers.length);
  const chunk = 1024 * 1024;
  const stop = Math.floor(image.layers.length * limit);
  for (let i = 0; i < stop; i++) {
    const hex = image.layers[i].replace(/^sha256:/, '');
    const dir = join(root, 'ostree/repo/objects', hex.slice(0, 2));
    mkdirSync(dir, { recursive: true });
    const fd = openSync(join(dir, `${hex.slice(2)}.file`), 'w', 0o644);
    try {
      for (let left = perLayer; left > 0; left -= chunk) writeSync(fd, randomBytes(Math.min(chunk, left)));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    await onLayer(i);
  }
}

/** The deployment checksum: a stable function of the image and stateroot, 64 hex like an ostree commit. */
export const deploymentChecksum = (image, stateroot) => sha256(`${image.digest}#${stateroot}`);

/**
 * "Deploying container image": ROOT/ostree/deploy/<stateroot>/{deploy/<csum>.0, var}. Returns the
 * deployment directory (relative to ROOT) and the checksum.
 */
export function writeDeployment(root, ctx) {
  const csum = deploymentChecksum(ctx.image, ctx.stateroot);
  const stateroot = join(root, 'ostree/deploy', ctx.stateroot);
  const rel = join('ostree/deploy', ctx.stateroot, 'deploy', `${csum}.0`);
  const dep = join(root, rel);
  // usr/lib/bootupd/updates: the image ships bootupd's payload, so bootc picks grub (bootloader.rs:85-96).
  for (const d of ['usr/bin', 'usr/sbin', 'usr/lib/modules', 'usr/lib/bootupd/updates', 'var', 'sysroot', 'boot', 'etc/tmpfiles.d']) mkdirSync(join(dep, d), { recursive: true });
  mkdirSync(join(stateroot, 'var/home'), { recursive: true });
  mkdirSync(join(stateroot, 'var/roothome'), { recursive: true, mode: 0o700 });
  write(join(dep, 'usr/lib/os-release'), OS_RELEASE);
  symlinkSync('../usr/lib/os-release', join(dep, 'etc/os-release'));
  // As in every ostree deployment: the writable places live in the stateroot's /var.
  symlinkSync('var/home', join(dep, 'home'));
  symlinkSync('var/roothome', join(dep, 'root'));
  symlinkSync('var/opt', join(dep, 'opt'));
  write(join(dep, 'usr/lib/modules', KERNEL_VERSION, 'vmlinuz'), 'fake kernel\n');
  write(join(dep, 'etc/passwd'), `${BASE.passwd.join('\n')}\n`);
  write(join(dep, 'etc/group'), `${BASE.group.join('\n')}\n`);
  // Fedora-style: shadow files are mode 0000 and every base account is locked.
  const users = BASE.passwd.map((l) => l.split(':')[0]);
  write(join(dep, 'etc/shadow'), users.map((u) => `${u}:!*::0:99999:7:::`).join('\n') + '\n', 0o000);
  const groups = BASE.group.map((l) => l.split(':')[0]);
  write(join(dep, 'etc/gshadow'), groups.map((g) => `${g}:!*::`).join('\n') + '\n', 0o000);
  write(join(dep, 'etc/hostname'), '');
  if (ctx.selinuxPolicy) for (const [rel, text] of Object.entries(selinuxFiles(ctx.selinuxPolicy))) write(join(dep, rel), text);
  // MountSpec::to_fstab (install.rs:771-777), written when a /boot spec exists (install.rs:1227-1236).
  if (ctx.bootSpec) write(join(dep, 'etc/fstab'), `${ctx.bootSpec} /boot auto ro 0 0\n`);
  write(join(root, `${rel}.origin`), `[origin]\ncontainer-image-reference=${ctx.origin}\n`);
  return { rel, csum };
}

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
 * The BLS entry, the kernel and initramfs. `bootDir` is where the /boot filesystem is (ROOT/boot),
 * and `bootPrefix` how the loader sees it: `/boot` when /boot lives on root, `` when separate.
 */
export function writeBootEntry(bootDir, { csum, stateroot, options, bootPrefix }) {
  const kdir = `ostree/${stateroot}-${csum}`;
  write(join(bootDir, kdir, `vmlinuz-${KERNEL_VERSION}`), 'fake kernel\n');
  write(join(bootDir, kdir, `initramfs-${KERNEL_VERSION}.img`), 'fake initramfs\n');
  const entry = [
    'title Particle Test OS 42 (ostree:0)',
    'version 1',
    `linux ${bootPrefix}/${kdir}/vmlinuz-${KERNEL_VERSION}`,
    `initrd ${bootPrefix}/${kdir}/initramfs-${KERNEL_VERSION}.img`,
    `options ${[...options, `ostree=/ostree/boot.1/${stateroot}/${csum}/0`].join(' ')}`,
    '',
  ].join('\n');
  write(join(bootDir, 'loader/entries/ostree-1.conf'), entry);
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
