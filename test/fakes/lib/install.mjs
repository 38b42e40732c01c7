// `bootc install to-filesystem` (install_to_filesystem, install.rs:2451-2736@534c76ea) and the
// ostree install both verbs share (install_to_filesystem_impl, ostree_install, install_container:
// install.rs:1025-2120): bootc's target checks and refusals in bootc's order, the kernel arguments
// it derives, --replace, the lines it prints on the streams it prints them to, failure injection
// and the tree on disk.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, opendirSync, readdirSync, readFileSync, rmdirSync, rmSync, statfsSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { disksOf, ESP_TYPE, findMountOption, inspectFilesystem, isMountpoint, mountAt, partitionsOf } from './block.mjs';
import { bootupdNoEsp, installViaBootupd } from './bootupd.mjs';
import { env, exitStatus, Exit, fail, failureMessage, humanSize, injectedFailure, maybeHang, onSignalExit, run, say, sleep, spendFailure, spinner, task } from './common.mjs';
import { loadConfig, printableConfig } from './config.mjs';
import { openSource, pullSpec } from './fetch.mjs';
import { ostreeImageRef, prepareInstall } from './prepare.mjs';
import { hostRoot, imageRoot, queryBoundImages } from './roots.mjs';
import { findImage } from './storage.mjs';
import { escapeForRef, initLayout, initStateroot, injectRootKeys, stageDir, writeAleph, writeDeployment, writePayload } from './tree.mjs';

/** The whole to-filesystem verb. `ctx.host` maps paths as bootc sees them to host paths. */
export async function toFilesystem(cmd, ctx) {
  const verb = 'Installing to filesystem';
  const { opts } = cmd;
  const shown = cmd.target;
  const root = ctx.host(shown);
  // install.rs:2500-2520, in this order.
  if (!root || !existsSync(root)) fail(`${verb}: Opening target root directory ${shown}: No such file or directory (os error 2)`);
  if (!statSync(root).isDirectory()) fail(`${verb}: Opening target root directory ${shown}: Not a directory (os error 20)`);
  if (!isMountpoint(root)) fail(`${verb}: Not a mountpoint: ${shown}`);
  if (lstatSync(root).isSymbolicLink()) fail(`${verb}: Not a directory: ${shown}`);
  // install.rs:2522-2547: a deployment root's physical root is its sysroot.
  const isOstree = existsSync(join(root, 'sysroot/ostree'));
  const physical = isOstree ? join(root, 'sysroot') : root;
  if (isOstree && !isMountpoint(physical)) fail(`${verb}: Not a mountpoint: ${shown}/sysroot`);
  // install.rs:2552, 2564: findmnt, then the type, before prepare_install runs.
  const inspect = inspectFilesystem(physical);
  if (!inspect) fail(`${verb}: Inspecting filesystem ${isOstree ? `${shown}/sysroot` : shown}: findmnt returned no data for ${shown}`);
  if (!['xfs', 'ext4', 'btrfs'].includes(inspect.fstype)) fail(`${verb}: Unknown filesystem: ${inspect.fstype}`);

  const state = await prepareInstall(opts, ctx, verb, inspect.fstype);

  // install.rs:2573-2584. bootc checks nothing else about the target: not whether it is
  // read-only, not whether /boot or an ESP is mounted.
  if (opts.replace === 'wipe') {
    await say('Wiping contents of root');
    removeAllNoXdev(physical, true, verb);
  } else if (opts.replace === 'alongside') {
    cleanBootDirectories(root, isOstree, verb, ctx);
  } else {
    requireEmptyRootdir(physical, verb);
  }

  // install.rs:2586-2625: root= from the spec as given (nothing else with a spec; nothing at all
  // when it is empty), else the filesystem's UUID and, on btrfs, the subvol findmnt shows.
  const spec = opts.rootMountSpec ?? state.config?.['root-mount-spec'] ?? null;
  let rootInfo;
  if (spec !== null) rootInfo = { spec, kargs: [] };
  else {
    if (!inspect.uuid) fail(`${verb}: No filesystem uuid found in target root`);
    const subvol = inspect.fstype === 'btrfs' ? findMountOption(inspect.options, 'subvol') : null;
    rootInfo = { spec: `UUID=${inspect.uuid}`, kargs: subvol === null ? [] : [`rootflags=subvol=${subvol}`] };
  }

  // install.rs:2627-2650: /boot is separate when it is on another device than the physical root.
  const bootPath = join(root, 'boot');
  const bootIsMount = existsSync(bootPath) && lstatSync(bootPath).dev !== statSync(physical).dev;
  let bootUuid = null;
  if (bootIsMount) {
    bootUuid = inspectFilesystem(bootPath)?.uuid ?? fail(`${verb}: No UUID found for /boot`);
  }
  // install.rs:2660-2692: --boot-mount-spec (empty: none), else a UUID= /boot line of the
  // target's etc/fstab, else the separate /boot's UUID.
  const bootOpt = opts.bootMountSpec ?? state.config?.['boot-mount-spec'] ?? null;
  let boot;
  if (bootOpt !== null) boot = bootOpt === '' ? null : bootOpt;
  else boot = fstabBootUuidSpec(physical) ?? (bootUuid ? `UUID=${bootUuid}` : null);

  // install.rs:2694-2711
  const kargs = rootInfo.spec === '' ? [] : [`root=${rootInfo.spec}`, ...rootInfo.kargs];
  kargs.push('rw');
  if (boot) kargs.push(`boot=${boot}`);

  await installToFilesystemImpl(state, {
    physical,
    targetRoot: root,
    kargs,
    boot,
    bootIsSeparate: bootIsMount,
    rootfsUuid: inspect.uuid,
    // install.rs:2713-2714: alongside never finalizes.
    skipFinalize: opts.replace === 'alongside' || Boolean(opts.skipFinalize),
    disks: disksOf(inspect.source),
  });
  // install.rs:2733, 2122-2124
  await say('Installation complete!');
}

/** read_boot_fstab_entry (install.rs:2787-2814), used only when its source is UUID= (install.rs:2674-2681). */
function fstabBootUuidSpec(physical) {
  let text;
  try {
    text = readFileSync(join(physical, 'etc/fstab'), 'utf8');
  } catch {
    return null;
  }
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [source, target] = line.split(/\s+/);
    if (target === '/boot') return /^uuid=/i.test(source) ? source : null;
  }
  return null;
}

/** Directory entries in readdir order, as cap-std's `entries()` yields them (bootc does not sort). */
function entries(dir) {
  const d = opendirSync(dir);
  const out = [];
  try {
    for (let e = d.readSync(); e !== null; e = d.readSync()) out.push(e);
  } finally {
    d.closeSync();
  }
  return out;
}

/**
 * open_dir_noxdev: openat2 with RESOLVE_NO_XDEV, which refuses to cross any mount point, a bind
 * mount of the same filesystem included (coreos/cap-std-ext src/dirext.rs:536-554 at ffb736fa); so a
 * directory that is a mount point, or on another device than its parent, is left alone.
 */
const crossesMount = (parent, child) => isMountpoint(child) || lstatSync(child).dev !== statSync(parent).dev;

/** Rust's `{:?}` of a file name. */
const debugName = (name) => JSON.stringify(name);

/**
 * require_empty_rootdir and require_dir_contains_only_mounts (install.rs:2230-2291): a top-level
 * file fails; a directory passes only if everything under it is a mount point, lost+found or a
 * directory of such; an empty unmounted directory (an empty /boot too) fails.
 */
function requireEmptyRootdir(physical, verb) {
  const chain = `${verb}: Verifying empty rootfs`;
  for (const e of entries(physical)) {
    if (e.name === 'lost+found') continue;
    if (e.isDirectory()) requireOnlyMounts(physical, e.name, chain);
    else fail(`${chain}: Non-empty root filesystem; found ${debugName(e.name)}`);
  }
}

function requireOnlyMounts(parent, name, above) {
  const chain = `${above}: Requiring directory contains only mount points`;
  const dir = join(parent, name);
  if (crossesMount(parent, dir)) return;
  const list = entries(dir);
  if (list.length === 0) fail(`${chain}: Found empty directory: ${name}`);
  for (const e of list) {
    if (e.name === 'lost+found') continue;
    if (e.isDirectory()) requireOnlyMounts(dir, e.name, chain);
    else fail(`${chain}: Found entry in ${name}: ${e.name}`);
  }
}

/**
 * remove_all_in_dir_no_xdev (install.rs:2293-2313): deletes in readdir order without crossing into
 * other filesystems; with `mountErr` (--replace=wipe) a mount point stops it half way.
 */
function removeAllNoXdev(dir, mountErr, chain) {
  for (const e of entries(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      if (!crossesMount(dir, path)) {
        removeAllNoXdev(path, mountErr, chain);
        rmdirSync(path);
      } else if (mountErr) {
        fail(`${chain}: Found unexpected mount point ${debugName(e.name)}`);
      }
    } else {
      unlinkSync(path);
    }
  }
}

/**
 * --replace=alongside: clean_boot_directories (install.rs:2354-2379) with mount_esp_part
 * (bootloader.rs:41-83). When boot/efi is a directory but not a mount point, the first ESP on the
 * root's disks is mounted there. Then everything in /boot goes (names starting with `loader` stay
 * only when the target is an ostree deployment root), and everything on the filesystem at
 * boot/efi: another system's boot loaders on a shared ESP included. bootc prints nothing here.
 */
function cleanBootDirectories(root, isOstree, verb, ctx) {
  const chain = `${verb}: Removing boot directory content`;
  const boot = join(root, 'boot');
  // open_dir_remount_rw (crates/lib/src/utils.rs:83-96)
  if (isMountpoint(boot)) {
    const r = run(['mount', '-o', 'remount,rw', boot]);
    if (r.status !== 0) fail(`${chain}: Opening /boot: Opening boot with writable mount: Failed to remount: ${exitStatus(r)}`);
  }
  if (!existsSync(boot) || !statSync(boot).isDirectory()) fail(`${chain}: Opening /boot: Opening boot with writable mount: No such file or directory (os error 2)`);

  const efi = join(boot, 'efi');
  if (existsSync(efi) && statSync(efi).isDirectory() && !isMountpoint(efi)) {
    const physical = isOstree ? join(root, 'sysroot') : root;
    const source = mountAt(physical)?.source ?? inspectFilesystem(physical)?.source;
    for (const disk of source ? disksOf(source) : []) {
      // find_partition_of_esp_optional (crates/blockdev/src/blockdev.rs:255-290): by partition type.
      const esp = partitionsOf(disk).find((p) => p.type === ESP_TYPE)?.node;
      if (!esp) continue;
      const r = run(['mount', esp, efi]);
      if (r.status !== 0) {
        process.stderr.write(r.stderr);
        fail(`${chain}: Failed to run command: Command {\n    program: "mount",\n    args: [\n        "mount",\n        ${JSON.stringify(esp)},\n        ${JSON.stringify(efi)},\n    ],\n}`);
      }
      // Inside podman bootc works in its own mount namespace, so the mount ends with it;
      // on the host (--source-imgref) it stays.
      if (ctx.inContainer) onSignalExitAndEnd(() => run(['umount', efi]));
      break;
    }
  }

  // remove_all_except_loader_dirs (install.rs:2315-2352)
  const emptying = `${chain}: Emptying /boot: Removing boot directory content except loader dir on ostree`;
  for (const e of entries(boot)) {
    if (isOstree && e.name.startsWith('loader')) continue;
    const path = join(boot, e.name);
    if (e.isDirectory()) {
      if (crossesMount(boot, path)) continue;
      removeAllNoXdev(path, false, `${emptying}: Removing directory contents: ${e.name}`);
      rmdirSync(path);
    } else {
      unlinkSync(path);
    }
  }
  if (existsSync(efi) && statSync(efi).isDirectory()) removeAllNoXdev(efi, false, `${chain}: Emptying EFI system partition`);
}

/** Cleanups that run when the fake ends, normally or by a signal. */
const atEnd = [];
function onSignalExitAndEnd(fn) {
  atEnd.push(fn);
  onSignalExit(fn);
}
process.on('exit', () => {
  for (const fn of atEnd.splice(0).reverse()) fn();
});

/** Kernel command line parameters, split on blanks (quoted values stay whole). */
export function params(text) {
  return text.match(/(?:[^\s"]+|"[^"]*")+/g) ?? [];
}

/** Cmdline::extend: a parameter is added unless the same one is already there. */
export function extend(list, more) {
  for (const p of more) if (!list.includes(p)) list.push(p);
}

/** delete_kargs (install.rs:1251-1262): `key=value` removes that exact one, `key` every one with that key. */
function deleteKargs(list, deletes) {
  for (const d of deletes) {
    const hasValue = d.includes('=');
    const key = d.split('=')[0];
    for (let i = list.length - 1; i >= 0; i--) {
      if (hasValue ? list[i] === d : list[i].split('=')[0] === key) list.splice(i, 1);
    }
  }
}

/**
 * The final kernel arguments (install.rs:1138-1173): the root setup's, the install config's
 * `kargs`, the image's usr/lib/bootc/kargs.d (the fake image has none), then the config's and the
 * CLI's --karg-delete, then every --karg.
 */
function finalKargs(rootKargs, state) {
  const out = [];
  extend(out, rootKargs.flatMap(params));
  for (const k of state.config?.kargs ?? []) extend(out, params(k));
  deleteKargs(out, [...(state.config?.['karg-deletes'] ?? []), ...state.opts.kargDelete]);
  for (const k of state.opts.karg) extend(out, params(k));
  return out;
}

/** Fails or hangs here when the environment asks for it; `partial` runs before failing. */
async function checkpoint(stage, state, partial) {
  await maybeHang(stage);
  const f = injectedFailure();
  if (!f || f.stage !== stage) return;
  spendFailure(f);
  if (partial) await partial();
  if (f.kind === 'esp-not-found') bootupdNoEsp(state);
  const spec = pullSpec(state);
  fail(failureMessage(stage, f.kind, { verb: state.verb, image: spec.image, registry: state.source.transport === 'registry' || state.source.image ? state.source.name : null }));
}

/**
 * install_to_filesystem_impl with ostree_install (install.rs:1952-2120): bound images, the ostree
 * layout, the image, the deployment, the bootloader, then finalizing. `rs` is the root setup:
 * { physical, targetRoot, kargs, boot (spec or null), bootIsSeparate, rootfsUuid, skipFinalize, disks }.
 */
export async function installToFilesystemImpl(state, rs) {
  const { verb } = state;
  const rootKargs = [...rs.kargs];
  if (state.selinux === 'force-target-disabled') rootKargs.push('selinux=0');
  // install.rs:1953-1957, 1316-1319
  if (rs.boot && !/^uuid=/i.test(rs.boot)) fail(`${verb}: /boot is not specified via UUID= (this is currently required)`);
  if (!rs.boot && !rs.rootfsUuid) fail(`${verb}: No uuid for boot/root`);

  const bound = resolveBoundImages(state);

  // initialize_ostree_root (install.rs:894-1023)
  const hasOstree = existsSync(join(rs.physical, 'ostree/repo'));
  if (hasOstree) await say('Reusing extant ostree layout');
  else {
    await checkpoint('init', state, () => initLayout(rs.physical, verb));
    await initLayout(rs.physical, verb);
  }
  initStateroot(rs.physical, state.stateroot);

  // install_container (install.rs:1025-1249): the source opened and its layers counted first.
  await checkpoint('pull', state);
  const image = openSource(state);
  const spec = pullSpec(state);
  await say(`layers already present: 0; layers needed: ${image.layers.length} (${humanSize(image.size)})`);
  // check_disk_space_ostree (deploy.rs:430-465): the repo keeps ostree's min-free-space-percent
  // (3 by default, an ostree setting) free.
  const fsStat = statfsSync(rs.physical);
  const usable = Math.max(0, fsStat.bavail * fsStat.bsize - Math.floor((fsStat.blocks * fsStat.bsize * 3) / 100));
  if (image.size > usable) fail(`${verb}: Creating ostree deployment: Insufficient free space for ${spec.image} (available: ${humanSize(usable)} required: ${humanSize(image.size)})`);
  rmSync(stageDir(rs.physical), { recursive: true, force: true });
  await checkpoint('deploy', state, () => writePayload(rs.physical, image, image.size, { limit: 0.5 }));
  await writePayload(rs.physical, image, image.size, { onLayer: () => sleep(env.layerDelayMs()) });

  const kargs = finalKargs(rootKargs, state);
  const { rel } = await spinner('Deploying container image', async () => {
    try {
      return writeDeployment(rs.physical, {
        image,
        stateroot: state.stateroot,
        refName: escapeForRef(`${spec.transport}:${spec.image}`),
        kargs,
        origin: ostreeImageRef(state.target, false),
        bootSpec: rs.boot,
        selinuxPolicy: env.selinuxPolicy(),
      });
    } catch (e) {
      fail(`${verb}: Creating ostree deployment: ${e.message}`);
    }
  });
  if (state.keys !== null) {
    injectRootKeys(rs.physical, rel, state.keys);
    await say('Injected: etc/tmpfiles.d/bootc-root-ssh.conf');
  }
  writeAleph(rs.physical, { image, sourceName: spec.image, targetName: state.target.name, selinux: state.selinux });

  // PostFetchState::new (install.rs:1812-1830): grub when bootupctl is on the PATH of `/` and the
  // image carries bootupd's payload, else systemd, which the ostree path refuses.
  const bootloader = state.bootloader ?? (state.containerRoot.hasExecutable('bootupctl') && existsSync(join(rs.physical, rel, 'usr/lib/bootupd/updates')) ? 'grub' : 'systemd');
  await say(`Bootloader: ${bootloader}`);
  if (bootloader === 'grub') await installViaBootupd(state, rs, (stage) => checkpoint(stage, state));
  else if (bootloader === 'systemd' || bootloader === 'grub-cc') fail(`${verb}: bootupd is required for ostree-based installs`);
  else await checkpoint('bootloader', state);

  await storeBoundImages(bound);

  // The final SELinux pass over the physical root (install.rs:2099-2108): done whenever a policy was
  // loaded, which is also when the host has SELinux off (SELinuxFinalState::enabled,
  // install.rs:1353-1360).
  if (state.selinux === 'enabled' || state.selinux === 'host-disabled') labelInstalled(rs.physical, rel, state.stateroot);

  // install.rs:2111-2117, finalize_filesystem (install.rs:1410-1443)
  if (rs.skipFinalize) {
    await checkpoint('finalize', state);
    return;
  }
  for (const [name, path] of [['root', '.'], ...(rs.boot ? [['boot', 'boot']] : [])]) {
    await say(`Trimming ${name}`);
    if (name === 'root') await checkpoint('finalize', state);
    await task(`Trimming ${name}`, ['fstrim', '--quiet-unsupported', '-v', path], { context: verb, cwd: rs.physical, print: false });
    await task(`Finalizing filesystem ${name}`, ['mount', '-o', 'remount,ro', path], { context: verb, cwd: rs.physical });
    if (mountAt(join(rs.physical, path))?.fstype !== 'vfat') {
      for (const a of ['-f', '-u']) run(['fsfreeze', a, join(rs.physical, path)]);
    }
  }
}

/**
 * What carries SELinux labels when bootc returns: the deployment (ostree checks it out from a commit
 * whose files were labelled with the image's own policy on import) and the stateroot's var (the final
 * pass; ensure_dir_labeled_recurse, lsm.rs:396-460, labels only files without a label). setfiles
 * plays libselinux here; the rest of the physical root (repo objects, /boot) is not labelled by the fake.
 */
function labelInstalled(physical, rel, stateroot) {
  const dep = join(physical, rel);
  const conf = existsSync(join(dep, 'etc/selinux/config')) ? readFileSync(join(dep, 'etc/selinux/config'), 'utf8') : '';
  const policy = /^SELINUXTYPE=(\S+)/m.exec(conf)?.[1];
  if (!policy) return;
  const fc = join(dep, 'etc/selinux', policy, 'contexts/files/file_contexts');
  const sr = join(physical, 'ostree/deploy', stateroot);
  for (const [root, path] of [[dep, dep], [sr, join(sr, 'var')]]) {
    const r = spawnSync('setfiles', ['-r', root, fc, path], { encoding: 'utf8' });
    if (r.error || r.status !== 0) fail(`Final SELinux relabeling of physical root: the fake plays libselinux with setfiles, which failed: ${r.error?.message ?? r.stderr.trim()}`);
  }
}

/**
 * BoundImages::from_state (install.rs:1922-1949): `stored` (the default) resolves every image the
 * root bootc runs in declares against the host's container storage, before anything is written;
 * `pull` fetches them after the bootloader; `skip` does neither.
 */
function resolveBoundImages(state) {
  const mode = state.opts.boundImages ?? 'stored';
  if (mode === 'skip') return { mode, images: [] };
  const images = queryBoundImages(state.containerRoot, state.verb);
  if (mode === 'stored') {
    for (const image of images) {
      // ResolvedBoundImage::from_image (boundimage.rs:121-135); the tail is skopeo's.
      if (!findImage(image)) fail(`${state.verb}: resolving bound image ${image}: failed to invoke method OpenImage: ${image}: image not known`);
    }
  }
  return { mode, images };
}

/** pull_images_impl (boundimage.rs:176-200); stored images are copied silently (install.rs:1897-1905). */
async function storeBoundImages(bound) {
  if (bound.mode !== 'pull') return;
  for (const image of bound.images) await spinner(`Fetching bound image: ${image}`, async () => {});
  await say(`Bound images stored: ${bound.images.length}`);
}

/**
 * `bootc install finalize <ROOT_PATH>` (install_finalize, install.rs:2927-2960): root with
 * CAP_SYS_ADMIN (require_root(false), cli.rs:1041-1063, so the non-container messages even inside
 * podman), then the ostree sysroot at the path is loaded and must list a deployment. libostree opens
 * ostree/repo first (ensure_repo, ostree-sysroot.c:1071-1080 at ostreedev/ostree 46204655) and lists
 * deployments from the boot loader entries' `ostree=` arguments. Prints nothing on success.
 */
export async function installFinalize(target, ctx) {
  if (ctx.uid !== 0) fail('This command must be executed as the root user');
  if (ctx.container && !ctx.container.privileged) fail('This command requires full root privileges (CAP_SYS_ADMIN)');
  const root = ctx.host(target);
  if (root === null || !existsSync(join(root, 'ostree/repo'))) fail('opendir(ostree/repo): No such file or directory');
  const entries = join(root, 'boot/loader/entries');
  const deployed = existsSync(entries) && readdirSync(entries).some((f) => f.endsWith('.conf') && /^options .*\bostree=\S+/m.test(readFileSync(join(entries, f), 'utf8')));
  if (!deployed) fail(`Failed to find deployment in ${target}`);
}

/** `bootc install print-configuration [--all]`: the install configuration of `/` (install.rs:885-892). */
export function printConfiguration(opts, ctx) {
  const root = ctx.inContainer ? (ctx.imageRoot ?? imageRoot()) : hostRoot();
  process.stdout.write(printableConfig(loadConfig(root), Boolean(opts.all)));
  throw new Exit(0);
}

