// `bootc install to-disk` (install_to_disk, install.rs:2127-2228@534c76ea) with
// install_create_rootfs (install/baseline.rs:193-528): bootc's checks, wipe, sfdisk script and mkfs
// argv with the lines bootc prints, a mount of the new root, the same ostree install as
// to-filesystem, then unmount. Cleanup runs on failure too: bootc undoes its own mounts and loop
// device even though it never rolls back what it wrote.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeviceMounted, listDev, partitionScript, partNode, settlePartitions } from './block.mjs';
import { commandDebug } from './bootupd.mjs';
import { env, err, exitStatus, fail, humanSize, onSignalExit, run, say, sleep, task } from './common.mjs';
import { configFsType } from './config.mjs';
import { extend, installToFilesystemImpl, params } from './install.mjs';
import { prepareInstall } from './prepare.mjs';

export async function toDisk(cmd, ctx) {
  const verb = 'Installing to disk';
  const opts = { ...cmd.opts };
  const given = ctx.host(cmd.target);
  // install.rs:2150-2170
  if (!given || !existsSync(given)) fail(`${verb}: Querying ${cmd.target}: No such file or directory (os error 2)`);
  const st = statSync(given);
  if (opts.viaLoopback) {
    if (!opts.genericImage) {
      // medium_visibility_warning (crates/lib/src/utils.rs:148-158): red on a terminal, then 1 s.
      err('Automatically enabling --generic-image when installing via loopback');
      await sleep(env.delayMs() === 0 ? 0 : 1000);
      opts.genericImage = true;
    }
    if (!st.isFile()) fail(`${verb}: Not a regular file (to be used via loopback): ${cmd.target}`);
  } else if (!st.isBlockDevice()) {
    fail(`${verb}: Not a block device: ${cmd.target}`);
  }

  const state = await prepareInstall(opts, ctx, verb, opts.filesystem ?? null);

  const cleanup = [];
  const forget = onSignalExit(() => cleanup.splice(0).reverse().forEach((undo) => undo()));
  try {
    let device = cmd.target;
    let disk = given;
    if (opts.viaLoopback) {
      // LoopbackDevice::new (crates/blockdev/src/blockdev.rs:560-567)
      const r = run(['losetup', '--show', '--direct-io=off', '-P', '--find', given]);
      if (r.status !== 0) fail(`${verb}: ${r.stderr.trim()}`);
      disk = r.stdout.trim();
      device = disk;
      cleanup.push(() => run(['losetup', '-d', disk]));
    }
    const rs = await createRootfs(state, { disk, device, opts, cleanup });
    await installToFilesystemImpl(state, rs);
    // install.rs:2204-2208
    await task('Unmounting filesystems', ['umount', '-R', rs.physical], { context: verb });
  } finally {
    forget();
    for (const undo of cleanup.splice(0).reverse()) undo();
  }
  await say('Installation complete!');
}

/** parse_size_mib (crates/blockdev/src/blockdev.rs:713-734): M/MiB (default), G/GiB, T/TiB. */
function parseSizeMiB(text) {
  let s = text;
  let mul = 1;
  for (const [suffix, m] of [['MiB', 1], ['M', 1], ['GiB', 1024], ['G', 1024], ['TiB', 1024 ** 2], ['T', 1024 ** 2]]) {
    const at = s.lastIndexOf(suffix);
    if (at < 0) continue;
    const rest = s.slice(at + suffix.length);
    if (rest) return { error: `Trailing text after size: ${rest}` };
    s = s.slice(0, at);
    mul = m;
  }
  if (s === '') return { error: 'cannot parse integer from empty string' };
  if (!/^\+?\d+$/.test(s)) return { error: 'invalid digit found in string' };
  return { mib: Number(s) * mul };
}

/** The kernel has ext4 fs-verity support (`-O verity` mounts read-write only then). */
const ext4Verity = () => existsSync('/sys/fs/ext4/features/verity');

/**
 * mkfs (install/baseline.rs:128-168): prints the description and the argv (`verbose()`), stdout
 * discarded, stderr shown. Returns the new filesystem's UUID.
 */
async function mkfs(dev, fs, label, wipe, extra, context) {
  const size = humanSize(listDev(dev)?.size ?? 0);
  const uuid = randomUUID();
  const argv = fs === 'xfs' ? ['mkfs.xfs', ...(wipe ? ['-f'] : []), '-m', `uuid=${uuid}`, '-L', label, ...extra, dev] : [`mkfs.${fs}`, '-U', uuid, '-L', label, ...extra, dev];
  const description = `Creating ${label} filesystem (${fs}) on device ${dev} (size=${size})`;
  await say(description);
  await say(`> ${argv.join(' ')}`);
  // On a kernel without fs-verity (this test machine) an ext4 with `-O verity` cannot be mounted
  // read-write; the fake leaves the feature out of what it runs, not out of what it prints.
  const actual = fs === 'ext4' && !ext4Verity() ? argv.filter((a, i) => !(a === '-O' && argv[i + 1] === 'verity') && !(a === 'verity' && argv[i - 1] === '-O')) : argv;
  const r = spawnSync(actual[0], actual.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) fail(`${context}: Task ${description} failed: ${exitStatus(r)}`);
  return uuid;
}

/** wipefs (install/baseline.rs:170-175): `Wiping device X`, then `wipefs -a X` with its own output. */
async function wipefs(dev, context) {
  await say(`Wiping device ${dev}`);
  const r = spawnSync('wipefs', ['-a', dev], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) fail(`${context}: Failed to run command: ${commandDebug(['wipefs', '-a', dev])}`);
}


/** install_create_rootfs: returns the root setup installToFilesystemImpl takes. */
async function createRootfs(state, { disk, device, opts, cleanup }) {
  const chain = `${state.verb}: Creating rootfs`;
  const rootFs = opts.filesystem ?? configFsType(state.config);
  if (!rootFs) fail(`${chain}: No root filesystem specified`);
  const info = listDev(disk);
  if (!info) fail(`${chain}: lsblk could not read ${disk}`);
  if (isDeviceMounted(info.path)) fail(`${chain}: Device ${info.path} is mounted`);

  if (opts.wipe) {
    for (const child of info.children) {
      await say(`Wiping ${child}`);
      await wipefs(child, chain);
    }
    // /dev is the host's inside the container too (install.rs:1670-1672), so the path bootc was given is the one wiped.
    await say(`Wiping ${device}`);
    await wipefs(device, chain);
  } else if (info.children.length > 0) {
    fail(`${chain}: Detected existing partitions on ${device}; use e.g. \`wipefs\` or --wipe if you intend to overwrite`);
  }

  // get_block_setup (install/config.rs:277-287)
  let blockSetup;
  if (state.config) {
    const valid = state.config.block ?? [];
    if (valid.length === 0) fail(`${chain}: Empty block storage configuration in install configuration`);
    blockSetup = opts.blockSetup ?? valid[0];
    if (!valid.includes(blockSetup)) fail(`${chain}: Block setup ${blockSetup === 'direct' ? 'Direct' : 'Tpm2Luks'} is not enabled in installation config`);
  } else if (opts.filesystem) {
    blockSetup = opts.blockSetup ?? 'direct';
  } else {
    fail(`${chain}: No install configuration found, and no filesystem specified`);
  }
  // use_discoverable_partitions (install/baseline.rs:48-60)
  const discoverable = state.config?.['discoverable-partitions'] ?? ['systemd', 'grub-cc'].includes(state.bootloader);
  await say(`Block setup: ${blockSetup}`);
  await say(`       Size: ${info.size}`);
  await say(`     Serial: ${info.serial ?? '<unknown>'}`);
  await say(`      Model: ${info.model ?? '<unknown>'}`);
  await say(` Partitions: ${discoverable ? 'Discoverable' : 'UUID'}`);

  let rootSizeMiB = null;
  if (opts.rootSize !== undefined) {
    const parsed = parseSizeMiB(opts.rootSize);
    if (parsed.error) fail(`${chain}: Parsing root size: ${parsed.error}`);
    rootSizeMiB = parsed.mib;
  }

  const withBoot = blockSetup === 'tpm2-luks';
  const layout = partitionScript({ withBoot, rootSizeMiB, labelId: randomUUID() });
  // "Initializing partitions" is a quiet Task: sfdisk's own output shows, the description does not.
  // With no udev here the fake wipes the new partitions' old signatures and has partx tell the kernel.
  const sf = spawnSync('sfdisk', ['--wipe=always', '--wipe-partitions=always', '--no-reread', '--no-tell-kernel', disk], { input: layout.script, stdio: ['pipe', 'inherit', 'inherit'] });
  if (sf.status !== 0) fail(`${chain}: Failed to run sfdisk: Task Initializing partitions failed: ${exitStatus(sf)}`);
  await settlePartitions(disk, layout.root);

  const rootDev = partNode(disk, layout.root);
  if (withBoot && !env.allowNoDm()) fail('test fake: tpm2-luks needs device-mapper, which this kernel lacks (PARTICLE_FAKE_ALLOW_NO_DM lays out /boot and leaves root unencrypted)');
  // Where bootc runs cryptsetup luksFormat, systemd-cryptenroll and luksOpen (install/baseline.rs:380-416).
  if (withBoot) err('warning: test fake: root is not encrypted (no device-mapper on this kernel)');

  const bootDev = layout.boot === null ? null : partNode(disk, layout.boot);
  const bootUuid = bootDev ? await mkfs(bootDev, rootFs, 'boot', opts.wipe, [], `${chain}: Initializing /boot`) : null;
  const rootUuid = await mkfs(rootDev, rootFs, 'root', opts.wipe, rootFs === 'ext4' ? ['-O', 'verity'] : [], chain);

  // install/baseline.rs:448-485: luks kargs first (none here), root=UUID= and rw (only rw with
  // discoverable partitions), boot=, then the CLI's --karg.
  const kargs = discoverable ? ['rw'] : [`root=UUID=${rootUuid}`, 'rw'];
  if (bootUuid) kargs.push(`boot=UUID=${bootUuid}`);
  for (const k of opts.karg) extend(kargs, params(k));

  // bootc mounts at /run/bootc/mounts/rootfs in its own namespace; the fake uses a private temp dir.
  const dir = mkdtempSync(join(tmpdir(), 'bootc-fake-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  mountTyped(rootDev, rootFs, dir, chain);
  cleanup.push(() => unmount(dir));
  mkdirSync(join(dir, 'boot'), { recursive: true });
  if (bootDev) {
    mountTyped(bootDev, rootFs, join(dir, 'boot'), chain);
    cleanup.push(() => unmount(join(dir, 'boot')));
  }
  await task('Creating ESP filesystem', ['mkfs.fat', partNode(disk, layout.esp), '-n', 'EFI-SYSTEM'], { context: chain, verbose: true, quietOutput: true });
  mkdirSync(join(dir, 'boot/efi'));

  return { physical: dir, targetRoot: dir, kargs, boot: bootUuid ? `UUID=${bootUuid}` : null, bootIsSeparate: Boolean(bootDev), rootfsUuid: rootUuid, skipFinalize: false, disks: [disk] };
}

/** bootc_mount::mount_typed (crates/mount/src/mount.rs:193-204). */
function mountTyped(dev, fstype, target, chain) {
  const r = spawnSync('mount', ['-t', fstype, dev, target], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) fail(`${chain}: Failed to run command: ${commandDebug(['mount', '-t', fstype, dev, target])}`);
}

/** Unmounts, falling back to a lazy unmount so a busy target never leaves a stray temp dir mounted. */
function unmount(dir) {
  if (run(['mountpoint', '-q', dir]).status !== 0) return;
  if (run(['umount', dir]).status !== 0) run(['umount', '-l', dir]);
}
