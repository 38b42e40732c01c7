import { readdirSync, readFileSync } from 'node:fs';

/**
 * Marks every process this test process starts from now on: children inherit the variable, and keep
 * it in /proc/PID/environ even when they outlive their parent and are adopted by init (the leftover a
 * test looks for). Set when this module is imported, before any test runs.
 */
const MARK = `PARTICLE_TEST_OWNER=${process.pid}.${Date.now()}`;
process.env.PARTICLE_TEST_OWNER = MARK.slice(MARK.indexOf('=') + 1);

/**
 * The command lines of processes started by this test process (or by its children), alive now, that
 * match `pattern`. Tests running beside it (other workers, other lanes) start the same programs, so a
 * machine-wide `pgrep` could make it fail; this sees only its own.
 */
export function ownProcessesMatching(pattern: RegExp): string[] {
  const out: string[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${name}/environ`, 'utf8').split('\0');
      if (!environ.includes(MARK)) continue;
      const line = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim();
      if (pattern.test(line)) out.push(line);
    } catch {
      // the process ended while it was read
    }
  }
  return out;
}
