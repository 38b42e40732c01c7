import type { Exec } from '../exec';

/** Everything the classifier looks at, gathered once; saved as a fixture it replays a machine. */
export interface ProbeSnapshot {
  /** Raw `lsblk --json --bytes` output (pinned columns or --output-all). */
  readonly lsblk: unknown;
  /** /sys/class/block/NAME/holders, by kernel name; only non-empty entries. */
  readonly holders: Readonly<Record<string, readonly string[]>>;
  /** Device paths of active swap areas, from /proc/swaps. */
  readonly swaps: readonly string[];
  /** Mount sources and targets, from /proc/self/mountinfo (source device path, mountpoint, fstype). */
  readonly mounts: readonly { readonly source: string; readonly target: string; readonly fstype: string }[];
  /** Stable /dev/disk/by-id link for each disk kernel name, as udev made them. */
  readonly byId: Readonly<Record<string, string>>;
  /** Backing files of loop devices, by kernel name (/sys/block/loopN/loop/backing_file). */
  readonly loopBacking: Readonly<Record<string, string>>;
  /** Disk sequence numbers (/sys/block/NAME/diskseq, Linux 5.15+), by kernel name; absent from older snapshots. */
  readonly diskSeq?: Readonly<Record<string, number>>;
  /** Operating systems found on partitions, by partition kernel name (os-release PRETTY_NAME, "Windows"). */
  readonly os: Readonly<Record<string, string>>;
}

export interface ClassifyOptions {
  /** Disks smaller than this are refused. */
  readonly minimumSize: number;
  /** Which loop devices may be offered: none (normal), all (test mode), or these paths (demo disks). */
  readonly allowLoop: 'none' | 'all' | readonly string[];
  /** In demo mode, every disk not listed here is refused with `demo-only`. */
  readonly restrictTo?: readonly string[];
}

export interface ProbeDeps {
  readonly exec: Exec;
  /** Prefix for /sys, /proc, /dev and /run reads, so tests can point it at a fake tree. Default "". */
  readonly root?: string;
}
