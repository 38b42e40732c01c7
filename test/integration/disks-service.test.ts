import type { ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskListSchema, EngineInfoSchema, GiB, type DiskList } from '../../src/shared';
import { spawnCli } from '../support/cli';
import { LineClient } from '../support/line-client';
import { attachLoop, ensurePartitionNode, loopUnavailableReason, run, sparseFile, tryRun } from '../support/loop';

/**
 * The real engine service, as a child process in test mode, classifying real loop devices: one
 * with a mounted ext4 partition (must be refused as `mounted`), one blank (must be ok).
 */

const skipReason = loopUnavailableReason(['sfdisk', 'partx', 'mkfs.ext4', 'mount', 'umount']);
if (skipReason) console.warn(`[integration] disks-service skipped: ${skipReason}`);

/** Waits for a child to exit, killing it harder if it will not. Resolves to its exit code. */
function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<number | null> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child?.exitCode ?? null);
  return new Promise((resolve) => {
    const hard = setTimeout(() => child.pid && process.kill(child.pid, 'SIGKILL'), graceMs);
    child.once('exit', (code) => {
      clearTimeout(hard);
      resolve(code);
    });
    if (child.pid) process.kill(child.pid, signal);
  });
}

async function waitFor(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function byPath(list: DiskList, path: string) {
  const d = list.disks.find((x) => x.path === path);
  if (!d) throw new Error(`${path} missing from listDisks: ${list.disks.map((x) => x.path).join(', ')}`);
  return d;
}

describe.skipIf(skipReason !== null)('engine service on loop devices (root)', () => {
  let dir = '';
  let mnt = '';
  const loops: string[] = [];
  let mounted = false;
  let used = ''; // loop with the mounted partition
  let blank = ''; // loop with nothing on it
  let service: ChildProcess | undefined;
  let stderr = '';
  let sockPath = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pi-int-'));
    mnt = join(dir, 'mnt');
    mkdirSync(mnt);
    for (const name of ['used.img', 'blank.img']) {
      sparseFile(join(dir, name), 20 * GiB);
      loops.push(attachLoop(join(dir, name)));
    }
    [used, blank] = loops as [string, string];
    run(['sfdisk', '--quiet', '--wipe', 'always', used], 'label: gpt\n,,L\n');
    const part = await ensurePartitionNode(used);
    run(['mkfs.ext4', '-q', '-F', part]);
    run(['mount', part, mnt]);
    mounted = true;

    sockPath = join(dir, 'engine.sock');
    service = spawnCli(['service', '--socket', sockPath, '--mode', 'test']);
    service.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    await waitFor(`the service socket (stderr: ${stderr})`, () => existsSync(sockPath) || service!.exitCode !== null);
    if (service.exitCode !== null) throw new Error(`service exited with ${service.exitCode}: ${stderr}`);
  });

  afterAll(async () => {
    // Clean up everything, in reverse, even after a failure part-way through beforeAll.
    await stopChild(service);
    if (mounted && !tryRun(['umount', mnt])) tryRun(['umount', '--lazy', mnt]);
    for (const dev of loops.reverse()) tryRun(['losetup', '--detach', dev]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function connect(): Promise<{ sock: Socket; client: LineClient }> {
    const sock = createConnection(sockPath);
    await new Promise((resolve, reject) => sock.once('connect', resolve).once('error', reject));
    return { sock, client: new LineClient(sock, sock) };
  }

  it('creates its socket with mode 0660', () => {
    expect(lstatSync(sockPath).isSocket()).toBe(true);
    expect(lstatSync(sockPath).mode & 0o777).toBe(0o660);
  });

  it('refuses the disk with a mounted partition and offers the blank one', async () => {
    const { sock, client } = await connect();
    try {
      const reply = await client.call('listDisks');
      expect(reply.error, JSON.stringify(reply.error)).toBeUndefined();
      const list = DiskListSchema.parse(reply.result);
      expect(list.allowLoop).toBe(true);
      const u = byPath(list, used);
      expect(u.verdict).toBe('refused');
      expect(u.reasons.map((r) => r.code)).toContain('mounted');
      // Only the partition count: without udevd, lsblk may not know the filesystem type.
      expect(u.partitions.map((p) => p.path)).toEqual([`${used}p1`]);
      const b = byPath(list, blank);
      expect(b.verdict, JSON.stringify(b.reasons)).toBe('ok');
      expect(b.size).toBe(20 * GiB);

      // Latency of a full probe + classify over the socket, for the report.
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        expect((await client.call('listDisks')).result).toBeDefined();
        times.push(performance.now() - t);
      }
      times.sort((a, z) => a - z);
      console.log(`[integration] listDisks over the Unix socket: median ${times[2]!.toFixed(1)} ms, max ${times[4]!.toFixed(1)} ms`);
    } finally {
      sock.destroy();
    }
  });

  it('serves two clients at once', async () => {
    const a = await connect();
    const b = await connect();
    try {
      const [ra, rb] = await Promise.all([a.client.call('getInfo'), b.client.call('getInfo')]);
      expect(EngineInfoSchema.parse(ra.result)).toMatchObject({ mode: 'test', root: true, protocol: 1 });
      expect(rb.result.mode).toBe('test');
    } finally {
      a.sock.destroy();
      b.sock.destroy();
    }
  });

  it('answers over stdio too, and exits 0 when stdin closes', async () => {
    const child = spawnCli(['service', '--stdio', '--mode', 'test'], { input: 'pipe' });
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    try {
      const client = new LineClient(child.stdout!, child.stdin!);
      const info = await client.call('getInfo');
      expect(info.result).toMatchObject({ mode: 'test', root: true });
      const list = DiskListSchema.parse((await client.call('listDisks')).result);
      expect(byPath(list, used).reasons.map((r) => r.code)).toContain('mounted');
      expect(byPath(list, blank).verdict).toBe('ok');
      const exited = new Promise<number | null>((r) => child.once('exit', r));
      child.stdin!.end();
      expect(await exited, err).toBe(0);
    } finally {
      await stopChild(child, 'SIGKILL');
    }
  });

  it('stops on SIGTERM and removes its socket', async () => {
    expect(await stopChild(service)).toBe(0);
    expect(existsSync(sockPath)).toBe(false);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
