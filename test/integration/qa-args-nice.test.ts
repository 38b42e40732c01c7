import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { guestArgv, timedBootArgv } from '../vm/qemu';

describe('QA: the live VM command line (runs nice)', () => {
  it('a timed boot runs QEMU under nice -5, which every thread inherits', () => {
    const argv = timedBootArgv(['-m', '1024']);
    expect(argv).toEqual(['nice', '-n', '-5', 'qemu-system-x86_64', '-m', '1024']);
    // The same prefix on a program that reports its own niceness (field 19 of /proc/self/stat).
    const r = spawnSync(argv[0]!, [...argv.slice(1, 3), 'sh', '-c', 'cut -d " " -f 19 /proc/self/stat'], { encoding: 'utf8' });
    const base = Number(spawnSync('sh', ['-c', 'cut -d " " -f 19 /proc/self/stat'], { encoding: 'utf8' }).stdout.trim());
    expect(r.status).toBe(0);
    // Root may raise priority; anyone else gets a warning from nice(1) and the usual priority.
    expect(Number(r.stdout.trim())).toBe(process.getuid?.() === 0 ? Math.max(-20, base - 5) : base);
  });

  it('any other guest runs under nice -2: above the rest of a busy machine, below a timed boot', () => {
    const argv = guestArgv(['-m', '1024']);
    expect(argv).toEqual(['nice', '-n', '-2', 'qemu-system-x86_64', '-m', '1024']);
    const r = spawnSync(argv[0]!, [...argv.slice(1, 3), 'sh', '-c', 'cut -d " " -f 19 /proc/self/stat'], { encoding: 'utf8' });
    const base = Number(spawnSync('sh', ['-c', 'cut -d " " -f 19 /proc/self/stat'], { encoding: 'utf8' }).stdout.trim());
    expect(r.status).toBe(0);
    expect(Number(r.stdout.trim())).toBe(process.getuid?.() === 0 ? Math.max(-20, base - 2) : base);
    // Strictly below a timed boot, so a boot whose time is asserted still wins the core.
    expect(Number(timedBootArgv([])[2])).toBeLessThan(Number(argv[2]));
  });
});
