import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { verifyPassword } from '../../../src/engine/crypt';
import type { InstallPlan } from '../../../src/shared';

/**
 * Inside the test VM, after an install: what is on the disk, read with the system's own tools
 * (sfdisk, blkid, cryptsetup, mount). Each check returns plain facts; the host test judges them.
 * Everything opened or mounted for checking is closed again, even when a check throws.
 */

export interface Ran {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs argv (no shell), `input` on stdin; never throws on a non-zero exit. */
export function sh(argv: readonly string[], input?: string): Ran {
  const r = spawnSync(argv[0]!, argv.slice(1), { input: input ?? '', encoding: 'utf8', timeout: 300_000 });
  if (r.error) throw new Error(`${argv.join(' ')}: ${r.error.message}`);
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** Like sh, but a non-zero exit is an error that names the command and its stderr. */
export function must(argv: readonly string[], input?: string): string {
  const r = sh(argv, input);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code}: ${r.err.trim() || r.out.trim()}`);
  return r.out;
}

/** `blkid -p -o export` as an object (TYPE, UUID, LABEL, VERSION, PART_ENTRY_TYPE…). */
export function blkid(dev: string): Record<string, string> {
  const r = sh(['blkid', '-p', '-o', 'export', dev]);
  return Object.fromEntries(
    r.out
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

/** Where a symlink points (its target need not exist), or '' when it is no symlink. */
function linkTarget(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

/** Device-mapper devices whose names start with `prefix` (not /dev/mapper/control). */
export function mappers(prefix: string): string[] {
  return existsSync('/dev/mapper') ? readdirSync('/dev/mapper').filter((n) => n !== 'control' && n.startsWith(prefix)) : [];
}

/** Mount targets at or under `dir`. */
export function mountsUnder(dir: string): string[] {
  return sh(['findmnt', '-rn', '-o', 'TARGET'])
    .out.split('\n')
    .filter((t) => t === dir || t.startsWith(`${dir}/`));
}

/** The UUID the plan gives the filesystem inside LUKS (bootc's --root-mount-spec). */
export function plannedRootFsUuid(plan: InstallPlan): string | null {
  for (const s of plan.steps)
    for (const a of s.actions) {
      const spec = a.kind === 'run' ? a.argv.find((x) => x.startsWith('--root-mount-spec=UUID=')) : undefined;
      if (spec) return spec.slice('--root-mount-spec=UUID='.length);
    }
  return null;
}

export interface DiskFacts {
  table: { label: string; partitions: { node: string; start: number; size: number; type: string; name?: string }[] };
  blkid: Record<string, string>[];
  luks: {
    isLuks2: boolean;
    dumpVersion: string | null;
    dumpUuid: string | null;
    rightPassphraseExit: number;
    wrongPassphraseExit: number;
    inner: Record<string, string>;
    closedAfterCheck: boolean;
  };
  deployment: {
    hostname: string;
    locale: string;
    localtime: string;
    passwdLine: string | null;
    hashPrefix: string | null;
    hashVerifies: boolean;
    plaintextInEtc: string[];
    adminGroup: string | null;
    fstabBoot: string | null;
  };
  loaderOptions: string | null;
  esp: { fstype: string; label: string; writable: boolean };
  checkMountsLeft: string[];
}

export interface Expect {
  readonly dev: string;
  readonly plan: InstallPlan;
  readonly filesystem: 'xfs' | 'ext4' | 'btrfs';
  readonly passphrase: string;
  readonly userPassword: string;
  readonly scratch: string;
}

/** Everything the host test asserts about one encrypted install, gathered in the guest. */
export function inspectInstalledDisk(x: Expect): DiskFacts {
  const table = JSON.parse(must(['sfdisk', '--json', x.dev])).partitiontable;
  const parts = x.plan.partitions;
  const rootPart = parts.find((p) => p.mountpoint === '/')!.path;
  const bootPart = parts.find((p) => p.mountpoint === '/boot')?.path;
  const espPart = parts.find((p) => p.content === 'vfat')!.path;
  const dump = sh(['cryptsetup', 'luksDump', rootPart]).out;
  const mapper = `check-${x.filesystem}`;
  const mnt = (name: string): string => {
    const d = join(x.scratch, `${x.filesystem}-${name}`);
    mkdirSync(d, { recursive: true });
    return d;
  };
  const cleanup: (() => void)[] = [];
  try {
    const luks = {
      isLuks2: sh(['cryptsetup', 'isLuks', '--type', 'luks2', rootPart]).code === 0,
      dumpVersion: /^Version:\s*(\S+)/m.exec(dump)?.[1] ?? null,
      dumpUuid: /^UUID:\s*(\S+)/m.exec(dump)?.[1] ?? null,
      rightPassphraseExit: sh(['cryptsetup', 'open', '--test-passphrase', '--key-file', '-', rootPart], x.passphrase).code,
      wrongPassphraseExit: sh(['cryptsetup', 'open', '--test-passphrase', '--key-file', '-', rootPart], `${x.passphrase}-wrong`).code,
      inner: {} as Record<string, string>,
      closedAfterCheck: false,
    };
    must(['cryptsetup', 'open', '--readonly', '--key-file', '-', rootPart, mapper], x.passphrase);
    cleanup.push(() => sh(['cryptsetup', 'close', mapper]));
    luks.inner = blkid(`/dev/mapper/${mapper}`);

    const root = mnt('root');
    must(['mount', '-o', x.filesystem === 'btrfs' ? 'ro,subvol=@' : 'ro', `/dev/mapper/${mapper}`, root]);
    cleanup.push(() => sh(['umount', root]));
    const deployRoot = join(root, 'ostree/deploy/default/deploy');
    const dep = join(deployRoot, readdirSync(deployRoot).find((d) => d.endsWith('.0'))!);
    const etc = (f: string): string => (existsSync(join(dep, 'etc', f)) ? readFileSync(join(dep, 'etc', f), 'utf8') : '');
    const hash = /^anna:([^:]+):/m.exec(etc('shadow'))?.[1] ?? null;
    const searched = [join(dep, 'etc'), join(root, 'ostree/deploy/default/var')].filter((d) => existsSync(d));
    const grep = sh(['grep', '-rlF', '-e', x.userPassword, '-e', x.passphrase, ...searched]);
    if (grep.code > 1) throw new Error(`grep for plaintext failed: ${grep.err}`);
    const deployment = {
      hostname: etc('hostname'),
      locale: etc('locale.conf'),
      localtime: linkTarget(join(dep, 'etc/localtime')),
      passwdLine: /^anna:.*$/m.exec(etc('passwd'))?.[0] ?? null,
      hashPrefix: hash ? hash.slice(0, 3) : null,
      hashVerifies: hash ? verifyPassword(x.userPassword, hash) : false,
      plaintextInEtc: grep.out.split('\n').filter(Boolean),
      adminGroup: /^wheel:.*$/m.exec(etc('group'))?.[0] ?? null,
      fstabBoot: etc('fstab').split('\n').find((l) => /\s\/boot\s/.test(l)) ?? null,
    };

    let loaderOptions: string | null = null;
    if (bootPart) {
      const boot = mnt('boot');
      must(['mount', '-o', 'ro', bootPart, boot]);
      cleanup.push(() => sh(['umount', boot]));
      const entries = join(boot, 'loader/entries');
      const entry = existsSync(entries) ? readdirSync(entries).find((e) => e.endsWith('.conf')) : undefined;
      if (entry) loaderOptions = /^options (.*)$/m.exec(readFileSync(join(entries, entry), 'utf8'))?.[1] ?? null;
    }

    // The ESP: vfat, which this guest's kernel mounts (the host's cannot). Written and read back.
    const espDir = mnt('esp');
    must(['mount', '-t', 'vfat', espPart, espDir]);
    cleanup.push(() => sh(['umount', espDir]));
    mkdirSync(join(espDir, 'EFI/particle-check'), { recursive: true });
    rmSync(join(espDir, 'EFI/particle-check'), { recursive: true });
    const esp = { fstype: must(['findmnt', '-no', 'FSTYPE', espDir]).trim(), label: blkid(espPart).LABEL ?? '', writable: true };

    for (const c of cleanup.splice(0).reverse()) c();
    luks.closedAfterCheck = !existsSync(`/dev/mapper/${mapper}`);
    return {
      table,
      blkid: parts.map((p) => blkid(p.path)),
      luks,
      deployment,
      loaderOptions,
      esp,
      checkMountsLeft: mountsUnder(x.scratch),
    };
  } finally {
    for (const c of cleanup.reverse()) c();
  }
}
