import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findDeployment, realFs, realProbes } from '../../src/engine/install';
import { Placeholders } from '../../src/engine/install/actions';
import type { PlanStep } from '../../src/shared';

// The real side effects, exercised on a temp directory standing in for / (probes) and the target.
const dir = mkdtempSync(join(tmpdir(), 'install-real-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('findDeployment', () => {
  it('finds ostree/deploy/<stateroot>/deploy/<checksum>.0 and the stateroot var', async () => {
    const root = join(dir, 'target');
    const deploy = join(root, 'ostree/deploy/fedora/deploy');
    mkdirSync(join(deploy, 'f00d.0'), { recursive: true });
    writeFileSync(join(deploy, 'f00d.0.origin'), '[origin]\n');
    mkdirSync(join(root, 'ostree/deploy/fedora/var'), { recursive: true });
    expect(await findDeployment(root)).toEqual({
      deployment: join(root, 'ostree/deploy/fedora/deploy/f00d.0'),
      staterootVar: join(root, 'ostree/deploy/fedora/var'),
    });
  });

  it('returns null before anything was deployed', async () => {
    expect(await findDeployment(join(dir, 'empty'))).toBeNull();
  });
});

describe('the deployment ostree names (ostree admin --print-current-dir)', () => {
  const root = join(dir, 'located');
  const deploy = join(root, 'ostree/deploy/default/deploy');
  const [a, b] = ['a', 'b'].map((c) => join(deploy, `${c.repeat(64)}.0`)) as [string, string];
  mkdirSync(a, { recursive: true });
  mkdirSync(b, { recursive: true });
  mkdirSync(join(root, 'ostree/deploy/default/var'));
  const step = { id: 'configure', title: 'Configuring', weight: 1, destructive: false, resumable: true, actions: [] } as PlanStep;
  const ctx = {
    targetRoot: root,
    fs: realFs,
    findDeployment: async (): Promise<never> => {
      throw new Error('the directory walk is only the fallback of a retry');
    },
  };

  it('resolves {deployment} and {stateroot-var} from what ostree printed, not from a walk of the directories', async () => {
    const placeholders = new Placeholders(ctx);
    // b, though a walk in name order would take a: the sysroot's first deployment is ostree's to say.
    await placeholders.located(`${b}\n`, step);
    expect(await placeholders.resolve('{deployment}/etc/hostname', step)).toBe(`${b}/etc/hostname`);
    expect(await placeholders.resolve('{stateroot-var}/home', step)).toBe(join(root, 'ostree/deploy/default/var/home'));
  });

  it('fails the step, quoting ostree, when the answer is not a deployment under the target', async () => {
    const bad = ['', 'error: Unable to find a deployment in sysroot', `/elsewhere/ostree/deploy/default/deploy/${'a'.repeat(64)}.0`, `${deploy}/not-a-checksum.0`, join(deploy, `${'c'.repeat(64)}.0`)];
    for (const out of bad) {
      await expect(new Placeholders(ctx).located(out, step)).rejects.toMatchObject({
        error: { step: 'configure', message: expect.stringContaining("asked ostree where bootc's deployment is"), detail: expect.stringContaining(`ostree printed: ${out === '' ? '(nothing)' : out}`) },
      });
    }
  });
});

describe('realProbes', () => {
  const root = join(dir, 'sys');
  mkdirSync(join(root, 'proc/self'), { recursive: true });
  mkdirSync(join(root, 'dev/mapper'), { recursive: true });
  writeFileSync(
    join(root, 'proc/self/mountinfo'),
    [
      '22 1 253:0 / / rw,relatime shared:1 - xfs /dev/mapper/root rw',
      '40 22 8:1 / /run/particle/target\\040x rw,relatime shared:2 - ext4 /dev/vdb1 rw',
      '',
    ].join('\n'),
  );
  writeFileSync(join(root, 'proc/swaps'), 'Filename\tType\tSize\tUsed\tPriority\n/dev/vdb2                               partition\t1048572\t0\t-2\n');
  writeFileSync(join(root, 'dev/mapper/root'), '');
  const probes = realProbes(root);

  it('reads mounts (octal escapes decoded), mapper nodes and active swap', async () => {
    expect(await probes.isMounted('/run/particle/target x')).toBe(true);
    expect(await probes.isMounted('/run/particle/target x/')).toBe(true);
    expect(await probes.isMounted('/run/particle/other')).toBe(false);
    expect(await probes.mapperExists('root')).toBe(true);
    expect(await probes.mapperExists('home')).toBe(false);
    expect(await probes.swapActive('/dev/vdb2')).toBe(true);
    expect(await probes.swapActive('/dev/vdb3')).toBe(false);
  });
});

describe('realFs', () => {
  it('writes with the exact mode, makes directories, replaces symlinks, removes', async () => {
    const d = join(dir, 'fs');
    await realFs.mkdir(join(d, 'etc/ssh'), 0o700);
    expect(statSync(join(d, 'etc/ssh')).mode & 0o777).toBe(0o700);
    await realFs.writeFile(join(d, 'etc/hostname'), 'ada\n', 0o644);
    await realFs.writeFile(join(d, 'etc/hostname'), 'bob\n', 0o600);
    expect(readFileSync(join(d, 'etc/hostname'), 'utf8')).toBe('bob\n');
    expect(statSync(join(d, 'etc/hostname')).mode & 0o777).toBe(0o600);
    symlinkSync('old', join(d, 'etc/localtime'));
    await realFs.symlink('../usr/share/zoneinfo/UTC', join(d, 'etc/localtime'));
    expect(readlinkSync(join(d, 'etc/localtime'))).toBe('../usr/share/zoneinfo/UTC');
    await realFs.rm(join(d, 'etc'));
    expect(() => lstatSync(join(d, 'etc'))).toThrow();
  });
});
