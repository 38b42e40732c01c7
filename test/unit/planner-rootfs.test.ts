import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hashRequestPasswords } from '../../src/engine/crypt';
import { classifyDisks } from '../../src/engine/disks';
import { planInstall, type SystemFacts } from '../../src/engine/plan';
import { vfatUuid } from '../../src/engine/plan/layout';
import { formatPlan } from '../../src/cli/plan';
import { commandName } from '../../src/engine/install/activity';
import { InstallPlanSchema, validateAnswerFile, type AnswerFileInput, type InstallPlan, type PlanAction } from '../../src/shared';

// The oci-rootfs deployer's plans: unpack instead of bootc, then fstab/crypttab, the initramfs and a
// boot loader from inside the target, each branch guarded by what the unpacked image carries.

const laptop = classifyDisks(JSON.parse(readFileSync('test/fixtures/machines/laptop-nvme-windows-bitlocker/snapshot.json', 'utf8')), {
  minimumSize: 16 * 1024 ** 3,
  allowLoop: 'none',
});
const uefi: SystemFacts = { firmware: 'uefi', arch: 'x64', tpm: false, memoryBytes: 8 * 1024 ** 3 };
const bios: SystemFacts = { ...uefi, firmware: 'bios' };
const RUN = '/run/particle-installer/abcdef01';
const T = `${RUN}/target`;

let n = 0;
const uuid = () => `00000000-0000-4000-8000-${(++n).toString(16).padStart(12, '0')}`;

function tryPlan(input: Partial<AnswerFileInput>, f: SystemFacts = uefi) {
  const v = validateAnswerFile({
    version: 1,
    disk: { path: '/dev/nvme0n1' },
    layout: { type: 'erase' },
    image: { reference: '/srv/images/debian', transport: 'oci' },
    deployer: 'oci-rootfs',
    hostname: 'box',
    users: [{ name: 'anna', password: 'user pw 1234', admin: true }],
    kernelArgs: ['console=ttyS0,115200'],
    ...input,
  });
  if (!v.ok) throw new Error(JSON.stringify(v.errors));
  n = 0;
  return planInstall(hashRequestPasswords(v.value), laptop, f, { id: 'abcdef0123456789', createdAt: '2026-01-01T00:00:00Z', runDir: RUN, uuid });
}
function plan(input: Partial<AnswerFileInput>, f: SystemFacts = uefi): InstallPlan {
  const r = tryPlan(input, f);
  if (!r.ok) throw new Error(r.error.message);
  return r.plan;
}
type Run = Extract<PlanAction, { kind: 'run' }>;
const actions = (p: InstallPlan, id: string): PlanAction[] => p.steps.find((s) => s.id === id)?.actions ?? [];
const runsOf = (p: InstallPlan, id: string): Run[] => actions(p, id).filter((a): a is Run => a.kind === 'run');
/** A step's runs (argv joined) and writes (path), in order. */
const runsOrWrites = (p: InstallPlan, id: string): string[] => actions(p, id).map((a) => (a.kind === 'run' ? a.argv.join(' ') : a.kind === 'write' ? a.path : a.kind));
const written = (p: InstallPlan, path: string): string | undefined => {
  const a = p.steps.flatMap((s) => s.actions).find((x) => x.kind === 'write' && x.path === path);
  return a?.kind === 'write' ? a.content : undefined;
};

describe('oci-rootfs plans', () => {
  it('unpacks a local OCI layout instead of running bootc, then installs the boot loader before finishing', () => {
    const p = plan({});
    expect(InstallPlanSchema.parse(p)).toBeTruthy();
    expect(p.steps.map((s) => s.id)).toEqual(['preflight', 'wipe', 'partition', 'settle', 'format', 'mount', 'deploy', 'configure', 'bootloader', 'finalize', 'teardown']);
    expect(actions(p, 'deploy')).toEqual([{ kind: 'unpack', source: { transport: 'oci', path: '/srv/images/debian' }, target: T, protect: ['.particle-image'] }]);
    const all = p.steps.flatMap((s) => s.actions).filter((a): a is Run => a.kind === 'run');
    expect(all.some((a) => a.argv[0] === 'podman' || a.argv[0] === 'bootc')).toBe(false);
    expect(p.summary.join('\n')).toMatch(/Unpack the layers of oci:\/srv\/images\/debian/);
    // Layers carry no SELinux labels: an SELinux image gets its whole root labelled once everything is written.
    expect(actions(p, 'finalize').slice(0, 2)).toEqual([
      { kind: 'save-log', path: `${T}/var/log/particle-installer/install.log` },
      { kind: 'relabel', root: T, paths: [T] },
    ]);
  });

  it('takes a tag after the layout path, an archive path as it is, and copies registry images onto the target first', () => {
    expect(actions(plan({ image: { reference: '/srv/img:v2', transport: 'oci' } }), 'deploy')[0]).toMatchObject({ source: { transport: 'oci', path: '/srv/img', ref: 'v2' } });
    expect(actions(plan({ image: { reference: '/media/os.tar', transport: 'docker-archive' } }), 'deploy')[0]).toMatchObject({ source: { transport: 'docker-archive', path: '/media/os.tar' } });
    const reg = plan({ image: { reference: 'registry.example/os:1', transport: 'registry' } });
    expect(runsOf(reg, 'pull').map((a) => a.argv)).toEqual([['skopeo', 'copy', '--insecure-policy', 'docker://registry.example/os:1', `oci:${T}/.particle-image:image`]]);
    expect(actions(reg, 'deploy')[0]).toMatchObject({ kind: 'unpack', source: { transport: 'oci', path: `${T}/.particle-image`, ref: 'image' } });
    // The staging copy goes once unpacked, and whiteouts in the image may not remove it before.
    expect(runsOf(reg, 'deploy').map((a) => a.argv)).toEqual([['rm', '-rf', '--one-file-system', `${T}/.particle-image`]]);
    const signed = plan({ image: { reference: 'registry.example/os:1', enforceSignaturePolicy: true } });
    expect(runsOf(signed, 'pull')[0]!.argv).not.toContain('--insecure-policy');
  });

  it('refuses what it cannot do, naming the field', () => {
    const refused = (input: Partial<AnswerFileInput>, f: SystemFacts = uefi): string => {
      const r = tryPlan(input, f);
      return r.ok ? 'planned' : r.error.message;
    };
    expect(refused({ image: { reference: 'relative/dir', transport: 'oci' } })).toMatch(/^image\.reference: .*absolute path/);
    expect(refused({ image: { reference: '/srv/../etc', transport: 'oci' } })).toMatch(/^image\.reference: .*\.\./);
    expect(refused({ image: { reference: '/srv/img', transport: 'oci', targetImage: 'quay.io/x/y:1' } })).toMatch(/^image\.targetImage/);
    expect(refused({ layout: { type: 'bootc' } })).toMatch(/^layout\.type: .*erase layout only/);
    expect(refused({ bootloader: 'systemd-boot' }, bios)).toMatch(/^bootloader: systemd-boot needs UEFI/);
    expect(refused({ layout: { type: 'erase', growOnFirstBoot: true, encryption: { type: 'luks2', passphrase: 'long enough pw' } } })).toMatch(/^layout\.growOnFirstBoot/);
    // And the bootc deployer refuses what only oci-rootfs does.
    expect(refused({ deployer: 'bootc', image: { reference: '/m/os.tar', transport: 'docker-archive' } })).toMatch(/^image\.transport: bootc cannot/);
    expect(refused({ deployer: 'bootc', image: { reference: 'quay.io/x/y:1' }, bootloader: 'grub' })).toMatch(/^bootloader: /);
    expect(refused({ deployer: 'bootc', image: { reference: 'quay.io/x/y:1' }, layout: { type: 'erase', growOnFirstBoot: true } })).toMatch(/^layout\.growOnFirstBoot/);
  });

  it('writes fstab and crypttab from the plan: the mapper name the initramfs finds the root in, the ESP by its FAT id', () => {
    const p = plan({ layout: { type: 'erase', filesystem: 'btrfs', encryption: { type: 'luks2', passphrase: 'long enough pw' } } });
    const [, esp, boot, root] = p.partitions;
    const mapper = 'particle-abcdef01';
    const fstab = written(p, `${T}/etc/fstab`)!;
    const innerUuid = /^UUID=(\S+) \/ btrfs subvol=@,compress=zstd:1 0 0$/m.exec(fstab)?.[1];
    expect(innerUuid, fstab).toBeDefined();
    expect(innerUuid).not.toBe(root!.uuid);
    expect(fstab).toContain(`UUID=${innerUuid} /home btrfs subvol=@home,compress=zstd:1 0 0`);
    expect(fstab).toContain(`UUID=${boot!.uuid} /boot ext4 defaults 0 2`);
    expect(fstab).toContain(`UUID=${vfatUuid(esp!.uuid)} /boot/efi vfat umask=0077,shortname=winnt 0 2`);
    expect(written(p, `${T}/etc/crypttab`)).toContain(`${mapper} UUID=${root!.uuid} none luks,discard`);
    // @home is mounted before unpacking, so homes land where the fstab mounts them.
    expect(runsOf(p, 'mount').map((a) => a.argv)).toContainEqual(['mount', '-o', 'subvol=@home,compress=zstd:1', `/dev/mapper/${mapper}`, `${T}/home`]);
    const cmdline = written(p, `${T}/etc/kernel/cmdline`)!;
    expect(cmdline.trim().split(' ')).toEqual([`root=UUID=${innerUuid}`, 'rw', 'rootflags=subvol=@', `rd.luks.uuid=${root!.uuid}`, 'console=ttyS0,115200']);
    expect(written(p, `${T}/etc/default/grub.d/50-particle-installer.cfg`)).toContain(`GRUB_CMDLINE_LINUX="rd.luks.uuid=${root!.uuid} console=ttyS0,115200"`);
    // The kernel console is on the first serial port, so GRUB's menu goes there too.
    expect(written(p, `${T}/etc/default/grub.d/50-particle-installer.cfg`)).toContain('GRUB_TERMINAL="console serial"\nGRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"');
    expect(written(plan({ kernelArgs: ['quiet'] }), `${T}/etc/default/grub.d/50-particle-installer.cfg`)).not.toContain('GRUB_TERMINAL');
    const plain = plan({ layout: { type: 'erase', filesystem: 'ext4' } });
    expect(written(plain, `${T}/etc/fstab`)).toMatch(/^UUID=\S+ \/ ext4 defaults 0 1$/m);
    expect(written(plain, `${T}/etc/crypttab`)).toBeUndefined();
  });

  it('configures users, host name and locale straight into the target root, no ostree placeholders', () => {
    const p = plan({ locale: 'de_DE.UTF-8', keyboard: { layout: 'de', variant: 'nodeadkeys' }, timezone: 'Europe/Berlin' });
    const conf = actions(p, 'configure');
    for (const a of conf) {
      const text = a.kind === 'run' ? a.argv.join(' ') : 'path' in a ? a.path : '';
      expect(text).not.toMatch(/\{deployment\}|\{stateroot-var\}/);
    }
    expect(runsOf(p, 'configure').map((a) => a.argv.slice(0, 3))).toContainEqual(['useradd', '-R', T]);
    expect(runsOf(p, 'configure').some((a) => a.argv[0] === 'mount' || a.argv[0] === 'umount')).toBe(false);
    expect(written(p, `${T}/etc/hostname`)).toBe('box\n');
    expect(written(p, `${T}/etc/locale.conf`)).toBe('LANG=de_DE.UTF-8\n');
    expect(written(p, `${T}/etc/default/keyboard`)).toContain('XKBLAYOUT="de"\nXKBVARIANT="nodeadkeys"');
  });

  it('boot loader step: ESP and chroot mounts, initramfs by the image\'s tool, GRUB for EFI (removable and NVRAM) and BIOS, systemd-boot otherwise', () => {
    const p = plan({});
    const esp = p.partitions.find((x) => x.content === 'vfat')!;
    const rs = runsOf(p, 'bootloader');
    const argvs = rs.map((a) => a.argv.join(' '));
    expect(argvs.slice(0, 5)).toEqual([
      `mount -o umask=0077 ${esp.path} ${T}/boot/efi`,
      `mount --bind /dev ${T}/dev`,
      `mount -t proc proc ${T}/proc`,
      `mount -t sysfs sysfs ${T}/sys`,
      `mount --bind /sys/firmware/efi/efivars ${T}/sys/firmware/efi/efivars`,
    ]);
    const find = (prefix: string): Run[] => rs.filter((a) => a.argv.join(' ').startsWith(prefix));
    // Unencrypted: the image's own initramfs is kept; one is made only where the image has none.
    expect(find(`chroot ${T} update-initramfs -u`)).toEqual([]);
    expect(find(`chroot ${T} update-initramfs -c -k {kernel-version}`)[0]!.when).toEqual([
      { path: `${T}/usr/sbin/update-initramfs`, test: 'exists' },
      { path: `${T}/boot/initrd.img-{kernel-version}`, test: 'missing' },
    ]);
    expect(find(`chroot ${T} dracut`)[0]!.when).toEqual([
      { path: `${T}/usr/bin/dracut`, test: 'exists' },
      { path: `${T}/usr/sbin/update-initramfs`, test: 'missing' },
    ]);
    const grubEfi = find(`chroot ${T} grub-install --target=x86_64-efi`);
    expect(grubEfi.map((a) => a.argv.includes('--removable'))).toEqual([true, false]);
    expect(grubEfi[1]!.when).toContainEqual({ path: '/sys/firmware/efi/efivars', test: 'writable' });
    expect(find(`chroot ${T} grub-install --target=i386-pc --boot-directory=/boot /dev/nvme0n1`)).toHaveLength(1);
    expect(find(`chroot ${T} grub-mkconfig -o /boot/grub/grub.cfg`)).toHaveLength(1);
    // GRUB when the image has grub-install, systemd-boot when it has not: exactly one branch runs.
    for (const a of [...grubEfi, ...find(`chroot ${T} grub-mkconfig`)]) expect(a.when).toContainEqual({ path: `${T}/usr/sbin/grub-install`, test: 'exists' });
    const sd = find(`chroot ${T} bootctl install`).concat(find(`chroot ${T} env BOOT_ROOT=/boot/efi kernel-install add {kernel-version}`));
    expect(sd).toHaveLength(4);
    // kernel-install writes to the ESP (systemd-boot reads nothing else here), never a separate /boot.
    expect(find(`chroot ${T} kernel-install`)).toEqual([]);
    expect(commandName(find(`chroot ${T} env BOOT_ROOT=/boot/efi kernel-install`)[0]!.argv)).toBe('kernel-install');
    expect(commandName(['env', 'A=1'])).toBe('');
    for (const a of sd) expect(a.when).toContainEqual({ path: `${T}/usr/sbin/grub-install`, test: 'missing' });
    // kernel-install's configuration says $BOOT is the ESP and the layout is Type #1 entries, for
    // this install and the booted system's kernel updates; an image's own is left alone.
    const found = p.steps.flatMap((s) => s.actions).find((a) => a.kind === 'write' && a.path === `${T}/etc/kernel/install.conf`);
    const conf = found?.kind === 'write' ? found : undefined;
    expect(conf?.content).toMatch(/^BOOT_ROOT=\/boot\/efi$/m);
    expect(conf?.content).toMatch(/^layout=bls$/m);
    expect(conf?.when).toContainEqual({ path: `${T}/etc/kernel/install.conf`, test: 'missing' });
    expect(conf?.when).toContainEqual({ path: `${T}/usr/sbin/grub-install`, test: 'missing' });
    const order = runsOrWrites(p, 'bootloader');
    expect(order.indexOf(`${T}/etc/kernel/install.conf`)).toBeLessThan(order.findIndex((x) => x.includes('kernel-install add')));
    // Teardown unmounts everything under the target, binds included.
    expect(runsOf(p, 'teardown').map((a) => a.argv)).toContainEqual(['umount', '--recursive', T]);
    const text = formatPlan(p);
    expect(text).toContain(`unpack oci:/srv/images/debian onto ${T}`);
    expect(text).toMatch(/grub-install --target=i386-pc .* \(only if .*usr\/lib\/grub\/i386-pc exists\)/);
  });

  it('an encrypted root always gets a new initramfs (crypttab and the keymap go into it); dracut images always do', () => {
    const p = plan({ layout: { type: 'erase', encryption: { type: 'luks2', passphrase: 'long enough pw' } } });
    const argvs = runsOf(p, 'bootloader').filter((a) => a.argv.includes('update-initramfs') || a.argv.includes('dracut'));
    expect(argvs.map((a) => [a.argv.slice(2).join(' '), a.when])).toEqual([
      ['update-initramfs -u -k all', [{ path: `${T}/usr/sbin/update-initramfs`, test: 'exists' }]],
      ['dracut --force --regenerate-all', [{ path: `${T}/usr/bin/dracut`, test: 'exists' }, { path: `${T}/usr/sbin/update-initramfs`, test: 'missing' }]],
    ]);
  });

  it('on BIOS machines GRUB is required (auto picks no systemd-boot), and an explicit choice drops the other branch', () => {
    const b = runsOf(plan({}, bios), 'bootloader').map((a) => a.argv.join(' '));
    expect(b.some((a) => a.includes('bootctl'))).toBe(false);
    expect(b).toContain(`test -s ${T}/boot/grub/i386-pc/core.img`);
    const grubMk = runsOf(plan({}, bios), 'bootloader').find((a) => a.argv.includes('grub-mkconfig'))!;
    expect(grubMk.when).toBeUndefined();
    const sd = runsOf(plan({ bootloader: 'systemd-boot' }), 'bootloader').map((a) => a.argv.join(' '));
    expect(sd.some((a) => a.includes('grub'))).toBe(false);
    expect(sd.filter((a) => a.includes('bootctl install'))).toHaveLength(2);
  });

  it('grow on first boot: a oneshot unit enabled in the target, with the script it runs', () => {
    const p = plan({ layout: { type: 'erase', filesystem: 'btrfs', growOnFirstBoot: true } });
    const unit = written(p, `${T}/etc/systemd/system/particle-grow-root.service`)!;
    expect(unit).toContain('ExecStart=/usr/local/libexec/particle-grow-root');
    expect(unit).toContain('ConditionPathExists=!/var/lib/particle-installer/root-grown');
    const script = p.steps.flatMap((s) => s.actions).find((a) => a.kind === 'write' && a.path.endsWith('/particle-grow-root'));
    expect(script).toMatchObject({ mode: '0755' });
    expect(script?.kind === 'write' && script.content).toMatch(/btrfs filesystem resize max \//);
    const link = p.steps.flatMap((s) => s.actions).find((a) => a.kind === 'symlink' && a.path.endsWith('multi-user.target.wants/particle-grow-root.service'));
    expect(link).toBeDefined();
    expect(written(plan({}), `${T}/etc/systemd/system/particle-grow-root.service`)).toBeUndefined();
  });
});

describe('consoles inherited from the live system', () => {
  const serialLive: SystemFacts = { ...uefi, consoleArgs: ['console=ttyS0,115200', 'console=tty0'] };
  const cmdlineOf = (p: InstallPlan): string => {
    const write = p.steps.flatMap((s) => s.actions).find((a) => a.kind === 'write' && a.path.endsWith('/etc/kernel/cmdline'));
    return write && write.kind === 'write' ? write.content : '';
  };

  it('a request without console= gets the live system’s, in their order', () => {
    const r = tryPlan({ kernelArgs: ['quiet'] }, serialLive);
    if (!r.ok) throw new Error(r.error.message);
    expect(r.plan.kernelArgs.slice(-3)).toEqual(['quiet', 'console=ttyS0,115200', 'console=tty0']);
    expect(cmdlineOf(r.plan)).toMatch(/quiet console=ttyS0,115200 console=tty0/);
    // GRUB on the serial line too, as the installed kernel will be.
    expect(JSON.stringify(r.plan)).toContain('GRUB_TERMINAL=\\"console serial\\"');
  });
  it('a request that names its own console keeps exactly that', () => {
    const r = tryPlan({ kernelArgs: ['console=ttyS1,9600'] }, serialLive);
    if (!r.ok) throw new Error(r.error.message);
    expect(r.plan.kernelArgs.filter((a) => a.startsWith('console='))).toEqual(['console=ttyS1,9600']);
  });
  it('nothing is added when the live system has no console= (the usual desktop boot)', () => {
    const r = tryPlan({ kernelArgs: [] }, { ...uefi, consoleArgs: [] });
    if (!r.ok) throw new Error(r.error.message);
    expect(r.plan.kernelArgs.some((a) => a.startsWith('console='))).toBe(false);
  });
});

describe('safe graphics inherited from the live system', () => {
  const safeLive: SystemFacts = { ...uefi, consoleArgs: [], safeGraphicsArgs: ['nomodeset'] };

  it('a session started with nomodeset installs a system that starts with it too, on GRUB’s and systemd-boot’s line', () => {
    const r = tryPlan({ kernelArgs: ['quiet'] }, safeLive);
    if (!r.ok) throw new Error(r.error.message);
    expect(r.plan.kernelArgs.slice(-2)).toEqual(['quiet', 'nomodeset']);
    const grub = written(r.plan, `${T}/etc/default/grub.d/50-particle-installer.cfg`)!;
    expect(/^GRUB_CMDLINE_LINUX="(.*)"$/m.exec(grub)![1]!.split(' ')).toContain('nomodeset');
    expect(written(r.plan, `${T}/etc/kernel/cmdline`)!.trim().split(' ')).toContain('nomodeset');
  });
  it('a request with a safe-graphics argument of its own keeps exactly its own', () => {
    const r = tryPlan({ kernelArgs: ['i915.modeset=0'] }, safeLive);
    if (!r.ok) throw new Error(r.error.message);
    expect(r.plan.kernelArgs.filter((a) => /modeset/.test(a))).toEqual(['i915.modeset=0']);
  });
  it('a session without safe graphics adds nothing', () => {
    const r = tryPlan({ kernelArgs: [] }, { ...uefi, consoleArgs: [], safeGraphicsArgs: [] });
    if (!r.ok) throw new Error(r.error.message);
    expect(r.plan.kernelArgs.some((a) => /modeset/.test(a))).toBe(false);
  });
});

describe('keyboard layout on the installed console and at the LUKS prompt (oci-rootfs)', () => {
  const de = { layout: 'de', variant: 'nodeadkeys' };
  const luks = { type: 'erase' as const, encryption: { type: 'luks2' as const, passphrase: 'long enough pw' } };
  const dropIn = `${T}/etc/initramfs-tools/conf.d/particle-keymap`;
  const grubLine = (p: InstallPlan): string => /^GRUB_CMDLINE_LINUX="(.*)"$/m.exec(written(p, `${T}/etc/default/grub.d/50-particle-installer.cfg`)!)![1]!;

  it('German without dead keys, LUKS: both keymap arguments for GRUB and systemd-boot, the initramfs-tools drop-in, the files', () => {
    const p = plan({ keyboard: de, layout: luks });
    const root = p.partitions.find((x) => x.content === 'luks2')!;
    const args = [`rd.luks.uuid=${root.uuid}`, 'vconsole.keymap=de-nodeadkeys', 'rd.vconsole.keymap=de-nodeadkeys', 'console=ttyS0,115200'];
    expect(p.kernelArgs).toEqual(args);
    expect(grubLine(p)).toBe(args.join(' '));
    expect(written(p, `${T}/etc/kernel/cmdline`)!.trim().split(' ').slice(2)).toEqual(args);
    expect(written(p, `${T}/etc/vconsole.conf`)).toBe('KEYMAP=de-nodeadkeys\nXKBLAYOUT=de\nXKBVARIANT=nodeadkeys\n');
    expect(written(p, `${T}/etc/default/keyboard`)).toContain('XKBLAYOUT="de"\nXKBVARIANT="nodeadkeys"');
    expect(written(p, `${T}/etc/X11/xorg.conf.d/00-keyboard.conf`)).toContain('Option "XkbLayout" "de"\n        Option "XkbVariant" "nodeadkeys"');
    // KEYMAP=y for initramfs-tools, only where it is installed; written before the bootloader step rebuilds the initramfs.
    const drop = actions(p, 'configure').find((a) => a.kind === 'write' && a.path === dropIn);
    expect(drop).toEqual({ kind: 'write', path: dropIn, content: expect.stringMatching(/^KEYMAP=y$/m), mode: '0644', when: [{ path: `${T}/etc/initramfs-tools/conf.d`, test: 'exists' }] });
    expect(formatPlan(p)).toContain(`write ${dropIn} (0644, ${(drop as { content: string }).content.length} bytes)  (only if ${T}/etc/initramfs-tools/conf.d exists)`);
  });

  it('says, not silently, when the image may lack what puts the layout into the initramfs', () => {
    const p = plan({ keyboard: de, layout: luks });
    expect(p.warnings.map((w) => [w.id, w.checkBefore, w.when])).toEqual([
      ['luks-keymap-default', 'bootloader', [{ path: `${T}/usr/sbin/update-initramfs`, test: 'exists' }, { path: `${T}/bin/setupcon`, test: 'missing' }]],
      [
        'luks-keymap-default',
        'bootloader',
        [
          { path: `${T}/usr/sbin/update-initramfs`, test: 'missing' },
          { path: `${T}/usr/bin/dracut`, test: 'exists' },
          { path: `${T}/usr/bin/loadkeys`, test: 'missing' },
        ],
      ],
    ]);
    expect(p.warnings[0]!.message).toMatch(/^If the image builds its initramfs with initramfs-tools but has no console-setup \(setupcon\), the passphrase prompt at boot will use the image's default keyboard layout \(usually US English\), not the chosen one \(de \(nodeadkeys\), console keymap de-nodeadkeys\)/);
    // The CLI's plan shows them among the summary lines.
    expect(p.summary.filter((l) => l.startsWith('Warning: '))).toEqual(p.warnings.map((w) => `Warning: ${w.message}`));
    expect(InstallPlanSchema.parse(p).warnings).toHaveLength(2);
  });

  it('without LUKS: vconsole.keymap and the drop-in (for the initramfs’s own shell), no passphrase warning', () => {
    const p = plan({ keyboard: de });
    expect(p.kernelArgs).toEqual(['vconsole.keymap=de-nodeadkeys', 'console=ttyS0,115200']);
    expect(grubLine(p)).toBe('vconsole.keymap=de-nodeadkeys console=ttyS0,115200');
    expect(written(p, dropIn)).toContain('KEYMAP=y');
    expect(p.warnings).toEqual([]);
  });

  it('the US layout: no keymap arguments, no drop-in, no warning, even with LUKS', () => {
    const p = plan({ keyboard: { layout: 'us' }, layout: luks });
    expect(p.kernelArgs.filter((a) => a.includes('vconsole'))).toEqual([]);
    expect(written(p, dropIn)).toBeUndefined();
    expect(p.warnings).toEqual([]);
    expect(written(p, `${T}/etc/vconsole.conf`)).toBe('KEYMAP=us\nXKBLAYOUT=us\n');
  });
});

