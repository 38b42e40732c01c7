/**
 * Disk discovery: snapshot the machine (impure), then classify the snapshot (pure). Keeping the two
 * apart is what lets saved machines under test/fixtures/machines replay exactly.
 */
import type { Disk } from '../../shared/disk';
import { classifyDisks } from './classify';
import { takeSnapshot } from './snapshot';
import type { ClassifyOptions, ProbeDeps } from './types';

export { classifyDisks } from './classify';
export { formatBytes } from './format';
export { LSBLK_COLUMNS, parseLsblk, type LsblkDevice } from './lsblk';
export { decodeOctal, parseMountinfo, parseSwaps, pickByIdLinks, takeSnapshot } from './snapshot';
export type { ClassifyOptions, ProbeDeps, ProbeSnapshot } from './types';

/** Probes the running machine and classifies every disk on it. */
export async function probeDisks(deps: ProbeDeps, options: ClassifyOptions): Promise<Disk[]> {
  return classifyDisks(await takeSnapshot(deps), options);
}
