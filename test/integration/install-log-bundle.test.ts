import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLE_FILES, writeLogBundle } from '../../src/engine/install';

import { clockLog, SECRET, T0 } from '../support/clock-log';

describe('writeLogBundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'install-log-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a 0600 tar.gz of the five files, secrets masked by key and by value', async () => {
    const { log } = clockLog();
    log.message('info', `the passphrase is ${SECRET}`);
    const out = join(dir, 'bundle.tar.gz');
    // An older bundle with a looser mode must not keep it.
    writeFileSync(out, 'old');
    chmodSync(out, 0o644);
    await writeLogBundle(
      out,
      {
        log,
        plan: null,
        lsblk: { blockdevices: [{ name: 'sda', model: `odd ${SECRET}` }] },
        answerFile: {
          disk: '/dev/sda',
          encryption: { Passphrase: SECRET, tpm2: true },
          users: [{ name: 'ada', password: 'hunter22', passwordHash: '$6$salt$hash' }],
          extra: { [SECRET]: 1, list: [`a ${SECRET} b`] },
          optional: { password: null },
        },
        machine: { identity: { vendor: 'LENOVO', model: `X13 ${SECRET}`, version: null, virtual: false }, graphics: { error: 'lspci: not found' } },
        secrets: [SECRET, 'hunter22'],
      },
      () => T0,
    );
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(execFileSync('tar', ['-tzf', out], { encoding: 'utf8' }).trim().split('\n')).toEqual([...BUNDLE_FILES]);
    const verbose = execFileSync('tar', ['-tvzf', out], { encoding: 'utf8' });
    expect(verbose).toMatch(/^-rw------- root\/root/m);

    const read = (name: string): string => execFileSync('tar', ['-xzOf', out, name], { encoding: 'utf8' });
    expect(read('install.log')).toBe('2025-01-01T12:00:00.000Z INFO the passphrase is ***\n');
    expect(JSON.parse(read('plan.json'))).toBeNull();
    expect(JSON.parse(read('machine.json'))).toEqual({ identity: { vendor: 'LENOVO', model: 'X13 ***', version: null, virtual: false }, graphics: { error: 'lspci: not found' } });
    expect(JSON.parse(read('lsblk.json'))).toEqual({ blockdevices: [{ name: 'sda', model: 'odd ***' }] });
    expect(JSON.parse(read('answer-file.json'))).toEqual({
      disk: '/dev/sda',
      encryption: { Passphrase: '***', tpm2: true },
      users: [{ name: 'ada', password: '***', passwordHash: '$6$salt$hash' }],
      extra: { '***': 1, list: ['a *** b'] },
      optional: { password: null },
    });
    const bytes = gunzipSync(readFileSync(out)).toString('latin1');
    for (const s of ['pa"ss', 'pa\\"ss', 'hunter22']) expect(bytes.includes(s), s).toBe(false);
    expect(readFileSync(out).length).toBeGreaterThan(0);
    expect(() => statSync(`${out}.partial`)).toThrow();
  });
});
