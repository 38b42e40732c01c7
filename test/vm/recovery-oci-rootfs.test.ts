import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureOciTestImage, ociImageUnavailable } from '../support/oci-test-image';
import { countWhenPassed } from '../security/counts';
import { bundleGuestScript, byLine, killAllVms, runInVm, vmImage, vmUnavailable, type RunInVmResult } from './index';

// test/security/recovery-oci-rootfs.test.ts kills the real engine in the middle of an oci-rootfs
// install and checks what the next engine recovers. Its boot-loader step mounts the ESP, and a host
// kernel without vfat skips it; this runs that same file, unchanged, inside the VM (whose kernel has
// vfat), with the cached Debian test image shared in, and judges its report here.
const why = vmUnavailable() ?? ociImageUnavailable();
if (why) console.warn(`[vm] oci-rootfs recovery in the VM skipped: ${why}`);

interface Assertion {
  readonly title: string;
  readonly status: string;
  readonly failureMessages: string[];
}

describe.skipIf(why !== null)('recovery after the engine is killed during an oci-rootfs install, in the VM (the security file, run by the guest)', () => {
  let r: RunInVmResult;
  let tests: Assertion[] = [];
  const out = mkdtempSync(join(tmpdir(), 'particle-recovery-vm-'));

  beforeAll(async () => {
    await vmImage();
    const image = await ensureOciTestImage((l) => console.log(`[vm] ${l}`));
    const hash = image.dir.split('/').pop()!;
    // The image's recipe hash depends on the first two; the guest must compute the same one to find it.
    const vars: Record<string, string | undefined> = {
      PARTICLE_VM_SUITE: process.env.PARTICLE_VM_SUITE,
      PARTICLE_VM_MIRROR: process.env.PARTICLE_VM_MIRROR,
      // The engine service the file starts four times, bundled from this checkout's sources.
      PARTICLE_ENGINE_CLI: await bundleGuestScript('cli', 'src/cli/main.ts'),
    };
    const env = Object.entries(vars).filter((e): e is [string, string] => Boolean(e[1])).map(([k, v]) => {
      if (v.includes("'")) throw new Error(`${k} must not contain a single quote`);
      return `${k}='${v}' `;
    });
    r = await runInVm(`${env.join('')}bash /project/test/vm/guest/recovery-oci-rootfs.sh ${hash}`, {
      disks: [{ serial: 'scratch', size: '16G' }],
      shares: [
        { path: image.dir, tag: 'oci' },
        { path: out, tag: 'out', writable: true },
      ],
      memoryMiB: 3072,
      timeoutMs: 50 * 60_000,
      // The guest's vitest lines, as they come (its own report is judged below).
      onOutput: byLine((l) => {
        if (/^\s*(✓|×|↓|\[security\]|guest:)|Tests |Duration /.test(l)) console.log(`[vm guest] ${l.trim()}`);
      }),
    });
    console.log(`[vm] guest vitest run: exit ${r.exitCode}, ${r.totalSeconds.toFixed(1)} s in the VM (boot to command ${r.bootSeconds.toFixed(1)} s)`);
    try {
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { testResults: { assertionResults: Assertion[] }[] };
      tests = report.testResults.flatMap((f) => f.assertionResults);
    } catch (e) {
      throw new Error(`the guest's vitest wrote no report (${(e as Error).message}); its output:\n${r.output.slice(-6000)}`);
    }
  }, 55 * 60_000);

  afterAll(() => {
    killAllVms();
    rmSync(out, { recursive: true, force: true });
  });

  const judged = (start: string): void => {
    const t = tests.find((x) => x.title.startsWith(start));
    expect(t, `no test "${start}…" in the guest's report; its output:\n${r.output.slice(-4000)}`).toBeDefined();
    expect(t!.status, `${t!.title}:\n${t!.failureMessages.join('\n').slice(0, 4000)}\n--- guest output ---\n${r.output.slice(-3000)}`).toBe('passed');
    countWhenPassed('recovery-passed', 1);
  };

  it('killed right after the boot-loader step: released, and the disk is as docs/recovery.md says (run in the guest)', () => judged('killed right after the boot-loader step'));
  it('killed in the middle of unpacking the image: released, and a new install completes (run in the guest)', () => judged('killed in the middle of unpacking the image'));
  it('the guest ran the file to the end and nothing in it was skipped', () => {
    expect(r.exitCode, r.output.slice(-3000)).toBe(0);
    expect(tests.map((t) => t.status)).toEqual(['passed', 'passed']);
  });
});
