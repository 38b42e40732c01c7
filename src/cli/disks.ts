import { DEFAULT_MINIMUM_DISK_SIZE, MAX_MESSAGE_BYTES, type Disk } from '../shared';
import type { ClassifyOptions, ProbeSnapshot } from '../engine/disks/types';
import { formatDisks, parseSize } from './format';
import { CliError, UsageError, parseCommandArgs, type CliIo } from './io';
import { readUserFile } from './validate';

/** Saved probe snapshots of big machines stay well under this. */
const MAX_SNAPSHOT_BYTES = 16 * MAX_MESSAGE_BYTES;

/**
 * Turns a saved file into a ProbeSnapshot: either a whole snapshot (has an "lsblk" key) or plain
 * `lsblk --json` output, for which every other fact is empty (lsblk's own MOUNTPOINTS still count).
 */
export function snapshotFromJson(doc: unknown, file: string): ProbeSnapshot {
  const empty = { holders: {}, swaps: [], mounts: [], byId: {}, loopBacking: {}, os: {} };
  if (doc !== null && typeof doc === 'object' && !Array.isArray(doc)) {
    if ('lsblk' in doc) return { ...empty, ...(doc as Partial<ProbeSnapshot>), lsblk: (doc as { lsblk: unknown }).lsblk };
    if ('blockdevices' in doc) return { ...empty, lsblk: doc };
  }
  throw new CliError(`${file}: neither lsblk JSON (no "blockdevices") nor a probe snapshot (no "lsblk")`, 2);
}

/** `disks`: probe (or replay a saved probe) and print the verdicts. */
export async function disksCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs('disks', args, {
    json: { type: 'boolean' },
    'lsblk-json': { type: 'string' },
    'min-size': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return -1;
  let minimumSize = DEFAULT_MINIMUM_DISK_SIZE;
  if (typeof values['min-size'] === 'string') {
    const n = parseSize(values['min-size']);
    if (n === null) throw new UsageError(`--min-size: not a size: ${values['min-size']}`, 'disks');
    minimumSize = n;
  }
  const options: ClassifyOptions = { minimumSize, allowLoop: 'none' };
  // Loaded here, not at the top: `validate` and `--help` must work without the probing code.
  const { classifyDisks, probeDisks } = await import('../engine/disks');

  let disks: Disk[];
  const file = values['lsblk-json'];
  if (typeof file === 'string') {
    let doc: unknown;
    try {
      doc = JSON.parse(await readUserFile(file, MAX_SNAPSHOT_BYTES));
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw new CliError(`${file}: not valid JSON: ${(e as Error).message}`, 2);
    }
    disks = classifyDisks(snapshotFromJson(doc, file), options);
  } else {
    const { createExec } = await import('../engine/exec');
    disks = await probeDisks({ exec: createExec() }, options);
  }
  io.stdout.write(values.json ? `${JSON.stringify(disks, null, 2)}\n` : formatDisks(disks));
  return 0;
}
