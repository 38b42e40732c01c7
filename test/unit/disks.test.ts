import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_MINIMUM_DISK_SIZE, DiskSchema, GiB, type Disk } from '../../src/shared/disk';
import { LSBLK_COLUMNS, classifyDisks, parseLsblk, parseMountinfo, parseSwaps, pickByIdLinks, takeSnapshot } from '../../src/engine/disks';
import type { ClassifyOptions, ProbeSnapshot } from '../../src/engine/disks/types';
import { type Exec } from '../../src/engine/exec';

const MACHINES = fileURLToPath(new URL('../fixtures/machines', import.meta.url));
const DEFAULTS: ClassifyOptions = { minimumSize: DEFAULT_MINIMUM_DISK_SIZE, allowLoop: 'none' };

interface Expected {
  options?: ClassifyOptions;
  disks: Record<string, { verdict: string; codes: string[]; fields?: Record<string, unknown> }>;
}

function machine(name: string): { snapshot: ProbeSnapshot; expected: Expected } {
  const read = (f: string): unknown => JSON.parse(readFileSync(join(MACHINES, name, f), 'utf8'));
  return { snapshot: read('snapshot.json') as ProbeSnapshot, expected: read('expected.json') as Expected };
}

function classify(name: string, options: Partial<ClassifyOptions> = {}): Disk[] {
  return classifyDisks(machine(name).snapshot, { ...DEFAULTS, ...options });
}

function byPath(disks: readonly Disk[], path: string): Disk {
  const d = disks.find((x) => x.path === path);
  if (!d) throw new Error(`no disk ${path} among ${disks.map((x) => x.path).join(', ')}`);
  return d;
}

const codes = (d: Disk): string[] => d.reasons.map((r) => r.code).sort();

/** Value at a dotted path ("partitions.0.typeGuid", "partitions.length"). */
function at(value: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((v, key) => (v === null || v === undefined ? undefined : (v as Record<string, unknown>)[key]), value);
}

const machineNames = readdirSync(MACHINES, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

describe('saved machines', () => {
  it('has the machines the classifier is specified by', () => {
    expect(machineNames.length).toBeGreaterThanOrEqual(6);
  });

  describe.each(machineNames)('%s', (name) => {
    const { snapshot, expected } = machine(name);
    const disks = classifyDisks(snapshot, { ...DEFAULTS, ...expected.options });

    it('returns exactly the expected whole devices', () => {
      expect(disks.map((d) => d.path).sort()).toEqual(Object.keys(expected.disks).sort());
    });

    it.each(Object.entries(expected.disks))('%s: verdict, reason codes and fields', (path, want) => {
      const disk = byPath(disks, path);
      expect(DiskSchema.parse(disk)).toEqual(disk);
      expect({ verdict: disk.verdict, codes: codes(disk) }).toEqual({ verdict: want.verdict, codes: want.codes });
      for (const [field, value] of Object.entries(want.fields ?? {})) expect(at(disk, field), field).toEqual(value);
    });

    it('writes messages that name the device they are about', () => {
      for (const disk of disks) {
        for (const r of disk.reasons) {
          expect(r.message).toMatch(/\.$/);
          expect(r.message.includes(r.subject ?? disk.path) || r.message.includes(disk.path)).toBe(true);
        }
      }
    });

    it('never lists a partition outside its disk', () => {
      for (const disk of disks) {
        for (const p of disk.partitions) {
          expect(p.size).toBeLessThanOrEqual(disk.size);
          if (p.start !== null) expect(p.start + p.size).toBeLessThanOrEqual(disk.size);
        }
      }
    });
  });
});

describe('lsblk formats give the same verdicts', () => {
  const summary = (disks: readonly Disk[]) =>
    disks.map((d) => ({
      path: d.path,
      verdict: d.verdict,
      codes: codes(d),
      size: d.size,
      model: d.model,
      vendor: d.vendor,
      serial: d.serial,
      wwn: d.wwn,
      removable: d.removable,
      readOnly: d.readOnly,
      transport: d.transport,
      parts: d.partitions.map((p) => [p.path, p.number, p.size, p.typeGuid, p.typeName, p.fsType, p.mountpoints]),
    }));

  it('old all-strings lsblk (util-linux 2.31) and 2.38 typed output', () => {
    const oldStyle = classify('active-swap-util-linux-2.31');
    const newStyle = classify('active-swap');
    expect(summary(oldStyle)).toEqual(summary(newStyle));
    // What 2.31 could not say stays unknown rather than guessed.
    expect(byPath(oldStyle, '/dev/sda').partitions.every((p) => p.start === null)).toBe(true);
    expect(byPath(newStyle, '/dev/sda').partitions[0]?.start).toBe(1024 * 1024);
  });

  it.each([
    ['vm-virtio', 'vm-virtio-output-all'],
    ['blank-disk', 'blank-disk-output-all'],
  ])('%s with pinned columns and with --output-all', (pinned, all) => {
    expect(classify(all)).toEqual(classify(pinned));
  });

  it('--output-all really has the extra columns the parser must ignore', () => {
    const raw = machine('vm-virtio-output-all').snapshot.lsblk as { blockdevices: Record<string, unknown>[] };
    expect(Object.keys(raw.blockdevices[0] ?? {})).toEqual(expect.arrayContaining(['alignment', 'disc-gran', 'fsavail', 'maj:min', 'mountpoint', 'mountpoints', 'zoned']));
  });
});

describe('classification options', () => {
  it('offers loop devices only when allowed', () => {
    const none = classify('qemu-host-demo-loops', { allowLoop: 'none' });
    const all = classify('qemu-host-demo-loops', { allowLoop: 'all' });
    const one = classify('qemu-host-demo-loops', { allowLoop: ['/dev/loop1'] });
    expect(codes(byPath(none, '/dev/loop0'))).toEqual(['virtual-device']);
    expect(byPath(all, '/dev/loop0').verdict).toBe('ok');
    expect(byPath(all, '/dev/loop1').verdict).toBe('ok');
    expect(byPath(one, '/dev/loop0').verdict).toBe('refused');
    expect(byPath(one, '/dev/loop1')).toMatchObject({ verdict: 'ok', reasons: [] });
    // zram is never a loop device, whatever the options say.
    expect(codes(byPath(all, '/dev/zram0'))).toContain('virtual-device');
  });

  it('refuses everything outside restrictTo in demo mode', () => {
    const disks = classify('qemu-host-demo-loops', { allowLoop: ['/dev/loop0'], restrictTo: ['/dev/loop0'] });
    expect(byPath(disks, '/dev/loop0')).toMatchObject({ verdict: 'ok', reasons: [] });
    expect(codes(byPath(disks, '/dev/loop1'))).toEqual(['demo-only', 'virtual-device']);
    expect(codes(byPath(disks, '/dev/vda'))).toContain('demo-only');
    const blank = classify('blank-disk', { restrictTo: [] });
    expect(codes(byPath(blank, '/dev/nvme0n1'))).toEqual(['demo-only']);
  });

  it('accepts a disk of exactly the minimum size and refuses one byte less', () => {
    const disk = (name: string, size: number) => ({ name, kname: name, path: `/dev/${name}`, type: 'disk', size, ro: false, rm: false, rota: false, tran: 'sata', mountpoints: [null] });
    const snapshot: ProbeSnapshot = {
      lsblk: { blockdevices: [disk('sda', 16 * GiB), disk('sdb', 16 * GiB - 1)] },
      holders: {},
      swaps: [],
      mounts: [],
      byId: {},
      loopBacking: {},
      os: {},
    };
    const disks = classifyDisks(snapshot, { minimumSize: 16 * GiB, allowLoop: 'none' });
    expect(byPath(disks, '/dev/sda')).toMatchObject({ verdict: 'ok', reasons: [] });
    expect(byPath(disks, '/dev/sdb').reasons).toEqual([{ code: 'too-small', message: '/dev/sdb is 16 GiB; at least 16 GiB is needed.' }]);
    expect(byPath(classifyDisks(snapshot, { minimumSize: 0, allowLoop: 'none' }), '/dev/sdb').verdict).toBe('ok');
  });
});

describe('messages', () => {
  it('names what the partitions are', () => {
    const nvme = byPath(classify('laptop-nvme-windows-bitlocker'), '/dev/nvme0n1');
    expect(nvme.reasons.find((r) => r.code === 'existing-partitions')?.message).toBe(
      '/dev/nvme0n1 has 4 partitions: EFI System (vfat, 260 MiB), Microsoft reserved, BitLocker-encrypted (BitLocker, 475.9 GiB), Windows recovery environment (ntfs, 750 MiB).',
    );
    expect(nvme.reasons.find((r) => r.code === 'bitlocker')?.subject).toBe('/dev/nvme0n1p3');
  });

  it('names the operating system, the partition and the mountpoint', () => {
    const sda = byPath(classify('desktop-sata-lvm-raid'), '/dev/sda');
    expect(sda.reasons.find((r) => r.code === 'existing-os')).toEqual({ code: 'existing-os', message: 'Debian GNU/Linux 12 (bookworm) on /dev/sda2.', subject: '/dev/sda2' });
    expect(sda.reasons.filter((r) => r.code === 'mounted').map((r) => r.message)).toEqual(['/dev/sda1 is mounted on /boot/efi.', '/dev/sda2 is mounted on /.']);
    const sdb = byPath(classify('desktop-sata-lvm-raid'), '/dev/sdb');
    expect(sdb.reasons.find((r) => r.code === 'held')?.message).toBe('/dev/sdb1 is in use by vg0-data (an LVM logical volume).');
  });

  it('lists refusals before warnings', () => {
    const stick = byPath(classify('live-usb-boot'), '/dev/sda');
    expect(stick.reasons.map((r) => r.code)).toEqual(['live-medium', 'mounted', 'existing-partitions', 'esp', 'usb']);
  });
});

describe('/proc parsing', () => {
  it('decodes octal escapes in mountinfo and finds the fields after the optional ones', () => {
    const text = [
      '36 35 98:0 /mnt1 /mnt/my\\040disk rw,noatime master:1 shared:7 - ext3 /dev/sdb\\0401 rw,errors=continue',
      '27 1 8:2 / / rw,relatime shared:1 - ext4 /dev/root rw',
      'garbage',
      '',
    ].join('\n');
    expect(parseMountinfo(text)).toEqual([
      { majMin: '98:0', target: '/mnt/my disk', fstype: 'ext3', source: '/dev/sdb 1' },
      { majMin: '8:2', target: '/', fstype: 'ext4', source: '/dev/root' },
    ]);
  });

  it('reads /proc/swaps, including escaped swap file names', () => {
    const text = 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/sda3                               partition\t2097148\t\t0\t\t-2\n/swap\\040file                           file\t\t1048572\t\t0\t\t-3\n';
    expect(parseSwaps(text)).toEqual(['/dev/sda3', '/swap file']);
  });
});

describe('by-id names', () => {
  it('prefers model and serial names, never partitions, and the plain nvme name over its _1 twin', () => {
    const links = new Map([
      ['wwn-0x5002538f41234567', 'sda'],
      ['ata-Samsung_SSD_870_EVO_500GB_S62ANJ0R812345X', 'sda'],
      ['ata-Samsung_SSD_870_EVO_500GB_S62ANJ0R812345X-part1', 'sda1'],
      ['wwn-0x5002538f41234567-part1', 'sda1'],
      ['nvme-eui.002538b921a3c4d5', 'nvme0n1'],
      ['nvme-SAMSUNG_MZVL2512HCJQ-00B00_S675NX0T512345_1', 'nvme0n1'],
      ['nvme-SAMSUNG_MZVL2512HCJQ-00B00_S675NX0T512345', 'nvme0n1'],
      ['wwn-0x50014ee2bf123456', 'sdb'],
      ['scsi-SATA_WDC_WD20EZBX-00_WD-WX12D81ABCDE', 'sdb'],
    ]);
    expect(pickByIdLinks(links)).toEqual({
      nvme0n1: '/dev/disk/by-id/nvme-SAMSUNG_MZVL2512HCJQ-00B00_S675NX0T512345',
      sda: '/dev/disk/by-id/ata-Samsung_SSD_870_EVO_500GB_S62ANJ0R812345X',
      sdb: '/dev/disk/by-id/wwn-0x50014ee2bf123456',
    });
  });
});

describe('takeSnapshot on a fake tree', () => {
  const roots: string[] = [];
  afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

  function tree(files: Record<string, string>, links: Record<string, string> = {}): string {
    const root = mkdtempSync(join(tmpdir(), 'pi-disks-'));
    roots.push(root);
    for (const [p, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, p)), { recursive: true });
      writeFileSync(join(root, p), text);
    }
    for (const [p, target] of Object.entries(links)) {
      mkdirSync(dirname(join(root, p)), { recursive: true });
      symlinkSync(target, join(root, p));
    }
    return root;
  }

  const lsblkJson = JSON.stringify({
    blockdevices: [
      { name: 'loop0', kname: 'loop0', path: '/dev/loop0', type: 'loop', size: 1073741824, fstype: 'squashfs', mountpoints: ['/run/live/rootfs/filesystem.squashfs'] },
      {
        name: 'sda', kname: 'sda', path: '/dev/sda', type: 'disk', size: 500107862016, tran: 'sata', mountpoints: [null],
        children: [
          { name: 'sda1', kname: 'sda1', path: '/dev/sda1', type: 'part', size: 1073741824, start: 2048, fstype: 'iso9660', mountpoints: ['/run/live/medium'] },
          { name: 'sda2', kname: 'sda2', path: '/dev/sda2', type: 'part', size: 4294967296, start: 2099200, fstype: 'ext4', mountpoints: ['/mnt/old disk'],
            children: [] },
        ],
      },
    ],
  });

  function fakeExec(calls: (readonly string[])[], fail = 0): Exec {
    let n = 0;
    return async (argv) => {
      calls.push(argv);
      if (n++ < fail) throw new Error('lsblk: unknown column: MOUNTPOINTS');
      return { exitCode: 0, stdout: lsblkJson, stderr: '', durationMs: 1 };
    };
  }

  it('reads sysfs, procfs and by-id under deps.root and runs lsblk with the pinned columns', async () => {
    const root = tree(
      {
        'sys/class/block/sda/holders/.keep': '',
        'sys/block/loop0/loop/backing_file': '/run/live/medium/live/filesystem.squashfs\n',
        'proc/swaps': 'Filename\tType\tSize\tUsed\tPriority\n/dev/sda3 partition 100 0 -2\n',
        'proc/self/mountinfo': [
          '30 1 8:1 / /run/live/medium ro,noatime - iso9660 /dev/root ro',
          '31 1 8:2 / /mnt/old\\040disk rw - ext4 /dev/sda2 rw',
          '32 1 0:40 / /run/user rw,nosuid - tmpfs tmpfs rw',
        ].join('\n'),
        'mnt/old disk/etc/os-release': 'NAME="Fedora Linux"\nPRETTY_NAME="Fedora Linux 40 (Workstation Edition)"\n',
      },
      {
        'sys/class/block/loop0': '../../devices/virtual/block/loop0',
        'sys/class/block/sda1/holders/dm-0': '../../dm-0',
        'sys/dev/block/8:1': '../../devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda1',
        'dev/disk/by-id/wwn-0x5000c500c1234567': '../../sda',
        'dev/disk/by-id/ata-ST4000VN008-2DR166_ZDH1ABCD': '../../sda',
        'dev/disk/by-id/ata-ST4000VN008-2DR166_ZDH1ABCD-part1': '../../sda1',
      },
    );
    // sysfs holders directories hold symlinks; an empty directory (sda) must not produce an entry.
    rmSync(join(root, 'sys/class/block/sda/holders/.keep'));
    const calls: (readonly string[])[] = [];
    const snap = await takeSnapshot({ exec: fakeExec(calls), root });

    expect(calls).toEqual([['lsblk', '--json', '--bytes', '--output', LSBLK_COLUMNS.join(',')]]);
    expect(snap.holders).toEqual({ sda1: ['dm-0'] });
    expect(snap.loopBacking).toEqual({ loop0: '/run/live/medium/live/filesystem.squashfs' });
    expect(snap.swaps).toEqual(['/dev/sda3']);
    expect(snap.mounts).toEqual([
      { source: '/dev/sda1', target: '/run/live/medium', fstype: 'iso9660' },
      { source: '/dev/sda2', target: '/mnt/old disk', fstype: 'ext4' },
    ]);
    expect(snap.byId).toEqual({ sda: '/dev/disk/by-id/ata-ST4000VN008-2DR166_ZDH1ABCD' });
    expect(snap.os).toEqual({ sda2: 'Fedora Linux 40 (Workstation Edition)' });

    const sda = byPath(classifyDisks(snap, DEFAULTS), '/dev/sda');
    expect(codes(sda)).toEqual(['existing-os', 'existing-partitions', 'held', 'live-medium', 'mounted', 'mounted']);
  });

  it('falls back to --output-all when this lsblk rejects a pinned column', async () => {
    const calls: (readonly string[])[] = [];
    const snap = await takeSnapshot({ exec: fakeExec(calls, 1), root: tree({}) });
    expect(calls[1]).toEqual(['lsblk', '--json', '--bytes', '--output-all']);
    expect(parseLsblk(snap.lsblk)).toHaveLength(2);
  });

  it('survives a machine without udev, loop devices, swap or procfs files', async () => {
    const snap = await takeSnapshot({ exec: fakeExec([]), root: tree({}) });
    expect(snap).toMatchObject({ holders: {}, swaps: [], mounts: [], byId: {}, loopBacking: {}, os: {} });
  });

  it('lets lsblk failures through', async () => {
    const exec: Exec = async () => {
      throw new Error('lsblk is not installed.');
    };
    await expect(takeSnapshot({ exec, root: tree({}) })).rejects.toThrow('lsblk is not installed.');
  });
});
