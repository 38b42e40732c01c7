import { describe, expect, it } from 'vitest';
import { InstallLog, findKernel } from '../../src/engine/install';
import { Placeholders, runAction, StepFailure } from '../../src/engine/install/actions';
import type { FsOps, RunContext, UnpackRequest } from '../../src/engine/install/types';
import { InstallPlanSchema, type PlanAction, type PlanStep } from '../../src/shared';
import { warningsBefore } from '../../src/engine/install/warnings';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The runner's side of oci-rootfs plans: conditional actions, the unpack action with byte progress,
// and the {kernel-version} placeholder.

const STEP: PlanStep = { id: 'bootloader', title: 'Installing the boot loader', weight: 1, destructive: false, resumable: true, actions: [] };

function world(existing: string[], o: { unpack?: RunContext['unpack']; kernel?: string | null } = {}) {
  const ran: string[][] = [];
  const fs: FsOps = {
    writeFile: async () => {},
    symlink: async () => {},
    mkdir: async () => {},
    rm: async () => {},
    readFile: async () => null,
    test: async (path, test) => (test === 'exists' ? existing.includes(path) : test === 'missing' ? !existing.includes(path) : test === 'writable' ? path.startsWith('/rw') : !path.startsWith('/rw')),
  };
  const log = new InstallLog({ secrets: [] });
  const ctx: RunContext = {
    exec: async (argv) => {
      ran.push([...argv]);
      return { exitCode: 0, stdout: '', stderr: '', durationMs: 1 };
    },
    secrets: new Map(),
    signal: new AbortController().signal,
    emit: () => {},
    log,
    fs,
    now: Date.now,
    targetRoot: '/t',
    findDeployment: async () => null,
    findKernel: async () => o.kernel ?? null,
    ...(o.unpack ? { unpack: o.unpack } : {}),
    isMounted: async () => false,
    mapperExists: async () => false,
    swapActive: async () => false,
  };
  const fractions: [number, string | undefined][] = [];
  const hooks = { ctx, placeholders: new Placeholders(ctx), signal: ctx.signal, onFraction: (f: number, m?: string) => void fractions.push([f, m]) };
  return { ran, log, hooks, fractions };
}

describe('runner: oci-rootfs actions', () => {
  it('runs an action only when every condition holds, and logs the skipped one with the condition that failed', async () => {
    const w = world(['/t/usr/sbin/grub-install']);
    const grub: PlanAction = { kind: 'run', argv: ['chroot', '/t', 'grub-mkconfig'], when: [{ path: '/t/usr/sbin/grub-install', test: 'exists' }] };
    const sd: PlanAction = { kind: 'run', argv: ['chroot', '/t', 'bootctl', 'install'], when: [{ path: '/t/usr/sbin/grub-install', test: 'missing' }] };
    const nvram: PlanAction = { kind: 'run', argv: ['nvram'], when: [{ path: '/t/usr/sbin/grub-install', test: 'exists' }, { path: '/ro/efivars', test: 'writable' }] };
    const rw: PlanAction = { kind: 'run', argv: ['rw'], when: [{ path: '/rw/efivars', test: 'writable' }] };
    for (const a of [grub, sd, nvram, rw]) await runAction(STEP, a, w.hooks);
    expect(w.ran).toEqual([['chroot', '/t', 'grub-mkconfig'], ['rw']]);
    const text = w.log.lastLines().join('\n');
    expect(text).toContain('skipped chroot /t bootctl install (condition not met: missing /t/usr/sbin/grub-install)');
    expect(text).toContain('skipped nvram (condition not met: writable /ro/efivars)');
  });

  it('writes a file with conditions only where they hold (an initramfs-tools drop-in on a dracut image is skipped)', async () => {
    const w = world(['/t/etc/initramfs-tools/conf.d']);
    const written: string[] = [];
    w.hooks.ctx.fs.writeFile = async (path) => void written.push(path);
    const drop = (root: string): PlanAction => ({ kind: 'write', path: `${root}/etc/initramfs-tools/conf.d/particle-keymap`, content: 'KEYMAP=y\n', mode: '0644', when: [{ path: `${root}/etc/initramfs-tools/conf.d`, test: 'exists' }] });
    await runAction(STEP, drop('/t'), w.hooks);
    await runAction(STEP, drop('/u'), w.hooks);
    expect(written).toEqual(['/t/etc/initramfs-tools/conf.d/particle-keymap']);
    expect(w.log.lastLines().join('\n')).toContain('skipped write /u/etc/initramfs-tools/conf.d/particle-keymap (condition not met: exists /u/etc/initramfs-tools/conf.d)');
  });

  it('turns a plan warning into a fact for the log once the unpacked image meets its conditions', async () => {
    const plan = InstallPlanSchema.parse({
      id: 'p', createdAt: '2026-01-01T00:00:00Z', disk: { path: '/dev/vdb', serial: null, wwn: null, size: 1, byIdPath: null, diskSeq: null, ptUuid: null },
      firmware: 'uefi', arch: 'x64', layout: 'erase', partitions: [], kernelArgs: [], sourceImgref: 'oci:/i', targetImgref: null, steps: [STEP], pointOfNoReturn: 0, summary: [],
      warnings: [
        { id: 'luks-keymap-default', message: 'No setupcon.', when: [{ path: '/t/usr/sbin/update-initramfs', test: 'exists' }, { path: '/t/bin/setupcon', test: 'missing' }], checkBefore: 'bootloader' },
        { id: 'luks-keymap-default', message: 'No loadkeys.', when: [{ path: '/t/usr/bin/dracut', test: 'exists' }], checkBefore: 'bootloader' },
      ],
    });
    const debianWithout = world(['/t/usr/sbin/update-initramfs']);
    expect(await warningsBefore(plan, STEP, debianWithout.hooks.ctx, debianWithout.hooks.placeholders)).toEqual([
      'No setupcon. This image is such a case (exists /t/usr/sbin/update-initramfs, missing /t/bin/setupcon).',
    ]);
    const debianWith = world(['/t/usr/sbin/update-initramfs', '/t/bin/setupcon']);
    expect(await warningsBefore(plan, STEP, debianWith.hooks.ctx, debianWith.hooks.placeholders)).toEqual([]);
    expect(await warningsBefore(plan, { ...STEP, id: 'configure' }, debianWithout.hooks.ctx, debianWithout.hooks.placeholders)).toEqual([]);
  });

  it('fills {kernel-version} in argv and conditions, and fails with a clear message when the image has no kernel', async () => {
    const w = world(['/t/boot/vmlinuz-6.12.1-amd64'], { kernel: '6.12.1-amd64' });
    const add: PlanAction = { kind: 'run', argv: ['kernel-install', 'add', '{kernel-version}', '/boot/vmlinuz-{kernel-version}'], when: [{ path: '/t/boot/vmlinuz-{kernel-version}', test: 'exists' }] };
    await runAction(STEP, add, w.hooks);
    expect(w.ran).toEqual([['kernel-install', 'add', '6.12.1-amd64', '/boot/vmlinuz-6.12.1-amd64']]);
    const none = world([], { kernel: null });
    const err = await runAction(STEP, add, none.hooks).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepFailure);
    expect((err as StepFailure).error).toMatchObject({ code: 'image-invalid', step: 'bootloader' });
    expect((err as StepFailure).error.message).toMatch(/no kernel/);
  });

  it('unpacks with the given source, target and protected paths, reporting byte progress and the layer', async () => {
    const seen: UnpackRequest[] = [];
    const w = world([], {
      unpack: async (req) => {
        seen.push(req);
        req.onProgress({ bytesDone: 25, bytesTotal: 100, layer: 1, layers: 2 });
        req.onProgress({ bytesDone: 100, bytesTotal: 100, layer: 2, layers: 2 });
        return { manifestDigest: `sha256:${'a'.repeat(64)}`, layers: 2, compressedBytes: 100, uncompressedBytes: 300 };
      },
    });
    await runAction({ ...STEP, id: 'deploy' }, { kind: 'unpack', source: { transport: 'oci', path: '/img', ref: 'latest' }, target: '/t', protect: ['.particle-image'] }, w.hooks);
    expect(seen[0]).toMatchObject({ source: { transport: 'oci', path: '/img', ref: 'latest' }, target: '/t', protect: ['.particle-image'] });
    expect(w.fractions).toEqual([
      [0.25, 'layer 1 of 2'],
      [1, 'layer 2 of 2'],
    ]);
    expect(w.log.lastLines().join('\n')).toMatch(/2 layers, 100 bytes read, 300 bytes unpacked, manifest sha256:a{64}/);
  });

  it('turns an unpacker failure into the step\'s error with its hint, command and stderr', async () => {
    const w = world([], {
      unpack: async () => {
        throw Object.assign(new Error('layer sha256:bb… does not match its digest'), { hint: 'The image is damaged: download it again.' });
      },
    });
    const err = (await runAction({ ...STEP, id: 'deploy' }, { kind: 'unpack', source: { transport: 'oci', path: '/img' }, target: '/t', protect: [] }, w.hooks).catch((e: unknown) => e)) as StepFailure;
    expect(err.error).toMatchObject({ code: 'image-invalid', step: 'deploy', detail: 'The image is damaged: download it again.' });
    expect(err.error.message).toMatch(/^Unpacking the image failed: layer sha256:bb/);
    const tar = world([], {
      unpack: async () => {
        throw Object.assign(new Error('tar failed'), { hint: 'h', command: ['tar', '--extract'], stderrTail: 'tar: No space left on device' });
      },
    });
    const e2 = (await runAction({ ...STEP, id: 'deploy' }, { kind: 'unpack', source: { transport: 'oci', path: '/img' }, target: '/t', protect: [] }, tar.hooks).catch((e: unknown) => e)) as StepFailure;
    expect(e2.error).toMatchObject({ code: 'command-failed', command: ['tar', '--extract'], stderrTail: 'tar: No space left on device' });
  });

  it('findKernel picks the newest kernel that has an image, in /boot (Debian) or in the modules folder (Fedora)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'particle-kernel-'));
    try {
      expect(await findKernel(root)).toBeNull();
      for (const v of ['6.1.0-9-amd64', '6.12.10-amd64', '6.12.9-amd64', '7.0.0-no-image']) mkdirSync(join(root, 'usr/lib/modules', v), { recursive: true });
      mkdirSync(join(root, 'boot'));
      writeFileSync(join(root, 'boot/vmlinuz-6.1.0-9-amd64'), 'k');
      writeFileSync(join(root, 'boot/vmlinuz-6.12.9-amd64'), 'k');
      writeFileSync(join(root, 'usr/lib/modules/6.12.10-amd64/vmlinuz'), 'k');
      expect(await findKernel(root)).toBe('6.12.10-amd64');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
