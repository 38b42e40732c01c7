import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ownProcessesMatching } from '../support/own-processes';

describe('a test sees the processes it started, and only those', () => {
  it('finds its own child, also after the parent that started it has exited (adopted by init), and not once it is gone', async () => {
    // bash starts sleep in the background and exits at once: sleep is orphaned, as a leaked fake would be.
    const tag = `particle-own-${process.pid}-${Date.now() % 100000}`;
    const sh = spawn('bash', ['-c', `exec -a ${tag} sleep 30 >/dev/null & echo $!`], { stdio: ['ignore', 'pipe', 'ignore'] });
    const exited = new Promise((r) => sh.on('exit', r));
    const pid = Number(await new Promise<string>((resolve) => sh.stdout.on('data', (d: Buffer) => resolve(d.toString().trim()))));
    await exited;
    // bash printed the pid when it forked; on a loaded machine the child may still be in execve, when
    // /proc shows it without its environment or command line. Wait (10 s at most) until it runs sleep.
    const running = (): boolean => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith(`${tag}\0`);
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 500 && !running(); i++) await new Promise((r) => setTimeout(r, 20));
    try {
      expect(running(), `process ${pid} never ran "${tag}"`).toBe(true);
      expect(ownProcessesMatching(new RegExp(tag))).toHaveLength(1);
      expect(ownProcessesMatching(/^no such program$/)).toEqual([]);
    } finally {
      process.kill(pid, 'SIGKILL');
    }
    for (let i = 0; i < 50 && ownProcessesMatching(new RegExp(tag)).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(ownProcessesMatching(new RegExp(tag))).toEqual([]);
  });

  it('does not see a process started without its mark (as by another test run beside it)', async () => {
    const tag = `particle-other-${process.pid}-${Date.now() % 100000}`;
    const env = { ...process.env };
    delete env.PARTICLE_TEST_OWNER;
    const child = spawn('bash', ['-c', `exec -a ${tag} sleep 30`], { env, stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 200));
      // It runs (a machine-wide search finds it), but it is not this test's.
      expect(spawnSync('pgrep', ['-f', tag]).status).toBe(0);
      expect(ownProcessesMatching(new RegExp(tag))).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
