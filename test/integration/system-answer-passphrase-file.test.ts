import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planSecrets } from '../../src/engine/plan';
import { PASSPHRASE, request, valid } from '../support/answer-request';

const tmp = mkdtempSync(join(tmpdir(), 'system-export-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('passphraseFile in answer files (makes a pipe with mkfifo)', () => {

  it('only a small regular file is read: a pipe, a device or a huge file is refused before it can block or fill memory', () => {
    const at = (path: string) => valid(request({ layout: { type: 'erase', encryption: { type: 'luks2', passphraseFile: path } } }));
    const fifo = join(tmp, 'fifo');
    spawnSync('mkfifo', [fifo]);
    expect(() => planSecrets(at(fifo))).toThrow(/not a regular file/);
    expect(() => planSecrets(at('/dev/zero'))).toThrow(/not a regular file/);
    const big = join(tmp, 'big');
    writeFileSync(big, 'x'.repeat(5000));
    expect(() => planSecrets(at(big))).toThrow(/larger than 4096 bytes/);
    const nul = join(tmp, 'nul');
    writeFileSync(nul, `${PASSPHRASE}\u0000tail\n`);
    expect(() => planSecrets(at(nul))).toThrow(/control characters/);
  });
});
