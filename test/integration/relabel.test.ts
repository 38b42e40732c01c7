import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExec } from '../../src/engine/exec';
import { InstallLog, realFs, runPlan } from '../../src/engine/install';
import { InstallPlanSchema, type InstallPlan } from '../../src/shared';
import { selinuxFiles } from '../fakes/lib/tree.mjs';
import { attachLoop, loopUnavailableReason, run, sparseFile, tryRun } from '../support/loop';

// The relabel action on a real filesystem with real setfiles: a plain root (as oci-rootfs unpacks
// it, with no labels) labelled whole from the image's own policy, without walking the filesystems
// mounted below it (the ESP, /proc). This kernel has no SELinux: the labels are plain xattrs.
const why = loopUnavailableReason(['mkfs.ext4', 'setfiles', 'getfattr']);
if (why) console.warn(`[integration] relabel tests skipped: ${why}`);

describe.skipIf(why !== null)('SELinux relabel of a whole root (real setfiles, loop device)', () => {
  let dir: string;
  let loop = '';
  let T = '';
  const mounts: string[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'particle-relabel-'));
    const file = join(dir, 'root.img');
    sparseFile(file, 256 * 1024 ** 2);
    loop = attachLoop(file);
    run(['mkfs.ext4', '-q', '-F', loop]);
    T = join(dir, 'target');
    mkdirSync(T);
    run(['mount', loop, T]);
    mounts.push(T);
  });

  afterAll(() => {
    for (const m of mounts.reverse()) tryRun(['umount', m]);
    if (loop) tryRun(['losetup', '-d', loop]);
    rmSync(dir, { recursive: true, force: true });
  });

  /** The file's SELinux label, or null when it has none. */
  function label(p: string): string | null {
    try {
      return run(['getfattr', '--only-values', '-h', '-n', 'security.selinux', p]).replace(/\0$/, '');
    } catch {
      return null;
    }
  }

  it('labels every file of the root from its policy and leaves the ESP and /proc alone', async () => {
    for (const [rel, text] of Object.entries(selinuxFiles('targeted'))) {
      mkdirSync(join(T, rel, '..'), { recursive: true });
      writeFileSync(join(T, rel), text);
    }
    mkdirSync(join(T, 'usr/bin'), { recursive: true });
    writeFileSync(join(T, 'usr/bin/true'), '');
    writeFileSync(join(T, 'etc/shadow'), 'root:!::0:99999:7:::\n', { mode: 0o000 });
    mkdirSync(join(T, 'var/home/anna'), { recursive: true });
    writeFileSync(join(T, 'var/home/anna/.profile'), '');
    // What the boot loader step has mounted when finalize runs: the ESP (a tmpfs stands in for the
    // FAT this kernel cannot mount) and /proc.
    mkdirSync(join(T, 'boot/efi'), { recursive: true });
    run(['mount', '-t', 'tmpfs', 'tmpfs', join(T, 'boot/efi')]);
    mounts.push(join(T, 'boot/efi'));
    writeFileSync(join(T, 'boot/efi/loader.efi'), '');
    mkdirSync(join(T, 'proc'));
    run(['mount', '-t', 'proc', 'proc', join(T, 'proc')]);
    mounts.push(join(T, 'proc'));
    expect(label(join(T, 'etc/shadow'))).toBeNull();

    const plan: InstallPlan = InstallPlanSchema.parse({
      id: 'relabel-1',
      createdAt: new Date(0).toISOString(),
      disk: { path: loop, serial: null, wwn: null, size: 256 * 1024 ** 2, byIdPath: null, diskSeq: null, ptUuid: null },
      firmware: 'uefi',
      arch: 'x86_64',
      layout: 'erase',
      partitions: [],
      kernelArgs: [],
      sourceImgref: 'oci:/srv/image',
      targetImgref: null,
      pointOfNoReturn: 0,
      summary: ['relabel'],
      steps: [{ id: 'finalize', title: 'Finishing', weight: 1, destructive: false, resumable: true, actions: [{ kind: 'relabel', root: T, paths: [T] }] }],
    });
    const log = new InstallLog();
    const outcome = await runPlan(plan, {
      exec: createExec(),
      secrets: new Map(),
      signal: new AbortController().signal,
      emit: () => {},
      log,
      fs: realFs,
      now: () => Date.now(),
      targetRoot: T,
      findDeployment: async () => null,
      isMounted: async () => false,
      mapperExists: async () => false,
      swapActive: async () => false,
    });
    expect(outcome.error, log.toText()).toBeUndefined();
    expect(label(join(T, 'etc/shadow'))).toBe('system_u:object_r:shadow_t:s0');
    expect(label(join(T, 'etc/selinux/config'))).toBe('system_u:object_r:etc_t:s0');
    expect(label(join(T, 'usr/bin/true'))).toBe('system_u:object_r:usr_t:s0');
    expect(label(join(T, 'var/home/anna'))).toBe('unconfined_u:object_r:user_home_dir_t:s0');
    expect(label(join(T, 'var/home/anna/.profile'))).toBe('unconfined_u:object_r:user_home_t:s0');
    // Not into the filesystems mounted below the root.
    expect(label(join(T, 'boot/efi/loader.efi'))).toBeNull();
    expect(log.toText()).toMatch(/setfiles -r \S+ \S+\/etc\/selinux\/targeted\/contexts\/files\/file_contexts \S+/);
  });
});
