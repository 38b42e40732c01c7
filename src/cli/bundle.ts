import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CliError, parseCommandArgs, type CliIo } from './io';

/** `bundle-logs OUT`: the last install's log, plan, redacted answer file and today's lsblk, as a .tar.gz. */
export async function bundleCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('bundle-logs', args, { 'log-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } }, true);
  if (values.help) return -1;
  const out = positionals[0];
  if (!out || positionals.length > 1) throw new CliError('bundle-logs: give exactly one output file, e.g. particle-logs.tar.gz', 2);
  const { DEFAULT_LOG_DIR } = await import('../engine/engine');
  const { LAST_INSTALL_FILES } = await import('../engine/installer');
  const dir = join(typeof values['log-dir'] === 'string' ? values['log-dir'] : DEFAULT_LOG_DIR, 'last');
  const read = (f: string): string | null => {
    try {
      return readFileSync(join(dir, f), 'utf8');
    } catch {
      return null;
    }
  };
  const log = read(LAST_INSTALL_FILES.log);
  if (log === null) throw new CliError(`bundle-logs: no install log in ${dir} (has an install run on this machine?)`, 1);
  const plan = read(LAST_INSTALL_FILES.plan);
  const request = read(LAST_INSTALL_FILES.request);
  const { createExec } = await import('../engine/exec');
  const { LSBLK_COLUMNS } = await import('../engine/disks');
  let lsblk: unknown = null;
  try {
    lsblk = JSON.parse((await createExec()(['lsblk', '--json', '--bytes', '--output', LSBLK_COLUMNS.join(',')])).stdout);
  } catch (e) {
    lsblk = { error: String((e as Error).message) };
  }
  const { writeLogBundle } = await import('../engine/install');
  // What was saved is already redacted; the bundle scrubs secret-named fields once more.
  await writeLogBundle(resolve(out), {
    log: { toText: () => log },
    plan: plan === null ? null : JSON.parse(plan),
    lsblk,
    answerFile: request === null ? null : JSON.parse(request),
    machine: await (await import('../engine/system/machine')).machineReport(),
    secrets: [],
  });
  io.stdout.write(`${resolve(out)}\n`);
  return 0;
}
