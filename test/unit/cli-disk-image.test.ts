import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseImageSize, targetImageOptions, withDiskImage } from '../../src/cli/disk-image';

// install --target-image: the sparse file, the loop device around the install, and what is left
// under which name after a success or a failure. losetup and qemu-img are played by a recorder;
// the real ones run in the VM test (test/vm/oci-rootfs.test.ts).

const GiB = 1024 ** 3;
let dir: string;
const io = () => {
  const err: string[] = [];
  return { err, io: { stdout: { write: () => true }, stderr: { write: (s: string) => void err.push(s) } } as never };
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'particle-disk-image-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function recorder(o: { loop?: string; convertFails?: boolean } = {}) {
  const calls: string[][] = [];
  const run = async (argv: string[]) => {
    calls.push(argv);
    if (argv[0] === 'losetup' && argv[1] === '--find') return { stdout: `${o.loop ?? '/dev/loop7'}\n` };
    if (argv[0] === 'qemu-img') {
      if (o.convertFails) throw new Error('qemu-img: No space left on device');
      writeFileSync(argv[argv.length - 1]!, 'QFI\xfb');
    }
    return { stdout: '' };
  };
  return { calls, run };
}

describe('install --target-image', () => {
  it('parses sizes in whole MiB and refuses the rest', () => {
    expect(parseImageSize('8G')).toBe(8 * GiB);
    expect(parseImageSize('512M')).toBe(512 * 1024 ** 2);
    expect(parseImageSize('4096K')).toBe(4 * 1024 ** 2);
    expect(parseImageSize('2GiB')).toBe(2 * GiB);
    for (const bad of ['0', '8X', '-1G', '1.5G', '1000K', '', '8 G;rm']) expect(() => parseImageSize(bad), bad).toThrow(/size/);
  });

  it('checks the options before anything is created: size needed, format raw or qcow2, no overwriting, folder must exist', () => {
    expect(targetImageOptions({})).toBeNull();
    expect(() => targetImageOptions({ size: '8G' })).toThrow(/go with --target-image/);
    expect(() => targetImageOptions({ 'target-image': join(dir, 'a.raw') })).toThrow(/needs --size/);
    expect(() => targetImageOptions({ 'target-image': join(dir, 'a.vmdk'), size: '8G', format: 'vmdk' })).toThrow(/raw or qcow2/);
    writeFileSync(join(dir, 'exists.raw'), '');
    expect(() => targetImageOptions({ 'target-image': join(dir, 'exists.raw'), size: '8G' })).toThrow(/exists already.*nothing was written/);
    expect(() => targetImageOptions({ 'target-image': join(dir, 'no/such/dir/a.raw'), size: '8G' })).toThrow(/does not exist/);
    expect(targetImageOptions({ 'target-image': join(dir, 'a.qcow2'), size: '4G', format: 'qcow2' })).toEqual({ output: join(dir, 'a.qcow2'), bytes: 4 * GiB, format: 'qcow2' });
  });

  it('raw: a sparse file of the size asked for, attached with partition scanning, detached after, renamed at the end', async () => {
    const out = join(dir, 'disk.raw');
    const r = recorder();
    const { io: o, err } = io();
    let sizeDuringInstall = 0;
    let onDevice = '';
    const code = await withDiskImage({ output: out, bytes: 4 * GiB, format: 'raw' }, o, async (loop) => {
      onDevice = loop;
      const st = statSync(`${out}.partial.raw`);
      sizeDuringInstall = st.size;
      // Sparse: nothing allocated yet.
      expect(st.blocks * 512).toBeLessThan(1024 * 1024);
      expect(existsSync(out)).toBe(false);
      return 0;
    }, r.run);
    expect(code).toBe(0);
    expect(onDevice).toBe('/dev/loop7');
    expect(sizeDuringInstall).toBe(4 * GiB);
    expect(r.calls).toEqual([
      ['losetup', '--find', '--show', '--partscan', `${out}.partial.raw`],
      ['partx', '--delete', '/dev/loop7'],
      ['losetup', '--detach', '/dev/loop7'],
    ]);
    expect(readdirSync(dir)).toEqual(['disk.raw']);
    expect(err.join('')).toMatch(/Disk image written: .*disk\.raw \(raw, 4\.0 GiB virtual/);
  });

  it('qcow2: converted with qemu-img after the loop device is gone, the raw file removed', async () => {
    const out = join(dir, 'disk.qcow2');
    const r = recorder();
    expect(await withDiskImage({ output: out, bytes: GiB, format: 'qcow2' }, io().io, async () => 0, r.run)).toBe(0);
    expect(r.calls.map((c) => c[0])).toEqual(['losetup', 'partx', 'losetup', 'qemu-img']);
    expect(r.calls[3]).toEqual(['qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2', `${out}.partial.raw`, `${out}.partial`]);
    expect(readdirSync(dir)).toEqual(['disk.qcow2']);
  });

  it('a failed install detaches the loop device and leaves no file under any name', async () => {
    const out = join(dir, 'disk.qcow2');
    const r = recorder();
    const { io: o, err } = io();
    expect(await withDiskImage({ output: out, bytes: GiB, format: 'qcow2' }, o, async () => 1, r.run)).toBe(1);
    expect(r.calls.map((c) => c.slice(0, 2).join(' '))).toEqual(['losetup --find', 'partx --delete', 'losetup --detach']);
    expect(readdirSync(dir)).toEqual([]);
    expect(err.join('')).toMatch(/did not finish; the partial disk image .* was removed/);
    // An exception inside the install too.
    const r2 = recorder();
    await expect(withDiskImage({ output: out, bytes: GiB, format: 'raw' }, io().io, async () => Promise.reject(new Error('boom')), r2.run)).rejects.toThrow('boom');
    expect(r2.calls.at(-1)).toEqual(['losetup', '--detach', '/dev/loop7']);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a device that is not a loop device, and keeps the raw image when only the conversion failed', async () => {
    const out = join(dir, 'disk.qcow2');
    const odd = recorder({ loop: '/dev/sda' });
    await expect(withDiskImage({ output: out, bytes: GiB, format: 'raw' }, io().io, async () => 0, odd.run)).rejects.toThrow(/not a loop device/);
    // Nothing is run on a device that is not the loop device.
    expect(odd.calls).toEqual([['losetup', '--find', '--show', '--partscan', `${out}.partial.raw`]]);
    expect(readdirSync(dir)).toEqual([]);
    await expect(withDiskImage({ output: out, bytes: GiB, format: 'qcow2' }, io().io, async () => 0, recorder({ convertFails: true }).run)).rejects.toThrow(/converting to qcow2 failed.*kept at .*disk\.qcow2\.partial\.raw/);
    expect(readdirSync(dir)).toEqual(['disk.qcow2.partial.raw']);
  });
});
