import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../src/engine/engine';
import { SaveResultSchema, SaveTargetsSchema } from '../../src/shared';
import { attachLoop, ensurePartitionNode, loopUnavailableReason, run, sparseFile, tryRun } from '../support/loop';

// saveFile onto a real partition: a loop device over a sparse file, partitioned and formatted ext4
// here (the host kernel cannot mount vfat), the engine in test mode so loop devices count as sticks.
const why = loopUnavailableReason(['sfdisk', 'mkfs.ext4', 'partx', 'mount']);
if (why) console.warn(`[integration] system-save tests skipped: ${why}`);

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((t) => t.startsWith(dir));
}

describe.skipIf(why !== null)('saving to a removable partition (root, loop device)', () => {
  let dir: string;
  let engine: Engine;
  let loop: string | null = null;
  let part: string;
  const ours: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'particle-save-'));
    const file = join(dir, 'stick.img');
    sparseFile(file, 64 * 1024 * 1024);
    loop = attachLoop(file);
    run(['sfdisk', '--quiet', loop], 'label: dos\n,,L\n');
    part = await ensurePartitionNode(loop);
    run(['mkfs.ext4', '-q', '-F', '-L', 'PSTICK', part]);
    engine = createEngine({ mode: 'test', runRoot: join(dir, 'run'), logDir: join(dir, 'log') });
  });

  afterAll(() => {
    for (const m of [...ours, ...mountsUnder(dir)].reverse()) tryRun(['umount', m]);
    for (const m of mountsUnder(dir)) tryRun(['umount', '--lazy', m]);
    if (loop) {
      // Partitions added by hand stay on a loop device after it is detached; drop them first.
      tryRun(['partx', '--delete', loop]);
      tryRun(['losetup', '-d', loop]);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** Mounts the partition read-only ourselves and reads a file from it. */
  function readBack(name: string): Buffer {
    const mnt = join(dir, 'check');
    mkdirSync(mnt, { recursive: true });
    run(['mount', '-o', 'ro', part, mnt]);
    ours.push(mnt);
    try {
      return readFileSync(join(mnt, name));
    } finally {
      run(['umount', mnt]);
      ours.pop();
    }
  }

  it('offers the partition as a save target', async () => {
    const { targets } = SaveTargetsSchema.parse(await engine.handlers.listSaveTargets({}));
    expect(targets.find((t) => t.path === part)).toMatchObject({ fsType: 'ext4', label: 'PSTICK' });
  });

  it('saves the answer file: mounted, written, synced, unmounted', async () => {
    const { text } = await engine.handlers.exportAnswerFile({
      request: { version: 1, disk: { largestEligible: true }, layout: { type: 'erase', encryption: { type: 'luks2', passphrase: 'secret passphrase' } }, image: { reference: 'quay.io/example/os:42' }, users: [{ name: 'anna', password: 'pw 12345' }] },
    });
    const r = SaveResultSchema.parse(await engine.handlers.saveFile({ kind: 'answer-file', text, target: { type: 'device', path: part } }));
    expect(r).toMatchObject({ fileName: 'particle-answer-file.json', writtenTo: '/particle-answer-file.json', bytes: Buffer.byteLength(text) });
    expect(mountsUnder(dir)).toEqual([]);
    expect(readBack('particle-answer-file.json').toString('utf8')).toBe(text);
  });

  it('saves the log bundle', async () => {
    const r = await engine.handlers.saveFile({ kind: 'log-bundle', target: { type: 'device', path: part } });
    expect(r.fileName).toMatch(/^particle-install-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.tar\.gz$/);
    expect(mountsUnder(dir)).toEqual([]);
    const tar = gunzipSync(readBack(r.fileName)).toString('latin1');
    for (const f of ['install.log', 'plan.json', 'lsblk.json', 'answer-file.json', 'machine.json']) expect(tar).toContain(f);
    expect(tar).toContain(part.slice('/dev/'.length));
  });

  it('writes into an existing mountpoint and leaves it mounted', async () => {
    const mnt = join(dir, 'media');
    mkdirSync(mnt);
    run(['mount', part, mnt]);
    ours.push(mnt);
    const r = await engine.handlers.saveFile({ kind: 'log-bundle', target: { type: 'device', path: part } });
    expect(mountsUnder(dir)).toEqual([mnt]);
    expect(readFileSync(join(mnt, r.fileName)).length).toBe(r.bytes);
    run(['umount', mnt]);
    ours.pop();
  });

  it('refuses a device that is not a save target', async () => {
    await expect(engine.handlers.saveFile({ kind: 'log-bundle', target: { type: 'device', path: '/dev/null' } })).rejects.toMatchObject({ error: { code: 'invalid-input' } });
  });
});
