import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EngineInfo } from '../../src/shared/api';
import { runCli, spawnCli } from '../support/cli';
import { get } from '../support/http';

/** Reads the child's stdout until the first full line for which `wanted` holds (by default, any). */
function firstLine(child: ChildProcess, wanted: (line: string) => boolean = () => true): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (wanted(line)) {
          resolve(line);
          return;
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`the CLI exited with ${code} before the line awaited`)));
  });
}

/** Whether a stdout line is the JSON-RPC reply to request `id` (events and replies share the stream). */
const isReplyTo =
  (id: number) =>
  (line: string): boolean => {
    try {
      return (JSON.parse(line) as { id?: unknown }).id === id;
    } catch {
      return false;
    }
  };

/** Sends SIGTERM and waits for the exit code. */
function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  process.kill(child.pid!, 'SIGTERM');
  return exited;
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

  it('uses the token PARTICLE_SERVE_TOKEN gives (so a kiosk can open the URL before the engine listens), and refuses a malformed one', { timeout: 90_000 }, async () => {
    const token = 'ab'.repeat(24);
    const preset = spawnCli(['serve', '--port', '0', '--ui-dir', dir], { env: { PARTICLE_SERVE_TOKEN: token } });
    try {
      const listening = JSON.parse(await firstLine(preset)) as { url: string; port: number };
      expect(listening.url).toBe(`http://127.0.0.1:${listening.port}/?token=${token}`);
      expect((await get(listening.port, `/?token=${token}`)).status).toBe(303);
      expect((await get(listening.port, `/?token=${'cd'.repeat(24)}`)).status).toBe(401);
    } finally {
      if (preset.pid && preset.exitCode === null) process.kill(preset.pid, 'SIGKILL');
    }
    for (const bad of ['short', 'AB'.repeat(16), `${'a'.repeat(31)}g`]) {
      const r = spawnCli(['serve', '--port', '0', '--ui-dir', dir], { env: { PARTICLE_SERVE_TOKEN: bad } });
      let stderr = '';
      r.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const code = await new Promise<number | null>((res) => r.once('exit', res));
      expect(code, bad).toBe(2);
      expect(stderr).toMatch(/PARTICLE_SERVE_TOKEN must be 32 to 128 lower-case hexadecimal digits/);
    }
  });

  it('refuses --demo together with --test-mode', { timeout: 30_000 }, async () => {
    const r = await runCli(['serve', '--demo', '--test-mode']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--demo or --test-mode, not both/);
  });

  it('refuses --token-owner without --token-file, or when it is not numeric', { timeout: 30_000 }, async () => {
    const alone = await runCli(['serve', '--token-owner', '65534']);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/--token-owner needs --token-file/);
    expect(alone.stderr).toMatch(/Usage: particle-installer serve/);
    for (const bad of ['kiosk', '65534:', ':65534', '1.5', '1000:live']) {
      const r = await runCli(['serve', '--token-file', join(dir, 'never'), '--token-owner', bad]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--token-owner must be a numeric UID or UID:GID/);
    }
  });

  const root = process.getuid?.() === 0;
  if (!root) console.warn('[unit] token file ownership test skipped: chown needs root');
  it.skipIf(!root)('gives the 0600 token file to --token-owner when root', { timeout: 30_000 }, async () => {
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>ui</title>');
    const owned = spawnCli(['serve', '--port', '0', '--ui-dir', dir, '--token-file', join(dir, 'kiosk-url'), '--token-owner', '65534:65533']);
    child = owned;
    const listening = JSON.parse(await firstLine(owned)) as { url: string };
    const st = statSync(join(dir, 'kiosk-url'));
    expect({ uid: st.uid, gid: st.gid, mode: st.mode & 0o777 }).toEqual({ uid: 65534, gid: 65533, mode: 0o600 });
    expect(readFileSync(join(dir, 'kiosk-url'), 'utf8').trim()).toBe(listening.url);
    expect(await stop(owned)).toBe(0);

    // A uid alone leaves the group as it was (root's).
    const uidOnly = spawnCli(['serve', '--port', '0', '--ui-dir', dir, '--token-file', join(dir, 'uid-url'), '--token-owner', '65534']);
    child = uidOnly;
    await firstLine(uidOnly);
    const st2 = statSync(join(dir, 'uid-url'));
    expect({ uid: st2.uid, gid: st2.gid, mode: st2.mode & 0o777 }).toEqual({ uid: 65534, gid: process.getgid!(), mode: 0o600 });
    expect(await stop(uidOnly)).toBe(0);
  });
});

describe('--deployer (service and serve)', () => {
  it('is refused without --image, naming what it needs', { timeout: 30_000 }, async () => {
    for (const command of ['service', 'serve']) {
      const r = await runCli([command, '--deployer', 'oci-rootfs']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--deployer needs --image/);
      expect(r.stderr).toMatch(new RegExp(`Usage: particle-installer ${command}`));
    }
  });

  it('is refused with a value other than bootc or oci-rootfs', { timeout: 30_000 }, async () => {
    for (const command of ['service', 'serve']) {
      const r = await runCli([command, '--image', 'oci:/srv/image', '--deployer', 'rpm-ostree']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--deployer must be bootc or oci-rootfs \(not "rpm-ostree"\)/);
    }
  });

  it('goes into the image the engine offers', { timeout: 30_000 }, async () => {
    const service = spawnCli(['service', '--stdio', '--mode', 'test', '--image', 'oci:/srv/image', '--deployer', 'oci-rootfs'], { input: 'pipe' });
    let stderr = '';
    service.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    try {
      service.stdin!.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getInfo', params: {} })}\n`);
      const reply = JSON.parse(await firstLine(service, isReplyTo(1))) as { result: EngineInfo };
      expect(reply.result.offeredImage).toEqual({ reference: '/srv/image', transport: 'oci', deployer: 'oci-rootfs' });
      const exited = new Promise<number | null>((r) => service.once('exit', r));
      service.stdin!.end();
      expect(await exited, stderr).toBe(0);
    } finally {
      if (service.exitCode === null && service.signalCode === null) service.kill('SIGKILL');
    }
  });
});

describe('--target-image (service and serve)', () => {
  it('is refused without --image, with oci-rootfs, and when it is not a registry reference', { timeout: 60_000 }, async () => {
    for (const command of ['service', 'serve']) {
      const alone = await runCli([command, '--target-image', 'quay.io/x/y:1']);
      expect(alone.code).toBe(2);
      expect(alone.stderr).toMatch(/--target-image needs --image/);
      const rootfs = await runCli([command, '--image', 'oci:/srv/image', '--deployer', 'oci-rootfs', '--target-image', 'quay.io/x/y:1']);
      expect(rootfs.code).toBe(2);
      expect(rootfs.stderr).toMatch(/--target-image is for bootc/);
      const spaced = await runCli([command, '--image', 'oci:/srv/image', '--target-image', 'quay.io/x y']);
      expect(spaced.code).toBe(2);
      expect(spaced.stderr).toMatch(/--target-image must be printable ASCII without spaces/);
    }
  });

  it('goes into the offered image, so the wizard installs an embedded bootc image that updates from its registry', { timeout: 30_000 }, async () => {
    const service = spawnCli(['service', '--stdio', '--mode', 'test', '--image', 'oci:/srv/image', '--deployer', 'bootc', '--target-image', 'quay.io/example/os:42'], { input: 'pipe' });
    try {
      service.stdin!.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getInfo', params: {} })}\n`);
      const reply = JSON.parse(await firstLine(service, isReplyTo(1))) as { result: EngineInfo };
      expect(reply.result.offeredImage).toEqual({ reference: '/srv/image', transport: 'oci', deployer: 'bootc', targetImage: 'quay.io/example/os:42' });
      service.stdin!.end();
    } finally {
      if (service.exitCode === null && service.signalCode === null) service.kill('SIGKILL');
    }
  });
});
