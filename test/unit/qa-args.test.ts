import { describe, expect, it } from 'vitest';
import { liveVmArgs, parseVariant, variantName, type LiveVmSpec } from '../qa/args';
import { byLine } from '../vm/index';
import { OVMF_CODE } from '../vm/qemu';

const spec: LiveVmSpec = {
  accel: 'tcg',
  firmware: 'uefi',
  ovmfVars: '/tmp/x/OVMF_VARS.fd',
  iso: '/isos/particle-live.iso',
  medium: 'cd',
  target: '/qa/target.img',
  targetSerial: 'qa-target',
  memoryMiB: 3072,
  cpus: 2,
  monitorSocket: '/tmp/x/monitor.sock',
  forward: { hostPort: 8470, guestPort: 8470 },
  isolated: true,
  vga: 'virtio',
};

/** The value after each occurrence of `flag`. */
const values = (args: string[], flag: string): string[] => args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));

describe('QA: the live VM command line', () => {
  it('UEFI, CD: OVMF with a copy of its variables, the ISO on an AHCI CD first, a blank virtio target with its serial', () => {
    const args = liveVmArgs(spec);
    expect(values(args, '-accel')).toEqual(['tcg']);
    expect(values(args, '-m')).toEqual(['3072']);
    // One CPU under TCG, whatever the spec asks (see machineArgs); KVM gets what it asks.
    expect(values(args, '-smp')).toEqual(['1']);
    expect(values(liveVmArgs({ ...spec, accel: 'kvm' }), '-smp')).toEqual(['2']);
    expect(values(args, '-serial')).toEqual(['stdio']);
    expect(values(args, '-monitor')).toEqual(['unix:/tmp/x/monitor.sock,server=on,wait=off']);
    const drives = values(args, '-drive');
    expect(drives).toContain(`if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_CODE}`);
    expect(drives).toContain('if=pflash,format=raw,unit=1,file=/tmp/x/OVMF_VARS.fd');
    expect(drives).toContain('file=/isos/particle-live.iso,if=none,id=medium,format=raw,media=cdrom,readonly=on');
    expect(drives).toContain('file=/qa/target.img,if=none,id=target,format=raw,cache=unsafe');
    const devices = values(args, '-device');
    expect(devices).toContain('ide-cd,drive=medium,bootindex=0');
    expect(devices).toContain('virtio-blk-pci,drive=target,serial=qa-target,bootindex=1');
    expect(devices).toContain('virtio-vga');
    expect(devices).toContain('virtio-net-pci,netdev=n0');
    // The engine checks Host: the host port is the guest's.
    expect(values(args, '-netdev')).toEqual(['user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:8470-:8470']);
  });

  it('BIOS, USB stick, not isolated, no forward: no pflash, the ISO on xHCI usb-storage', () => {
    const args = liveVmArgs({ ...spec, firmware: 'bios', ovmfVars: undefined, medium: 'usb', forward: undefined, isolated: false, vga: 'std' });
    const drives = values(args, '-drive');
    expect(drives.some((d) => d.includes('pflash'))).toBe(false);
    expect(drives).toContain('file=/isos/particle-live.iso,if=none,id=medium,format=raw,media=disk,readonly=on');
    const devices = values(args, '-device');
    expect(devices).toContain('qemu-xhci,id=xhci');
    expect(devices).toContain('usb-storage,bus=xhci.0,drive=medium,removable=on,bootindex=0');
    expect(devices).toContain('VGA');
    expect(devices.some((d) => d.startsWith('ide-cd'))).toBe(false);
    expect(values(args, '-netdev')).toEqual(['user,id=n0']);
  });

  it('UEFI without a variables copy is refused', () => {
    expect(() => liveVmArgs({ ...spec, ovmfVars: undefined })).toThrow(/OVMF/);
  });

  it('variant names: mode, firmware, and a medium other than the CD', () => {
    expect(parseVariant('interactive-uefi')).toEqual({ mode: 'interactive', firmware: 'uefi', medium: 'cd', vga: 'virtio', image: 'oci-rootfs' });
    expect(parseVariant('unattended-bios-usb')).toEqual({ mode: 'unattended', firmware: 'bios', medium: 'usb', vga: 'virtio', image: 'oci-rootfs' });
    expect(parseVariant('remote-uefi')).toEqual({ mode: 'remote', firmware: 'uefi', medium: 'cd', vga: 'virtio', image: 'oci-rootfs' });
    expect(parseVariant('interactive-bios-std')).toEqual({ mode: 'interactive', firmware: 'bios', medium: 'cd', vga: 'std', image: 'oci-rootfs' });
    expect(variantName(parseVariant('interactive-bios-cd-std'))).toBe('interactive-bios-std');
    expect(variantName(parseVariant('remote-uefi-usb-virtio'))).toBe('remote-uefi-usb');
    expect(variantName(parseVariant('unattended-bios-usb'))).toBe('unattended-bios-usb');
    expect(variantName(parseVariant('interactive-uefi-cd'))).toBe('interactive-uefi');
    expect(() => parseVariant('interactive')).toThrow(/MODE-FIRMWARE/);
    expect(parseVariant('remote-uefi-bootc')).toEqual({ mode: 'remote', firmware: 'uefi', medium: 'cd', vga: 'virtio', image: 'bootc' });
    expect(variantName(parseVariant('remote-bios-usb-std-bootc'))).toBe('remote-bios-usb-std-bootc');
    expect(() => parseVariant('unattended-bios-bootc')).toThrow(/remote variant only/);
    expect(() => parseVariant('remote-uefi-bootc-usb')).toThrow(/MODE-FIRMWARE/);
  });

});

describe("a guest's output, line by line", () => {
  it('hands on whole lines only, joining a line split across chunks and keeping an unfinished one back', () => {
    const got: string[] = [];
    const onOutput = byLine((l) => got.push(l));
    onOutput('[guest 1s] a\n[guest');
    onOutput(' 2s] b\n');
    onOutput('[guest 3s] c');
    expect(got).toEqual(['[guest 1s] a', '[guest 2s] b']);
  });
});
