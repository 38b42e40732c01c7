// What bootc reads from `/` of the machine it runs on (install.rs:1545-1810@534c76ea): inside podman
// that is the container image, with --source-imgref it is the installing host itself
// (docs/src/bootc-install.md:339-343). prepare-root.conf, the SELinux decision, the install
// configuration, logically bound images and `bootupctl` on PATH all come from there, not from the
// image being installed.
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { delimiter, join, posix } from 'node:path';
import { env, fail } from './common.mjs';
import { selinuxFiles } from './tree.mjs';

/**
 * The fake image's own root, for the podman form: what a bootc base image ships that bootc reads
 * from `/` (prepare-root.conf as Fedora's ostree ships it, one install config naming the root
 * filesystem and both block setups). No bound images, bootupctl on PATH; an SELinux policy only when
 * PARTICLE_FAKE_SELINUX_POLICY names one.
 */
const BASE_IMAGE_FILES = {
  'usr/lib/ostree/prepare-root.conf': '[composefs]\nenabled = yes\n[sysroot]\nreadonly = true\n',
  'usr/lib/bootc/install/00-particle.toml': '[install]\nblock = ["direct", "tpm2-luks"]\n\n[install.filesystem.root]\ntype = "xfs"\n',
};

/** The container image as bootc sees its own `/` (podman form). */
export function imageRoot() {
  const policy = env.selinuxPolicy();
  const IMAGE_FILES = policy === null ? BASE_IMAGE_FILES : { ...BASE_IMAGE_FILES, ...selinuxFiles(policy) };
  const dirs = new Set(Object.keys(IMAGE_FILES).flatMap((f) => f.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
  return {
    kind: 'image',
    read: (rel) => IMAGE_FILES[rel] ?? null,
    exists: (rel) => rel in IMAGE_FILES || dirs.has(rel),
    isSymlink: () => false,
    list: (rel) => (dirs.has(rel) ? [...new Set(Object.keys(IMAGE_FILES).filter((f) => f.startsWith(`${rel}/`)).map((f) => f.slice(rel.length + 1).split('/')[0]))] : null),
    // The image ships bootupd (usr/bin/bootupctl), as bootc base images do.
    hasExecutable: (name) => name === 'bootupctl',
    // lsm::have_selinux_policy (lsm.rs:119-122): `etc/selinux/config` in `/`.
    selinuxPolicy: 'etc/selinux/config' in IMAGE_FILES,
  };
}

/** The installing host's `/` (host form), or the directory PARTICLE_FAKE_HOST_ROOT names in tests. */
export function hostRoot() {
  return realRoot(env.hostRoot(), 'host');
}

/** A real directory read as a root: the host's, or a real container's own `/` (bootc-container.mjs). */
export function realRoot(base, kind) {
  const at = (rel) => join(base, rel);
  const exists = (rel) => existsSync(at(rel));
  return {
    kind,
    read: (rel) => readInRoot(base, rel),
    exists,
    isSymlink: (rel) => {
      try {
        return lstatSync(at(rel)).isSymbolicLink();
      } catch {
        return false;
      }
    },
    list: (rel) => (exists(rel) && statSync(at(rel)).isDirectory() ? readdirSync(at(rel)) : null),
    // have_executable (crates/lib/src/utils.rs:70-81): every $PATH entry of the bootc process itself.
    hasExecutable: (name) => (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, name))),
    // lsm::have_selinux_policy (lsm.rs:119-122): `etc/selinux/config` in `/`.
    selinuxPolicy: exists('etc/selinux/config'),
  };
}

/** Reads a file of a root, resolving symlinks inside it (RESOLVE_IN_ROOT, as bootc opens bound images). */
function readInRoot(base, rel) {
  let p = rel;
  for (let hops = 0; hops < 40; hops++) {
    const full = join(base, p);
    let st;
    try {
      st = lstatSync(full);
    } catch {
      return null;
    }
    if (!st.isSymbolicLink()) return st.isFile() ? readFileSync(full, 'utf8') : null;
    const target = readlinkSync(full);
    p = target.startsWith('/') ? target.slice(1) : posix.join(posix.dirname(p), target);
  }
  return null;
}

/**
 * ostree_prepareroot::require_config_from_root (ostree-ext ostree_prepareroot.rs:47-67): /etc first,
 * then /usr/lib; without either the install fails (install.rs:1769-1770).
 */
export function requirePrepareRoot(root, verb) {
  for (const dir of ['etc', 'usr/lib']) {
    if (root.read(`${dir}/ostree/prepare-root.conf`) !== null) return;
  }
  fail(`${verb}: Failed to find ostree/prepare-root.conf in /usr/lib or /etc`);
}

/**
 * The SELinux decision (SourceInfo::new, install.rs:864-882; reexecute_self_for_selinux_if_needed,
 * install.rs:1378-1406). Returns the aleph's name for it. The fake labels nothing in any state.
 */
export async function selinuxState(root, disableSelinux, say) {
  if (!root.selinuxPolicy) return 'disabled';
  if (disableSelinux) {
    await say('notice: Target has SELinux enabled, overriding to disable');
    return 'force-target-disabled';
  }
  return existsSync('/sys/fs/selinux/enforce') ? 'enabled' : 'host-disabled';
}

const BOUND_IMAGE_DIR = 'usr/lib/bootc/bound-images.d';

/**
 * query_bound_images (boundimage.rs:71-119): symlinks to `.image` / `.container` files in
 * usr/lib/bootc/bound-images.d of `/`; a missing directory means none. Returns the image names.
 */
export function queryBoundImages(root, verb) {
  const ctx = `${verb}: Querying bound images`;
  const names = root.list(BOUND_IMAGE_DIR);
  if (!names) return [];
  return names.map((name) => {
    if (!root.isSymlink(`${BOUND_IMAGE_DIR}/${name}`)) fail(`${ctx}: Not a symlink: ${name}`);
    const path = `${BOUND_IMAGE_DIR}/${name}`;
    const text = root.read(path) ?? fail(`${ctx}: No such file or directory (os error 2)`);
    const ext = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1) : '';
    const section = { image: 'Image', container: 'Container' }[ext];
    if (!section) fail(`${ctx}: Invalid file extension: ${name}`);
    const image = iniValue(text, section, 'Image');
    if (!image) fail(`${ctx}: Parsing ${path}: Missing Image field`);
    if (section === 'Image' && iniValue(text, 'Image', 'AuthFile')) fail(`${ctx}: Parsing ${path}: AuthFile is not supported by bound bootc images`);
    return image;
  });
}

function iniValue(text, section, key) {
  let current = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const header = /^\[(.+)\]$/.exec(line);
    if (header) current = header[1];
    else if (current === section && line.startsWith(`${key}=`)) return line.slice(key.length + 1).trim();
    else if (current === section && new RegExp(`^${key}\\s*=`).test(line)) return line.replace(new RegExp(`^${key}\\s*=\\s*`), '');
  }
  return null;
}
