import { machineArgs, OVMF_CODE, type Firmware } from '../vm/qemu';

/**
 * The QEMU command line for a live-ISO run, as a pure function of what the run needs: the medium (CD
 * or USB stick) booted first, a blank virtio target with a known serial, a display adapter for the
 * kiosk, user networking with the engine's port forwarded, and a monitor socket for screen dumps.
 */

export type Medium = 'cd' | 'usb';
/**
 * interactive: the kiosk on the guest's own screen, driven with its own keyboard and pointer;
 * remote: the wizard in a browser on the host through the forwarded port (a remote install);
 * unattended: an answer file typed on GRUB's command line.
 */
export type Mode = 'interactive' | 'remote' | 'unattended';
export type Vga = 'virtio' | 'std';

/**
 * The ISO's embedded image: the oci-rootfs test image (default), or the bootc test image installed
 * through podman with the bootc deployer, from an ISO built with --deployer bootc --target-imgref.
 */
export type EmbeddedImage = 'oci-rootfs' | 'bootc';

export interface Variant {
  readonly mode: Mode;
  readonly firmware: Firmware;
  readonly medium: Medium;
  /** The display adapter: virtio-gpu (default) or QEMU's standard VGA. */
  readonly vga: Vga;
  readonly image: EmbeddedImage;
}

/**
 * "interactive-uefi", "unattended-bios-usb", "interactive-bios-std", "remote-uefi-bootc": mode,
 * firmware, (default cd) medium, (default virtio) display and (default oci-rootfs) embedded image.
 */
export function parseVariant(name: string): Variant {
  const m = /^(interactive|remote|unattended)-(uefi|bios)(?:-(cd|usb))?(?:-(virtio|std))?(?:-(bootc))?$/.exec(name.trim());
  if (!m) throw new Error(`not a QA variant: "${name}" (use MODE-FIRMWARE[-MEDIUM][-DISPLAY][-bootc]: interactive|remote|unattended, uefi|bios, cd|usb, virtio|std)`);
  const v: Variant = { mode: m[1] as Mode, firmware: m[2] as Firmware, medium: (m[3] ?? 'cd') as Medium, vga: (m[4] ?? 'virtio') as Vga, image: m[5] === 'bootc' ? 'bootc' : 'oci-rootfs' };
  // The bootc test image does not boot (test/support/bootc-test-image.ts): its install is checked on
  // the disk, after the wizard offered it with the ISO's update source; so the remote variant only.
  if (v.image === 'bootc' && v.mode !== 'remote') throw new Error(`not a QA variant: "${name}" (the bootc image is installed through the remote variant only, e.g. remote-uefi-bootc)`);
  return v;
}

export function variantName(v: Variant): string {
  return `${v.mode}-${v.firmware}${v.medium === 'cd' ? '' : `-${v.medium}`}${v.vga === 'virtio' ? '' : `-${v.vga}`}${v.image === 'bootc' ? '-bootc' : ''}`;
}

export interface LiveVmSpec {
  readonly accel: 'kvm' | 'tcg';
  readonly firmware: Firmware;
  /** For UEFI: a writable copy of OVMF's variable store. */
  readonly ovmfVars?: string;
  readonly iso: string;
  readonly medium: Medium;
  /** The blank target disk image (raw) and the serial the guest sees it by. */
  readonly target: string;
  readonly targetSerial: string;
  readonly memoryMiB: number;
  readonly cpus: number;
  readonly monitorSocket: string;
  /** Host loopback port → guest port. */
  readonly forward?: { readonly hostPort: number; readonly guestPort: number };
  /**
   * Keep the guest from reaching anything but its forwarded ports (user networking's restrict=on).
   * Off when the guest must fetch from the host (an answer file at 10.0.2.2).
   */
  readonly isolated: boolean;
  readonly vga: 'virtio' | 'std';
  /** QMP on a Unix socket: the guest's own keyboard (key codes) and its USB tablet (absolute pointer). */
  readonly qmpSocket?: string;
}

export function liveVmArgs(s: LiveVmSpec): string[] {
  const args = [...machineArgs(s.accel, s.memoryMiB, s.cpus, { vga: s.vga, monitor: `unix:${s.monitorSocket},server=on,wait=off` }), '-serial', 'stdio'];
  if (s.firmware === 'uefi') {
    if (!s.ovmfVars) throw new Error('UEFI needs a copy of the OVMF variable store');
    args.push('-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_CODE}`, '-drive', `if=pflash,format=raw,unit=1,file=${s.ovmfVars}`);
  }
  // The medium boots first; the blank target has nothing to boot anyway.
  args.push('-drive', `file=${s.iso},if=none,id=medium,format=raw,media=${s.medium === 'cd' ? 'cdrom' : 'disk'},readonly=on`);
  // One USB controller: the tablet a person's pointer is played by, and the stick when the medium is one.
  args.push('-device', 'qemu-xhci,id=xhci', '-device', 'usb-tablet,bus=xhci.0');
  if (s.medium === 'cd') args.push('-device', 'ide-cd,drive=medium,bootindex=0');
  else args.push('-device', 'usb-storage,bus=xhci.0,drive=medium,removable=on,bootindex=0');
  if (s.qmpSocket) args.push('-qmp', `unix:${s.qmpSocket},server=on,wait=off`);
  args.push('-drive', `file=${s.target},if=none,id=target,format=raw,cache=unsafe`, '-device', `virtio-blk-pci,drive=target,serial=${s.targetSerial},bootindex=1`);
  const fwd = s.forward ? `,hostfwd=tcp:127.0.0.1:${s.forward.hostPort}-:${s.forward.guestPort}` : '';
  args.push('-netdev', `user,id=n0${s.isolated ? ',restrict=on' : ''}${fwd}`, '-device', 'virtio-net-pci,netdev=n0');
  return args;
}
