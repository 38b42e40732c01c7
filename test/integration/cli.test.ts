import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskSchema } from '../../src/shared';
import { REPO_ROOT, runCli } from '../support/cli';

// Each case spawns node + tsx, which takes about a second on this machine.
const SLOW = 30_000;

describe('particle-installer validate', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pi-cli-'));
    const good = { version: 1, disk: { path: '/dev/vda' }, layout: { type: 'erase' }, image: { reference: 'quay.io/fedora/fedora-bootc:42' } };
    writeFileSync(join(dir, 'good.json'), JSON.stringify(good));
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...good, hostname: 'Bad_Host', users: [{ name: 'Root User' }] }));
    writeFileSync(join(dir, 'answers.yaml'), 'version: 1\ndisk:\n  path: /dev/vda\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts a valid answer file with exit 0', { timeout: SLOW }, async () => {
    const r = await runCli(['validate', join(dir, 'good.json')]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`${join(dir, 'good.json')}: valid`);
  });

  it('lists every error with its field and exits 1', { timeout: SLOW }, async () => {
    const file = join(dir, 'bad.json');
    const r = await runCli(['validate', file]);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${file.replace(/[.]/g, '\\.')}: users\\[0\\]\\.name: must start`)));
    expect(lines).toContainEqual(expect.stringMatching(/: hostname: must be lower case/));
    expect(lines).toHaveLength(2);
  });

  it('says clearly that a non-JSON file is not JSON', { timeout: SLOW }, async () => {
    const r = await runCli(['validate', join(dir, 'answers.yaml')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/not valid JSON \(answer files are JSON; YAML is not supported\)/);
  });

  it('exits 2 without a stack trace when the file cannot be read', { timeout: SLOW }, async () => {
    const r = await runCli(['validate', join(dir, 'missing.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`particle-installer: cannot read ${join(dir, 'missing.json')}: no such file`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('particle-installer disks', () => {
  const lsblkFixture = join('test', 'fixtures', 'lsblk', 'three-disks.json');

  it('classifies saved lsblk JSON as a JSON array of Disks', { timeout: SLOW }, async () => {
    const r = await runCli(['disks', '--json', '--lsblk-json', lsblkFixture]);
    expect(r.code).toBe(0);
    const disks = JSON.parse(r.stdout) as unknown[];
    expect(disks.map((d) => DiskSchema.parse(d).path)).toEqual(['/dev/sda', '/dev/nvme0n1', '/dev/sdb']);
    const byPath = new Map(disks.map((d) => DiskSchema.parse(d)).map((d) => [d.path, d]));
    // Plain lsblk JSON still carries its own MOUNTPOINTS: the system disk must be refused.
    expect(byPath.get('/dev/sda')?.verdict).toBe('refused');
    expect(byPath.get('/dev/sda')?.reasons.map((x) => x.code)).toContain('mounted');
    expect(byPath.get('/dev/nvme0n1')?.verdict).toBe('ok');
    expect(byPath.get('/dev/sdb')?.reasons.map((x) => x.code)).toContain('too-small');
  });

  it('honours --min-size', { timeout: SLOW }, async () => {
    const r = await runCli(['disks', '--json', '--min-size', '4G', '--lsblk-json', lsblkFixture]);
    const sdb = (JSON.parse(r.stdout) as Array<{ path: string; reasons: Array<{ code: string }> }>).find((d) => d.path === '/dev/sdb');
    expect(sdb?.reasons.map((x) => x.code)).not.toContain('too-small');
  });

  it('prints a readable table with reasons indented', { timeout: SLOW }, async () => {
    const r = await runCli(['disks', '--lsblk-json', lsblkFixture]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^PATH\s+MODEL\s+SIZE\s+TRANSPORT\s+VERDICT$/);
    expect(r.stdout).toMatch(/\/dev\/nvme0n1\s+WD Blue SN570 1TB\s+931\.5 GiB\s+nvme\s+ok/);
    expect(lines).toContainEqual(expect.stringMatching(/^ {4}mounted: .*sda2.* \/\.?$/));
  });

  // Full snapshots carry swaps, mounts and holders; the CLI must pass them through to the classifier.
  const machinesDir = join(REPO_ROOT, 'test', 'fixtures', 'machines');
  // These fixtures ship with the repository: a missing one is a failure, not a skip.
  const machines = ['live-usb-boot', 'active-swap', 'desktop-sata-lvm-raid'];
  it.each(machines)('replays the saved machine %s with the expected verdicts', { timeout: SLOW }, async (m) => {
    const expected = JSON.parse(readFileSync(join(machinesDir, m, 'expected.json'), 'utf8')) as {
      disks: Record<string, { verdict: string; codes: string[] }>;
    };
    const r = await runCli(['disks', '--json', '--lsblk-json', join(machinesDir, m, 'snapshot.json')]);
    expect(r.code, r.stderr).toBe(0);
    const got = new Map((JSON.parse(r.stdout) as unknown[]).map((d) => DiskSchema.parse(d)).map((d) => [d.path, d]));
    for (const [path, want] of Object.entries(expected.disks)) {
      expect(got.get(path)?.verdict, `${m} ${path}`).toBe(want.verdict);
      expect(got.get(path)?.reasons.map((x) => x.code).sort(), `${m} ${path}`).toEqual([...want.codes].sort());
    }
  });

  it('refuses a file that is neither lsblk JSON nor a snapshot, with exit 2', { timeout: SLOW }, async () => {
    const r = await runCli(['disks', '--lsblk-json', 'package.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^particle-installer: package\.json: neither lsblk JSON/);
  });
});

describe('particle-installer usage', () => {
  it('prints help for the program and for each command with exit 0', { timeout: SLOW }, async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: particle-installer <command>/);
    const s = await runCli(['serve', '--help']);
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/--token-file FILE/);
  });

  it('exits 2 with a message and the usage on an unknown command', { timeout: SLOW }, async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^particle-installer: unknown command "frobnicate"\nUsage: particle-installer/);
    expect(r.stdout).toBe('');
  });

  it('exits 2 on an unknown option, showing that command’s usage', { timeout: SLOW }, async () => {
    const r = await runCli(['disks', '--colour']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^particle-installer: .*--colour/);
    expect(r.stderr).toMatch(/Usage: particle-installer disks/);
  });

  it('exits 2 on a bad option value', { timeout: SLOW }, async () => {
    const r = await runCli(['service', '--mode', 'turbo']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--mode must be normal, demo or test/);
  });
});
