import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findProgram, imagePreflight, preflight, rootCapacity, signaturePreflight } from '../../src/engine/install/preflight';
import type { InstallPlan, PlanAction } from '../../src/shared';

/** The pre-flight: what a plan needs of this machine, before anything touches the disk. */

const dir = mkdtempSync(join(tmpdir(), 'particle-preflight-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bin = join(dir, 'bin');
mkdirSync(bin);
function tool(name: string, mode = 0o755): void {
  writeFileSync(join(bin, name), '#!/bin/sh\n');
  chmodSync(join(bin, name), mode);
}
for (const t of ['wipefs', 'sfdisk', 'mkfs.xfs', 'mount', 'bootc', 'chroot']) tool(t);
tool('mkfs.btrfs', 0o644); // there, but not executable

const run = (...argv: string[]): PlanAction => ({ kind: 'run', argv });
function plan(steps: Array<[string, PlanAction[]]>): InstallPlan {
  return { disk: { path: '/dev/vdb' }, steps: steps.map(([id, actions]) => ({ id, actions })) } as unknown as InstallPlan;
}
const root = (files: string[]): string => {
  const r = mkdtempSync(join(dir, 'root-'));
  for (const f of files) {
    mkdirSync(join(r, f, '..'), { recursive: true });
    writeFileSync(join(r, f), '[composefs]\nenabled = yes\n');
  }
  return r;
};

describe('pre-flight', () => {
  it('finds programs on PATH and by absolute path, executable only', () => {
    expect(findProgram('sfdisk', bin)).toBe(join(bin, 'sfdisk'));
    expect(findProgram('mkfs.btrfs', bin)).toBeNull();
    expect(findProgram(join(bin, 'mount'), '')).toBe(join(bin, 'mount'));
    expect(findProgram('./mount', bin)).toBeNull();
    expect(findProgram('cryptsetup', `${join(dir, 'nope')}:${bin}`)).toBeNull();
  });

  it('names each missing program once, the step that runs it and its Debian package', () => {
    const p = plan([
      ['wipe', [run('wipefs', '--all', '/dev/vdb')]],
      ['encrypt', [run('cryptsetup', 'luksFormat', '/dev/vdb2'), run('cryptsetup', 'open', '/dev/vdb2', 'x')]],
      ['format', [run('mkfs.btrfs', '/dev/vdb2'), run('mkfs.xfs', '/dev/vdb3')]],
    ]);
    expect(preflight(p, { path: bin, root: root(['usr/lib/ostree/prepare-root.conf']) })).toEqual([
      { what: 'cryptsetup is not installed on this system (the "encrypt" step runs it)', fix: 'install it (Debian package cryptsetup)' },
      { what: 'mkfs.btrfs is not installed on this system (the "format" step runs it)', fix: 'install it (Debian package btrfs-progs)' },
    ]);
  });

  it("needs setfiles wherever the plan labels files, since the image's SELinux is known only after the wipe", () => {
    const relabel = { kind: 'relabel', root: '{deployment}', paths: ['{deployment}/etc'] } as PlanAction;
    const p = plan([['configure', [relabel]], ['finalize', [relabel]]]);
    expect(preflight(p, { path: bin, root: '/' })).toEqual([
      { what: 'setfiles is not installed on this system (the "configure" step labels the installed files with it when the image uses SELinux)', fix: 'install it (Debian package policycoreutils)' },
    ]);
    const withSetfiles = mkdtempSync(join(dir, 'bin-'));
    writeFileSync(join(withSetfiles, 'setfiles'), '#!/bin/sh\n', { mode: 0o755 });
    expect(preflight(p, { path: `${bin}:${withSetfiles}`, root: '/' })).toEqual([]);
  });

  it('checks only the steps a retry runs, and not commands that wait for a condition', () => {
    const p = plan([
      ['encrypt', [run('cryptsetup', 'luksFormat', '/dev/vdb2')]],
      ['bootloader', [{ kind: 'run', argv: ['dracut', '--force'], when: [{ path: '/x', is: 'exists' }] } as unknown as PlanAction, run('chroot', '/t', 'grub-install')]],
    ]);
    expect(preflight(p, { path: bin, root: '/' }, 1)).toEqual([]);
    expect(preflight(p, { path: bin, root: '/' }, 0)).toHaveLength(1);
  });

  it("bootc's host form: wants prepare-root.conf in /etc or /usr/lib and bootupctl, as bootc reads them from this system", () => {
    const host = plan([['deploy', [run('bootc', 'install', 'to-filesystem', '--source-imgref', 'oci:/img', '/t')]]]);
    const none = preflight(host, { path: bin, root: root([]) });
    expect(none.map((x) => x.what)).toEqual([
      'bootc runs on this system and reads ostree/prepare-root.conf from it, but there is none in /etc or /usr/lib',
      'bootc runs on this system and installs the boot loader with bootupd, but bootupctl is not installed here',
    ]);
    tool('bootupctl');
    expect(preflight(host, { path: bin, root: root(['etc/ostree/prepare-root.conf']) })).toEqual([]);
    expect(preflight(host, { path: bin, root: root(['usr/lib/ostree/prepare-root.conf']) })).toEqual([]);
    // In the image's container (podman run … bootc), bootc reads the image's own files: only podman is needed here.
    const contained = plan([['deploy', [run('podman', 'run', '--rm', 'img', 'bootc', 'install', 'to-filesystem', '/target')]]]);
    expect(preflight(contained, { path: bin, root: root([]) }).map((x) => x.what)).toEqual(['podman is not installed on this system (the "deploy" step runs it)']);
  });
});

describe('pre-flight of the image', () => {
  const facts = { digest: `sha256:${'a'.repeat(64)}`, size: 2 * 1024 ** 3, architecture: 'amd64', labels: { 'containers.bootc': '1' }, detail: 'Read from the OCI layout.' };
  const check = (o: Partial<Parameters<typeof imagePreflight>[0]>) => imagePreflight({ image: '/img', bootc: true, machineArch: 'x64', rootBytes: 20 * 1024 ** 3, facts, ...o }).map((p) => p.what);

  it('accepts a readable bootc image for this architecture that fits', () => {
    expect(check({})).toEqual([]);
    expect(check({ facts: { ...facts, labels: { 'ostree.bootable': '1' } } })).toEqual([]);
    expect(check({ bootc: false, facts: { ...facts, labels: {} } })).toEqual([]);
  });
  it('refuses an image it cannot read, one without the bootc label, another architecture, one that does not fit', () => {
    expect(check({ facts: { ...facts, digest: null, detail: 'The OCI layout could not be read: ENOENT.' } })).toEqual(['the image /img could not be read (The OCI layout could not be read: ENOENT.)']);
    expect(check({ facts: { ...facts, labels: {} } })).toEqual(['/img is not a bootc image: it has neither the containers.bootc nor the ostree.bootable label']);
    expect(check({ machineArch: 'arm64' })).toEqual(['/img is built for amd64, and this computer is arm64']);
    expect(check({ rootBytes: 3 * 1024 ** 3 })).toEqual(['/img needs about 4.0 GiB once unpacked (2.0 GiB compressed), and the root file system gets 3.0 GiB']);
  });
  it('says nothing of what it could not learn (labels, architecture or size unknown)', () => {
    expect(check({ facts: { ...facts, labels: null, architecture: null, size: null } })).toEqual([]);
    expect(check({ rootBytes: null })).toEqual([]);
  });
  it("the root's capacity: its partition, the rest of the disk, or the whole disk for bootc's own layout", () => {
    const disk = { path: '/dev/vda', size: 64 * 1024 ** 3 } as InstallPlan['disk'];
    const part = (mountpoint: string | null, size: number | null, content = 'xfs') => ({ mountpoint, size, content }) as InstallPlan['partitions'][number];
    expect(rootCapacity({ disk, partitions: [] })).toBe(64 * 1024 ** 3);
    expect(rootCapacity({ disk, partitions: [part(null, 1024 ** 2, 'bios-boot'), part('/boot/efi', 1024 ** 3, 'vfat'), part('/', null)] })).toBe(64 * 1024 ** 3 - 1024 ** 3 - 1024 ** 2);
    expect(rootCapacity({ disk, partitions: [part('/boot/efi', 1024 ** 3, 'vfat'), part('/', 10 * 1024 ** 3)] })).toBe(10 * 1024 ** 3);
  });
});

describe('signature pre-flight', () => {
  it('passes only a policy that demands a signature; accept-anything and reject are named with the fix', () => {
    expect(signaturePreflight('q.io/a:1', { signature: 'verified', detail: 'The policy requires a valid signature (default).' })).toEqual([]);
    const open = signaturePreflight('q.io/a:1', { signature: 'unverified', detail: 'The policy accepts this image unsigned (default).' });
    expect(open[0]?.what).toMatch(/does not require a signature for q\.io\/a:1/);
    const rejected = signaturePreflight('q.io/a:1', { signature: 'unverified', detail: 'The policy rejects this image (default).' });
    expect(rejected[0]?.what).toMatch(/rejects q\.io\/a:1, so the download would fail after the disk was erased/);
    expect(signaturePreflight('q.io/a:1', { signature: 'unknown', detail: 'No signature policy could be read (ENOENT).' })).toHaveLength(1);
  });
});
