// `bootc install to-disk`: bootc's own partitioning (the reference's default layout), formatting, a
// private mount, the same staged install as to-filesystem, then unmount. Cleanup runs on failure too:
// bootc undoes its own mounts and loop device even though it never rolls back what it wrote.
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkfs, mountedParts, partitionDisk, partitionsOf } from './block.mjs';
import { env, err, fail, must, onSignalExit, run } from './common.mjs';
import { installTree, readKeys, requireRoot, resolveSource } from './install.mjs';

export async function toDisk(cmd, ctx) {
  requireRoot(ctx.uid, ctx.inContainer);
  const { opts } = cmd;
  const given = ctx.host(cmd.target);
  if (!given || !existsSync(given)) fail(`Installing to disk: Opening ${cmd.target}: No such file or directory (os error 2)`);
  const source = resolveSource(opts, ctx);
  const keys = readKeys(opts, ctx.host);
  const withBoot = opts.blockSetup === 'tpm2-luks';
  if (withBoot && !env.allowNoDm()) fail('tpm2-luks is not supported by the test fake on this kernel');

  const cleanup = [];
  const forget = onSignalExit(() => cleanup.splice(0).reverse().forEach((undo) => undo()));
  try {
    let disk = given;
    if (opts.viaLoopback) {
      if (!statSync(given).isFile()) fail(`Installing to disk: --via-loopback needs a regular file, not ${cmd.target}`);
      disk = must(['losetup', '--find', '--show', given], 'Installing to disk: Setting up loopback').trim();
      cleanup.push(() => run(['losetup', '-d', disk]));
    } else if (!statSync(given).isBlockDevice()) {
      fail(`Installing to disk: ${cmd.target} is not a block device (use --via-loopback for a file)`);
    }
    const busy = mountedParts(disk);
    if (busy.length > 0) fail(`Installing to disk: ${cmd.target} is in use: ${busy.join(', ')} mounted`);
    if (partitionsOf(disk).length > 0 && !opts.wipe) fail(`Installing to disk: ${cmd.target} has existing partitions; use --wipe`);
    if (opts.wipe) must(['wipefs', '--all', '--quiet', disk], 'Installing to disk: Wiping');

    const parts = await partitionDisk(disk, { withBoot, rootSize: opts.rootSize });
    const fstype = opts.filesystem ?? 'xfs';
    mkfs('vfat', parts.esp, 'EFI-SYSTEM');
    if (parts.boot) mkfs('ext4', parts.boot, 'boot');
    // No device-mapper here: with PARTICLE_FAKE_ALLOW_NO_DM, "tpm2-luks" lays out /boot but leaves root plain.
    if (withBoot) err('warning: test fake: root is not encrypted (no device-mapper on this kernel)');
    mkfs(fstype, parts.root, 'root');

    const dir = mkdtempSync(join(tmpdir(), 'bootc-fake-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    must(['mount', parts.root, dir], 'Installing to disk: Mounting root');
    cleanup.push(() => unmount(dir));
    if (parts.boot) {
      mkdirSync(join(dir, 'boot'));
      must(['mount', parts.boot, join(dir, 'boot')], 'Installing to disk: Mounting /boot');
      cleanup.push(() => unmount(join(dir, 'boot')));
    }
    await installTree({ root: dir, shown: cmd.target, opts, source, keys, finalize: true });
  } finally {
    forget();
    for (const undo of cleanup.splice(0).reverse()) undo();
  }
}

/** Unmounts, falling back to a lazy unmount so a busy target never leaves a stray temp dir mounted. */
function unmount(dir) {
  if (run(['umount', dir]).status !== 0) run(['umount', '-l', dir]);
}
