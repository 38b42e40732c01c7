import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectEngine, type EngineConnection } from '../../src/main/engine-client';
import type { InstallerError } from '../../src/shared';

// The Electron shell's side of "kill -9 of the engine": Electron main's real engine connection
// (src/main/engine-client.ts, which needs no Electron binary) to the real engine, over a child's
// stdio as when main starts it, and over the Unix socket as on the live ISO. When the engine dies,
// every pending call must end with an error and main must hear `engineLost`, which it relays to
// the window (the browser half is test/security/ui-engine-killed.test.ts).
const REPO = resolve(import.meta.dirname, '../..');
const CLI = join(REPO, 'out/engine/cli.mjs');
const isRoot = process.getuid?.() === 0;
const why = !existsSync(CLI) ? 'the engine bundle is not built (npm run build)' : !isRoot ? 'not running as root (main would start the engine through pkexec)' : null;
if (why) console.warn(`[security] Electron main engine-loss tests skipped: ${why}`);

/** Engine processes main started: children of this process running the bundle's `service`. */
function engineChildren(): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return ppid === process.pid && readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(CLI);
      } catch {
        return false;
      }
    })
    .map(Number);
}

function lost(conn: EngineConnection): Promise<InstallerError> {
  return new Promise((r) => conn.client.on('engineLost', ({ error }) => r(error)));
}

describe.skipIf(why !== null)('Electron main when the engine is killed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'particle-mainlost-'));
  afterAll(() => {
    for (const pid of engineChildren()) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('over stdio: SIGKILL of the engine it started ends pending calls with an error and reports engineLost', async () => {
    const conn = connectEngine({ mode: 'test', cliPath: CLI, nodePath: process.execPath, log: () => {} });
    const info = await conn.client.call('getInfo', {});
    expect(info.ok).toBe(true);
    const [pid] = engineChildren();
    expect(pid).toBeDefined();
    const gone = lost(conn);
    // Calls certainly in flight when the engine dies: it is stopped (SIGSTOP) before they are sent,
    // so it cannot answer any of them before the SIGKILL.
    process.kill(pid!, 'SIGSTOP');
    const pending = [conn.client.call('listDisks', {}), conn.client.call('getInfo', {}), conn.client.call('getInstallState', {})];
    process.kill(pid!, 'SIGKILL');
    const error = await gone;
    expect(error.message).toMatch(/stopped \(SIGKILL\)/);
    expect(error.message).toMatch(/Restart the installer/);
    for (const r of await Promise.all(pending)) expect(r).toMatchObject({ ok: false, error: { message: expect.stringMatching(/stopped \(SIGKILL\)/) } });
    // And everything afterwards fails at once, rather than waiting forever.
    const after = await conn.client.call('getInfo', {});
    expect(after.ok).toBe(false);
    conn.close();
  });

  it('over the Unix socket: SIGKILL of the service reports engineLost, and calls fail fast', async () => {
    const socket = join(dir, 'engine.sock');
    const svc = spawn(process.execPath, [CLI, 'service', '--socket', socket, '--mode', 'test', '--run-root', join(dir, 'run')], { stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise((r) => svc.once('exit', r));
    for (let i = 0; i < 200 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
    const conn = connectEngine({ socket, mode: 'test', cliPath: CLI, nodePath: process.execPath, log: () => {} });
    expect((await conn.client.call('getInfo', {})).ok).toBe(true);
    const gone = lost(conn);
    svc.kill('SIGSTOP');
    const pending = [conn.client.call('listDisks', {}), conn.client.call('getInfo', {})];
    svc.kill('SIGKILL');
    await exited;
    const error = await gone;
    expect(error.message).toMatch(/connection to the installer engine was closed/);
    for (const r of await Promise.all(pending)) expect(r).toMatchObject({ ok: false, error: { message: expect.stringMatching(/connection to the installer engine was closed/) } });
    expect((await conn.client.call('getInfo', {})).ok).toBe(false);
    conn.close();
  });
});
