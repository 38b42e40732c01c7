import { describe, expect, it } from 'vitest';
import { busName, diskModel, formatSize, splitSize } from '../../src/renderer/src/format';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

describe('splitSize', () => {
  it('uses binary units', () => {
    expect(splitSize(0)).toEqual({ value: 0, unit: 'B' });
    expect(splitSize(1023)).toEqual({ value: 1023, unit: 'B' });
    expect(splitSize(1024)).toEqual({ value: 1, unit: 'KiB' });
    expect(splitSize(512 * MiB)).toEqual({ value: 512, unit: 'MiB' });
    expect(splitSize(64 * GiB)).toEqual({ value: 64, unit: 'GiB' });
    expect(splitSize(1.5 * 1024 * GiB)).toEqual({ value: 1.5, unit: 'TiB' });
  });
});

describe('formatSize', () => {
  it('drops the decimal for whole numbers and keeps one otherwise', () => {
    expect(formatSize(64 * GiB, 'en')).toBe('64\u00a0GiB');
    expect(formatSize(476.94 * GiB, 'en')).toBe('477\u00a0GiB');
    expect(formatSize(1.5 * GiB, 'en')).toBe('1.5\u00a0GiB');
    expect(formatSize(0, 'en')).toBe('0\u00a0B');
  });
  it('formats the number in the locale and takes the unit from the translation', () => {
    expect(formatSize(1.5 * GiB, 'de')).toBe('1,5\u00a0GiB');
    expect(formatSize(1.5 * GiB, 'fr', (u) => ({ GiB: 'Gio' })[u as 'GiB'] ?? u)).toBe('1,5\u00a0Gio');
    expect(formatSize(2000 * GiB, 'en')).toBe('2\u00a0TiB');
  });
});

describe('busName', () => {
  it('spells buses as printed on the hardware', () => {
    expect(busName('nvme')).toBe('NVMe');
    expect(busName('usb')).toBe('USB');
    expect(busName('virtio')).toBe('VirtIO');
    expect(busName('weird')).toBe('WEIRD');
  });
});

describe('diskModel', () => {
  it('joins vendor and model without repeating or showing numeric vendor ids', () => {
    expect(diskModel({ vendor: 'ATA', model: 'Samsung SSD 870' })).toBe('Samsung SSD 870');
    expect(diskModel({ vendor: 'SanDisk', model: 'Ultra Fit' })).toBe('SanDisk Ultra Fit');
    expect(diskModel({ vendor: 'Samsung', model: 'Samsung SSD 870' })).toBe('Samsung SSD 870');
    expect(diskModel({ vendor: '0x1af4', model: null })).toBeNull();
    expect(diskModel({ vendor: null, model: '  ' })).toBeNull();
    expect(diskModel({ vendor: 'QEMU', model: null })).toBe('QEMU');
  });
});
