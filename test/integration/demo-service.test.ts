import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DiskListSchema, GiB } from '../../src/shared';
import { spawnCli } from '../support/cli';
import { LineClient } from '../support/line-client';
import { loopUnavailableReason, tryRun } from '../support/loop';

/**
 * `service --mode demo` for real: it must make and attach its two sparse images, offer only
 * them, refuse every real disk as demo-only, and detach them again when stdin closes.
 */

const skipReason = loopUnavailableReason();
if (skipReason) console.warn(`[integration] demo-service skipped: ${skipReason}`);

/** Loop devices currently backed by a file under `dir`. */
function loopsUnder(dir: string): string[] {
  const out = spawnSync('losetup', ['--json', '--list'], { encoding: 'utf8' }).stdout.trim();
  if (out === '') return [];
  const list = (JSON.parse(out) as { loopdevices: Array<{ name: string; 'back-file': string }> }).loopdevices;
  return list.filter((l) => l['back-file'].startsWith(dir)).map((l) => l.name);
}

describe.skipIf(skipReason !== null)('demo mode service on virtual loop disks (root)', () => {
  const cache = mkdtempSync(join(tmpdir(), 'pi-demo-int-'));
  afterAll(() => {
    // Whatever happened, leave nothing attached to our images.
    for (const dev of loopsUnder(cache)) tryRun(['losetup', '--detach', dev]);
    rmSync(cache, { recursive: true, force: true });
  });

  it('offers only its own virtual disks and detaches them when it stops', async () => {
    const child = spawnCli(['service', '--stdio', '--mode', 'demo'], { input: 'pipe', env: { XDG_CACHE_HOME: cache } });
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    try {
      const client = new LineClient(child.stdout!, child.stdin!);
      const info = await client.call('getInfo');
      expect(info.result, err).toMatchObject({ mode: 'demo', root: true });
      expect(info.result.notice).toBeUndefined();

      const attached = loopsUnder(cache);
      expect(attached).toHaveLength(2);
      const list = DiskListSchema.parse((await client.call('listDisks')).result);
      const demo = list.disks.filter((d) => attached.includes(d.path));
      expect(demo.map((d) => d.size).sort((a, b) => a - b)).toEqual([20 * GiB, 64 * GiB]);
      for (const d of demo) expect(d.verdict, JSON.stringify(d.reasons)).toBe('ok');
      const others = list.disks.filter((d) => !attached.includes(d.path));
      expect(others.length).toBeGreaterThan(0);
      for (const d of others) {
        expect(d.verdict).toBe('refused');
        expect(d.reasons.map((r) => r.code)).toContain('demo-only');
      }

      const exited = new Promise<number | null>((r) => child.once('exit', r));
      child.stdin!.end();
      expect(await exited, err).toBe(0);
      expect(loopsUnder(cache)).toEqual([]);
    } finally {
      if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
    }
  });
});
