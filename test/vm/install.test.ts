import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstallPlan, ProgressEvent } from '../../src/shared';
import type { DiskFacts } from './guest/install-checks';
import { bundleGuestScript, guestResults, killAllVms, runInVm, vmImage, vmUnavailable, type RunInVmResult } from './index';

// LUKS2 installs need device-mapper and the ESP needs vfat, which the host kernel lacks: the real
// engine runs them inside one VM (test/vm/guest/install-luks.ts), with the bootc/podman contract
// fake, onto blank virtio disks. The guest reports facts as JSON lines; this file judges them.
const why = vmUnavailable();
if (why) console.warn(`[vm] LUKS install tests skipped: ${why}`);

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const TYPE = {
  biosBoot: '21686148-6449-6e6f-744e-656564454649',
  esp: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b',
  xbootldr: 'bc13c2ff-59e6-4262-a352-b275fd6f7172',
  rootX64: '4f68bce3-e8cd-4db1-96e7-fbcaf984b709',
};
const VARIANTS = ['xfs', 'ext4', 'btrfs'] as const;

interface GuestResult {
  variant: string;
  exception?: string;
  dev: string;
  seconds: number;
  outcome: ProgressEvent | null;
  steps: string[];
  stepSeconds: Record<string, number>;
  plan: InstallPlan;
  rootFsUuid: string | null;
  mountsUnderRunRoot: string[];
  particleMappers: string[];
  passphraseInLog: boolean;
  facts?: DiskFacts;
  checkSeconds?: number;
  mappersAfterChecks?: string[];
  rootIsLuks2?: boolean;
  log?: string[];
}

const parseResults = (output: string): Map<string, GuestResult> => guestResults<GuestResult>(output);

describe.skipIf(why !== null)('LUKS2 erase-disk installs in the VM (real engine, bootc fake)', () => {
  let r: RunInVmResult;
  let results: Map<string, GuestResult>;
  const figures: string[] = [];

  beforeAll(async () => {
    await vmImage();
    r = await runInVm(`HOME=/tmp node ${await bundleGuestScript('install-luks')}`, {
      disks: [...VARIANTS.map((fs) => ({ serial: `luks-${fs}`, size: '10G' })), { serial: 'luks-fail', size: '10G' }],
      memoryMiB: 3072,
      timeoutMs: 1_500_000,
    });
    figures.push(`boot-to-command (${r.accel}): ${r.bootSeconds.toFixed(1)} s; whole VM run: ${r.totalSeconds.toFixed(1)} s`);
    const ready = /node ready after ([\d.]+) s/.exec(r.output);
    if (ready) figures.push(`guest: node with the bundled script up after ${ready[1]} s`);
    try {
      results = parseResults(r.output);
    } catch (e) {
      throw new Error(`could not parse the guest's results (${(e as Error).message}); guest output:\n${r.output}`);
    }
    for (const res of results.values()) {
      if (typeof res.seconds !== 'number') continue;
      const slow = Object.entries(res.stepSeconds ?? {}).filter(([, s]) => s >= 1).map(([step, s]) => `${step} ${s}`);
      const checks = res.checkSeconds === undefined ? '' : `; its checks ${res.checkSeconds.toFixed(1)} s`;
      figures.push(`in-guest install ${res.variant}: ${res.seconds.toFixed(1)} s (steps ≥ 1 s: ${slow.join(', ') || 'none'})${checks}`);
    }
  }, 1_600_000);

  afterAll(() => {
    killAllVms();
    console.log(`[vm] LUKS install figures:\n  ${figures.join('\n  ')}`);
  });

  /** The result for `variant`, failing with the guest's whole output when it is missing or threw. */
  const result = (variant: string): GuestResult => {
    const res = results.get(variant);
    if (!res || res.exception) throw new Error(`no result for ${variant}${res?.exception ? ` (exception: ${res.exception})` : ''}; guest output:\n${r.output}`);
    return res;
  };

  it('the guest script ran every install without an unexpected exception', () => {
    expect(r.exitCode, r.output).toBe(0);
    expect([...results.keys()].sort(), r.output).toEqual(['btrfs', 'ext4', 'fail-deploy', 'xfs']);
  });

  it.each(VARIANTS)('%s in LUKS2: table, filesystems, header, passphrase, deployment, kernel arguments, teardown', (fs) => {
    const res = result(fs);
    const ctx = JSON.stringify({ outcome: res.outcome, log: res.log }, null, 1);
    expect(res.outcome?.kind, ctx).toBe('finished');
    const { plan } = res;
    // Chosen by the answer file's serial selector: the disk behind /dev/disk/by-id/virtio-luks-<fs>.
    expect(plan.disk.path).toBe(res.dev);
    expect(plan.disk.serial).toBe(`luks-${fs}`);
    expect(res.steps).toContain('encrypt');
    const f = res.facts!;

    // The table: GPT with BIOS boot, ESP, XBOOTLDR /boot and the root, 1 MiB aligned.
    expect(f.table.label).toBe('gpt');
    expect(f.table.partitions.map((p) => p.type.toLowerCase())).toEqual([TYPE.biosBoot, TYPE.esp, TYPE.xbootldr, TYPE.rootX64]);
    expect(f.table.partitions.map((p) => p.type.toLowerCase())).toEqual(plan.partitions.map((p) => p.typeGuid));
    for (const p of f.table.partitions) expect((p.start * 512) % MiB, `${p.node} starts at sector ${p.start}`).toBe(0);
    expect(f.table.partitions[1]!.size * 512).toBe(GiB);
    expect(f.table.partitions[2]!.size * 512).toBe(GiB);

    // What is on each partition.
    const [, esp, boot, root] = f.blkid;
    const [, , bootPlan, rootPlan] = plan.partitions;
    expect(esp!.TYPE).toBe('vfat');
    expect(esp!.LABEL).toBe('ESP');
    expect(boot!.TYPE).toBe('ext4');
    expect(boot!.UUID).toBe(bootPlan!.uuid);
    expect(boot!.PART_ENTRY_TYPE).toBe(TYPE.xbootldr);
    expect(root!.TYPE).toBe('crypto_LUKS');
    expect(root!.VERSION).toBe('2');
    expect(root!.UUID).toBe(rootPlan!.uuid);

    // The LUKS2 header, its UUID the plan's; the passphrase opens it and a wrong one does not.
    expect(f.luks.isLuks2).toBe(true);
    expect(f.luks.dumpVersion).toBe('2');
    expect(f.luks.dumpUuid).toBe(rootPlan!.uuid);
    expect(f.luks.rightPassphraseExit).toBe(0);
    expect(f.luks.wrongPassphraseExit).not.toBe(0);
    // Inside: the chosen filesystem with the plan's second UUID.
    expect(res.rootFsUuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.rootFsUuid).not.toBe(rootPlan!.uuid);
    expect(f.luks.inner.TYPE).toBe(fs);
    expect(f.luks.inner.UUID).toBe(res.rootFsUuid);

    // The deployment inside the encrypted root.
    const d = f.deployment;
    expect(d.hostname).toBe(`particle-${fs}\n`);
    expect(d.locale).toContain('LANG=de_DE.UTF-8');
    expect(d.localtime).toBe('../usr/share/zoneinfo/Europe/Berlin');
    expect(d.passwdLine).toMatch(/^anna:x:\d+:\d+:Anna Example:\/home\/anna:\/bin\/bash$/);
    expect(d.hashPrefix).toBe('$6$');
    expect(d.hashVerifies).toBe(true);
    expect(d.adminGroup).toMatch(/anna/);
    expect(d.plaintextInEtc, 'files holding the user password or the LUKS passphrase').toEqual([]);
    expect(d.fstabBoot).toContain(`UUID=${bootPlan!.uuid}`);

    // The loader entry on /boot: the initramfs unlocks the LUKS UUID, then mounts the inner UUID.
    const opts = (f.loaderOptions ?? '').split(' ');
    expect(opts, f.loaderOptions ?? 'no loader entry').toContain(`root=UUID=${res.rootFsUuid}`);
    expect(opts).toContain(`rd.luks.uuid=${rootPlan!.uuid}`);
    expect(opts).toContain('quiet');
    // bootc derives no rootflags given --root-mount-spec; the engine's own --karg is the only one.
    if (fs === 'btrfs') expect(opts.filter((o) => o.startsWith('rootflags='))).toEqual(['rootflags=subvol=@,compress=zstd:1']);
    expect(plan.kernelArgs).toContain(`rd.luks.uuid=${rootPlan!.uuid}`);

    // The ESP mounts as vfat in the guest.
    expect(f.esp).toEqual({ fstype: 'vfat', label: 'ESP', writable: true });

    // The engine's teardown left nothing open; the checks closed what they opened.
    expect(res.mountsUnderRunRoot).toEqual([]);
    expect(res.particleMappers).toEqual([]);
    expect(res.passphraseInLog).toBe(false);
    expect(f.luks.closedAfterCheck).toBe(true);
    expect(f.checkMountsLeft).toEqual([]);
    expect(res.mappersAfterChecks).toEqual([]);
  });

  it('a bootc failure at deploy on an encrypted disk names the step and closes LUKS and every mount', () => {
    const res = result('fail-deploy');
    const out = res.outcome;
    expect(out?.kind, JSON.stringify(res, null, 1)).toBe('failed');
    if (out?.kind !== 'failed') return;
    expect(out.error.step).toBe('deploy');
    expect(out.error.stderrTail).toMatch(/Insufficient free space/);
    expect(out.diskState).toBe('partially-written');
    expect(out.cancelled).toBe(false);
    expect(res.steps).toContain('encrypt');
    expect(res.rootIsLuks2).toBe(true);
    expect(res.mountsUnderRunRoot).toEqual([]);
    expect(res.particleMappers).toEqual([]);
    expect(res.passphraseInLog).toBe(false);
  });
});
