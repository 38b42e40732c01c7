import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureVmImage, vmUnavailable, type BuildReport, type VmImage } from './image';
import * as q from './qemu';

/**
 * The VM test level as tests use it: `runInVm(command, { disks })` runs a command as root in a
 * Debian guest with a full kernel (vfat, device-mapper, md…), and `bootDisk(file, { firmware })`
 * boots an installed disk to its login prompt. The image is built once and cached.
 */

export { killAllVms, VmError, type BootDiskOptions, type BootedVm, type Firmware, type RunInVmResult, type VmDisk } from './qemu';
export { vmUnavailable, GUEST_ROOT_PASSWORD } from './image';
export { bundleGuestScript } from './guest-bundle';

let report: Promise<BuildReport> | null = null;

/** The cached image (built on first use), and how long getting it took. */
export function vmImage(log: (line: string) => void = (l) => console.log(`[vm] ${l}`)): Promise<BuildReport> {
  report ??= (async () => {
    const started = performance.now();
    const r = await ensureVmImage(log);
    const stamp = join(r.image.dir, 'build-seconds');
    const lookup = (performance.now() - started) / 1000;
    const cold = existsSync(stamp) ? Number(readFileSync(stamp, 'utf8')) : NaN;
    log(r.cached ? `VM image: cached (${lookup.toFixed(2)} s); its cold build took ${cold.toFixed(0)} s` : `VM image: cold build ${r.buildSeconds.toFixed(0)} s`);
    return r;
  })();
  return report;
}

export async function runInVm(command: string, options: q.RunInVmOptions = {}): Promise<q.RunInVmResult> {
  const { image } = await vmImage();
  try {
    return await q.runInVm(image, command, options);
  } catch (e) {
    // A guest that dies while booting (seen rarely under TCG) never ran the command: boot it once more.
    // A failure after the command started is the test's and is never retried.
    if (!(e instanceof q.VmError) || !e.beforeCommand) throw e;
    console.warn(`[vm] the guest failed before running the command; booting once more:\n${e.message.split('\n').slice(0, 3).join('\n')}`);
    return q.runInVm(image, command, options);
  }
}

export async function bootDisk(file: string, options: q.BootDiskOptions): Promise<q.BootedVm> {
  const { image } = await vmImage();
  return q.bootDisk(file, { probeKernel: image.kernel, ...options });
}

export type { VmImage };
export const unavailable = vmUnavailable;

/** A guest script's `PARTICLE_RESULT {json}` lines (see test/vm/guest), by their `variant` field. */
export function guestResults<T extends { variant: string }>(output: string): Map<string, T> {
  const results = new Map<string, T>();
  for (const line of output.replace(/\r/g, '').split('\n')) {
    const m = /^PARTICLE_RESULT (\{.*\})\s*$/.exec(line);
    if (!m) continue;
    const r = JSON.parse(m[1]!) as T;
    results.set(String(r.variant), r);
  }
  return results;
}

/** An `onOutput` for runInVm that hands `each` the guest's output one whole line at a time. */
export function byLine(each: (line: string) => void): (chunk: string) => void {
  let pending = '';
  return (chunk) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const l of lines) each(l);
  };
}
