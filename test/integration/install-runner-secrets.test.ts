import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { runPlan, writeLogBundle } from '../../src/engine/install';

import { PASSPHRASE, TOKEN, testPlan, harness } from '../support/runner-harness';

describe('secrets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'install-runner-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('never appear in the log text, its JSON, the events or the bundle', async () => {
    const h = harness({ onCommandOutput: () => {} });
    // The configure step fails with the passphrase in stderr; sfdisk prints the token on success.
    h.machine.failOn = (argv) => argv[0] === 'useradd';
    await runPlan(testPlan(), { ...h.ctx, execStreaming: h.machine.execStreaming });
    const out = join(dir, 'bundle.tar.gz');
    await writeLogBundle(out, {
      log: h.log,
      plan: testPlan(),
      lsblk: { blockdevices: [{ name: 'vdb', label: TOKEN }] },
      answerFile: { encryption: { passphrase: PASSPHRASE }, users: [{ name: 'ada', password: 'hunter22', passwordHash: '$y$j9T$abc' }], note: `x${TOKEN}y` },
      secrets: [PASSPHRASE, TOKEN, 'hunter22'],
    });
    const haystacks = {
      text: h.log.toText(),
      json: JSON.stringify(h.log.toJSON()),
      lines: h.log.lastLines().join('\n'),
      events: JSON.stringify(h.events),
      bundle: gunzipSync(readFileSync(out)).toString('latin1'),
    };
    for (const [what, hay] of Object.entries(haystacks)) {
      for (const secret of [PASSPHRASE, TOKEN, 'hunter22', 'battery']) expect(hay.includes(secret), `${secret} in ${what}`).toBe(false);
    }
    expect(haystacks.text).toMatch(/bad key \*\*\*/);
    expect(haystacks.text).toMatch(/token \*\*\* used/);
    expect(haystacks.bundle).toContain('$y$j9T$abc');
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(execFileSync('tar', ['-tzf', out], { encoding: 'utf8' }).trim().split('\n')).toEqual(['install.log', 'plan.json', 'lsblk.json', 'answer-file.json', 'machine.json']);
    const answer = JSON.parse(execFileSync('tar', ['-xzOf', out, 'answer-file.json'], { encoding: 'utf8' })) as Record<string, unknown>;
    expect(answer).toEqual({ encryption: { passphrase: '***' }, users: [{ name: 'ada', password: '***', passwordHash: '$y$j9T$abc' }], note: 'x***y' });
  });
});
