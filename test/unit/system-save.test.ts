import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { makeError, SaveResultSchema, type Disk, type InstallState } from '../../src/shared';
import { CommandError, type Exec } from '../../src/engine/exec';
import { power } from '../../src/engine/system/power';
import { bundleFileName, MAX_DOWNLOAD_BYTES, saveFile, saveTargets, type SaveDeps, type SaveParams } from '../../src/engine/system/save';
import { exportAnswerFile } from '../../src/engine/system/answer-export';
import { makeDisk } from '../support/make-disk';
import { stubMachine } from '../support/machine-stub';

const tmp = mkdtempSync(join(tmpdir(), 'system-save-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const part = (path: string, over: Partial<Disk['partitions'][number]> = {}): Disk['partitions'][number] => ({
  path,
  name: path.slice(5),
  number: 1,
  start: 1048576,
  size: 8 * 1024 ** 3,
  typeGuid: null,
  typeName: null,
  partLabel: null,
  fsType: 'vfat',
  label: 'STICK',
  uuid: null,
  mountpoints: [],
  holders: [],
  os: null,
  ...over,
});

const stick = makeDisk({ path: '/dev/sdb', removable: true, transport: 'usb', model: 'Flash Drive', partitions: [part('/dev/sdb1'), part('/dev/sdb2', { fsType: 'crypto_LUKS', holders: ['dm-0'] })] });
const usbSsd = makeDisk({ path: '/dev/sdc', transport: 'usb', partitions: [part('/dev/sdc1', { fsType: 'ext4', label: null })] });
const internal = makeDisk({ path: '/dev/nvme0n1', partitions: [part('/dev/nvme0n1p1', { fsType: 'ext4' })] });
const live = makeDisk({ path: '/dev/sdd', removable: true, verdict: 'refused', reasons: [{ code: 'live-medium', message: 'boots this system' }], partitions: [part('/dev/sdd1')] });
const superfloppy = makeDisk({ path: '/dev/sde', removable: true, fsType: 'exfat' });
const loop = makeDisk({ path: '/dev/loop3', type: 'loop', partitions: [part('/dev/loop3p1', { fsType: 'ext4' })] });
const swapStick = makeDisk({ path: '/dev/sdf', removable: true, partitions: [part('/dev/sdf1', { fsType: 'swap' })] });
const DISKS = [stick, usbSsd, internal, live, superfloppy, loop, swapStick];

describe('listSaveTargets', () => {
  it('removable or USB partitions with a known filesystem, not the live medium, not held', () => {
    expect(saveTargets(DISKS, 'normal')).toEqual([
      { path: '/dev/sdb1', label: 'STICK', model: 'Flash Drive', size: 8 * 1024 ** 3, fsType: 'vfat' },
      { path: '/dev/sdc1', label: null, model: null, size: 8 * 1024 ** 3, fsType: 'ext4' },
      { path: '/dev/sde', label: null, model: null, size: 64 * 1024 ** 3, fsType: 'exfat' },
    ]);
  });

  it('test mode offers loop devices too', () => {
    expect(saveTargets(DISKS, 'test').map((t) => t.path)).toContain('/dev/loop3p1');
    expect(saveTargets(DISKS, 'demo').map((t) => t.path)).not.toContain('/dev/loop3p1');
  });
});

interface Rec {
  calls: string[][];
  exec: Exec;
}
function recorder(fail: (argv: readonly string[]) => boolean = () => false): Rec {
  const calls: string[][] = [];
  return {
    calls,
    exec: async (argv) => {
      calls.push([...argv]);
      if (fail(argv)) throw new CommandError(makeError('command-failed', `${argv[0]} exited with code 1.`));
      return { exitCode: 0, stdout: argv[0] === 'lsblk' ? '{"blockdevices":[]}' : '', stderr: '', durationMs: 1 };
    },
  };
}

const NOW = Date.UTC(2026, 10, 22, 10, 0, 0);
function deps(rec: Rec, disks: Disk[] = DISKS, over: Partial<SaveDeps> = {}): SaveDeps {
  return { mode: 'normal', exec: rec.exec, probe: async () => disks, runRoot: join(tmp, 'run'), logDir: join(tmp, 'log'), lastInstall: () => null, now: () => NOW, machine: stubMachine(), ...over };
}

const ANSWER = exportAnswerFile({ version: 1, disk: { largestEligible: true }, layout: { type: 'erase' }, image: { reference: 'quay.io/example/os:42' }, users: [{ name: 'anna', password: 'pw 12345' }] }).text;

describe('saveFile: download', () => {
  it('answer file: returned as base64 under a fixed name', async () => {
    const r = await saveFile({ kind: 'answer-file', text: ANSWER, target: { type: 'download' } }, deps(recorder()));
    expect(SaveResultSchema.parse(r)).toEqual(r);
    expect(r.fileName).toBe('particle-answer-file.json');
    expect(Buffer.from(r.contentBase64!, 'base64').toString('utf8')).toBe(ANSWER);
    expect(r.bytes).toBe(Buffer.byteLength(ANSWER));
  });

  it('refuses plain secrets, non-JSON and invalid answer files', async () => {
    const d = deps(recorder());
    const withPassword = JSON.stringify({ version: 1, disk: { largestEligible: true }, layout: { type: 'erase' }, image: { reference: 'a/b' }, users: [{ name: 'anna', password: 'secret99' }] });
    await expect(saveFile({ kind: 'answer-file', text: withPassword, target: { type: 'download' } }, d)).rejects.toMatchObject({ error: { code: 'invalid-input', message: expect.stringContaining('users[0].password') } });
    const withPassphrase = JSON.stringify({ version: 1, disk: { largestEligible: true }, layout: { type: 'erase', encryption: { type: 'luks2', passphrase: 'secret999' } }, image: { reference: 'a/b' } });
    await expect(saveFile({ kind: 'answer-file', text: withPassphrase, target: { type: 'download' } }, d)).rejects.toMatchObject({ error: { message: expect.stringContaining('layout.encryption.passphrase') } });
    await expect(saveFile({ kind: 'answer-file', text: '{', target: { type: 'download' } }, d)).rejects.toMatchObject({ error: { code: 'invalid-input' } });
    await expect(saveFile({ kind: 'answer-file', text: '{"version":2}', target: { type: 'download' } }, d)).rejects.toMatchObject({ error: { code: 'invalid-answer-file' } });
    await expect(saveFile({ kind: 'answer-file', target: { type: 'download' } } as SaveParams, d)).rejects.toMatchObject({ error: { code: 'invalid-input' } });
  });

  it('log bundle: a .tar.gz named by the UTC time, from the kept last install', async () => {
    mkdirSync(join(tmp, 'log/last'), { recursive: true });
    writeFileSync(join(tmp, 'log/last/install.log'), 'step wipe started\n');
    const rec = recorder();
    const r = await saveFile({ kind: 'log-bundle', target: { type: 'download' } }, deps(rec));
    expect(r.fileName).toBe('particle-install-2026-11-22T10-00-00.tar.gz');
    const tar = gunzipSync(Buffer.from(r.contentBase64!, 'base64')).toString('latin1');
    expect(tar).toContain('install.log');
    expect(tar).toContain('step wipe started');
    expect(tar).toContain('lsblk.json');
    expect(rec.calls[0]![0]).toBe('lsblk');
  });

  it('log bundle: the running engine\'s install is preferred, with its secrets removed', async () => {
    const r = await saveFile(
      { kind: 'log-bundle', target: { type: 'download' } },
      deps(recorder(), DISKS, { lastInstall: () => ({ log: { toText: () => 'typed hunter22 here\n' }, plan: null as never, request: { x: 'hunter22' }, secrets: ['hunter22'] }) }),
    );
    const tar = gunzipSync(Buffer.from(r.contentBase64!, 'base64')).toString('latin1');
    expect(tar).toContain('typed *** here');
    expect(tar).not.toContain('hunter22');
  });

  it('refuses downloads over 16 MiB', async () => {
    expect(MAX_DOWNLOAD_BYTES).toBe(16 * 1024 * 1024);
    const big = ANSWER.replace('"version": 1,', `"version": 1,${' '.repeat(MAX_DOWNLOAD_BYTES)}`);
    await expect(saveFile({ kind: 'answer-file', text: big, target: { type: 'download' } }, deps(recorder()))).rejects.toMatchObject({ error: { code: 'invalid-input', message: expect.stringMatching(/USB stick/) } });
  });

  it('names bundles without colons', () => {
    expect(bundleFileName(Date.UTC(2026, 0, 2, 3, 4, 5, 678))).toBe('particle-install-2026-01-02T03-04-05.tar.gz');
  });
});

describe('saveFile: device', () => {
  it('refuses a path that is not a save target, mounting nothing', async () => {
    const rec = recorder();
    for (const path of ['/dev/nvme0n1p1', '/dev/sdd1', '/dev/sdb2']) {
      await expect(saveFile({ kind: 'answer-file', text: ANSWER, target: { type: 'device', path } }, deps(rec))).rejects.toMatchObject({ error: { code: 'invalid-input' } });
    }
    expect(rec.calls).toEqual([]);
  });

  it('mounts nosuid,nodev,noexec on a fresh 0700 directory, syncs, unmounts', async () => {
    const rec = recorder();
    const r = await saveFile({ kind: 'answer-file', text: ANSWER, target: { type: 'device', path: '/dev/sdb1' } }, deps(rec));
    expect(r).toMatchObject({ fileName: 'particle-answer-file.json', writtenTo: '/particle-answer-file.json' });
    const [mount, sync, umount] = rec.calls;
    expect(mount!.slice(0, 4)).toEqual(['mount', '-o', 'nosuid,nodev,noexec', '/dev/sdb1']);
    const dir = mount![4]!;
    expect(dir.startsWith(join(tmp, 'run', 'save-'))).toBe(true);
    expect(sync).toEqual(['sync', '-f', join(dir, 'particle-answer-file.json')]);
    expect(umount).toEqual(['umount', dir]);
    // The recording exec mounted nothing, so the file landed in the directory itself.
    expect(readFileSync(join(dir, 'particle-answer-file.json'), 'utf8')).toBe(ANSWER);
  });

  it('writes into the mountpoint when already mounted, and unmounts nothing', async () => {
    const mnt = join(tmp, 'media');
    mkdirSync(mnt);
    const mounted = makeDisk({ path: '/dev/sdb', removable: true, partitions: [part('/dev/sdb1', { mountpoints: [mnt] })] });
    const rec = recorder();
    await saveFile({ kind: 'answer-file', text: ANSWER, target: { type: 'device', path: '/dev/sdb1' } }, deps(rec, [mounted]));
    expect(rec.calls).toEqual([['sync', '-f', join(mnt, 'particle-answer-file.json')]]);
    expect(readFileSync(join(mnt, 'particle-answer-file.json'), 'utf8')).toBe(ANSWER);
  });

  it('unmounts what it mounted also when the write fails', async () => {
    const rec = recorder((argv) => argv[0] === 'sync');
    await expect(saveFile({ kind: 'answer-file', text: ANSWER, target: { type: 'device', path: '/dev/sdb1' } }, deps(rec))).rejects.toBeInstanceOf(CommandError);
    expect(rec.calls.map((c) => c[0])).toEqual(['mount', 'sync', 'umount']);
  });
});

describe('power', () => {
  const rec = recorder();
  const p = (phase: InstallState['phase'], mode: 'normal' | 'demo' | 'test' = 'normal') => power('reboot', { mode, exec: rec.exec, installPhase: () => phase });

  it('refused while an install runs or is being cancelled', async () => {
    await expect(p('running')).rejects.toMatchObject({ error: { code: 'invalid-input' } });
    await expect(p('cancelling')).rejects.toMatchObject({ error: { code: 'invalid-input' } });
    expect(rec.calls).toEqual([]);
  });

  it('demo and test modes do nothing; normal mode asks systemd', async () => {
    expect(await p('finished', 'demo')).toEqual({ applied: false, detail: 'Demo mode does not reboot or power off this computer.' });
    expect((await p('idle', 'test')).applied).toBe(false);
    expect(rec.calls).toEqual([]);
    expect((await p('finished')).applied).toBe(true);
    await power('poweroff', { mode: 'normal', exec: rec.exec, installPhase: () => 'failed' });
    expect(rec.calls).toEqual([['systemctl', 'reboot'], ['systemctl', 'poweroff']]);
  });
});
