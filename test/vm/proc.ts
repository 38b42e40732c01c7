import { execa } from 'execa';

/** Runs a host command for the VM harness (argv only); throws with its stderr tail on failure. */
export async function run(argv: readonly string[], o: { timeoutMs?: number; input?: string } = {}): Promise<string> {
  const r = await execa(argv[0]!, argv.slice(1), { reject: false, timeout: o.timeoutMs ?? 120_000, input: o.input, all: true });
  if (r.exitCode !== 0) {
    const tail = String(r.all ?? '').trimEnd().split('\n').slice(-25).join('\n');
    throw new Error(`${argv.slice(0, 3).join(' ')}… failed (${r.timedOut ? 'timed out' : `exit ${r.exitCode}`}):\n${tail}`);
  }
  return String(r.stdout ?? '');
}
