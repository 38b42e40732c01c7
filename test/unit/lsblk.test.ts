import { describe, expect, it } from 'vitest';
import { LSBLK_COLUMNS, formatBytes, parseLsblk } from '../../src/engine/disks';
import { partNumberFromName } from '../../src/engine/disks/lsblk';

describe('parseLsblk', () => {
  it('reads util-linux 2.38 typed JSON, dropping the null in mountpoints', () => {
    const [sda] = parseLsblk({
      blockdevices: [
        {
          name: 'sda', kname: 'sda', path: '/dev/sda', type: 'disk', size: 500107862016, ro: false, rm: true, hotplug: true, rota: false,
          'log-sec': 512, 'phy-sec': 4096, mountpoints: [null],
          children: [{ name: 'sda1', kname: 'sda1', path: '/dev/sda1', type: 'part', size: 1048576, start: 2048, parttype: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B', mountpoints: ['/a', null, '/b'] }],
        },
      ],
    });
    expect(sda).toMatchObject({ size: 500107862016, removable: true, hotplug: true, readOnly: false, logicalSectorSize: 512, physicalSectorSize: 4096, mountpoints: [], partNumber: null });
    expect(sda?.children[0]).toMatchObject({ mountpoints: ['/a', '/b'], start: 1048576, partNumber: 1, pkname: 'sda', partType: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b' });
  });

  it('reads old all-strings JSON with one mountpoint key, no PATH and padded vendor', () => {
    const [sda] = parseLsblk(
      '{"blockdevices": [{"name": "sda", "kname": "sda", "maj:min": "8:0", "rm": "1", "ro": "0", "rota": "1", "size": "1000204886016", "type": "disk", "vendor": "ATA     ", "model": "", "mountpoint": null,\n' +
        ' "children": [{"name": "sda3", "kname": "sda3", "rm": "1", "ro": "1", "size": "2147483648", "type": "part", "mountpoint": "[SWAP]"}]}]}',
    );
    expect(sda).toMatchObject({ path: '/dev/sda', majMin: '8:0', removable: true, readOnly: false, rotational: true, size: 1000204886016, vendor: 'ATA', model: null, mountpoints: [] });
    expect(sda?.children[0]).toMatchObject({ path: '/dev/sda3', readOnly: true, mountpoints: ['[SWAP]'], partNumber: 3, start: null });
  });

  it('prefers PARTN (util-linux >= 2.39) over the kernel name', () => {
    const [disk] = parseLsblk({ blockdevices: [{ name: 'sda', type: 'disk', size: 1, children: [{ name: 'sda1', type: 'part', size: 1, partn: 7 }] }] });
    expect(disk?.children[0]?.partNumber).toBe(7);
  });

  it('puts device-mapper devices under /dev/mapper when PATH is missing', () => {
    const [disk] = parseLsblk({ blockdevices: [{ name: 'sdb', type: 'disk', size: 10, children: [{ name: 'sdb1', type: 'part', size: 9, children: [{ name: 'vg0-data', kname: 'dm-0', type: 'lvm', size: 8 }] }] }] });
    expect(disk?.children[0]?.children[0]).toMatchObject({ path: '/dev/mapper/vg0-data', kname: 'dm-0', pkname: 'sdb1', partNumber: null });
  });

  it('tolerates unknown and missing columns', () => {
    const [d] = parseLsblk({ blockdevices: [{ kname: 'vda', 'zone-amax': 0, 'id-link': 'virtio-x', 'disk-seq': 9 }] });
    expect(d).toMatchObject({ name: 'vda', path: '/dev/vda', type: 'disk', size: 0, model: null, logicalSectorSize: null, children: [] });
  });

  it('refuses sizes printed without --bytes and input that is not lsblk JSON', () => {
    expect(() => parseLsblk({ blockdevices: [{ name: 'sda', size: '465.8G' }] })).toThrow(/--bytes/);
    expect(() => parseLsblk({ devices: [] })).toThrow(/blockdevices/);
    expect(() => parseLsblk({ blockdevices: [{ size: 1 }] })).toThrow(/NAME/);
    expect(() => parseLsblk('not json')).toThrow();
  });

  it('pins columns that util-linux 2.38 knows, and not PARTN', () => {
    expect(LSBLK_COLUMNS).toContain('MOUNTPOINTS');
    expect(LSBLK_COLUMNS).not.toContain('PARTN');
    expect(new Set(LSBLK_COLUMNS).size).toBe(LSBLK_COLUMNS.length);
  });
});

describe('partNumberFromName', () => {
  it.each([
    ['sda2', 'sda', 2],
    ['sda10', 'sda', 10],
    ['nvme0n1p3', 'nvme0n1', 3],
    ['mmcblk0p1', 'mmcblk0', 1],
    ['loop0p12', 'loop0', 12],
    ['md127p1', 'md127', 1],
    ['nvme0n1p3', null, 3],
  ])('%s under %s is %d', (kname, parent, n) => {
    expect(partNumberFromName(kname, parent)).toBe(n);
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [272629760, '260 MiB'],
    [512110190592, '476.9 GiB'],
    [1024 ** 3 - 1, '1 GiB'],
    [2000398934016, '1.8 TiB'],
    [16 * 1024 ** 3, '16 GiB'],
  ])('%d bytes is %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});
