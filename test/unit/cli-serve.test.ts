import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, spawnCli } from '../support/cli';
import { get } from '../support/http';

/** Reads the child's stdout until the first full line. */
function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl !== -1) resolve(buf.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code} before listening`)));
  });
}

describe('particle-installer serve (as a process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pi-cli-serve-'));
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child?.pid && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints a machine-readable listening line, writes a 0600 token file and stops on SIGTERM', { timeout: 30_000 }, async () => {
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>ui</title>');
    const tokenFile = join(dir, 'url');
    child = spawnCli(['serve', '--port', '0', '--ui-dir', dir, '--token-file', tokenFile]);
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));

    const listening = JSON.parse(await firstLine(child)) as { event: string; url: string; port: number };
    expect(listening.event).toBe('listening');
    expect(listening.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${listening.port}/\\?token=[0-9a-f]{32}$`));
    expect(readFileSync(tokenFile, 'utf8').trim()).toBe(listening.url);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);

    const login = await get(listening.port, new URL(listening.url).pathname + new URL(listening.url).search);
    expect(login.status).toBe(303);
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const page = await get(listening.port, '/', { cookie });
    expect(page.body).toContain('<title>ui</title>');

    const exited = new Promise<number | null>((r) => child!.once('exit', r));
    process.kill(child.pid!, 'SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toContain(`open ${listening.url}`);
  });

  it('refuses --demo together with --test-mode', { timeout: 30_000 }, async () => {
    const r = await runCli(['serve', '--demo', '--test-mode']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--demo or --test-mode, not both/);
  });
});
