import { randomUUID } from 'node:crypto';
import { DEFAULT_MINIMUM_DISK_SIZE, MAX_MESSAGE_BYTES, validateAnswerFile, type InstallPlan, type PlanCondition } from '../shared';
import { snapshotFromJson } from './disks';
import { CliError, parseCommandArgs, type CliIo } from './io';
import { readUserFile } from './validate';

/** Reads and validates an answer file, or fails with one line per bad field. */
export async function readAnswerFile(file: string) {
  let doc: unknown;
  try {
    doc = JSON.parse(await readUserFile(file, MAX_MESSAGE_BYTES));
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`${file}: not valid JSON: ${(e as Error).message}`, 2);
  }
  const r = validateAnswerFile(doc);
  if (!r.ok) throw new CliError(r.errors.map((e) => `${file}: ${e.field}: ${e.message}`).join('\n'), 1);
  return r.value;
}

/** `plan --config FILE [--disks-from FILE] [--json]`: what an install would do, touching nothing. */
export async function planCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs('plan', args, {
    config: { type: 'string' },
    'disks-from': { type: 'string' },
    json: { type: 'boolean' },
    'test-mode': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return -1;
  if (typeof values.config !== 'string') throw new CliError('plan: --config FILE is required', 2);
  const request = await readAnswerFile(values.config);
  const { classifyDisks, probeDisks } = await import('../engine/disks');
  const { planInstall } = await import('../engine/plan');
  const { systemFacts } = await import('../engine/facts');
  const { hashRequestPasswords } = await import('../engine/crypt');
  const { layoutImageId } = await import('../engine/system/image');
  const options = { minimumSize: DEFAULT_MINIMUM_DISK_SIZE, allowLoop: values['test-mode'] ? ('all' as const) : ('none' as const) };
  const from = values['disks-from'];
  const disks =
    typeof from === 'string'
      ? classifyDisks(snapshotFromJson(JSON.parse(await readUserFile(from, 16 * MAX_MESSAGE_BYTES)), from), options)
      : await probeDisks({ exec: (await import('../engine/exec')).createExec() }, options);
  const id = randomUUID();
  const imageId = request.image.transport === 'oci' && request.deployer !== 'oci-rootfs' ? layoutImageId(request.image.reference) : null;
  const r = planInstall(hashRequestPasswords(request), disks, systemFacts(), {
    id,
    createdAt: new Date().toISOString(),
    runDir: `/run/particle-installer/${id.slice(0, 8)}`,
    uuid: randomUUID,
    ...(imageId !== null ? { layoutImageId: imageId } : {}),
  });
  if (!r.ok) throw new CliError(`${r.error.message}${r.error.detail && r.error.detail !== r.error.message ? `\n${r.error.detail}` : ''}`, 1);
  io.stdout.write(values.json ? `${JSON.stringify(r.plan, null, 2)}\n` : formatPlan(r.plan));
  return 0;
}

/** The plan as a person reads it: the summary, then each step with its commands. */
export function formatPlan(plan: InstallPlan): string {
  const out = [...plan.summary, ''];
  plan.steps.forEach((s, i) => {
    const mark = i === plan.pointOfNoReturn ? '  <- point of no return: from here the disk is changed' : '';
    out.push(`${i + 1}. ${s.title} [${s.id}, weight ${s.weight}${s.destructive ? ', writes to the disk' : ''}]${mark}`);
    for (const a of s.actions) {
      const only = (a.kind === 'run' || a.kind === 'write') && a.when ? `  (only if ${onlyIf(a.when)})` : '';
      if (a.kind === 'run') {
        out.push(`     $ ${a.argv.map(quote).join(' ')}${a.stdinSecret ? `  (stdin: ${a.stdinSecret})` : a.stdin ? '  (stdin: script below)' : ''}${only}`);
      }
      if (a.kind === 'unpack') {
        const src = `${a.source.transport}:${a.source.path}${a.source.ref ? `:${a.source.ref}` : ''}`;
        out.push(`     unpack ${src} onto ${a.target} (layers in order, whiteouts honoured, every digest verified)`);
      }
      if (a.kind === 'run' && a.stdin) out.push(...a.stdin.trimEnd().split('\n').map((l) => `       | ${l}`));
      if (a.kind === 'write') out.push(`     write ${a.path} (${a.mode}, ${a.content.length} bytes)${only}`);
      if (a.kind === 'symlink') out.push(`     link ${a.path} -> ${a.target}`);
      if (a.kind === 'mkdir') out.push(`     mkdir ${a.path} (${a.mode})`);
      if (a.kind === 'save-log') out.push(`     keep this install's log (secrets masked) at ${a.path} (0600)`);
      if (a.kind === 'preflight') out.push(...a.checks.map((c) => `     check: ${c}`));
      if (a.kind === 'relabel') out.push(`     SELinux labels for ${a.paths.join(', ')} from ${a.root}'s policy (setfiles; skipped when the image has SELinux off)`);
    }
  });
  return `${out.join('\n')}\n`;
}

function onlyIf(when: readonly PlanCondition[]): string {
  return when.map((c) => `${c.path} ${c.test === 'exists' ? 'exists' : c.test === 'missing' ? 'is missing' : c.test === 'writable' ? 'is writable' : 'is not writable'}`).join(' and ');
}

function quote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./{}-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
