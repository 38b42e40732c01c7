import { closeSync, existsSync, ftruncateSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CliError, type CliIo } from './io';

/**
 * `install --target-image FILE --size 8G [--format qcow2]`: the install goes onto a sparse file
 * attached as a loop device instead of a disk, and the file is converted with qemu-img when asked.
 * A half-written image is never left under the name asked for: the raw file is written next to it
 * under a temporary name and renamed (or converted) only when the install finished.
 */

export interface DiskImageOptions {
  readonly output: string;
  readonly bytes: number;
  readonly format: 'raw' | 'qcow2';
}

const UNITS: Readonly<Record<string, number>> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** "8G", "512M", "4096K" or plain bytes; whole MiB, so partitions can be aligned. */
export function parseImageSize(text: string): number {
  const m = /^([1-9][0-9]*)([KMGT]?)(i?B)?$/i.exec(text.trim());
  if (!m) throw new CliError(`install: --size "${text}" is not a size such as 8G or 512M`, 2);
  const bytes = Number(m[1]) * UNITS[m[2]!.toUpperCase()]!;
  if (!Number.isSafeInteger(bytes) || bytes % (1024 * 1024) !== 0) throw new CliError(`install: --size ${text} must be a whole number of MiB`, 2);
  return bytes;
}

export function targetImageOptions(values: { 'target-image'?: string; size?: string; format?: string; grow?: boolean }): DiskImageOptions | null {
  if (values['target-image'] === undefined) {
    if (values.size !== undefined || values.format !== undefined || values.grow) throw new CliError('install: --size, --format and --grow go with --target-image FILE', 2);
    return null;
  }
  if (values.size === undefined) throw new CliError('install: --target-image needs --size, e.g. --size 8G', 2);
  const format = values.format ?? 'raw';
  if (format !== 'raw' && format !== 'qcow2') throw new CliError(`install: --format must be raw or qcow2, not "${format}"`, 2);
  const output = resolve(values['target-image']);
  if (existsSync(output)) throw new CliError(`install: ${output} exists already; remove it or choose another name (nothing was written)`, 2);
  if (!existsSync(dirname(output))) throw new CliError(`install: the folder ${dirname(output)} does not exist`, 2);
  return { output, bytes: parseImageSize(values.size), format };
}

type Run = (argv: string[]) => Promise<{ stdout: string }>;

async function defaultRun(argv: string[]): Promise<{ stdout: string }> {
  const { createExec, CommandError } = await import('../engine/exec');
  try {
    const r = await createExec()(argv, { timeoutMs: 3600_000 });
    return { stdout: r.stdout };
  } catch (e) {
    // The tool's own words (e.g. losetup: cannot find an unused loop device) say what to do.
    if (e instanceof CommandError) {
      const why = e.error.stderrTail?.trim() || (e.error.exitCode === undefined ? e.error.message : `exit ${e.error.exitCode}`);
      throw new CliError(`install: ${argv.join(' ')} failed: ${why}`, 1);
    }
    throw e;
  }
}

/**
 * Creates the sparse file, attaches it, runs `install(loopDevice)`, then always detaches it; on
 * success the file is moved (raw) or converted (qcow2) to the output name, on failure removed.
 */
export async function withDiskImage(o: DiskImageOptions, io: CliIo, install: (loop: string) => Promise<number>, run: Run = defaultRun): Promise<number> {
  const raw = `${o.output}.partial.raw`;
  const say = (line: string): void => void io.stderr.write(`${line}\n`);
  rmSync(raw, { force: true });
  const fd = openSync(raw, 'wx', 0o644);
  try {
    ftruncateSync(fd, o.bytes);
  } finally {
    closeSync(fd);
  }
  let loop: string | null = null;
  let code = 1;
  try {
    const attached = (await run(['losetup', '--find', '--show', '--partscan', raw])).stdout.trim();
    // Never hand anything but a loop device to the install, or to partx and losetup below.
    if (!/^\/dev\/loop[0-9]+$/.test(attached)) throw new CliError(`install: losetup attached ${raw} as "${attached}", which is not a loop device`, 1);
    loop = attached;
    say(`Disk image: ${raw} (${o.bytes / 1024 ** 3} GiB, sparse) attached as ${loop}.`);
    code = await install(loop);
  } finally {
    if (loop) {
      // Partition nodes first (no udev may be running to drop them), then the loop device itself.
      await run(['partx', '--delete', loop]).catch(() => undefined);
      await run(['losetup', '--detach', loop]).catch((e: unknown) => say(`Could not detach ${loop}: ${(e as Error).message}; detach it with losetup -d ${loop}.`));
    }
    if (code !== 0) rmSync(raw, { force: true });
  }
  if (code !== 0) {
    say(`The install did not finish; the partial disk image ${raw} was removed.`);
    return code;
  }
  if (o.format === 'raw') {
    renameSync(raw, o.output);
  } else {
    try {
      await run(['qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2', raw, `${o.output}.partial`]);
      renameSync(`${o.output}.partial`, o.output);
    } catch (e) {
      rmSync(`${o.output}.partial`, { force: true });
      throw new CliError(`install: the install finished, but converting to qcow2 failed: ${(e as Error).message}. The raw image is kept at ${raw}.`, 1);
    }
    rmSync(raw, { force: true });
  }
  const used = statSync(o.output).blocks * 512;
  say(`Disk image written: ${o.output} (${o.format}, ${(o.bytes / 1024 ** 3).toFixed(1)} GiB virtual, ${(used / 1024 ** 2).toFixed(0)} MiB on disk).`);
  return 0;
}
