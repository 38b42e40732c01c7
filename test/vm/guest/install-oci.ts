import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import { createEngine } from '../../../src/engine/engine';
import { InstallStateSchema, type AnswerFileInput, type InstallPlan, type InstallState } from '../../../src/shared';
import { verifyPassword } from '../../../src/engine/crypt';
import { blkid, mountsUnder, sh } from './install-checks';

/**
 * Inside the test VM, as root (test/vm/oci-rootfs.test.ts runs it): the real engine installs the
 * test OCI image (a small Debian, shared from the host at /oci) with the oci-rootfs deployer onto a
 * blank virtio disk with a real vfat ESP, and the CLI builds a qcow2 disk image with --target-image.
 * Nothing is faked: unpacking, chroot, update-initramfs and grub-install are the real ones.
 *
 * argv: a JSON object { hostname, user, password, source, archive?, checkPresent[], checkAbsent[] }.
 * Prints `PARTICLE_RESULT {json}` lines for the host to judge; the host boots what was made.
 */

interface Input {
  readonly hostname: string;
  readonly imageHostname: string;
  readonly user: string;
  readonly password: string;
  readonly layout: string;
  /** A `docker save` archive of the same image, for the encrypted install. */
  readonly dockerArchive: string;
  readonly checkPresent: readonly string[];
  readonly checkAbsent: readonly string[];
  /** The CLI (src/cli/main.ts), bundled on the host like this script: its path in the guest. */
  readonly cli: string;
  /** The image's name in the container storage the host staged (disk "containers"). */
  readonly stored: string;
  /** Which installs to run: engine (OCI layout, ext4), engine-luks (docker archive, xfs in LUKS2), cli (qcow2). */
  readonly variants: readonly string[];
}

const input = JSON.parse(process.argv[2] ?? '{}') as Input;
const RUN_ROOT = '/run/particle-test';
const MARK = 'PARTICLE_RESULT';
const GiB = 1024 ** 3;
const started = performance.now();
const since = (): string => `${((performance.now() - started) / 1000).toFixed(1)}s`;

console.log(`[guest] node ready after ${(performance.now() / 1000).toFixed(1)} s`);
mkdirSync('/oci', { recursive: true });
execFileSync('mount', ['-t', '9p', '-o', 'trans=virtio,version=9p2000.L,ro,msize=1048576', 'oci', '/oci']);
mkdirSync('/out', { recursive: true });
execFileSync('mount', ['-t', '9p', '-o', 'trans=virtio,version=9p2000.L,msize=1048576', 'out', '/out']);

function report(result: Record<string, unknown>): void {
  console.log(`${MARK} ${JSON.stringify(result)}`);
}

function request(serial: string, o: Partial<AnswerFileInput> = {}): AnswerFileInput {
  return {
    version: 1,
    disk: { serial },
    layout: { type: 'erase', filesystem: 'ext4', swap: 'none' },
    image: { reference: `${input.layout}:latest`, transport: 'oci' },
    deployer: 'oci-rootfs',
    hostname: input.hostname,
    locale: 'de_DE.UTF-8',
    keyboard: { layout: 'de' },
    timezone: 'Europe/Berlin',
    users: [{ name: input.user, fullName: 'Anna Example', password: input.password, admin: true }],
    kernelArgs: ['console=ttyS0,115200'],
    ...o,
  };
}

/** The boot loader entries on the ESP (systemd-boot reads them there), and the files they name that are missing. */
function espEntries(plan: InstallPlan): { entries: string[]; missing: string[] } {
  const esp = plan.partitions.find((p) => p.content === 'vfat')!;
  const dir = '/mnt/esp-entries';
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-o', 'ro', esp.path, dir]);
  try {
    const folder = `${dir}/loader/entries`;
    const names = existsSync(folder) ? readdirSync(folder).filter((f) => f.endsWith('.conf')) : [];
    const entries = names.map((n) => readFileSync(`${folder}/${n}`, 'utf8'));
    const missing = entries.flatMap((e) => [...e.matchAll(/^(?:linux|initrd)\s+(\S+)/gm)].map((m) => m[1]!)).filter((f) => !existsSync(`${dir}${f}`));
    return { entries, missing };
  } finally {
    execFileSync('umount', [dir]);
  }
}

/** Files of the installed root, read with the root mounted read-only. */
function inspect(dev: string, plan: InstallPlan): Record<string, unknown> {
  const root = plan.partitions.find((p) => p.mountpoint === '/')!;
  const esp = plan.partitions.find((p) => p.content === 'vfat')!;
  const m = '/mnt/check';
  mkdirSync(m, { recursive: true });
  execFileSync('mount', ['-o', 'ro', root.path, m]);
  try {
    const read = (p: string): string | null => (existsSync(`${m}${p}`) ? readFileSync(`${m}${p}`, 'utf8') : null);
    const shadow = read('/etc/shadow') ?? '';
    const hash = shadow.split('\n').find((l) => l.startsWith(`${input.user}:`))?.split(':')[1] ?? '';
    const grubCfg = read('/boot/grub/grub.cfg') ?? '';
    const espDir = '/mnt/esp';
    mkdirSync(espDir, { recursive: true });
    execFileSync('mount', ['-o', 'ro', esp.path, espDir]);
    let espFiles: string[] = [];
    try {
      espFiles = execFileSync('find', [espDir, '-type', 'f'], { encoding: 'utf8' }).split('\n').filter(Boolean).map((f) => f.slice(espDir.length));
    } finally {
      execFileSync('umount', [espDir]);
    }
    const present = Object.fromEntries(input.checkPresent.map((p) => [p, existsOrLink(`${m}/${p}`)]));
    const absent = Object.fromEntries(input.checkAbsent.map((p) => [p, existsOrLink(`${m}/${p}`)]));
    return {
      blkidRoot: blkid(root.path),
      blkidEsp: blkid(esp.path),
      hostname: read('/etc/hostname'),
      fstab: read('/etc/fstab'),
      locale: read('/etc/locale.conf'),
      keyboard: read('/etc/default/keyboard'),
      localtime: lstatOrNull(`${m}/etc/localtime`),
      passwdLine: (read('/etc/passwd') ?? '').split('\n').find((l) => l.startsWith(`${input.user}:`)) ?? null,
      hashPrefix: hash.slice(0, 3),
      hashVerifies: hash.startsWith('$6$') && verifyPassword(input.password, hash),
      adminGroupLine: (read('/etc/group') ?? '').split('\n').find((l) => l.startsWith('wheel:')) ?? null,
      homeOwner: statOwner(`${m}/home/${input.user}`),
      grubLinuxLines: grubCfg.split('\n').filter((l) => /^\s*linux\s/.test(l)).slice(0, 2).map((l) => l.trim()),
      espFiles,
      biosCore: existsSync(`${m}/boot/grub/i386-pc/core.img`),
      initrds: execFileSync('find', [`${m}/boot`, '-maxdepth', '1', '-name', 'initrd.img-*'], { encoding: 'utf8' }).split('\n').filter(Boolean).length,
      // Made after the plan wrote fstab: rebuilt by the install rather than the image's own.
      initrdsRebuilt: execFileSync('find', [`${m}/boot`, '-maxdepth', '1', '-name', 'initrd.img-*', '-newer', `${m}/etc/fstab`], { encoding: 'utf8' }).split('\n').filter(Boolean).length,
      present,
      absent,
      staging: existsSync(`${m}/.particle-image`),
    };
  } finally {
    execFileSync('umount', [m]);
  }
}

function existsOrLink(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}
function lstatOrNull(p: string): string | null {
  try {
    return readlinkSync(p);
  } catch {
    return null;
  }
}
function statOwner(p: string): string | null {
  const r = sh(['stat', '-c', '%u:%g %a', p]);
  return r.code === 0 ? r.out.trim() : null;
}

const LUKS_PASSPHRASE = 'oci luks passphrase 7';

async function engineInstall(variant: 'engine' | 'engine-luks'): Promise<void> {
  const serial = variant === 'engine' ? 'oci-disk' : 'oci-luks';
  const luks = variant === 'engine-luks';
  const dev = realpathSync(`/dev/disk/by-id/virtio-${serial}`);
  const engine = createEngine({ mode: 'test', minimumSize: 2 * GiB, runRoot: RUN_ROOT });
  const steps: Record<string, number> = {};
  let lastFraction = -1;
  let fractions = 0;
  engine.on('progress', (ev) => {
    if (ev.kind === 'step-finished') steps[ev.step] = Math.round(ev.durationMs / 100) / 10;
    if (ev.kind === 'step-progress' && ev.step === 'deploy' && ev.fraction !== lastFraction) {
      fractions++;
      lastFraction = ev.fraction;
    }
    if (ev.kind === 'step-started' || ev.kind === 'failed' || ev.kind === 'finished') {
      console.log(`[guest ${since()}] ${ev.kind === 'step-started' ? `step ${ev.step}` : ev.kind}${ev.kind === 'failed' ? ` ${ev.error.step}: ${ev.error.message} ${ev.error.stderrTail ?? ''}` : ''}`);
    }
  });
  console.log(`[guest ${since()}] ${variant}: installing ${luks ? input.dockerArchive : input.layout} onto ${dev}`);
  const t = performance.now();
  const req = luks
    ? request(serial, {
        image: { reference: input.dockerArchive, transport: 'docker-archive' },
        layout: { type: 'erase', filesystem: 'xfs', swap: 'none', encryption: { type: 'luks2', passphrase: LUKS_PASSPHRASE } },
        bootloader: 'systemd-boot',
      })
    : request(serial);
  const plan = await engine.handlers.planInstall({ request: req });
  await engine.handlers.startInstall({ planId: plan.id });
  await engine.installer!.settled();
  const state: InstallState = InstallStateSchema.parse(await engine.handlers.getInstallState({}));
  const seconds = (performance.now() - t) / 1000;
  // The plan without its actions: the host needs the partitions, and a 100 KB line helps nobody.
  const slim = state.plan ? { ...state.plan, steps: state.plan.steps.map((st) => ({ ...st, actions: [] })) } : null;
  const base = { variant, dev, seconds, stepSeconds: steps, deployProgressEvents: fractions, outcome: state.outcome, plan: slim, mountsLeft: mountsUnder(RUN_ROOT) };
  if (state.outcome?.kind !== 'finished' || luks) {
    return report({ ...base, log: state.log, passphraseInLog: JSON.stringify(state).includes(LUKS_PASSPHRASE), ...(luks && state.plan ? { esp: espEntries(state.plan) } : {}) });
  }
  report({ ...base, facts: inspect(dev, state.plan!) });
}

/**
 * `install --target-image` through the CLI from local container storage (root's, staged by skopeo on
 * the host and attached as a disk: the plan's pull step then reads it with the guest's own skopeo),
 * btrfs growing on first boot; the qcow2 is copied to the host's /out share.
 */
function cliImage(): void {
  // This guest's init is no systemd: nothing made /dev/loop-control from the kmod static nodes.
  console.log(`[guest ${since()}] cli: loop module, scratch disk, the container storage the host staged`);
  execFileSync('modprobe', ['loop']);
  const stored = input.stored;
  // Root's storage (overlay driver), staged by skopeo on the host; its writes go to a QEMU snapshot.
  mkdirSync('/var/lib/containers/storage', { recursive: true });
  execFileSync('mount', [realpathSync('/dev/disk/by-id/virtio-containers'), '/var/lib/containers/storage']);
  execFileSync('skopeo', ['inspect', '--format', '{{.Name}}', `containers-storage:${stored}`], { stdio: 'inherit' });
  const scratch = realpathSync('/dev/disk/by-id/virtio-scratch');
  execFileSync('mkfs.ext4', ['-q', '-F', scratch]);
  mkdirSync('/scratch', { recursive: true });
  execFileSync('mount', [scratch, '/scratch']);
  try {
    const config = '/scratch/answer.json';
    const archive = { reference: stored, transport: 'containers-storage' as const };
    // The disk selector is ignored with --target-image; any valid one will do.
    writeFileSync(config, JSON.stringify(request('ignored', { hostname: input.imageHostname, image: archive, layout: { type: 'erase', filesystem: 'btrfs', swap: 'none' } })));
    console.log(`[guest ${since()}] cli: install --target-image from ${archive.transport}:${archive.reference}`);
    const t = performance.now();
    const r = spawnSync(
      'node',
      [input.cli, 'install', '--config', config, '--target-image', '/scratch/disk.qcow2', '--size', '4G', '--format', 'qcow2', '--grow', '--json', '--log-dir', '/scratch/log'],
      { encoding: 'utf8', cwd: '/project', maxBuffer: 64 * 1024 * 1024 },
    );
    const seconds = (performance.now() - t) / 1000;
    const events = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { kind: string; step?: string });
    const steps = events.filter((e) => e.kind === 'step-started').map((e) => e.step);
    const outcome = events.filter((e) => e.kind === 'finished' || e.kind === 'failed').pop() ?? null;
    const loopsLeft = execFileSync('losetup', ['--list', '--noheadings', '--output', 'BACK-FILE'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes('/scratch/'));
    const listing = execFileSync('ls', ['-ls', '/scratch'], { encoding: 'utf8' });
    let info: unknown = null;
    if (existsSync('/scratch/disk.qcow2')) {
      info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', '/scratch/disk.qcow2'], { encoding: 'utf8' }));
      execFileSync('cp', ['--sparse=always', '/scratch/disk.qcow2', '/out/disk.qcow2']);
    }
    report({ variant: 'cli', exitCode: r.status, seconds, steps, outcome, stderr: r.stderr.slice(-3000), loopsLeft, listing, info, mountsLeft: mountsUnder('/run/particle-installer') });
  } finally {
    execFileSync('umount', ['/scratch']);
    // The overlay driver leaves its own folder bind-mounted onto itself inside the storage.
    execFileSync('umount', ['--recursive', '/var/lib/containers/storage']);
  }
}

let errors = 0;
for (const [name, run] of [
  ['engine', () => engineInstall('engine')],
  ['engine-luks', () => engineInstall('engine-luks')],
  ['cli', cliImage],
] as const) {
  if (!input.variants.includes(name)) continue;
  try {
    await run();
  } catch (e) {
    errors++;
    console.error(`[guest] ${name}: unexpected exception: ${(e as Error).stack ?? String(e)}`);
    report({ variant: name, exception: String((e as Error).message ?? e) });
  }
}
console.log(`[guest ${since()}] done; ${errors} unexpected exception(s)`);
process.exit(errors > 0 ? 1 : 0);
