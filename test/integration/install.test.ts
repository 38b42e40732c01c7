import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, existsSync, createReadStream, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../src/engine/crypt';
import { STAGE_FRACTION } from '../../src/engine/deploy/progress';
import { createEngine, type Engine } from '../../src/engine/engine';
import { InstallStateSchema, ProgressEventSchema, type AnswerFileInput, type InstallState, type ProgressEvent } from '../../src/shared';
import { ownProcessesMatching } from '../support/own-processes';
import { attachLoop, loopUnavailableReason, run, sparseFile, tryRun } from '../support/loop';

// The whole pipeline on real loop devices with the real engine: sfdisk, wipefs, mkfs, mount, the
// configure step, teardown. bootc and podman are the contract fake (test/fakes). LUKS needs
// device-mapper, which this host lacks: those variants run at the VM level.
// setfiles: every bootc plan labels what it wrote when the image uses SELinux; getfattr reads the labels.
const why = loopUnavailableReason(['sfdisk', 'mkfs.xfs', 'mkfs.btrfs', 'mkfs.vfat', 'wipefs', 'partx', 'setfiles', 'getfattr']);
if (why) console.warn(`[integration] install tests skipped: ${why}`);

const GiB = 1024 ** 3;
const USER_PW = 'Sup3r secret user pw!';
const FAKES = resolve('test/fakes/bin');

describe.skipIf(why !== null)('install pipeline on loop devices (root)', () => {
  let dir: string;
  let engine: Engine;
  const loops: string[] = [];
  const events: ProgressEvent[] = [];
  const savedPath = process.env.PATH;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'particle-install-'));
    process.env.PATH = `${FAKES}:${savedPath}`;
    process.env.PARTICLE_FAKE_DELAY_MS = '0';
    process.env.PARTICLE_FAKE_PAYLOAD_MIB = '4';
    process.env.PARTICLE_FAKE_STORAGE = join(dir, 'storage');
    engine = createEngine({ mode: 'test', minimumSize: GiB, runRoot: join(dir, 'run') });
    engine.on('progress', (ev) => events.push(ev));
  });

  afterEach(async () => {
    await engine.installer!.settled();
    delete process.env.PARTICLE_FAKE_FAIL;
    delete process.env.PARTICLE_FAKE_HANG;
  });

  afterAll(() => {
    for (const m of mountsUnder(dir).reverse()) tryRun(['umount', '--lazy', m]);
    for (const l of loops) {
      // Partitions added by hand stay on a loop device after it is detached; drop them first.
      tryRun(['partx', '--delete', l]);
      tryRun(['losetup', '-d', l]);
    }
    rmSync(dir, { recursive: true, force: true });
    process.env.PATH = savedPath;
  });

  function newDisk(name: string, size = 12 * GiB): string {
    const file = join(dir, `${name}.img`);
    sparseFile(file, size);
    const dev = attachLoop(file);
    loops.push(dev);
    return dev;
  }

  function request(disk: string, extra: Partial<AnswerFileInput> = {}): AnswerFileInput {
    return {
      version: 1,
      disk: { path: disk },
      layout: { type: 'erase', filesystem: 'xfs' },
      image: { reference: 'quay.io/example/os:42', targetImage: 'quay.io/example/os:stable' },
      hostname: 'particle-box',
      locale: 'de_DE.UTF-8',
      keyboard: { layout: 'de', variant: 'nodeadkeys' },
      timezone: 'Europe/Berlin',
      users: [{ name: 'anna', fullName: 'Anna Example', password: USER_PW, admin: true }],
      kernelArgs: ['quiet'],
      ...extra,
    };
  }

  /** Mounts the installed root read-only and hands it and the deployment's directory over, then unmounts. */
  function withDeployment<T>(state: InstallState, look: (mnt: string, dep: string) => T): T {
    const root = state.plan!.partitions.at(-1)!;
    const mnt = mkdtempSync(join(dir, 'check-'));
    run(['mount', '-o', 'ro', root.path, mnt]);
    try {
      const deployRoot = join(mnt, 'ostree/deploy/default/deploy');
      return look(mnt, join(deployRoot, readdirSync(deployRoot).find((d) => d.endsWith('.0'))!));
    } finally {
      tryRun(['umount', mnt]);
    }
  }

  async function install(req: AnswerFileInput, then?: (planId: string) => Promise<void>): Promise<InstallState> {
    events.length = 0;
    const plan = await engine.handlers.planInstall({ request: req });
    if (then) await then(plan.id);
    else await engine.handlers.startInstall({ planId: plan.id });
    await engine.installer!.settled();
    return InstallStateSchema.parse(await engine.handlers.getInstallState({}));
  }

  it.each(['xfs', 'ext4', 'btrfs'] as const)('erases and installs with %s: table, filesystems, deployment, kernel arguments', async (fs) => {
    const disk = newDisk(`erase-${fs}`);
    const state = await install(request(disk, { layout: { type: 'erase', filesystem: fs } }));
    expect(state.outcome?.kind, JSON.stringify(state.outcome)).toBe('finished');
    for (const ev of events) ProgressEventSchema.parse(ev);
    const fractions = events.flatMap((e) => ('overall' in e ? [e.overall.fraction] : []));
    const backwards = fractions.findIndex((f, i) => i > 0 && f < fractions[i - 1]!);
    expect(backwards, `overall fraction went back at event ${backwards}: ${JSON.stringify(events.slice(Math.max(0, backwards - 2), backwards + 1))}`).toBe(-1);
    expect(fractions.at(-1)).toBe(1);

    const plan = state.plan!;
    // A finished install leaves no run directory behind (the target was unmounted first).
    expect(readdirSync(join(dir, 'run'))).not.toContain(plan.id.slice(0, 8));
    const table = JSON.parse(run(['sfdisk', '--json', disk])).partitiontable;
    expect(table.label).toBe('gpt');
    expect(table.partitions.map((p: { type: string }) => p.type.toLowerCase())).toEqual(plan.partitions.map((p) => p.typeGuid));
    for (const p of table.partitions) expect((p.start * 512) % (1024 * 1024)).toBe(0);
    expect(table.partitions[1].size * 512).toBe(GiB);
    run(['partx', '--update', disk]);
    expect(run(['blkid', '-p', '-o', 'value', '-s', 'TYPE', plan.partitions[1]!.path]).trim()).toBe('vfat');
    const root = plan.partitions.at(-1)!;
    expect(run(['blkid', '-p', '-o', 'value', '-s', 'TYPE', root.path]).trim()).toBe(fs);
    expect(run(['blkid', '-p', '-o', 'value', '-s', 'UUID', root.path]).trim()).toBe(root.uuid);
    expect(mountsUnder(dir)).toEqual([]);

    const mnt = mkdtempSync(join(dir, 'check-'));
    run(['mount', '-o', fs === 'btrfs' ? 'ro,subvol=@' : 'ro', root.path, mnt]);
    try {
      const deployRoot = join(mnt, 'ostree/deploy/default/deploy');
      const dep = join(deployRoot, readdirSync(deployRoot).find((d) => d.endsWith('.0'))!);
      const etc = (f: string) => readFileSync(join(dep, 'etc', f), 'utf8');
      expect(etc('hostname')).toBe('particle-box\n');
      // The settings went where ostree said bootc's deployment is (its answer is logged).
      const log = state.log.join('\n');
      expect(log).toMatch(/ostree admin --sysroot=\S+\/target --print-current-dir/);
      const said = /deployment: (\S+)/.exec(log)?.[1] ?? '';
      expect(said.slice(said.indexOf('/ostree/deploy/'))).toBe(dep.slice(dep.indexOf('/ostree/deploy/')));
      expect(etc('locale.conf')).toContain('LANG=de_DE.UTF-8');
      expect(etc('vconsole.conf')).toContain('KEYMAP=de-nodeadkeys');
      expect(readlinkSync(join(dep, 'etc/localtime'))).toBe('../usr/share/zoneinfo/Europe/Berlin');
      expect(etc('passwd')).toMatch(/^anna:x:\d+:\d+:Anna Example:\/home\/anna:\/bin\/bash$/m);
      const hash = /^anna:([^:]+):/m.exec(etc('shadow'))![1]!;
      expect(hash.startsWith('$6$')).toBe(true);
      expect(verifyPassword(USER_PW, hash)).toBe(true);
      expect(etc('group')).toMatch(/^wheel:.*anna/m);
      expect(existsSync(join(mnt, 'ostree/deploy/default/var/home/anna'))).toBe(true);
      const entry = readFileSync(join(mnt, 'boot/loader/entries/ostree-1.conf'), 'utf8');
      expect(entry).toMatch(new RegExp(`^options .*root=UUID=${root.uuid}.* quiet`, 'm'));
      const aleph = JSON.parse(readFileSync(join(mnt, '.bootc-aleph.json'), 'utf8'));
      expect(JSON.stringify(aleph)).toContain('quay.io/example/os:42');
      // The plaintext password is nowhere on the disk's configuration.
      expect(spawnSync('grep', ['-rlF', USER_PW, join(dep, 'etc')]).status).toBe(1);
      // The image was pulled into storage on the target, which is gone again; the live system's
      // storage never held it.
      expect(readdirSync(mnt)).not.toContain('.particle-containers');
      const hostStorage = join(dir, 'storage');
      expect(existsSync(hostStorage) ? readdirSync(hostStorage).filter((f) => f.endsWith('.json')) : []).toEqual([]);
    } finally {
      tryRun(['umount', mnt]);
    }
  }, 180_000);

  it("an SELinux image: the accounts, settings and home written after bootc carry the labels of the image's own policy", async () => {
    // The live system has no SELinux (nor has this host): bootc still labels what it wrote
    // (host-disabled counts as enabled, install.rs:1353-1360), but not what comes after it.
    process.env.PARTICLE_FAKE_SELINUX_POLICY = 'targeted';
    try {
      const disk = newDisk('selinux');
      const state = await install(request(disk, { users: [{ name: 'anna', password: USER_PW, admin: true, sshKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ7dCpuJ5rjaVx3Fb/ydTg7rX8zC2H2y8J2W2hpTZ9yR anna@example'] }] }));
      expect(state.outcome?.kind, JSON.stringify(state.outcome)).toBe('finished');
      withDeployment(state, (mnt, dep) => {
        const home = join(mnt, 'ostree/deploy/default/var/home/anna');
        const label = (p: string): string => run(['getfattr', '--only-values', '-h', '-n', 'security.selinux', p]).replace(/\0$/, '');
        const want: [string, string][] = [
          [join(dep, 'etc/shadow'), 'system_u:object_r:shadow_t:s0'],
          [join(dep, 'etc/passwd'), 'system_u:object_r:passwd_file_t:s0'],
          [join(dep, 'etc/group'), 'system_u:object_r:passwd_file_t:s0'],
          [join(dep, 'etc/hostname'), 'system_u:object_r:hostname_etc_t:s0'],
          [join(dep, 'etc/locale.conf'), 'system_u:object_r:locale_t:s0'],
          [join(dep, 'etc/localtime'), 'system_u:object_r:locale_t:s0'],
          [join(dep, 'etc/X11/xorg.conf.d/00-keyboard.conf'), 'system_u:object_r:etc_t:s0'],
          [home, 'unconfined_u:object_r:user_home_dir_t:s0'],
          [join(home, '.ssh/authorized_keys'), 'unconfined_u:object_r:user_home_t:s0'],
        ];
        for (const [p, l] of want) expect(label(p), p).toBe(l);
        // Nothing under /etc or the homes is left without a label.
        const all = run(['find', join(dep, 'etc'), join(mnt, 'ostree/deploy/default/var/home'), '-print0']).split('\0').filter(Boolean);
        const labelled = run(['getfattr', '-R', '-h', '--absolute-names', '-n', 'security.selinux', join(dep, 'etc'), join(mnt, 'ostree/deploy/default/var/home')]).match(/^# file: /gm)?.length ?? 0;
        expect(labelled).toBe(all.length);
      });
      expect(JSON.stringify(state.log ?? '')).not.toContain(USER_PW);
    } finally {
      delete process.env.PARTICLE_FAKE_SELINUX_POLICY;
    }
  }, 180_000);

  it('an image without SELinux gets no labels, and the install log says why it skipped them', async () => {
    const disk = newDisk('no-selinux');
    const state = await install(request(disk));
    expect(state.outcome?.kind, JSON.stringify(state.outcome)).toBe('finished');
    withDeployment(state, (_mnt, dep) => expect(spawnSync('getfattr', ['-n', 'security.selinux', join(dep, 'etc/shadow')]).status).not.toBe(0));
    expect(state.log.join('\n')).toContain('skipped SELinux labelling: the image has no /etc/selinux/config');
  }, 180_000);

  it.each(['pull', 'init', 'deploy', 'bootloader', 'finalize'])('a failure at bootc stage %s tears down and names the step and command', async (stage) => {
    const disk = newDisk(`fail-${stage}`);
    process.env.PARTICLE_FAKE_FAIL = stage === 'pull' ? 'pull:manifest-unknown' : `${stage}:no-space`;
    const state = await install(request(disk));
    const out = state.outcome;
    expect(out?.kind).toBe('failed');
    if (out?.kind !== 'failed') return;
    expect(out.error.step).toBe(stage === 'pull' ? 'pull' : 'deploy');
    expect(out.error.command?.[0]).toBe('podman');
    expect(out.error.stderrTail).toMatch(stage === 'pull' ? /manifest unknown/ : /Insufficient free space/);
    expect(out.diskState).toBe('partially-written');
    expect(out.retry.from).toBe(stage === 'pull' ? 'pull' : 'wipe');
    expect(mountsUnder(dir)).toEqual([]);
  }, 120_000);

  it.each([
    ['pull:manifest-unknown', 'pull', ['pull', 'deploy']],
    ['deploy:no-space', 'wipe', ['wipe', 'partition']],
  ] as const)('retry after %s resumes from %s, redoing only what is needed', async (fail, from, firstSteps) => {
    const disk = newDisk(`retry-${from}`);
    process.env.PARTICLE_FAKE_FAIL = fail;
    const failed = await install(request(disk));
    expect(failed.outcome?.kind === 'failed' && failed.outcome.retry.from).toBe(from);
    delete process.env.PARTICLE_FAKE_FAIL;
    events.length = 0;
    await engine.handlers.retryInstall({});
    await engine.installer!.settled();
    const state = InstallStateSchema.parse(await engine.handlers.getInstallState({}));
    expect(state.outcome?.kind, JSON.stringify(state.outcome)).toBe('finished');
    const started = events.flatMap((e) => (e.kind === 'step-started' ? [e.step] : []));
    expect(started[0]).toBe(from);
    if (from === 'pull') expect(started).not.toContain('partition');
    expect(started.slice(0, 2)).toEqual(firstSteps);
    expect(state.steps.every((s) => s === 'done')).toBe(true);
    expect(mountsUnder(dir)).toEqual([]);
  }, 180_000);

  it('deploy progress moves with the bytes written to the target, between bootc stage lines', async () => {
    const disk = newDisk('bytes');
    // 8 layers of 16 MiB, 400 ms apart: the engine samples the target twice a second meanwhile.
    process.env.PARTICLE_FAKE_PAYLOAD_MIB = '128';
    process.env.PARTICLE_FAKE_LAYERS = '8';
    process.env.PARTICLE_FAKE_LAYER_DELAY_MS = '400';
    try {
      const state = await install(request(disk));
      expect(state.outcome?.kind, JSON.stringify(state.outcome)).toBe('finished');
    } finally {
      process.env.PARTICLE_FAKE_PAYLOAD_MIB = '4';
      delete process.env.PARTICLE_FAKE_LAYERS;
      delete process.env.PARTICLE_FAKE_LAYER_DELAY_MS;
    }
    const stageValues = new Set(Object.values(STAGE_FRACTION));
    const between = events.filter(
      (e) => e.kind === 'step-progress' && e.step === 'deploy' && e.fraction > STAGE_FRACTION.layers && e.fraction < STAGE_FRACTION.deployed && !stageValues.has(e.fraction),
    );
    expect(between.length, JSON.stringify(events.filter((e) => e.kind === 'step-progress' && e.step === 'deploy'))).toBeGreaterThan(0);
  }, 180_000);

  it("bootc's own layout: to-disk partitions and formats, then the root is mounted again and configured", async () => {
    const disk = newDisk('to-disk');
    const state = await install(request(disk, { layout: { type: 'bootc', filesystem: 'ext4' } }));
    expect(state.outcome?.kind, JSON.stringify(state.outcome)).toBe('finished');
    const table = JSON.parse(run(['sfdisk', '--json', disk])).partitiontable;
    expect(table.partitions.map((p: { type: string }) => p.type.toLowerCase())).toEqual([
      '21686148-6449-6e6f-744e-656564454649',
      'c12a7328-f81f-11d2-ba4b-00a0c93ec93b',
      '4f68bce3-e8cd-4db1-96e7-fbcaf984b709',
    ]);
    run(['partx', '--update', disk]);
    const mnt = mkdtempSync(join(dir, 'check-'));
    run(['mount', '-o', 'ro', `${disk}p3`, mnt]);
    try {
      const deployRoot = join(mnt, 'ostree/deploy/default/deploy');
      const dep = join(deployRoot, readdirSync(deployRoot).find((d) => d.endsWith('.0'))!);
      expect(readFileSync(join(dep, 'etc/hostname'), 'utf8')).toBe('particle-box\n');
      expect(readFileSync(join(dep, 'etc/passwd'), 'utf8')).toMatch(/^anna:/m);
    } finally {
      tryRun(['umount', mnt]);
    }
    expect(mountsUnder(dir)).toEqual([]);
  }, 180_000);

  it('installs into existing partitions: formats only what is mapped for formatting, keeps /home', async () => {
    const disk = newDisk('existing');
    run(['sfdisk', '--quiet', disk], 'label: gpt\nsize=256MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\nsize=6GiB, type=linux\ntype=linux\n');
    run(['partx', '--add', disk]);
    run(['mkfs.vfat', '-F', '32', `${disk}p1`]);
    run(['mkfs.ext4', '-q', `${disk}p2`]);
    run(['mkfs.ext4', '-q', `${disk}p3`]);
    const homeUuid = run(['blkid', '-p', '-o', 'value', '-s', 'UUID', `${disk}p3`]).trim();
    const seed = mkdtempSync(join(dir, 'seed-'));
    run(['mount', `${disk}p3`, seed]);
    run(['mkdir', '-p', join(seed, 'anna')]);
    run(['cp', '/etc/os-release', join(seed, 'anna/keep-me')]);
    run(['umount', seed]);
    const state = await install(
      request(disk, {
        layout: {
          type: 'existing',
          mounts: [
            { partition: `${disk}p1`, mountpoint: '/boot/efi', format: false },
            { partition: `${disk}p2`, mountpoint: '/', format: true, filesystem: 'xfs' },
            { partition: `${disk}p3`, mountpoint: '/home', format: false },
          ],
        },
      }),
    );
    expect(state.outcome?.kind, JSON.stringify(state.outcome)).toBe('finished');
    expect(state.plan!.steps.map((s) => s.id)).not.toContain('partition');
    expect(run(['blkid', '-p', '-o', 'value', '-s', 'TYPE', `${disk}p2`]).trim()).toBe('xfs');
    expect(run(['blkid', '-p', '-o', 'value', '-s', 'UUID', `${disk}p3`]).trim()).toBe(homeUuid);
    run(['mount', '-o', 'ro', `${disk}p3`, seed]);
    try {
      expect(existsSync(join(seed, 'anna/keep-me'))).toBe(true);
    } finally {
      tryRun(['umount', seed]);
    }
    const mnt = mkdtempSync(join(dir, 'check-'));
    run(['mount', '-o', 'ro', `${disk}p2`, mnt]);
    try {
      const deployRoot = join(mnt, 'ostree/deploy/default/deploy');
      const dep = join(deployRoot, readdirSync(deployRoot).find((d) => d.endsWith('.0'))!);
      expect(readFileSync(join(dep, 'etc/systemd/system/var-home.mount'), 'utf8')).toContain(`What=UUID=${homeUuid}`);
      expect(readlinkSync(join(dep, 'etc/systemd/system/local-fs.target.wants/var-home.mount'))).toBe('../var-home.mount');
    } finally {
      tryRun(['umount', mnt]);
    }
    expect(mountsUnder(dir)).toEqual([]);
  }, 180_000);

  it('pre-flight: a program the plan runs is missing, so the start is refused and every byte of the disk stays as it was', async () => {
    const disk = newDisk('preflight', 4 * GiB);
    run(['sfdisk', '--quiet', disk], 'label: gpt\ntype=linux\n');
    const before = await sha256(disk);
    // This engine sees a PATH where only the fakes are: sfdisk, mkfs.xfs and the rest are "not installed".
    const strict = createEngine({ mode: 'test', minimumSize: GiB, runRoot: join(dir, 'run-preflight'), preflightHost: { path: FAKES, root: '/' } });
    const plan = await strict.handlers.planInstall({ request: request(disk) });
    const refused = await strict.handlers.startInstall({ planId: plan.id }).then(
      () => null,
      (e: unknown) => e as { error?: { message: string; code: string } },
    );
    expect(refused?.error?.code).toBe('command-failed');
    expect(refused?.error?.message).toMatch(/^This system cannot carry out the plan: wipefs is not installed on this system \(the "wipe" step runs it\); install it \(Debian package util-linux\)\. sfdisk is not installed/);
    expect(refused?.error?.message).toMatch(new RegExp(`Nothing was written to ${disk}\\.$`));
    expect((await strict.handlers.getInstallState({})).phase).toBe('idle');
    expect(await sha256(disk)).toBe(before);
  }, 300_000);

  it.each([
    ['down', /pinging container registry quay\.io: .*no such host/],
    ['missing', /reading manifest 42 in quay\.io\/example\/os: manifest unknown/],
  ] as const)('pre-flight: a registry that is %s stops the start before the wipe, with the registry error, and the disk is left as it was', async (state, reason) => {
    const disk = newDisk(`registry-${state}`, 4 * GiB);
    run(['sfdisk', '--quiet', disk], 'label: gpt\ntype=linux\n');
    // Hashing the whole disk takes tens of seconds on a loaded host: once is enough to show it.
    const before = state === 'down' ? await sha256(disk) : run(['sfdisk', '--dump', disk]);
    process.env.PARTICLE_FAKE_REGISTRY = state;
    try {
      const plan = await engine.handlers.planInstall({ request: request(disk) });
      // The plan shows the check as its first step, before the point of no return.
      expect(plan.steps[0]!.id).toBe('preflight');
      expect(plan.pointOfNoReturn).toBeGreaterThan(0);
      const refused = await engine.handlers.startInstall({ planId: plan.id }).then(
        () => null,
        (e: unknown) => e as { error?: { message: string } },
      );
      expect(refused?.error?.message).toMatch(/^This system cannot carry out the plan: the image quay\.io\/example\/os:42 could not be read \(skopeo inspect failed: /);
      expect(refused?.error?.message).toMatch(reason);
      expect(refused?.error?.message).toContain('check the image reference and the network');
      expect(refused?.error?.message).toMatch(new RegExp(`Nothing was written to ${disk}\\.$`));
    } finally {
      delete process.env.PARTICLE_FAKE_REGISTRY;
    }
    expect((await engine.handlers.getInstallState({})).phase).not.toBe('running');
    expect(state === 'down' ? await sha256(disk) : run(['sfdisk', '--dump', disk])).toBe(before);
  }, 300_000);

  it("pre-flight: a verified image is asked for, so this system's signature policy must require a signature before anything is written", async () => {
    const policy = join(dir, 'policy.json');
    const signed = createEngine({ mode: 'test', minimumSize: GiB, runRoot: join(dir, 'run-sigpolicy'), systemPaths: { policyJson: policy } });
    const req = (disk: string) => request(disk, { image: { reference: 'quay.io/example/os:42', targetImage: 'quay.io/example/os:stable', enforceSignaturePolicy: true } });
    const attempt = async (disk: string) => {
      const plan = await signed.handlers.planInstall({ request: req(disk) });
      return signed.handlers.startInstall({ planId: plan.id }).then(
        () => null,
        (e: unknown) => (e as { error?: { message: string } }).error?.message ?? String(e),
      );
    };
    const disk = newDisk('sigpolicy');
    run(['sfdisk', '--quiet', disk], 'label: gpt\ntype=linux\n');
    const before = run(['sfdisk', '--dump', disk]);
    writeFileSync(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
    expect(await attempt(disk)).toMatch(/does not require a signature for quay\.io\/example\/os:42 \(The policy accepts this image unsigned \(default\)\.\); give the registry a signedBy/);
    writeFileSync(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }], transports: { docker: { 'quay.io/example': [{ type: 'reject' }] } } }));
    expect(await attempt(disk)).toMatch(/policy rejects quay\.io\/example\/os:42, so the download would fail after the disk was erased/);
    expect(run(['sfdisk', '--dump', disk])).toBe(before);
    // A policy that demands a signature: the signature itself is checked before the start
    // (skopeo copy, signature.test.ts with real skopeo); the fake registry's image is unsigned.
    writeFileSync(policy, JSON.stringify({ default: [{ type: 'reject' }], transports: { docker: { 'quay.io/example/os': [{ type: 'sigstoreSigned', keyPath: '/etc/pki/example.pub' }] } } }));
    expect(await attempt(disk)).toMatch(/this system's signature policy rejects quay\.io\/example\/os:42: Source image rejected: A signature was required, but no signature exists; install an image signed with a key/);
    expect(run(['sfdisk', '--dump', disk])).toBe(before);
    // Signed as the policy demands: the install starts and finishes.
    process.env.PARTICLE_FAKE_SIGNATURE = 'valid';
    try {
      expect(await attempt(disk)).toBeNull();
      await signed.installer!.settled();
      expect((await signed.handlers.getInstallState({})).outcome?.kind).toBe('finished');
    } finally {
      delete process.env.PARTICLE_FAKE_SIGNATURE;
    }
  }, 300_000);

  it('cancel before the point of no return leaves every byte of the disk as it was', async () => {
    const disk = newDisk('cancel-early', 4 * GiB);
    run(['sfdisk', '--quiet', disk], 'label: gpt\ntype=linux\n');
    const before = await sha256(disk);
    const state = await install(request(disk), async (planId) => {
      const start = engine.handlers.startInstall({ planId });
      engine.handlers.cancelInstall({});
      await start;
    });
    expect(state.phase).toBe('cancelled');
    const out = state.outcome;
    expect(out?.kind === 'failed' && out.cancelled && out.diskState).toBe('untouched');
    expect(await sha256(disk)).toBe(before);
  }, 120_000);

  it('cancel during deploy stops bootc, tears down and reports a partially written disk', async () => {
    const disk = newDisk('cancel-deploy');
    process.env.PARTICLE_FAKE_HANG = 'deploy';
    const state = await install(request(disk), async (planId) => {
      await engine.handlers.startInstall({ planId });
      while (!events.some((e) => e.kind === 'step-started' && e.step === 'deploy')) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 300));
      engine.handlers.cancelInstall({});
    });
    expect(state.phase).toBe('cancelled');
    const out = state.outcome;
    expect(out?.kind === 'failed' && out.diskState).toBe('partially-written');
    expect(mountsUnder(dir)).toEqual([]);
    expect(ownProcessesMatching(/test\/fakes\/(bootc|podman)\.mjs/)).toEqual([]);
  }, 120_000);
});

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((t) => t.startsWith(dir));
}

function sha256(path: string): Promise<string> {
  return new Promise((res, rej) => {
    const h = createHash('sha256');
    createReadStream(path).on('data', (d) => h.update(d)).on('end', () => res(h.digest('hex'))).on('error', rej);
  });
}
