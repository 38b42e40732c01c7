import { describe, expect, it } from 'vitest';
import { DiskSchema, GiB } from '../../src/shared/disk';
import { classifyDisks } from '../../src/engine/disks';
import type { ProbeSnapshot } from '../../src/engine/disks/types';

/** Small hand-made machines for rules the saved machines do not reach. */
type Dev = Record<string, unknown>;
const disk = (name: string, extra: Dev = {}, children: Dev[] = []): Dev => ({ name, kname: name, path: `/dev/${name}`, type: 'disk', size: 100 * GiB, mountpoints: [null], ...extra, ...(children.length ? { children } : {}) });
const part = (name: string, extra: Dev = {}, children: Dev[] = []): Dev => ({ name, kname: name, path: `/dev/${name}`, type: 'part', size: 10 * GiB, mountpoints: [null], ...extra, ...(children.length ? { children } : {}) });

function run(devices: Dev[], rest: Partial<ProbeSnapshot> = {}) {
  const snapshot: ProbeSnapshot = { lsblk: { blockdevices: devices }, holders: {}, swaps: [], mounts: [], byId: {}, loopBacking: {}, os: {}, ...rest };
  const disks = classifyDisks(snapshot, { minimumSize: 16 * GiB, allowLoop: 'none' });
  for (const d of disks) DiskSchema.parse(d);
  return Object.fromEntries(disks.map((d) => [d.path, d]));
}
const codes = (d: { reasons: { code: string }[] } | undefined) => (d?.reasons ?? []).map((r) => r.code).sort();

describe('classification rules', () => {
  it('sees holders that only sysfs reports (whole-disk md member, lsblk without the md child)', () => {
    const r = run([disk('sdc', { fstype: 'linux_raid_member' })], { holders: { sdc: ['md127'] } });
    expect(codes(r['/dev/sdc'])).toEqual(['existing-partitions', 'held']);
    expect(r['/dev/sdc']?.holders).toEqual(['md127']);
  });

  it('does not hold a disk for an LVM signature nobody activated', () => {
    const r = run([disk('sdb', { pttype: 'gpt' }, [part('sdb1', { fstype: 'LVM2_member', parttype: 'e6d6d379-f507-44c2-a23c-238f2a3df928' })])]);
    expect(r['/dev/sdb']?.verdict).toBe('warn');
    expect(r['/dev/sdb']?.partitions[0]?.typeName).toBe('Linux LVM');
  });

  it('follows swap and mounts through stacked devices, and matches mountinfo by /dev/mapper name', () => {
    const luks = { name: 'cryptswap', kname: 'dm-3', type: 'crypt', size: 4 * GiB, mountpoints: [null] };
    const lv = { name: 'vg-home', kname: 'dm-4', type: 'lvm', size: 50 * GiB, mountpoints: [null] };
    const r = run([disk('sda', { pttype: 'gpt' }, [part('sda1', {}, [luks]), part('sda2', {}, [lv])])], {
      swaps: ['/dev/dm-3'],
      mounts: [{ source: '/dev/mapper/vg-home', target: '/home', fstype: 'ext4' }],
    });
    const sda = r['/dev/sda'];
    expect(codes(sda)).toEqual(['existing-partitions', 'held', 'held', 'mounted', 'swap']);
    expect(sda?.reasons.find((x) => x.code === 'swap')?.message).toBe('/dev/sda1 is in use as swap through cryptswap.');
    expect(sda?.partitions.map((p) => p.mountpoints)).toEqual([['[SWAP]'], ['/home']]);
  });

  it('treats a read-only image filesystem on / as the live medium, a writable one as mounted only', () => {
    const live = run([disk('sda', { pttype: 'dos' }, [part('sda1', { fstype: 'squashfs', mountpoints: ['/'] })])]);
    expect(codes(live['/dev/sda'])).toEqual(['existing-partitions', 'live-medium', 'mounted']);
    const installed = run([disk('sda', { pttype: 'gpt' }, [part('sda1', { fstype: 'xfs', mountpoints: ['/'] })])]);
    expect(codes(installed['/dev/sda'])).toEqual(['existing-partitions', 'mounted']);
  });

  it('does not call a disk the live medium because snap packages are loop files on it', () => {
    const r = run(
      [disk('loop3', { type: 'loop', fstype: 'squashfs', size: GiB, mountpoints: ['/snap/core22/1380'] }), disk('nvme0n1', { pttype: 'gpt' }, [part('nvme0n1p2', { fstype: 'ext4', mountpoints: ['/'] })])],
      { loopBacking: { loop3: '/var/lib/snapd/snaps/core22_1380.snap' } },
    );
    expect(codes(r['/dev/nvme0n1'])).toEqual(['existing-partitions', 'mounted']);
  });

  it('resolves a loop backing file to the most specific mount', () => {
    const r = run(
      [
        disk('loop0', { type: 'loop', fstype: 'squashfs', size: GiB, mountpoints: ['/run/rootfsbase'] }),
        disk('sda', { pttype: 'gpt' }, [part('sda1', { fstype: 'ext4', mountpoints: ['/'] })]),
        disk('sdb', { pttype: 'gpt', tran: 'usb' }, [part('sdb1', { fstype: 'exfat', mountpoints: ['/mnt/iso'] })]),
      ],
      { loopBacking: { loop0: '/mnt/iso/live/rootfs.img (deleted)' } },
    );
    expect(codes(r['/dev/sdb'])).toEqual(['existing-partitions', 'live-medium', 'mounted', 'usb']);
    expect(codes(r['/dev/sda'])).toEqual(['existing-partitions', 'mounted']);
  });

  it('warns about Windows from an OS probe, and about an MBR ESP', () => {
    const r = run([disk('sda', { pttype: 'dos' }, [part('sda1', { parttype: '0xef', fstype: 'vfat' }), part('sda2', { parttype: '0x7', fstype: 'ntfs' })])], {
      os: { sda2: 'Windows 10' },
    });
    expect(codes(r['/dev/sda'])).toEqual(['esp', 'existing-os', 'existing-partitions', 'windows']);
    expect(r['/dev/sda']?.reasons.find((x) => x.code === 'windows')?.message).toBe('/dev/sda holds Windows 10 (on /dev/sda2).');
  });

  it('refuses RAM disks and optical drives without media', () => {
    const r = run([disk('ram0', { size: 64 * 1024 ** 2 }), disk('sr0', { type: 'rom', size: 0, rm: true })]);
    expect(codes(r['/dev/ram0'])).toEqual(['too-small', 'virtual-device']);
    expect(codes(r['/dev/sr0'])).toEqual(['no-media', 'optical', 'removable']);
  });

  it('falls back to 512-byte sectors and names virtio from the kernel name when lsblk is silent', () => {
    const r = run([disk('vda', { 'log-sec': null, 'phy-sec': null })]);
    expect(r['/dev/vda']).toMatchObject({ logicalSectorSize: 512, physicalSectorSize: 512, transport: 'virtio', verdict: 'ok' });
  });
});
