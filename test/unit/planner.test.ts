import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classifyDisks } from '../../src/engine/disks';
import { planInstall, type SystemFacts } from '../../src/engine/plan';
import { hashRequestPasswords } from '../../src/engine/crypt';
import { InstallPlanSchema, validateAnswerFile, type AnswerFileInput, type InstallPlan, type Partition, type PlanAction } from '../../src/shared';
import { makeDisk } from '../support/make-disk';

const machine = (name: string) =>
  classifyDisks(JSON.parse(readFileSync(`test/fixtures/machines/${name}/snapshot.json`, 'utf8')), { minimumSize: 16 * 1024 ** 3, allowLoop: 'none' });
const laptop = machine('laptop-nvme-windows-bitlocker');
const vm = machine('vm-virtio');
const facts: SystemFacts = { firmware: 'uefi', arch: 'x64', tpm: false, memoryBytes: 8 * 1024 ** 3 };

let n = 0;
const uuid = () => `00000000-0000-4000-8000-${(++n).toString(16).padStart(12, '0')}`;
const PASS = 'luks passphrase 9f8e';
const USER_PW = 'user password 7c6d';

function plan(input: Partial<AnswerFileInput>, disks = laptop, f: SystemFacts = facts, more: { layoutImageId?: string } = {}): InstallPlan {
  const r = tryPlan(input, disks, f, more);
  if (!r.ok) throw new Error(r.error.message);
  return r.plan;
}
function tryPlan(input: Partial<AnswerFileInput>, disks = laptop, f: SystemFacts = facts, more: { layoutImageId?: string } = {}) {
  const v = validateAnswerFile({
    version: 1,
    disk: { path: '/dev/nvme0n1' },
    layout: { type: 'erase' },
    image: { reference: 'quay.io/example/os:42' },
    hostname: 'box',
    users: [{ name: 'anna', password: USER_PW, admin: true }],
    ...input,
  });
  if (!v.ok) throw new Error(JSON.stringify(v.errors));
  n = 0;
  return planInstall(hashRequestPasswords(v.value), disks, f, { id: 'abcdef0123456789', createdAt: '2026-01-01T00:00:00Z', runDir: '/run/particle-installer/abcdef01', uuid, ...more });
}
const runs = (p: InstallPlan, step: string): string[][] =>
  p.steps.find((s) => s.id === step)!.actions.filter((a): a is Extract<PlanAction, { kind: 'run' }> => a.kind === 'run').map((a) => a.argv);

describe('planner', () => {
  it('erase disk, unencrypted xfs: layout, order, point of no return, valid plan', () => {
    const p = plan({});
    expect(InstallPlanSchema.parse(p)).toBeTruthy();
    expect(p.steps.map((s) => s.id)).toEqual(['preflight', 'wipe', 'partition', 'settle', 'format', 'mount', 'pull', 'deploy', 'configure', 'finalize', 'teardown']);
    // The pre-flight step comes first and writes nothing; the wipe is the point of no return.
    expect(p.pointOfNoReturn).toBe(1);
    const pre = p.steps[0]!;
    expect(pre.destructive).toBe(false);
    expect(pre.actions).toHaveLength(1);
    const checks = pre.actions[0]!.kind === 'preflight' ? pre.actions[0]!.checks : [];
    expect(checks.join('\n')).toMatch(/registry answers for it \(skopeo inspect\), it is a bootc image .*built for amd64/);
    expect(checks.join('\n')).toContain('UEFI');
    expect(p.partitions.map((x) => [x.number, x.path, x.label, x.content, x.size])).toEqual([
      [1, '/dev/nvme0n1p1', 'bios-boot', 'bios-boot', 1024 ** 2],
      [2, '/dev/nvme0n1p2', 'ESP', 'vfat', 1024 ** 3],
      [3, '/dev/nvme0n1p3', 'root', 'xfs', null],
    ]);
    // Every old partition's signatures go, then the disk's.
    expect(runs(p, 'wipe')).toEqual([...laptop.find((d) => d.path === '/dev/nvme0n1')!.partitions.map((x) => ['wipefs', '--all', '--force', x.path]), ['wipefs', '--all', '--force', '/dev/nvme0n1']]);
    const sfdisk = p.steps.find((s) => s.id === 'partition')!.actions[0] as Extract<PlanAction, { kind: 'run' }>;
    expect(sfdisk.stdin).toMatch(/^label: gpt\nsize=1024KiB, type=21686148-6449-6E6F-744E-656564454649, name="bios-boot"/);
    expect(sfdisk.stdin).toContain('type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name="root"');
    expect(runs(p, 'format')).toContainEqual(['mkfs.xfs', '-f', '-L', 'root', '-m', `uuid=${p.partitions[2]!.uuid}`, '/dev/nvme0n1p3']);
    expect(p.summary[0]).toMatch(/^Erase .*SAMSUNG.*476\.9 GiB \(nvme0n1\): everything on it will be lost\.$/);
  });

  it('deploys with the documented podman form and passes the root mount spec', () => {
    const p = plan({ image: { reference: 'quay.io/example/os:42', targetImage: 'quay.io/example/os:stable' }, kernelArgs: ['quiet'] });
    const [argv] = runs(p, 'deploy');
    const T = '/run/particle-installer/abcdef01/target';
    const store = `${T}/.particle-containers`;
    const globals = ['--root', `${store}/storage`, '--runroot', '/run/particle-installer/abcdef01/podman-run'];
    // The image is pulled into storage on the target's own filesystem, never into the live system's.
    // From a registry, bootc's container uses this system's network (no netavark, so no nft needed).
    expect(argv!.slice(0, 20)).toEqual([
      'podman', ...globals, 'run', '--network=host', '--rm', '--name', 'particle-deploy-abcdef01', '--privileged', '--pid=host', '--security-opt', 'label=type:unconfined_t',
      '-v', '/dev:/dev', '-v', `${store}:/var/lib/containers`, '-v', `${T}:/target`,
    ]);
    const pull = p.steps.find((s) => s.id === 'pull')!.actions;
    expect(pull.slice(0, 2)).toEqual([{ kind: 'mkdir', path: store, mode: '0700' }, { kind: 'run', argv: ['mount', '--bind', store, store] }]);
    expect(argv).toContain('quay.io/example/os:42');
    expect(argv!.slice(argv!.indexOf('bootc'))).toEqual([
      'bootc', 'install', 'to-filesystem', '--skip-finalize', `--root-mount-spec=UUID=${p.partitions[2]!.uuid}`,
      '--karg', 'quiet', '--target-imgref', 'quay.io/example/os:stable', '--bound-images', 'pull', '--run-fetch-check', '/target',
    ]);
    expect(runs(p, 'pull').at(-1)).toEqual(['podman', ...globals, 'pull', 'docker://quay.io/example/os:42']);
    // After the settings, bootc checks the sysroot still lists the deployment, in the same image.
    expect(runs(p, 'finalize').slice(0, 4)).toEqual([
      [
        'podman', ...globals, 'run', '--network=host', '--rm', '--name', 'particle-deploy-abcdef01-finalize', '--privileged', '--pid=host', '--security-opt', 'label=type:unconfined_t',
        '-v', `${T}:/target`, 'quay.io/example/os:42', 'bootc', 'install', 'finalize', '/target',
      ],
      // Then the storage goes, with whatever podman mounted below it.
      ['umount', '--recursive', store],
      ['rm', '-rf', '--one-file-system', store],
      // The install's log is kept in the system's /var (the stateroot's, bound where it is seen).
      ['mount', '--bind', '{stateroot-var}', '{deployment}/var'],
    ]);
    expect(p.steps.find((s) => s.id === 'finalize')!.actions.slice(4, 7)).toEqual([
      { kind: 'save-log', path: '{deployment}/var/log/particle-installer/install.log' },
      { kind: 'relabel', root: '{deployment}', paths: ['{deployment}/var/log/particle-installer'] },
      { kind: 'run', argv: ['umount', '{deployment}/var'] },
    ]);
    expect(runs(p, 'finalize').slice(5)).toEqual([['fstrim', '--verbose', T], ['sync'], ['mount', '-o', 'remount,ro', T]]);
    // The unmount and the removal are both tried again for a minute: a podman process of the finished
    // container may still hold or write in the store.
    const finalize = p.steps.find((s) => s.id === 'finalize')!.actions;
    expect(finalize[1]).toMatchObject({ argv: ['umount', '--recursive', store], retryForSeconds: 60 });
    expect(finalize[2]).toMatchObject({ argv: ['rm', '-rf', '--one-file-system', store], retryForSeconds: 60, timeoutSeconds: 600 });
    // Teardown asks the same storage for the containers, once it exists.
    const rm = p.steps.find((s) => s.id === 'teardown')!.actions[0]!;
    expect(rm).toMatchObject({ kind: 'run', argv: ['podman', ...globals, 'rm', '--force', '--ignore', 'particle-deploy-abcdef01', 'particle-deploy-abcdef01-finalize'], when: [{ path: `${store}/storage`, test: 'exists' }] });
  });

  it('LUKS2: XBOOTLDR /boot, passphrase only on stdin, rd.luks.uuid, close on teardown', () => {
    const p = plan({ layout: { type: 'erase', filesystem: 'ext4', encryption: { type: 'luks2', passphrase: PASS } } });
    expect(p.partitions.map((x) => x.content)).toEqual(['bios-boot', 'vfat', 'ext4', 'luks2']);
    expect(p.partitions[2]!.mountpoint).toBe('/boot');
    const luks = p.partitions[3]!;
    expect(p.kernelArgs).toEqual([`rd.luks.uuid=${luks.uuid}`]);
    const enc = p.steps.find((s) => s.id === 'encrypt')!.actions;
    expect(enc.every((a) => a.kind === 'run' && a.stdinSecret === 'luks-passphrase')).toBe(true);
    expect(runs(p, 'format').at(-1)![0]).toBe('mkfs.ext4');
    expect(runs(p, 'format').at(-1)!.at(-1)).toMatch(/^\/dev\/mapper\/particle-/);
    expect(runs(p, 'teardown')).toEqual([
      ['podman', '--root', '/run/particle-installer/abcdef01/target/.particle-containers/storage', '--runroot', '/run/particle-installer/abcdef01/podman-run', 'rm', '--force', '--ignore', 'particle-deploy-abcdef01', 'particle-deploy-abcdef01-finalize'],
      ['umount', '--recursive', '/run/particle-installer/abcdef01/target'],
      ['cryptsetup', 'close', 'particle-abcdef01'],
    ]);
    const deploy = runs(p, 'deploy')[0]!;
    expect(deploy).toContain(`--boot-mount-spec=UUID=${p.partitions[2]!.uuid}`);
    expect(deploy).toContain(`rd.luks.uuid=${luks.uuid}`);
    const json = JSON.stringify(p);
    expect(json).not.toContain(PASS);
    expect(json).not.toContain(USER_PW);
  });

  it('btrfs gets @ and @home and is mounted with zstd', () => {
    const p = plan({ layout: { type: 'erase', filesystem: 'btrfs' } });
    expect(runs(p, 'format').filter((a) => a[0] === 'btrfs').map((a) => a.at(-1)!.split('/').at(-1))).toEqual(['@', '@home']);
    expect(runs(p, 'mount')[0]).toEqual(['mount', '-o', 'subvol=@,compress=zstd:1', '/dev/nvme0n1p3', '/run/particle-installer/abcdef01/target']);
  });

  it('refuses what cannot work, naming the field or the disk', () => {
    const refused = tryPlan({ disk: { path: '/dev/sda' } });
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error.code).toBe('disk-refused');
    const tpm = tryPlan({ layout: { type: 'erase', encryption: { type: 'luks2-tpm2', passphrase: PASS } } });
    expect(!tpm.ok && tpm.error.message).toMatch(/^layout\.encryption: .*TPM/);
    const small = tryPlan({ layout: { type: 'erase', rootSize: '900G' } });
    expect(!small.ok && small.error.message).toMatch(/^layout: the layout needs/);
    const missing = tryPlan({ disk: { serial: 'NOPE' } });
    expect(!missing.ok && missing.error.code).toBe('disk-not-found');
  });

  it('picks the largest eligible disk and names partitions by the kernel rules', () => {
    const p = plan({ disk: { largestEligible: true } }, vm);
    const eligible = vm.filter((d) => d.verdict !== 'refused').sort((a, b) => b.size - a.size);
    expect(eligible.length).toBeGreaterThan(1);
    expect(p.disk.path).toBe(eligible[0]!.path);
    expect(p.partitions.map((x) => x.path)).toEqual([1, 2, 3].map((i) => `${eligible[0]!.path}${i}`));
    const nvme = plan({}, laptop);
    expect(nvme.partitions.map((x) => x.path)).toEqual(['/dev/nvme0n1p1', '/dev/nvme0n1p2', '/dev/nvme0n1p3']);
  });

  it("bootc's own layout: to-disk --wipe, then the root is mounted again to configure it", () => {
    const p = plan({ layout: { type: 'bootc', filesystem: 'ext4' } });
    expect(p.steps.map((s) => s.id)).toEqual(['preflight', 'wipe', 'pull', 'deploy', 'mount', 'configure', 'finalize', 'teardown']);
    const deploy = runs(p, 'deploy')[0]!;
    expect(deploy.slice(deploy.indexOf('bootc'))).toEqual(['bootc', 'install', 'to-disk', '--wipe', '--filesystem', 'ext4', '--block-setup', 'direct', '--bound-images', 'pull', '--run-fetch-check', '/dev/nvme0n1']);
    expect(runs(p, 'mount').at(-1)).toEqual(['mount', '/dev/nvme0n1p3', '/run/particle-installer/abcdef01/target']);
  });

  it('bootc plans ask ostree for the deployment before anything is written into it (bootc-install.md:166-170, ot-main.c:628-654)', () => {
    const T = '/run/particle-installer/abcdef01/target';
    const linux = makeDisk({
      partitionTable: 'gpt',
      partitions: [
        { path: '/dev/vda1', name: 'vda1', number: 1, start: 2048, size: 1024 ** 3, typeGuid: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b', typeName: null, partLabel: null, fsType: 'vfat', label: null, uuid: 'CB4C-274F', mountpoints: [], holders: [], os: null },
        { path: '/dev/vda2', name: 'vda2', number: 2, start: 4096, size: 30 * 1024 ** 3, typeGuid: '0fc63daf-8483-4772-8e79-3d69d8477de4', typeName: null, partLabel: null, fsType: 'ext4', label: null, uuid: '2db66ccc-69f7-4f9e-af8c-b1b3a20b4a4f', mountpoints: [], holders: [], os: null },
      ],
    });
    const existing = tryPlan({ disk: { path: '/dev/vda' }, layout: { type: 'existing', mounts: [{ partition: '/dev/vda2', mountpoint: '/', format: true, filesystem: 'xfs' }, { partition: '/dev/vda1', mountpoint: '/boot/efi', format: true }] } }, [linux]);
    if (!existing.ok) throw new Error(existing.error.message);
    for (const p of [plan({}), plan({ layout: { type: 'bootc', filesystem: 'ext4' } }), existing.plan]) {
      const configure = p.steps.find((s) => s.id === 'configure')!;
      expect(configure.actions[0]).toEqual({ kind: 'run', argv: ['ostree', 'admin', `--sysroot=${T}`, '--print-current-dir'], timeoutSeconds: 120, resolves: 'deployment' });
      // Nothing before it names the deployment; every action after it that writes does so inside it.
      const before = p.steps.slice(0, p.steps.indexOf(configure)).flatMap((s) => s.actions);
      expect(JSON.stringify(before)).not.toContain('{deployment}');
      expect(JSON.stringify(configure.actions.slice(1))).toContain('{deployment}/etc/');
      expect(p.steps.flatMap((s) => s.actions).filter((a) => a.kind === 'run' && a.resolves !== undefined)).toHaveLength(1);
    }
    // An oci-rootfs install has no ostree sysroot, and no such step.
    const rootfs = plan({ deployer: 'oci-rootfs', image: { reference: '/srv/image', transport: 'oci' } });
    expect(JSON.stringify(rootfs)).not.toContain('--print-current-dir');
  });

  it("a kept root (bootc --replace=alongside) only when the plan formats the ESP and /boot, which bootc empties (install.rs:2354-2379)", () => {
    const part = (n: number, typeGuid: string, fsType: string, id: string): Partition => ({
      path: `/dev/vda${n}`, name: `vda${n}`, number: n, start: n * 2048, size: 8 * 1024 ** 3, typeGuid, typeName: null,
      partLabel: null, fsType, label: null, uuid: id, mountpoints: [], holders: [], os: null,
    });
    const linux = makeDisk({
      partitionTable: 'gpt',
      partitions: [
        part(1, 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b', 'vfat', 'CB4C-274F'),
        part(2, '0fc63daf-8483-4772-8e79-3d69d8477de4', 'ext4', '2db66ccc-69f7-4f9e-af8c-b1b3a20b4a4f'),
        part(3, '0fc63daf-8483-4772-8e79-3d69d8477de4', 'ext4', '6f993627-8161-4030-a811-5feca433b25e'),
      ],
    });
    const on = (mounts: Array<{ partition: string; mountpoint: '/' | '/boot' | '/boot/efi'; format: boolean; filesystem?: 'xfs' }>) => tryPlan({ disk: { path: '/dev/vda' }, layout: { type: 'existing', mounts } }, [linux]);
    const keepRoot = { partition: '/dev/vda2', mountpoint: '/' as const, format: false };
    const keptEsp = on([keepRoot, { partition: '/dev/vda1', mountpoint: '/boot/efi', format: false }]);
    expect(!keptEsp.ok && keptEsp.error.message).toMatch(/^layout\.mounts: keeping \/dev\/vda2 .*deletes everything on the EFI system partition \/dev\/vda1 .*map \/dev\/vda1 to \/boot\/efi with format$/);
    const unmappedEsp = on([keepRoot]);
    expect(!unmappedEsp.ok && unmappedEsp.error.message).toMatch(/EFI system partition \/dev\/vda1 /);
    const keptBoot = on([keepRoot, { partition: '/dev/vda1', mountpoint: '/boot/efi', format: true }, { partition: '/dev/vda3', mountpoint: '/boot', format: false }]);
    expect(!keptBoot.ok && keptBoot.error.message).toMatch(/deletes everything in \/boot \(\/dev\/vda3\)/);
    const formattedEsp = on([keepRoot, { partition: '/dev/vda1', mountpoint: '/boot/efi', format: true }]);
    expect(formattedEsp.ok && runs(formattedEsp.plan, 'deploy')[0]).toContain('--replace=alongside');
    const formattedRoot = on([{ ...keepRoot, format: true, filesystem: 'xfs' }, { partition: '/dev/vda1', mountpoint: '/boot/efi', format: false }]);
    expect(formattedRoot.ok && runs(formattedRoot.plan, 'deploy')[0]).not.toContain('--replace=alongside');
    // On a BIOS machine, GRUB needs a BIOS boot partition on a GPT disk: refused before anything is written.
    const bios = tryPlan({ disk: { path: '/dev/vda' }, layout: { type: 'existing', mounts: [{ ...keepRoot, format: true, filesystem: 'xfs' }] } }, [linux], { ...facts, firmware: 'bios' });
    expect(!bios.ok && bios.error.message).toMatch(/^layout\.mounts: \/dev\/vda is a GPT disk without a BIOS boot partition/);
    const withBiosBoot = makeDisk({ ...linux, partitions: [...linux.partitions, part(4, '21686148-6449-6e6f-744e-656564454649', '', '')].map((p) => (p.number === 4 ? { ...p, fsType: null, uuid: null } : p)) });
    expect(tryPlan({ disk: { path: '/dev/vda' }, layout: { type: 'existing', mounts: [{ ...keepRoot, format: true, filesystem: 'xfs' }] } }, [withBiosBoot], { ...facts, firmware: 'bios' }).ok).toBe(true);
  });

  it('an image from a file: warns that updates have no source unless targetImage names one (install.rs:1631-1644), and refuses a signature check bootc would not make (install.rs:1058-1063)', () => {
    const fromFile = plan({ image: { reference: '/run/live/medium/particle/image', transport: 'oci' } });
    expect(fromFile.warnings.map((w) => w.id)).toEqual(['no-update-source']);
    expect(fromFile.warnings[0]!.message).toContain('ostree-unverified-registry:/run/live/medium/particle/image');
    expect(plan({ image: { reference: '/srv/os.tar', transport: 'oci-archive', targetImage: 'quay.io/example/os:42' } }).warnings).toEqual([]);
    expect(plan({}).warnings).toEqual([]);
    // Bound images: pulled by bootc into the target when installing online; an offline install keeps bootc's default.
    expect(runs(fromFile, 'deploy')[0]).not.toContain('--bound-images');
    const signed = tryPlan({ image: { reference: '/srv/os.tar', transport: 'oci-archive', targetImage: 'quay.io/example/os:42', enforceSignaturePolicy: true } });
    expect(!signed.ok && signed.error.message).toMatch(/^image\.enforceSignaturePolicy: a local image file carries no signature to check, and bootc does not check/);
    expect(tryPlan({ image: { reference: 'quay.io/example/os:42', enforceSignaturePolicy: true } }).ok).toBe(true);
  });

  it("without bootc on this system an OCI layout goes through podman, run by the id the pull gives it (its config's digest) and never pulled again by podman run, its storage on the target; bootc's own layout warns that the image is kept in memory first", () => {
    const noBootc = { ...facts, bootcOnHost: false };
    const id = 'e35481e8af56747c9e90b89ed72c357d09f14b0cae1230ea9b84a038ddb6bccc';
    const image = { reference: '/run/live/medium/particle/image', transport: 'oci' as const, targetImage: 'quay.io/example/os:42' };
    const erase = plan({ image }, laptop, noBootc, { layoutImageId: id });
    expect(runs(erase, 'pull').at(-1)).toEqual(['podman', '--root', expect.stringMatching(/\/target\/\.particle-containers\/storage$/), '--runroot', expect.any(String), 'pull', 'oci:/run/live/medium/particle/image']);
    const deploy = runs(erase, 'deploy')[0]!;
    // From a file, bootc's container has no network at all (an offline install needs none).
    expect(deploy.slice(0, 8)).toEqual(['podman', '--root', expect.any(String), '--runroot', expect.any(String), 'run', '--pull=never', '--network=none']);
    expect(runs(erase, 'finalize').find((a) => a.includes('finalize'))).toContain('--network=none');
    expect(deploy[deploy.indexOf('bootc') - 1]).toBe(id);
    expect(deploy).not.toContain('--source-imgref');
    expect(runs(erase, 'finalize').find((a) => a.includes('finalize'))).toContain(id);
    expect(erase.warnings).toEqual([]);
    // With bootc here, the host form as before.
    expect(runs(plan({ image }), 'deploy')[0]).toContain('--source-imgref');
    // A layout the engine could not read for its id: refused at planning, before anything is written.
    const unread = tryPlan({ image }, laptop, noBootc);
    expect(!unread.ok && unread.error.message).toMatch(/^image\.reference: the OCI layout could not be read for its image id/);
    const own = plan({ image, layout: { type: 'bootc' } }, laptop, noBootc, { layoutImageId: id });
    expect(own.warnings.map((w) => w.id)).toEqual(['image-in-memory']);
    expect(plan({ layout: { type: 'bootc' } }).warnings.map((w) => w.id)).toEqual(['image-in-memory']);
    const archive = tryPlan({ image: { reference: '/srv/os.tar', transport: 'oci-archive' } }, laptop, noBootc);
    expect(!archive.ok && archive.error.message).toMatch(/^image\.transport: bootc is not installed on this system, and an OCI archive cannot be run as a container by an id known in advance/);
  });

  it("bootc's own layout with btrfs: the root is mounted at the top level, as bootc's to-disk makes no subvolume (baseline.rs:128-168)", () => {
    const p = plan({ layout: { type: 'bootc', filesystem: 'btrfs' } });
    expect(runs(p, 'mount').at(-1)).toEqual(['mount', '/dev/nvme0n1p3', '/run/particle-installer/abcdef01/target']);
  });

  it('erase with btrfs through bootc: rootflags for @ (and its compression) go in as --karg, since bootc derives none given --root-mount-spec (install.rs:2594-2598)', () => {
    const deployOf = (p: InstallPlan) => {
      const argv = runs(p, 'deploy')[0]!;
      return argv.slice(argv.indexOf('bootc'));
    };
    const btrfs = deployOf(plan({ layout: { type: 'erase', filesystem: 'btrfs' } }));
    expect(btrfs.some((a) => a.startsWith('--root-mount-spec=UUID='))).toBe(true);
    const kargs = btrfs.flatMap((a, i) => (btrfs[i - 1] === '--karg' ? [a] : []));
    expect(kargs[0]).toBe('rootflags=subvol=@,compress=zstd:1');
    expect(deployOf(plan({ layout: { type: 'erase', filesystem: 'xfs' } })).join(' ')).not.toContain('rootflags');
  });
});

describe('keyboard layout of the installed console and LUKS prompt (kernel arguments through bootc --karg)', () => {
  const deKeyboard = { layout: 'de', variant: 'nodeadkeys' };
  const luks = { type: 'erase' as const, encryption: { type: 'luks2' as const, passphrase: PASS } };
  const kargsOf = (argv: string[]): string[] => argv.flatMap((a, i) => (argv[i - 1] === '--karg' ? [a] : []));

  it('German without dead keys, LUKS: vconsole.keymap and rd.vconsole.keymap, after rd.luks.uuid and before the answer file’s', () => {
    const p = plan({ keyboard: deKeyboard, layout: luks, kernelArgs: ['quiet'] });
    const root = p.partitions.find((x) => x.content === 'luks2')!;
    const expected = [`rd.luks.uuid=${root.uuid}`, 'vconsole.keymap=de-nodeadkeys', 'rd.vconsole.keymap=de-nodeadkeys', 'quiet'];
    expect(p.kernelArgs).toEqual(expected);
    expect(kargsOf(runs(p, 'deploy')[0]!)).toEqual(expected);
    // The console keymap and the X11 layout in vconsole.conf, as localed keeps them.
    const conf = p.steps.find((s) => s.id === 'configure')!.actions.find((a) => a.kind === 'write' && a.path.endsWith('/etc/vconsole.conf'));
    expect(conf).toMatchObject({ content: 'KEYMAP=de-nodeadkeys\nXKBLAYOUT=de\nXKBVARIANT=nodeadkeys\n' });
    // bootc has no initramfs-tools drop-in to write and no image-dependent warning to give.
    expect(p.warnings).toEqual([]);
  });

  it('without LUKS there is no passphrase prompt: only vconsole.keymap', () => {
    const p = plan({ keyboard: deKeyboard });
    expect(p.kernelArgs).toEqual(['vconsole.keymap=de-nodeadkeys']);
    expect(kargsOf(runs(p, 'deploy')[0]!)).toEqual(['vconsole.keymap=de-nodeadkeys']);
    expect(plan({ keyboard: { layout: 'de' }, layout: luks }).kernelArgs.slice(1)).toEqual(['vconsole.keymap=de', 'rd.vconsole.keymap=de']);
  });

  it('the US layout, the default, adds nothing; a US variant does', () => {
    const p = plan({ layout: luks });
    const root = p.partitions.find((x) => x.content === 'luks2')!;
    expect(p.kernelArgs).toEqual([`rd.luks.uuid=${root.uuid}`]);
    expect(plan({ keyboard: { layout: 'us' } }).kernelArgs).toEqual([]);
    expect(runs(plan({}), 'deploy')[0]).not.toContain('--karg');
    expect(plan({ keyboard: { layout: 'us', variant: 'intl' } }).kernelArgs).toEqual(['vconsole.keymap=us-acentos']);
  });

  it('leaves a keymap the answer file gives to it', () => {
    const p = plan({ keyboard: deKeyboard, layout: luks, kernelArgs: ['vconsole.keymap=de-latin1'] });
    expect(p.kernelArgs.slice(1)).toEqual(['rd.vconsole.keymap=de-nodeadkeys', 'vconsole.keymap=de-latin1']);
  });

  it("bootc's own layout and existing partitions get the console keymap too", () => {
    const own = plan({ keyboard: deKeyboard, layout: { type: 'bootc' } });
    expect(own.kernelArgs).toEqual(['vconsole.keymap=de-nodeadkeys']);
    expect(kargsOf(runs(own, 'deploy')[0]!)).toEqual(['vconsole.keymap=de-nodeadkeys']);
    const existing = plan({
      keyboard: deKeyboard,
      layout: {
        type: 'existing',
        mounts: [
          { partition: '/dev/nvme0n1p4', mountpoint: '/', format: true, filesystem: 'ext4' },
          { partition: '/dev/nvme0n1p1', mountpoint: '/boot/efi', format: false },
        ],
      },
    });
    expect(existing.kernelArgs).toEqual(['vconsole.keymap=de-nodeadkeys']);
    expect(kargsOf(runs(existing, 'deploy')[0]!)).toEqual(['vconsole.keymap=de-nodeadkeys']);
  });
});

