import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { guestArgv, timedBootArgv } from '../vm/qemu';

/** Field 19 of /proc/self/stat of a shell started with `prefix` (the nice(1) part of a QEMU argv), and without. */
function niceness(prefix: readonly string[]): { under: number; base: number; status: number | null } {
  const own = ['sh', '-c', 'cut -d " " -f 19 /proc/self/stat'];
  const r = spawnSync(prefix[0]!, [...prefix.slice(1), ...own], { encoding: 'utf8' });
  const base = Number(spawnSync(own[0]!, own.slice(1), { encoding: 'utf8' }).stdout.trim());
  return { under: Number(r.stdout.trim()), base, status: r.status };
}

/** Root may raise priority; anyone else gets a warning from nice(1) and the usual priority. */
const expected = (base: number, by: number): number => (process.getuid?.() === 0 ? Math.max(-20, base - by) : base);

describe('QA: the VM command lines (run nice)', () => {
  it.each([
    ['a timed boot', timedBootArgv, 5],
    ['any other guest (below a timed boot, above the rest of a busy machine)', guestArgv, 2],
  ] as const)('%s runs QEMU under nice -%i, which every thread inherits', (_what, argvOf, by) => {
    const argv = argvOf(['-m', '1024']);
    expect(argv).toEqual(['nice', '-n', `-${by}`, 'qemu-system-x86_64', '-m', '1024']);
    const n = niceness(argv.slice(0, 3));
    expect(n.status).toBe(0);
    expect(n.under).toBe(expected(n.base, by));
  });

  it('a timed boot is strictly above any other guest, so it still wins the core', () => {
    expect(Number(timedBootArgv([])[2])).toBeLessThan(Number(guestArgv([])[2]));
  });
});
