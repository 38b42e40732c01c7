import { createHash } from 'node:crypto';
import { chmodSync, createReadStream, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createEngine } from '../../../src/engine/engine';
import { InstallStateSchema, type AnswerFileInput, type InstallState } from '../../../src/shared';
import { mountsUnder, must, sh } from './install-checks';

/**
 * Inside the test VM, as root (test/vm/podman.test.ts runs it): bootc installs through Debian's
 * real podman. Only bootc is played: a test image carries the contract fake as /usr/bin/bootc
 * (test/fakes/bootc-container.mjs) and node to run it; pulling, storage, mounts, privileges,
 * --pid=host, the label option, named containers, kill and removal are podman's own.
 *
 * The image (about 1 GiB, one uncompressed layer) is an OCI layout on a scratch disk, as the live ISO
 * embeds one. The live system's container storage and /var/tmp are tmpfs here, as on the live ISO,
 * so anything podman kept in them would show as memory. The live system's memory in use
 * (MemTotal - MemAvailable) is sampled every 250 ms through the install.
 *
 * Prints `PARTICLE_RESULT <json>` lines for the host to judge.
 */

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const RUN_ROOT = '/run/particle-test';
const MARK = 'PARTICLE_RESULT';
const FAKES = resolve(import.meta.dirname, '../../fakes');
const SCRATCH = '/mnt/scratch';
const report = (r: Record<string, unknown>): void => console.log(`${MARK} ${JSON.stringify(r)}`);
const t0 = performance.now();
const since = (): string => `${((performance.now() - t0) / 1000).toFixed(1)}s`;
const say = (l: string): void => console.log(`[guest ${since()}] ${l}`);

/** MemTotal - MemAvailable, in bytes. */
function memUsed(): number {
  const info = readFileSync('/proc/meminfo', 'utf8');
  const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(info)?.[1] ?? NaN) * 1024;
  return kb('MemTotal') - kb('MemAvailable');
}

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 4 * MiB })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * A bootc-shaped test image as an OCI layout at `dir`: one uncompressed layer holding node and the
 * tools the fake calls (from this guest's own /usr), the fake as /usr/bin/bootc, a bootupctl stand-in,
 * ostree's prepare-root.conf, an install config, and `payloadBytes` of random data.
 */
async function buildImage(dir: string, o: { payloadBytes: number; fakeEnv: Record<string, string>; name: string }): Promise<{ bytes: number; seconds: number }> {
  const t = performance.now();
  const extra = join(SCRATCH, `${o.name}-extra`);
  mkdirSync(join(extra, 'usr/lib/particle-fake-bootc'), { recursive: true });
  must(['cp', '-a', join(FAKES, 'bootc-container.mjs'), join(FAKES, 'lib'), join(extra, 'usr/lib/particle-fake-bootc/')]);
  mkdirSync(join(extra, 'usr/bin'), { recursive: true });
  const envLine = Object.entries(o.fakeEnv).map(([k, v]) => `${k}=${v}`).join(' ');
  writeFileSync(join(extra, 'usr/bin/bootc'), `#!/bin/sh\nexec env ${envLine} node /usr/lib/particle-fake-bootc/bootc-container.mjs "$@"\n`);
  chmodSync(join(extra, 'usr/bin/bootc'), 0o755);
  // bootc's host check for bootupd looks for bootupctl on PATH in the image (bootloader.rs); the fake plays bootupd itself.
  writeFileSync(join(extra, 'usr/bin/bootupctl'), '#!/bin/sh\nexit 0\n');
  chmodSync(join(extra, 'usr/bin/bootupctl'), 0o755);
  mkdirSync(join(extra, 'usr/lib/ostree'), { recursive: true });
  writeFileSync(join(extra, 'usr/lib/ostree/prepare-root.conf'), '[composefs]\nenabled = yes\n[sysroot]\nreadonly = true\n');
  mkdirSync(join(extra, 'usr/lib/bootc/install'), { recursive: true });
  writeFileSync(join(extra, 'usr/lib/bootc/install/00-particle.toml'), '[install]\nblock = ["direct", "tpm2-luks"]\n\n[install.filesystem.root]\ntype = "xfs"\n');
  mkdirSync(join(extra, 'usr/share/particle-payload'), { recursive: true });
  if (o.payloadBytes > 0) must(['dd', 'if=/dev/urandom', `of=${join(extra, 'usr/share/particle-payload/blob')}`, 'bs=1M', `count=${Math.round(o.payloadBytes / MiB)}`, 'status=none']);
  const layer = join(SCRATCH, `${o.name}-layer.tar`);
  // The guest's merged-/usr symlinks and what node and the fake's tools need from /usr, then the
  // extra files. Each path once: containers/storage refuses a layer that names a path twice
  // ("duplicates of file paths not supported"), so usr/bin, which the first part holds, is not listed again.
  // Debian's node loads some of its own modules from /usr/share/nodejs at start.
  const fromGuest = ['bin', 'lib', 'lib64', 'sbin', 'usr/bin', 'usr/sbin', 'usr/lib/x86_64-linux-gnu', 'usr/lib64', 'usr/share/nodejs', 'etc/passwd', 'etc/group'];
  const extras = must(['find', extra, '-mindepth', '1', '-printf', '%P\\n'])
    .split('\n')
    .filter((l) => l !== '' && !fromGuest.includes(l));
  const list = join(SCRATCH, `${o.name}-extra.list`);
  writeFileSync(list, `${extras.join('\n')}\n`);
  must(['tar', '-cf', layer, '--exclude=usr/lib/x86_64-linux-gnu/dri', '-C', '/', ...fromGuest, '-C', extra, '--no-recursion', '-T', list]);
  const bytes = statSync(layer).size;
  const hex = await sha256File(layer);
  mkdirSync(join(dir, 'blobs/sha256'), { recursive: true });
  renameSync(layer, join(dir, 'blobs/sha256', hex));
  const blob = (data: string): { digest: string; size: number } => {
    const buf = Buffer.from(data);
    const h = createHash('sha256').update(buf).digest('hex');
    writeFileSync(join(dir, 'blobs/sha256', h), buf);
    return { digest: `sha256:${h}`, size: buf.length };
  };
  const config = blob(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Labels: { 'containers.bootc': '1', 'ostree.bootable': '1' } },
      rootfs: { type: 'layers', diff_ids: [`sha256:${hex}`] },
    }),
  );
  const manifest = blob(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${hex}`, size: bytes }],
    }),
  );
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest }] }));
  must(['rm', '-rf', extra]);
  return { bytes, seconds: (performance.now() - t) / 1000 };
}

function request(serial: string, layout: string): AnswerFileInput {
  return {
    version: 1,
    disk: { serial },
    layout: { type: 'erase', filesystem: 'xfs' },
    image: { reference: layout, transport: 'oci', targetImage: 'quay.io/example/os:42' },
    hostname: 'particle-podman',
    users: [{ name: 'anna', password: 'Sup3r secret user pw!', admin: true }],
  };
}

/** Containers podman knows in the live system's own storage (tmpfs here, as on the live ISO). */
function liveContainers(): string {
  return sh(['podman', 'ps', '--all', '--format', '{{.Names}}']).out.trim();
}

async function main(): Promise<void> {
  say('setting up');
  if (sh(['mountpoint', '-q', '/sys/fs/cgroup']).code !== 0) must(['mount', '-t', 'cgroup2', 'cgroup2', '/sys/fs/cgroup']);
  mkdirSync(SCRATCH, { recursive: true });
  must(['mkfs.ext4', '-q', '-F', '/dev/disk/by-id/virtio-pm-scratch']);
  must(['mount', '/dev/disk/by-id/virtio-pm-scratch', SCRATCH]);
  say(`podman: ${must(['podman', '--version']).trim()}`);

  const big = join(SCRATCH, 'image');
  // One GiB in all: the payload fills up what node, the tools and the fake take.
  const probeBase = Number(must(['du', '-sbc', '/usr/bin', '/usr/sbin', '/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/share/nodejs']).trim().split('\n').at(-1)!.split('\t')[0]);
  const built = await buildImage(big, { payloadBytes: Math.max(0, GiB - probeBase), fakeEnv: { PARTICLE_FAKE_DELAY_MS: '0' }, name: 'big' });
  say(`image built: ${(built.bytes / MiB).toFixed(0)} MiB in ${built.seconds.toFixed(1)} s`);
  const hang = join(SCRATCH, 'hang');
  const hangBuilt = await buildImage(hang, { payloadBytes: 0, fakeEnv: { PARTICLE_FAKE_DELAY_MS: '0', PARTICLE_FAKE_HANG: 'deploy' }, name: 'hang' });
  say(`hanging image built: ${(hangBuilt.bytes / MiB).toFixed(0)} MiB`);

  // As on the live ISO: the live system's container storage and /var/tmp are memory.
  for (const d of ['/var/lib/containers', '/var/tmp']) {
    mkdirSync(d, { recursive: true });
    must(['mount', '-t', 'tmpfs', 'tmpfs', d]);
  }

  const engine = createEngine({ mode: 'test', minimumSize: GiB, runRoot: RUN_ROOT });
  const steps: string[] = [];
  const stepSeconds: Record<string, number> = {};
  engine.on('progress', (ev) => {
    if (ev.kind === 'step-started') {
      steps.push(ev.step);
      say(`step ${ev.step}`);
    }
    if (ev.kind === 'step-finished') stepSeconds[ev.step] = Math.round(ev.durationMs / 100) / 10;
    if (ev.kind === 'failed') say(`failed: ${ev.error.step ?? ''}: ${ev.error.message}`);
  });

  // 1. The 1 GiB image, measured.
  try {
    const base = memUsed();
    let peak = base;
    const sampler = setInterval(() => (peak = Math.max(peak, memUsed())), 250);
    const t = performance.now();
    const plan = await engine.handlers.planInstall({ request: request('pm-target', big) });
    await engine.handlers.startInstall({ planId: plan.id });
    await engine.installer!.settled();
    clearInterval(sampler);
    const seconds = (performance.now() - t) / 1000;
    const state: InstallState = InstallStateSchema.parse(await engine.handlers.getInstallState({}));
    const argvs = plan.steps.flatMap((s) => s.actions).flatMap((a) => (a.kind === 'run' ? [a.argv] : []));
    const log = engine.installer!.lastInstall()?.log.lastLines() ?? [];
    if (state.outcome?.kind === 'failed') for (const l of log.slice(-40)) say(`log: ${l}`);
    // What the installed root holds: the deployment's origin, and no container storage left behind.
    const root = plan.partitions.at(-1)!.path;
    mkdirSync('/mnt/check', { recursive: true });
    must(['mount', '-o', 'ro', root, '/mnt/check']);
    let origin = '';
    let topLevel: string[] = [];
    try {
      const deployDir = '/mnt/check/ostree/deploy/default/deploy';
      const originFile = state.outcome?.kind === 'finished' ? readdirSync(deployDir).find((f) => f.endsWith('.origin')) : undefined;
      origin = originFile ? readFileSync(join(deployDir, originFile), 'utf8') : '';
      topLevel = readdirSync('/mnt/check');
    } finally {
      must(['umount', '/mnt/check']);
    }
    report({
      variant: 'install',
      outcome: state.outcome?.kind ?? null,
      error: state.outcome?.kind === 'failed' ? state.outcome.error : null,
      seconds,
      steps,
      stepSeconds,
      imageBytes: built.bytes,
      imageBuildSeconds: built.seconds,
      memBaseMiB: base / MiB,
      memPeakGrowthMiB: (peak - base) / MiB,
      liveStorageBytes: Number(must(['du', '-sb', '/var/lib/containers']).split('\t')[0]),
      liveVarTmpBytes: Number(must(['du', '-sb', '/var/tmp']).split('\t')[0]),
      liveImages: sh(['podman', 'images', '--format', '{{.Repository}}:{{.Tag}}']).out.trim(),
      liveContainers: liveContainers(),
      pull: argvs.find((a) => a.includes('pull')) ?? null,
      pullEnv: plan.steps.flatMap((st) => st.actions).flatMap((a) => (a.kind === 'run' && a.argv.includes('pull') ? [a.env ?? null] : []))[0] ?? null,
      deploy: argvs.find((a) => a.includes('to-filesystem')) ?? null,
      origin,
      topLevel,
      mountsUnderRunRoot: mountsUnder(RUN_ROOT),
      bootcLines: log.filter((l) => /Installing image|Digest|Deploying|Installation complete|bootc/.test(l)).slice(0, 30),
    });
  } catch (e) {
    report({ variant: 'install', exception: String((e as Error).stack ?? e) });
  }

  // 2. Cancelled while bootc runs in its container: teardown kills and removes the named container.
  try {
    const plan = await engine.handlers.planInstall({ request: request('pm-cancel', hang) });
    await engine.handlers.startInstall({ planId: plan.id });
    const container = plan.steps.flatMap((s) => s.actions).flatMap((a) => (a.kind === 'run' && a.argv.includes('--name') ? [a.argv[a.argv.indexOf('--name') + 1]!] : []))[0]!;
    const storage = plan.steps.flatMap((s) => s.actions).flatMap((a) => (a.kind === 'run' && a.argv[1] === '--root' ? [a.argv.slice(1, 5)] : []))[0]!;
    // Wait until the container runs (bootc's fake hangs at its deploy), then cancel.
    let running = '';
    for (let i = 0; i < 600 && !running.includes(container); i++) {
      await new Promise((r) => setTimeout(r, 500));
      if ((await engine.handlers.getInstallState({})).phase !== 'running') break;
      running = sh(['podman', ...storage, 'ps', '--format', '{{.Names}}']).out;
    }
    const runningBeforeCancel = running.includes(container);
    const t = performance.now();
    engine.installer!.cancel();
    await engine.installer!.settled();
    const cancelSeconds = (performance.now() - t) / 1000;
    const state = InstallStateSchema.parse(await engine.handlers.getInstallState({}));
    const bootcLeft = sh(['pgrep', '-f', 'bootc-container.mjs']).out.trim();
    report({
      variant: 'cancel',
      container,
      runningBeforeCancel,
      cancelSeconds,
      outcome: state.outcome?.kind ?? null,
      cancelled: state.outcome?.kind === 'failed' ? state.outcome.cancelled : null,
      diskState: state.outcome?.kind === 'failed' ? state.outcome.diskState : null,
      bootcProcessesLeft: bootcLeft,
      conmonLeft: sh(['pgrep', '-a', 'conmon']).out.trim(),
      mountsUnderRunRoot: mountsUnder(RUN_ROOT),
    });
  } catch (e) {
    report({ variant: 'cancel', exception: String((e as Error).stack ?? e) });
  }
  say('done');
}

await main();
