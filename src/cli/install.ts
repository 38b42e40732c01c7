import { DEFAULT_MINIMUM_DISK_SIZE, type AnswerFile, type InstallState, type ProgressEvent } from '../shared';
import { targetImageOptions, withDiskImage } from './disk-image';
import { CliError, parseCommandArgs, type CliIo } from './io';
import { readAnswerFile } from './plan';

/**
 * `install --config FILE`: the unattended path through the same engine as the wizard. The answer
 * file is the confirmation. Progress goes to the terminal as a bar (TTY) or JSON lines (--json);
 * the exit code is 0 only when the install finished.
 */
export async function installCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs('install', args, {
    config: { type: 'string' },
    json: { type: 'boolean' },
    'test-mode': { type: 'boolean' },
    'min-size': { type: 'string' },
    'log-dir': { type: 'string' },
    'target-image': { type: 'string' },
    size: { type: 'string' },
    format: { type: 'string' },
    grow: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return -1;
  if (typeof values.config !== 'string') throw new CliError('install: --config FILE is required', 2);
  const image = targetImageOptions(values);
  if (process.getuid?.() !== 0) throw new CliError('install: must run as root (it partitions and formats the disk)', 2);
  let request = await readAnswerFile(values.config);
  if (image) {
    if (values.grow) {
      if (request.layout.type !== 'erase') throw new CliError('install: --grow needs the erase layout', 2);
      request = { ...request, layout: { ...request.layout, growOnFirstBoot: true } };
    }
    // The size was chosen on the command line: the disk-size minimum meant for real disks does not apply.
    const sized: InstallValues = { ...values, 'min-size': typeof values['min-size'] === 'string' ? values['min-size'] : String(Math.min(image.bytes, DEFAULT_MINIMUM_DISK_SIZE)) };
    return withDiskImage(image, io, async (loop) => runInstall({ ...request, disk: { path: loop } }, sized, io, [loop]));
  }
  return runInstall(request, values, io);
}

type InstallValues = { json?: boolean; 'test-mode'?: boolean; 'min-size'?: string; 'log-dir'?: string };

async function runInstall(request: AnswerFile, values: InstallValues, io: CliIo, targetDisks?: string[]): Promise<number> {
  const { createEngine } = await import('../engine/engine');
  const minimumSize = typeof values['min-size'] === 'string' ? Number(values['min-size']) : DEFAULT_MINIMUM_DISK_SIZE;
  const engine = createEngine({
    mode: values['test-mode'] ? 'test' : 'normal',
    minimumSize,
    ...(typeof values['log-dir'] === 'string' ? { logDir: values['log-dir'] } : {}),
    ...(targetDisks ? { targetDisks } : {}),
  });
  const installer = engine.installer!;
  const json = values.json === true;
  const tty = !json && (io.stdout as { isTTY?: boolean }).isTTY === true;
  const out = (line: string): void => void io.stdout.write(`${line}\n`);

  const plan = await engine.handlers.planInstall({ request });
  if (json) out(JSON.stringify({ kind: 'plan', plan }));
  else for (const line of plan.summary) out(line);

  // Ctrl-C cancels: teardown still runs and the disk's true state is reported.
  const onSignal = (): void => void installer.cancel();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const render = renderer(tty, out, io);
  engine.on('progress', (ev) => (json ? out(JSON.stringify(ev)) : render(ev)));
  try {
    await engine.handlers.startInstall({ planId: plan.id });
    await installer.settled();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const state: InstallState = installer.getState();
  if (state.outcome?.kind === 'finished') {
    if (!json) out(`Installed in ${Math.round(state.outcome.durationMs / 1000)} s.${request.reboot ? ' Rebooting.' : ''}`);
    if (request.reboot) await (await import('../engine/exec')).createExec()(['systemctl', 'reboot']);
    return 0;
  }
  if (!json && state.outcome?.kind === 'failed') {
    const f = state.outcome;
    io.stderr.write(`\n${f.cancelled ? 'Cancelled' : 'Failed'}${f.error.step ? ` while ${f.error.step}` : ''}: ${f.error.message}\n`);
    if (f.error.command) io.stderr.write(`  command: ${f.error.command.join(' ')}\n`);
    if (f.error.stderrTail) io.stderr.write(`${f.error.stderrTail.replace(/^/gm, '  | ')}\n`);
    io.stderr.write(`  disk: ${f.diskState}; a retry would start from "${f.retry.from}": ${f.retry.reason}\n`);
  }
  return 1;
}

/** A one-line bar on a terminal, plain step lines otherwise. */
function renderer(tty: boolean, out: (line: string) => void, io: CliIo): (ev: ProgressEvent) => void {
  let title = '';
  let doing = '';
  return (ev) => {
    if (ev.kind === 'step-started' || ev.kind === 'step-finished') doing = '';
    if (ev.kind === 'step-started') title = ev.title;
    if (ev.kind === 'step-progress') doing = ev.message !== undefined && ev.message !== title ? `: ${ev.message}` : '';
    if (ev.kind === 'log') return;
    if (!('overall' in ev)) return;
    const pct = Math.round(ev.overall.fraction * 100);
    // Tenths, the engine's visible step (progress.ts VISIBLE_STEP), cut down so 99.96 % is not 100.0.
    const tenths = (Math.floor(ev.overall.fraction * 1000 + 1e-9) / 10).toFixed(1);
    // A late command makes any number stale: say so instead, with how long it has run.
    const running = ev.overall.runningSeconds === undefined ? '' : ` (${ev.overall.runningSeconds} s so far)`;
    const eta = ev.overall.overrun ? `, taking longer than expected${running}` : ev.overall.etaSeconds === null ? '' : `, about ${Math.max(1, Math.round(ev.overall.etaSeconds))} s left`;
    if (tty) {
      const width = 30;
      const filled = Math.round((pct / 100) * width);
      io.stdout.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${tenths.padStart(5)}% ${title}${doing}${eta}\x1b[K`);
      if (ev.kind === 'finished' || ev.kind === 'failed') io.stdout.write('\n');
    } else if (ev.kind === 'step-started') {
      out(`${String(pct).padStart(3)}% ${ev.title}`);
    }
  };
}
