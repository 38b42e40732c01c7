import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllVms, runInVm, vmImage, vmUnavailable, VmError } from './index';

// The VM level: a Debian guest with a full kernel does what the host kernel cannot (LUKS, vfat,
// bootloaders), and what was made there is booted with both firmwares.
const why = vmUnavailable();
if (why) console.warn(`[vm] skipped: ${why}`);

const figures: string[] = [];
const qemuPids = (): string[] => {
  try {
    return execFileSync('pgrep', ['-f', 'particle-vm-job-|particle-boot-'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return [];
  }
};

describe.skipIf(why !== null)('VM test level', () => {
  let work: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'particle-vm-test-'));
    await vmImage();
  }, 45 * 60_000);

  afterAll(() => {
    killAllVms();
    rmSync(work, { recursive: true, force: true });
    console.log(`[vm] figures:\n  ${figures.join('\n  ')}`);
  });

  it('runs a command as root, streams its output and returns its exit code', async () => {
    const chunks: string[] = [];
    const r = await runInVm('echo "uid=$(id -u)"; echo to-stderr >&2; ls /project/package.json; exit 3', {
      onOutput: (c) => chunks.push(c),
      timeoutMs: 300_000,
    });
    expect(r.exitCode).toBe(3);
    expect(r.output).toContain('uid=0');
    expect(r.output).toContain('to-stderr');
    expect(r.output).toContain('/project/package.json');
    expect(chunks.join('')).toBe(r.output);
    // The command itself takes milliseconds, so the whole run is the harness's overhead per test.
    figures.push(`boot-to-command (${r.accel}): ${r.bootSeconds.toFixed(1)} s; overhead per test (QEMU start to power-off, trivial command): ${r.totalSeconds.toFixed(1)} s`);
  }, 360_000);

  it('formats LUKS2, opens it, mounts ext4 inside, mounts a vfat ESP, and tears it all down', async () => {
    const r = await runInVm('bash /project/test/vm/guest/luks-and-esp.sh luks esp', {
      disks: [
        { serial: 'luks', size: '256M' },
        { serial: 'esp', size: '128M' },
      ],
      timeoutMs: 360_000,
    });
    expect(r.exitCode, r.output).toBe(0);
    expect(r.output).toContain('luks2 header: yes');
    expect(r.output).toContain('ext4 in luks: hello (ext4)');
    expect(r.output).toContain('luks closed');
    expect(r.output).toContain('vfat esp: vfat boot');
    expect(r.output).toContain('mounts left: 0');
  }, 420_000);

  it('kills QEMU on timeout and reports the last console lines', async () => {
    const err = await runInVm('sleep 600', { timeoutMs: 35_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VmError);
    expect(String((err as Error).message)).toMatch(/did not finish within 35 s[\s\S]*last console lines/);
    // Its own QEMU is gone. (Counting every QEMU on the machine fails whenever another lane's VM
    // starts or stops meanwhile.)
    const pid = (err as VmError).qemuPid;
    expect(pid).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(qemuPids()).not.toContain(String(pid));
    expect(existsSync(`/proc/${pid}`), `QEMU ${pid} still runs`).toBe(false);
  }, 120_000);
  // Booting a disk (bootDisk: its login, commands and exit codes over the serial console) is proven on
  // installed disks: test/vm/oci-rootfs.test.ts and the live ISO's QA boot what the installer wrote.
});
