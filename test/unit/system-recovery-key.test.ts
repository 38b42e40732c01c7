import { describe, expect, it } from 'vitest';
import { classifyDisks } from '../../src/engine/disks';
import { hashRequestPasswords } from '../../src/engine/crypt';
import { CommandError, type Exec, type ExecOptions } from '../../src/engine/exec';
import { InstallLog, runPlan, type RunContext } from '../../src/engine/install';
import { planInstall, planSecrets } from '../../src/engine/plan';
import { generateRecoveryKey, MODHEX, recoveryKeyFrom } from '../../src/engine/system/recovery-key';
import { makeError, RECOVERY_KEY, RecoveryKeySchema, validateAnswerFile, type InstallPlan, type PlanAction } from '../../src/shared';
import { readFileSync } from 'node:fs';

describe('generateRecoveryKey', () => {
  it('is eight groups of eight modhex characters', () => {
    const { key } = generateRecoveryKey();
    expect(key).toMatch(RECOVERY_KEY);
    expect(RecoveryKeySchema.parse({ key })).toEqual({ key });
    expect(key.replace(/-/g, '')).toHaveLength(64);
  });

  it('encodes each byte as two characters, high nibble first', () => {
    const bytes = new Uint8Array(32);
    bytes[0] = 0x00;
    bytes[1] = 0xff;
    bytes[2] = 0x1e;
    bytes[3] = 0xa5;
    expect(recoveryKeyFrom(bytes).slice(0, 8)).toBe(`cc${MODHEX[15]}${MODHEX[15]}bu${MODHEX[10]}${MODHEX[5]}`);
    expect(recoveryKeyFrom(bytes).slice(0, 8)).toBe('ccvvbulg');
    expect(() => recoveryKeyFrom(new Uint8Array(31))).toThrow(RangeError);
  });

  it('is different every time', () => {
    const keys = new Set(Array.from({ length: 2000 }, () => generateRecoveryKey().key));
    expect(keys.size).toBe(2000);
  });
});

const KEY = 'vvvvvvvv-cccccccc-bbbbbbbb-dddddddd-eeeeeeee-ffffffff-gggggggg-hhhhhhhh';
const PASS = 'luks passphrase 9f8e';

function tpmPlan(recoveryKey?: string): { plan: InstallPlan; secrets: Map<string, string> } {
  const disks = classifyDisks(JSON.parse(readFileSync('test/fixtures/machines/vm-virtio/snapshot.json', 'utf8')), { minimumSize: 16 * 1024 ** 3, allowLoop: 'none' });
  const v = validateAnswerFile({
    version: 1,
    disk: { largestEligible: true },
    layout: { type: 'erase', encryption: { type: 'luks2-tpm2', passphrase: PASS, ...(recoveryKey ? { recoveryKey } : {}) } },
    image: { reference: 'quay.io/example/os:42' },
  });
  if (!v.ok) throw new Error(JSON.stringify(v.errors));
  let n = 0;
  const r = planInstall(hashRequestPasswords(v.value), disks, { firmware: 'uefi', arch: 'x64', tpm: true, memoryBytes: 8 * 1024 ** 3 }, {
    id: 'abcdef0123456789',
    createdAt: '2026-01-01T00:00:00Z',
    runDir: '/run/particle-installer/abcdef01',
    uuid: () => `00000000-0000-4000-8000-${(++n).toString(16).padStart(12, '0')}`,
  });
  if (!r.ok) throw new Error(r.error.message);
  return { plan: r.plan, secrets: planSecrets(v.value) };
}

const runs = (p: InstallPlan, step: string) => p.steps.find((s) => s.id === step)!.actions.filter((a): a is Extract<PlanAction, { kind: 'run' }> => a.kind === 'run');

describe('recovery key enrolment', () => {
  it('plans systemd-cryptenroll --password with both secrets named in the environment, none in argv', () => {
    const { plan, secrets } = tpmPlan(KEY);
    const enrol = runs(plan, 'encrypt').find((a) => a.argv.includes('--password'))!;
    expect(enrol.argv).toEqual(['systemd-cryptenroll', '--password', plan.partitions.find((p) => p.mountpoint === '/')!.path]);
    expect(enrol.secretEnv).toEqual({ PASSWORD: 'luks-passphrase', NEWPASSWORD: 'luks-recovery-key' });
    expect(enrol.stdinSecret).toBeUndefined();
    // After the TPM2 enrolment, in the encrypt step; and neither secret anywhere in the plan.
    const argvs = runs(plan, 'encrypt').map((a) => a.argv[0] === 'systemd-cryptenroll' && a.argv[1]);
    expect(argvs.filter(Boolean)).toEqual(['--tpm2-device=auto', '--password']);
    expect(JSON.stringify(plan)).not.toContain(KEY);
    expect(JSON.stringify(plan)).not.toContain(PASS);
    expect(secrets.get('luks-recovery-key')).toBe(KEY);
  });

  it('plans no enrolment without a recovery key', () => {
    expect(runs(tpmPlan().plan, 'encrypt').some((a) => a.argv.includes('--password'))).toBe(false);
  });

  it('the runner passes the values as env and redacts them from the log, even from stderr', async () => {
    const { plan, secrets } = tpmPlan(KEY);
    const seen: { argv: readonly string[]; env?: Readonly<Record<string, string>> }[] = [];
    const exec: Exec = async (argv, o: ExecOptions = {}) => {
      seen.push({ argv, ...(o.env ? { env: o.env } : {}) });
      if (argv.includes('--password')) {
        throw new CommandError(makeError('command-failed', 'systemd-cryptenroll exited with code 1.', { command: [...argv], exitCode: 1, stderrTail: `new ${o.env?.NEWPASSWORD} old ${o.env?.PASSWORD}` }));
      }
      return { exitCode: 0, stdout: '', stderr: '', durationMs: 1 };
    };
    const log = new InstallLog();
    let clock = 0;
    const ctx: RunContext = {
      exec,
      secrets,
      signal: new AbortController().signal,
      emit: () => {},
      log,
      fs: { writeFile: async () => {}, symlink: async () => {}, mkdir: async () => {}, rm: async () => {}, readFile: async () => null, test: async () => false },
      now: () => (clock += 10),
      targetRoot: '/run/particle-installer/abcdef01/target',
      findDeployment: async () => null,
      isMounted: async () => false,
      mapperExists: async () => false,
      swapActive: async () => false,
    };
    const outcome = await runPlan(plan, ctx);
    expect(outcome.ok).toBe(false);
    expect(outcome.error?.step).toBe('encrypt');
    const enrol = seen.find((c) => c.argv.includes('--password'))!;
    expect(enrol.env).toEqual({ PASSWORD: PASS, NEWPASSWORD: KEY });
    const text = log.toText();
    expect(text).toContain('systemd-cryptenroll --password');
    expect(text).toContain('new *** old ***');
    expect(text).not.toContain(KEY);
    expect(text).not.toContain(PASS);
    expect(JSON.stringify(outcome.error)).not.toContain(KEY);
  });

  it('a missing secret is a planner bug, reported before the command runs', async () => {
    const { plan } = tpmPlan(KEY);
    const calls: string[] = [];
    const exec: Exec = async (argv) => {
      calls.push(argv.join(' '));
      return { exitCode: 0, stdout: '', stderr: '', durationMs: 1 };
    };
    const ctx = {
      exec,
      secrets: new Map([['luks-passphrase', PASS]]),
      signal: new AbortController().signal,
      emit: () => {},
      log: new InstallLog(),
      fs: { writeFile: async () => {}, symlink: async () => {}, mkdir: async () => {}, rm: async () => {}, readFile: async () => null, test: async () => false },
      now: () => 0,
      targetRoot: '/t',
      findDeployment: async () => null,
      isMounted: async () => false,
      mapperExists: async () => false,
      swapActive: async () => false,
    } satisfies RunContext;
    const outcome = await runPlan(plan, ctx);
    expect(outcome.error).toMatchObject({ code: 'internal', message: expect.stringContaining('"luks-recovery-key"') });
    expect(calls.some((c) => c.includes('--password'))).toBe(false);
  });
});
