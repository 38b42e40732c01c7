/**
 * What the running system is doing with each block device: mounts, swap, holders, and which disk
 * carries the live medium. Pure; works on the lsblk tree plus the rest of a ProbeSnapshot.
 */
import { walk, type LsblkDevice } from './lsblk';
import type { ProbeSnapshot } from './types';

/** Where live systems mount the medium they booted from (live-boot, dracut, casper, archiso, old live-boot). */
export const LIVE_MEDIUM_MOUNTS = ['/run/live/medium', '/run/initramfs/live', '/cdrom', '/run/archiso/bootmnt', '/lib/live/mount/medium'];

/** Read-only image filesystems a live system may use directly as `/`. */
const IMAGE_FS = new Set(['iso9660', 'squashfs', 'erofs']);

/** A mount of a device, and the stacked device it goes through when it is not the device itself. */
export interface Use {
  readonly target: string;
  readonly via: LsblkDevice | null;
}

export interface LiveEvidence {
  readonly subject: string;
  readonly message: string;
}

export class Usage {
  private readonly mountsBySource = new Map<string, { target: string; fstype: string }[]>();
  private readonly swaps: Set<string>;
  private readonly byKname = new Map<string, LsblkDevice>();
  private readonly loopEvidence = new Map<string, LiveEvidence>();

  constructor(
    private readonly snapshot: ProbeSnapshot,
    private readonly tree: readonly LsblkDevice[],
  ) {
    for (const m of snapshot.mounts) {
      const list = this.mountsBySource.get(m.source) ?? [];
      list.push({ target: m.target, fstype: m.fstype });
      this.mountsBySource.set(m.source, list);
    }
    this.swaps = new Set(snapshot.swaps);
    for (const top of tree) for (const d of walk(top)) if (!this.byKname.has(d.kname)) this.byKname.set(d.kname, d);
    this.findLoopBackings();
  }

  /** The device with this kernel name, anywhere in the tree. */
  device(kname: string): LsblkDevice | undefined {
    return this.byKname.get(kname);
  }

  /** The names mount sources and /proc/swaps may use for a device. */
  private keys(d: LsblkDevice): string[] {
    const keys = [d.path, `/dev/${d.kname}`, `/dev/${d.name}`];
    if (['lvm', 'crypt', 'dm', 'mpath'].includes(d.type)) keys.push(`/dev/mapper/${d.name}`);
    return keys;
  }

  /** Mountpoints of the device itself (lsblk and mountinfo merged), without "[SWAP]". */
  ownMounts(d: LsblkDevice): string[] {
    const out = d.mountpoints.filter((m) => m !== '[SWAP]');
    for (const k of this.keys(d)) for (const m of this.mountsBySource.get(k) ?? []) if (!out.includes(m.target)) out.push(m.target);
    return out;
  }

  private mountFsTypes(d: LsblkDevice): string[] {
    return this.keys(d).flatMap((k) => (this.mountsBySource.get(k) ?? []).map((m) => m.fstype));
  }

  isSwap(d: LsblkDevice): boolean {
    return d.mountpoints.includes('[SWAP]') || this.keys(d).some((k) => this.swaps.has(k));
  }

  /**
   * The device and the devices stacked on it (LVM, dm-crypt, md), but not its partitions: a disk's
   * partitions are judged one by one, so a mounted partition is not blamed on the disk twice.
   */
  stack(d: LsblkDevice): LsblkDevice[] {
    return [d, ...d.children.filter((c) => c.type !== 'part').flatMap(walk)];
  }

  /** Every mount of the device or of anything stacked on it. */
  uses(d: LsblkDevice): Use[] {
    return this.stack(d).flatMap((s) => this.ownMounts(s).map((target) => ({ target, via: s === d ? null : s })));
  }

  /** The device itself or a device stacked on it that is active swap. */
  swapUse(d: LsblkDevice): Use | null {
    const s = this.stack(d).find((x) => this.isSwap(x));
    return s ? { target: '[SWAP]', via: s === d ? null : s } : null;
  }

  /** Kernel names of devices stacked directly on this one, from sysfs and from the lsblk tree. */
  holders(d: LsblkDevice): string[] {
    const out = [...(this.snapshot.holders[d.kname] ?? [])];
    for (const c of d.children) if (c.type !== 'part' && !out.includes(c.kname)) out.push(c.kname);
    return out;
  }

  /** Operating system found on the device or on something stacked on it. */
  os(d: LsblkDevice): string | null {
    for (const s of this.stack(d)) {
      const os = this.snapshot.os[s.kname];
      if (os) return os;
    }
    return null;
  }

  /** Why this whole disk is (or carries) the medium the live system runs from, or null. */
  liveMedium(disk: LsblkDevice): LiveEvidence | null {
    for (const d of walk(disk)) {
      const live = this.ownMounts(d).find((m) => LIVE_MEDIUM_MOUNTS.includes(m));
      if (live) return { subject: d.path, message: `${d.path} is the live medium this system booted from (mounted on ${live}).` };
    }
    for (const d of walk(disk)) {
      const rootFs = this.ownMounts(d).includes('/') ? [d.fsType, ...this.mountFsTypes(d)].find((t) => t && IMAGE_FS.has(t)) : undefined;
      if (rootFs) return { subject: d.path, message: `${d.path} holds the running live system (${rootFs} mounted on /).` };
    }
    for (const d of walk(disk)) {
      if (d.fsType === 'iso9660') return { subject: d.path, message: `${d.path} holds a live or installer image (iso9660).` };
    }
    return this.loopEvidence.get(disk.kname) ?? null;
  }

  /**
   * A live system's root image is a file on the medium (…/live/filesystem.squashfs) attached as a
   * loop device; the disk holding that file must not be erased under the running system. Only loops
   * the live system itself uses count (mounted on `/`, under /run or /rofs): snap packages are loop
   * files on an installed system's disk, which is refused as mounted anyway.
   */
  private findLoopBackings(): void {
    const targets: { target: string; disk: LsblkDevice; dev: LsblkDevice }[] = [];
    for (const top of this.tree) for (const d of walk(top)) for (const t of this.ownMounts(d)) targets.push({ target: t, disk: top, dev: d });

    for (const [loopName, backingRaw] of Object.entries(this.snapshot.loopBacking)) {
      const loop = this.byKname.get(loopName);
      const loopTargets = loop ? walk(loop).flatMap((d) => this.ownMounts(d)) : (this.mountsBySource.get(`/dev/${loopName}`) ?? []).map((m) => m.target);
      if (!loopTargets.some((t) => t === '/' || t.startsWith('/run/') || t === '/rofs')) continue;
      const backing = backingRaw.replace(/ \(deleted\)$/, '');
      let best: (typeof targets)[number] | null = null;
      for (const t of targets) {
        if (t.disk.kname === loopName || !isUnder(backing, t.target)) continue;
        if (!best || t.target.length > best.target.length) best = t;
      }
      if (best && !this.loopEvidence.has(best.disk.kname)) {
        this.loopEvidence.set(best.disk.kname, {
          subject: best.dev.path,
          message: `${best.dev.path} holds ${backing}, the image the running live system uses through /dev/${loopName}.`,
        });
      }
    }
  }
}

/** Whether `path` is `dir` or inside it, by whole path components. */
export function isUnder(path: string, dir: string): boolean {
  if (dir === '/') return path.startsWith('/');
  return path === dir || path.startsWith(`${dir}/`);
}
