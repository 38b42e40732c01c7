// The install plan as a plain bash script: the same commands the runner carries out, in the same
// order, with nothing around them. bench-install.ts times it against the engine.
import { PLAN_PLACEHOLDERS, type InstallPlan, type PlanAction } from '../src/shared';

/** One shell word for s: single quotes, with ' written as '\''. */
export const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

const VARS: Record<(typeof PLAN_PLACEHOLDERS)[number], string> = { '{deployment}': '"$DEPLOYMENT"', '{stateroot-var}': '"$STATEROOT_VAR"', '{kernel-version}': '"$KERNEL_VERSION"' };
const uses = (s: string): boolean => PLAN_PLACEHOLDERS.some((p) => s.includes(p));

/** One shell word for s, with the placeholders left to shell variables set at run time. */
function word(s: string): string {
  const parts = s.split(/(\{deployment\}|\{stateroot-var\})/);
  return (
    parts
      .filter((p) => p !== '')
      .map((p) => VARS[p as keyof typeof VARS] ?? shellQuote(p))
      .join('') || "''"
  );
}

/** A here-doc delimiter the text does not contain as a line. */
function delimiter(text: string): string {
  let d = 'PARTICLE_EOF';
  while (text.split('\n').includes(d)) d += '_';
  return d;
}

function runLine(a: Extract<PlanAction, { kind: 'run' }>): string {
  if (a.stdinSecret !== undefined) throw new Error(`bench: ${a.argv[0]} needs the secret ${a.stdinSecret}; the shell form covers plans without secrets only`);
  let cmd = a.argv.map(word).join(' ');
  const ok = a.okExitCodes ?? [0];
  let heredoc = '';
  if (a.stdin !== undefined) {
    const d = delimiter(a.stdin);
    cmd += ` <<'${d}'`;
    // A here-doc always ends with a newline; text without one gets it added (sfdisk does not mind).
    heredoc = `\n${a.stdin.endsWith('\n') ? a.stdin.slice(0, -1) : a.stdin}\n${d}`;
  }
  if (ok.length === 1 && ok[0] === 0) return cmd + heredoc;
  // The runner accepts these exit codes as success; so does the script.
  return `${cmd} || { rc=$?; case " ${ok.join(' ')} " in *" $rc "*) ;; *) exit $rc ;; esac; }${heredoc}`;
}

/** Sets a umask under which a new file gets exactly `mode` (bash has no chmod builtin). */
function writeLines(path: string, content: string, mode: string): string[] {
  const m = parseInt(mode, 8);
  const redirect = `printf '%s' ${shellQuote(content)} > ${word(path)}`;
  if ((m & ~0o666) !== 0) return [redirect, `chmod ${mode} ${word(path)}`];
  const mask = (0o666 & ~m).toString(8).padStart(4, '0');
  return [`umask ${mask}`, redirect, 'umask 0022'];
}

function actionLines(a: PlanAction): string[] {
  switch (a.kind) {
    case 'run':
      // ostree's answer is what {deployment} stands for, as in the runner (Placeholders.located).
      if (a.resolves === 'deployment') return [`DEPLOYMENT=$(${runLine(a)})`, 'STATEROOT_VAR=${DEPLOYMENT%/deploy/*}/var'];
      return [runLine(a)];
    case 'write':
      return writeLines(a.path, a.content, a.mode);
    case 'mkdir':
      return [`mkdir -p -m ${a.mode} ${word(a.path)}`];
    case 'symlink':
      return [`ln -sfn ${word(a.target)} ${word(a.path)}`];
    case 'save-log':
      // The script keeps no log of its own; the engine's is what the runner writes here.
      return [`# keep the install log at ${a.path}`];
    case 'unpack':
      throw new Error('the shell form of a plan has no OCI unpacker; it is for bootc plans');
    case 'preflight':
      // The engine's checks before the start; the plain script has nothing to check with.
      return a.checks.map((c) => `# pre-flight: ${c.replace(/\n/g, ' ')}`);
    case 'relabel': {
      // What the runner does: nothing without /etc/selinux/config or with SELINUX=disabled, else
      // setfiles with that policy's file contexts ("targeted" when SELINUXTYPE is unset).
      const conf = `${word(a.root)}/etc/selinux/config`;
      const policy = `"$(sed -n 's/^[[:space:]]*SELINUXTYPE[[:space:]]*=[[:space:]]*"\\{0,1\\}\\([^"[:space:]#]*\\).*/\\1/p' ${conf} | tail -n 1)"`;
      return [
        `if [ -f ${conf} ] && ! grep -qiE '^[[:space:]]*SELINUX[[:space:]]*=[[:space:]]*"?disabled' ${conf}; then`,
        `  policy=${policy}`,
        `  setfiles -r ${word(a.root)} ${word(a.root)}/etc/selinux/"\${policy:-targeted}"/contexts/files/file_contexts ${a.paths.map(word).join(' ')}`,
        'fi',
      ];
    }
  }
}

const text = (a: PlanAction): string => (a.kind === 'run' ? a.argv.join(' ') : a.kind === 'write' ? a.path : a.kind === 'symlink' ? `${a.path} ${a.target}` : a.kind === 'unpack' ? a.target : a.kind === 'relabel' ? [a.root, ...a.paths].join(' ') : a.kind === 'preflight' ? '' : a.path);

/**
 * The plan as a bash script. `{deployment}` is what the plan's ostree action prints; without one, the
 * first action that needs it finds it with a glob on ostree/deploy/<stateroot>/deploy/<checksum>.0.
 * Teardown runs last. The run directory is made first, as the installer does before it starts.
 */
export function planToShell(plan: InstallPlan): string {
  const actions = plan.steps.flatMap((s) => s.actions);
  const runDir = actions.find((a) => a.kind === 'mkdir')?.path.replace(/\/[^/]+$/, '');
  if (!runDir) throw new Error('bench: the plan makes no directory; cannot tell its run directory');
  const target = `${runDir}/target`;
  const out = ['#!/bin/bash', `# Plan ${plan.id} as a plain script (generated by npm run bench).`, 'set -euo pipefail', 'export LC_ALL=C', 'umask 0022'];
  out.push(`mkdir -p -m 0700 ${shellQuote(runDir)}`);
  let resolved = false;
  const ordered = [...plan.steps.filter((s) => s.id !== 'teardown'), ...plan.steps.filter((s) => s.id === 'teardown')];
  for (const step of ordered) {
    out.push('', `# ${step.id}: ${step.title}`);
    for (const a of step.actions) {
      if (a.kind === 'run' && a.resolves === 'deployment') resolved = true;
      if (!resolved && uses(text(a))) {
        resolved = true;
        out.push(
          `DEPLOYMENT=; for d in ${shellQuote(target)}/ostree/deploy/*/deploy/*.0; do if [ -d "$d" ]; then DEPLOYMENT=$d; break; fi; done`,
          '[ -n "$DEPLOYMENT" ] || { echo "no deployment found" >&2; exit 1; }',
          'STATEROOT_VAR=${DEPLOYMENT%/deploy/*}/var',
        );
      }
      out.push(...actionLines(a));
    }
  }
  return `${out.join('\n')}\n`;
}
