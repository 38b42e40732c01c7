import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword, hashRequestPasswords, verifyPassword } from '../../src/engine/crypt';
import { classifyDisks } from '../../src/engine/disks';
import { createEngine, type Engine } from '../../src/engine/engine';
import { createExec, type Exec } from '../../src/engine/exec';
import { planInstall, planSecrets, type SystemFacts } from '../../src/engine/plan';
import {
  InstallPlanSchema,
  InstallStateSchema,
  validateAnswerFile,
  type AnswerFileInput,
  type FieldError,
  type InstallPlan,
  type InstallState,
  type PlanAction,
} from '../../src/shared';
import { FAKE_BIN } from '../fakes';
import { attachLoop, loopUnavailableReason, run, sparseFile, tryRun } from '../support/loop';
import { countWhenPassed } from './counts';
import { breaksLines, HOSTILE, type Hostile } from './injection-corpus';

// Hostile values in every field that carries user text, at two levels. First the validator and the
// planner (pure): each value is refused with a message naming its field, or it is carried into the
// plan verbatim, at exactly the places a harmless value would be, as whole argv elements, and never
// as a secret. Then a real install on loop devices with the most hostile values that are accepted,
// every command the engine runs recorded, and the files the configure step wrote read back.

const GiB = 1024 ** 3;
const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'ash', 'busybox']);
const KEY_BODY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC6l6zJ0yJ1lq3o5r8u7sJ3yq8Jk2h1G3f4d5s6a7b8c';
const KEY_BODY_2 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHn0t4r34lk3yJu5tF0rT3st1ng0nLyXyZ0123456789';
const TRANSPORT_PREFIXES = ['docker://', 'oci:', 'oci-archive:', 'docker-archive:', 'containers-storage:'];

/** argv[i] is a shell and argv[i+1] is -c: the script it would run, else null. */
function shellScript(argv: readonly string[]): string | null {
  for (let i = 0; i < argv.length - 1; i++) {
    if (SHELLS.has(basename(argv[i]!)) && argv[i + 1] === '-c') return argv[i + 2] ?? '';
  }
  return null;
}

/** A message a person can read: text, no stack trace, no control characters, short apart from the value it quotes. */
function expectReadable(message: unknown, value: string, what: string): void {
  expect(typeof message, what).toBe('string');
  const m = message as string;
  expect(m.length, what).toBeGreaterThan(0);
  expect(m, `${what}: looks like a stack trace`).not.toMatch(/\n\s*at\s|\.(ts|js|mjs):\d+/);
  expect(/\p{Cc}/u.test(m), `${what}: control characters in ${JSON.stringify(m)}`).toBe(false);
  const rest = value === '' ? m : m.split(value).join('');
  expect(rest.length, `${what}: ${JSON.stringify(m.slice(0, 200))}`).toBeLessThan(400);
}

/** Every string inside x, depth first. */
function strings(x: unknown, out: string[] = []): string[] {
  if (typeof x === 'string') out.push(x);
  else if (Array.isArray(x)) for (const v of x) strings(v, out);
  else if (x !== null && typeof x === 'object') for (const v of Object.values(x)) strings(v, out);
  return out;
}
const containsDeep = (x: unknown, needle: string): boolean => strings(x).some((s) => s.includes(needle));

function replaceDeep<T>(x: T, from: string, to: string): T {
  if (typeof x === 'string') return x.split(from).join(to) as T;
  if (Array.isArray(x)) return x.map((v) => replaceDeep(v, from, to)) as T;
  if (x !== null && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, replaceDeep(v, from, to)])) as T;
  return x;
}

type RunAction = Extract<PlanAction, { kind: 'run' }>;
const actionsOf = (p: InstallPlan): PlanAction[] => p.steps.flatMap((s) => s.actions);
const runsOf = (p: InstallPlan): RunAction[] => actionsOf(p).filter((a): a is RunAction => a.kind === 'run');

// ---------------------------------------------------------------------------------------------
// Level 1: validator and planner

const laptop = classifyDisks(JSON.parse(readFileSync(new URL('../fixtures/machines/laptop-nvme-windows-bitlocker/snapshot.json', import.meta.url), 'utf8')), {
  minimumSize: 16 * GiB,
  allowLoop: 'none',
});
const FACTS: SystemFacts = { firmware: 'uefi', arch: 'x64', tpm: true, memoryBytes: 8 * GiB };
const RUN_DIR = '/run/particle-installer/abcdef01';
const BASE_HASH = hashPassword('base password 1');
/** What the stubbed file read returns for a passphraseFile: the real file is never opened. */
const STUB_PASSPHRASE = 'stub passphrase from a file 4711';

function base(): AnswerFileInput {
  return {
    version: 1,
    disk: { path: '/dev/nvme0n1' },
    layout: { type: 'erase' },
    image: { reference: 'registry.example/example/os:42' },
    hostname: 'box',
    users: [{ name: 'anna', fullName: 'Anna', passwordHash: BASE_HASH, admin: true, sshKeys: [`${KEY_BODY} anna@laptop`] }],
    kernelArgs: ['quiet'],
  };
}
const ociRootfs = (r: AnswerFileInput): AnswerFileInput => ({ ...r, deployer: 'oci-rootfs', image: { reference: '/srv/images/debian', transport: 'oci' } });
const withUser =
  (patch: (v: string) => Record<string, unknown>) =>
  (v: string): unknown => {
    const b = base();
    return { ...b, users: [{ ...b.users![0]!, ...patch(v) }] };
  };
const luks = (encryption: Record<string, unknown>): unknown => ({ ...base(), layout: { type: 'erase', encryption } });
const image = (transport: string, rootfs: boolean) => (v: string): unknown => {
  const b = rootfs ? ociRootfs(base()) : base();
  return { ...b, image: { reference: v, transport } };
};

interface FieldSpec {
  readonly name: string;
  /** The field a refusal must name, as validateAnswerFile spells it. */
  readonly field: string;
  /** A harmless value for the same field; the plan made with it is what a hostile plan is compared to. */
  readonly marker: string;
  readonly build: (v: string) => unknown;
  readonly secret?: 'password' | 'passphrase' | 'passphrase-file' | 'recovery-key';
  /** What a planner refusal must say (default: starts with the field). */
  readonly planner?: RegExp;
  /** The value may be a whole component of a path the plan uses (a user's home directory). */
  readonly inPaths?: boolean;
  /** The kernel command line files of an oci-rootfs plan are checked as well. */
  readonly kernelFiles?: boolean;
  /** The value is a relative path of a few components (a time zone): "/" is fine, "." and ".." are not. */
  readonly pathLike?: boolean;
  /** The value names the image unpacked by oci-rootfs: the unpack action must name it exactly. */
  readonly unpacked?: boolean;
  /**
   * The value is part of the console keymap the planner derives from the keyboard (keymapKernelArgs),
   * which reaches bootc as a kernel argument of its own: `--karg vconsole.keymap=KEYMAP`.
   */
  readonly keymap?: boolean;
  /**
   * Values the planner rightly treats differently from the marker (a console= argument also sets up
   * GRUB's serial terminal, "us"+"intl" has a console keymap of its own): for these the plan is not
   * compared with the marker's, only checked.
   */
  readonly varies?: (v: string) => boolean;
  readonly extra?: readonly string[];
}

const KARG_EXTRA = [
  'init=/bin/sh',
  'x="y z"',
  'a=$(id)',
  'GRUB_X=`id`',
  'rd.break',
  'console=ttyS0,115200n8',
  'ip=[fe80::1]::[fe80::2]',
  'acpi_osi=!Linux',
  'memmap=64M$0x100000000',
  'quiet"',
];

const SPECS: readonly FieldSpec[] = [
  {
    name: 'hostname',
    field: 'hostname',
    marker: 'zqmark',
    build: (v) => ({ ...base(), hostname: v }),
    extra: ['-leading', 'trailing-', 'a..b', 'UPPER', 'xn--80ak6aa92e.com', `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`, `${'a'.repeat(64)}.b`],
  },
  {
    name: 'user name',
    field: 'users[0].name',
    marker: 'zqmark',
    build: withUser((v) => ({ name: v })),
    inPaths: true,
    extra: ['root', 'Anna', '-anna', 'a'.repeat(33), 'nobody', '_ok-name', 'a/b'],
  },
  {
    name: 'full name (GECOS)',
    field: 'users[0].fullName',
    marker: 'ZQMARK Full Name',
    build: withUser((v) => ({ fullName: v })),
    extra: ['root:x:0:0', 'Anna\nroot::0:0:::/:/bin/sh', 'Anna, Room 1, +1 555', '-c --shell=/bin/sh', `O'Brien "Q" $(id) \`id\` \u202eevil 👩‍💻`],
  },
  {
    name: 'user password',
    field: 'users[0].password',
    marker: 'zqmark password 1',
    build: (v) => ({ ...base(), users: [{ name: 'anna', password: v, admin: true }] }),
    secret: 'password',
    extra: ['correct horse battery staple', `'"$(reboot)\`id\`;|&><\\ ü 🔑`, 'x'.repeat(1024), 'x'.repeat(1025)],
  },
  {
    name: 'user SSH key comment',
    field: 'users[0].sshKeys[0]',
    marker: 'zqmark@host',
    build: withUser((v) => ({ sshKeys: [`${KEY_BODY} ${v}`] })),
  },
  {
    name: 'user SSH key line',
    field: 'users[0].sshKeys[0]',
    marker: `${KEY_BODY} zqmark`,
    build: withUser((v) => ({ sshKeys: [v] })),
    extra: [`command="/bin/sh" ${KEY_BODY}`, `${KEY_BODY}\nssh-rsa AAAA evil`, 'ssh-ed25519 AAAA$(id)', `ssh-ed25519  ${KEY_BODY.slice(12)}`, `${KEY_BODY}\u001b]0;pwned\u0007`],
  },
  {
    name: 'root SSH key comment',
    field: 'rootSshKeys[0]',
    marker: 'zqmark@host',
    build: (v) => ({ ...base(), rootSshKeys: [`${KEY_BODY} ${v}`] }),
  },
  {
    name: 'LUKS passphrase',
    field: 'layout.encryption.passphrase',
    marker: 'zqmark passphrase',
    build: (v) => luks({ type: 'luks2', passphrase: v }),
    secret: 'passphrase',
    extra: ['--key-file=/etc/shadow', 'pass\u0000word12', "'; cryptsetup erase /dev/sda #", 'passphrase\n', 'x'.repeat(513)],
  },
  {
    name: 'LUKS recovery key',
    field: 'layout.encryption.recoveryKey',
    marker: 'cccccccc-bbbbbbbb-dddddddd-eeeeeeee-ffffffff-gggggggg-hhhhhhhh-iiiiiiii',
    build: (v) => luks({ type: 'luks2-tpm2', passphrase: 'fallback passphrase', recoveryKey: v }),
    secret: 'recovery-key',
    extra: ['cccccccc-bbbbbbbb-dddddddd-eeeeeeee-ffffffff-gggggggg-hhhhhhhh-iiiiiiii;id', 'CCCCCCCC-BBBBBBBB-DDDDDDDD-EEEEEEEE-FFFFFFFF-GGGGGGGG-HHHHHHHH-IIIIIIII'],
  },
  {
    name: 'LUKS passphrase file',
    field: 'layout.encryption.passphraseFile',
    marker: '/run/zqmark.key',
    build: (v) => luks({ type: 'luks2', passphraseFile: v }),
    secret: 'passphrase-file',
    extra: ['/run/keys/../../etc/shadow', '/run/keys/./key', 'relative/key', '/run/key;reboot', '/run/$(id)'],
  },
  { name: 'kernel argument (bootc)', field: 'kernelArgs[0]', marker: 'zqmark=1', build: (v) => ({ ...base(), kernelArgs: [v] }), extra: KARG_EXTRA },
  {
    name: 'kernel argument (oci-rootfs: GRUB and kernel-install files)',
    field: 'kernelArgs[0]',
    marker: 'zqmark=1',
    build: (v) => ({ ...ociRootfs(base()), kernelArgs: [v] }),
    kernelFiles: true,
    varies: (v) => v.startsWith('console=ttyS'),
    extra: KARG_EXTRA,
  },
  { name: 'image reference, registry (bootc)', field: 'image.reference', marker: 'registry.example/zqmark/os:1', build: image('registry', false), extra: ['docker://evil/x', 'registry.example/x/y@sha256:' + 'a'.repeat(64)] },
  { name: 'image reference, containers-storage (bootc)', field: 'image.reference', marker: 'localhost/zqmark:1', build: image('containers-storage', false), extra: ['[overlay@/tmp/x]img'] },
  { name: 'image reference, oci (bootc on the host)', field: 'image.reference', marker: '/srv/zqmark', build: image('oci', false), extra: ['/srv/img:tag', '/srv/img:$(id)'] },
  { name: 'image reference, oci-archive (bootc on the host)', field: 'image.reference', marker: '/srv/zqmark.tar', build: image('oci-archive', false) },
  { name: 'image reference, registry (oci-rootfs)', field: 'image.reference', marker: 'registry.example/zqmark/os:1', build: image('registry', true) },
  { name: 'image reference, containers-storage (oci-rootfs)', field: 'image.reference', marker: 'localhost/zqmark:1', build: image('containers-storage', true) },
  { name: 'image reference, oci (oci-rootfs)', field: 'image.reference', marker: '/srv/zqmark', build: image('oci', true), unpacked: true, varies: (v) => v.includes(':'), extra: ['/srv/img:tag', '/srv/img:$(id)', '/srv/img:-x'] },
  { name: 'image reference, oci-archive (oci-rootfs)', field: 'image.reference', marker: '/srv/zqmark.tar', build: image('oci-archive', true), unpacked: true, varies: (v) => v.includes(':') },
  { name: 'image reference, docker-archive (oci-rootfs)', field: 'image.reference', marker: '/srv/zqmark.tar', build: image('docker-archive', true), unpacked: true, extra: ['/srv/img.tar:tag'] },
  {
    name: 'target image',
    field: 'image.targetImage',
    marker: 'registry.example/zqmark/os:stable',
    build: (v) => ({ ...base(), image: { reference: 'registry.example/example/os:42', targetImage: v } }),
    extra: ['--karg=init=/bin/sh', '-v', 'docker://registry.example/x'],
  },
  { name: 'locale', field: 'locale', marker: 'zq_ZZ.UTF-8', build: (v) => ({ ...base(), locale: v }), varies: (v) => !/\.utf-?8/i.test(v), extra: ['en_US.UTF-8\nLC_ALL=C', 'C', 'POSIX', 'en_US.utf8', 'de_DE@euro'] },
  {
    name: 'keyboard layout',
    field: 'keyboard.layout',
    marker: 'zqmark',
    build: (v) => ({ ...base(), keyboard: { layout: v } }),
    keymap: true,
    extra: ['us"; Option "XkbOptions" "terminate:ctrl_alt_bksp', 'us(intl)', 'de-latin1', 'us\nKEYMAP=evil'],
  },
  {
    name: 'keyboard variant',
    field: 'keyboard.variant',
    marker: 'zqmark',
    build: (v) => ({ ...base(), keyboard: { layout: 'us', variant: v } }),
    varies: (v) => ['dvorak', 'intl'].includes(v),
    keymap: true,
    extra: ['intl', 'nodeadkeys"'],
  },
  {
    name: 'time zone',
    field: 'timezone',
    marker: 'Zq/Mark',
    build: (v) => ({ ...base(), timezone: v }),
    pathLike: true,
    extra: ['../../../etc/shadow', 'Europe/../../etc/shadow', '/etc/localtime', 'UTC\n', 'Etc/GMT+5', 'America/Argentina/Buenos_Aires', 'Europe/Berlin/../../x'],
  },
  {
    name: 'disk path',
    field: 'disk.path',
    marker: '/dev/nvme0n1',
    build: (v) => ({ ...base(), disk: { path: v } }),
    planner: /^(No disk matches path |\/dev\/\S+ cannot be installed to: )/,
    extra: ['/dev/sda', '/dev/nvme0n1p1', '/dev/nvme0n1 ', '/dev/nvme0n1;reboot', '/dev/-rf'],
  },
  { name: 'disk by-id', field: 'disk.byId', marker: 'nvme-SAMSUNG_MZVL2512HCJQ-00B00_S675NX0T512345', build: (v) => ({ ...base(), disk: { byId: v } }), planner: /^No disk matches by-id name / },
  { name: 'disk serial', field: 'disk.serial', marker: 'S675NX0T512345', build: (v) => ({ ...base(), disk: { serial: v } }), planner: /^No disk matches serial / },
  { name: 'disk WWN', field: 'disk.wwn', marker: 'eui.002538b921a3c4d5', build: (v) => ({ ...base(), disk: { wwn: v } }), planner: /^No disk matches WWN / },
  {
    name: 'root size',
    field: 'layout.rootSize',
    marker: '40G',
    build: (v) => ({ ...base(), layout: { type: 'erase', rootSize: v } }),
    planner: /^layout: /,
    extra: ['0G', '40G;reboot', '-1G', '99999999999999999999T', '40G\n'],
  },
  {
    name: 'existing partition',
    field: 'layout.mounts[1].partition',
    marker: '/dev/nvme0n1p4',
    build: (v) => ({
      ...base(),
      layout: {
        type: 'existing',
        mounts: [
          { partition: '/dev/nvme0n1p1', mountpoint: '/boot/efi', format: false },
          { partition: v, mountpoint: '/', format: true, filesystem: 'xfs' },
        ],
      },
    }),
    planner: /^layout\.mounts: /,
    extra: ['/dev/nvme0n1', '/dev/sda1', '/dev/nvme0n1p4/../../sda1'],
  },
];

type Attempt =
  | { readonly stage: 'validator'; readonly errors: FieldError[] }
  | { readonly stage: 'planner'; readonly message: string }
  | { readonly stage: 'planned'; readonly plan: InstallPlan; readonly secrets: Map<string, string>; readonly reads: string[] };

/** What the engine does with a request (validate, hash, gather secrets, plan), with the file read stubbed. */
function attempt(doc: unknown): Attempt {
  const v = validateAnswerFile(doc);
  if (!v.ok) return { stage: 'validator', errors: v.errors };
  const request = hashRequestPasswords(v.value);
  const reads: string[] = [];
  const secrets = planSecrets(request, (p) => {
    reads.push(p);
    return `${STUB_PASSPHRASE}\n`;
  });
  let n = 0;
  const uuid = (): string => `00000000-0000-4000-8000-${(++n).toString(16).padStart(12, '0')}`;
  const r = planInstall(request, laptop, FACTS, { id: 'abcdef0123456789', createdAt: '2026-01-01T00:00:00Z', runDir: RUN_DIR, uuid });
  if (!r.ok) return { stage: 'planner', message: r.error.message };
  return { stage: 'planned', plan: r.plan, secrets, reads };
}

/** The parts of a plan that are carried out (the summary is prose for people). */
function executed(p: InstallPlan): unknown {
  const { summary: _summary, ...rest } = p;
  return rest;
}

/** The hash useradd gets with -p, checked against the password and replaced by a constant, so plans compare. */
function withoutHash(p: InstallPlan, password: string, what: string): InstallPlan {
  const useradds = runsOf(p).filter((a) => a.argv[0] === 'useradd');
  expect(useradds, what).toHaveLength(1);
  const argv = useradds[0]!.argv;
  const at = argv.indexOf('-p');
  expect(at, `${what}: useradd has no -p`).toBeGreaterThan(0);
  expect(verifyPassword(password, argv[at + 1]!), `${what}: the hash in argv is not the password's`).toBe(true);
  return replaceDeep(p, argv[at + 1]!, '$6$HASH');
}

/** Where a user value may sit inside one argv element. */
function allowedElement(argv: readonly string[], i: number, v: string, spec: FieldSpec): boolean {
  const e = argv[i]!;
  // A whole element; one that looks like an option must be the value of the option before it.
  if (e === v) return !v.startsWith('-') || (i > 0 && argv[i - 1]!.startsWith('-'));
  if (/^--[a-z][a-z-]*=/.test(e) && e.slice(e.indexOf('=') + 1) === v) return true;
  if (TRANSPORT_PREFIXES.some((p) => e === `${p}${v}`)) return true;
  // One kernel argument after --karg, made only of XKB name characters: nothing a command line splits or a shell reads.
  if (spec.keymap === true && i > 0 && argv[i - 1] === '--karg' && /^(rd\.)?vconsole\.keymap=[a-z0-9_()-]+$/.test(e)) return true;
  return spec.inPaths === true && !v.includes('/') && v !== '..' && v !== '.' && e.split('/').includes(v);
}

function checkAccepted(spec: FieldSpec, h: Hostile, got: Extract<Attempt, { stage: 'planned' }>, marker: Extract<Attempt, { stage: 'planned' }>): void {
  const what = `${spec.name} / ${h.label}`;
  const v = h.value;
  const plan = got.plan;
  expect(() => InstallPlanSchema.parse(plan), what).not.toThrow();

  // No command goes through a shell, whatever the value.
  for (const a of runsOf(plan)) expect(shellScript(a.argv), `${what}: ${a.argv.join(' ')}`).toBeNull();

  // The value sits exactly where a harmless one does: same actions, same argv lengths, same files.
  let actual = plan;
  let expected = marker.plan;
  if (spec.secret === 'password') {
    actual = withoutHash(plan, v, what);
    expected = withoutHash(marker.plan, spec.marker, `${spec.name} / marker`);
  }
  // An empty full name is left out (useradd gets no -c), so only the shape is compared there.
  if (v !== '' && !(spec.varies?.(v) ?? false)) expect(executed(actual), what).toEqual(replaceDeep(executed(expected), spec.marker, v));

  const distinctive = v !== '' && !containsDeep(executed(marker.plan), v);
  if (distinctive) {
    for (const a of runsOf(plan)) {
      a.argv.forEach((e, i) => {
        if (e.includes(v)) expect(allowedElement(a.argv, i, v, spec), `${what}: the value is inside argv element ${JSON.stringify(e)} of ${a.argv[0]}`).toBe(true);
      });
      expect(a.stdin?.includes(v) ?? false, `${what}: in ${a.argv[0]}'s stdin`).toBe(false);
      for (const env of Object.values(a.secretEnv ?? {})) expect(env.includes(v), what).toBe(false);
    }
    for (const a of actionsOf(plan)) {
      const paths = a.kind === 'symlink' ? [a.path, a.target] : a.kind === 'write' || a.kind === 'mkdir' ? [a.path] : [];
      for (const p of paths) {
        if (!p.includes(v)) continue;
        // At most one path component (a few for a time zone): nothing that climbs out of or into another directory.
        const parts = v.split('/');
        expect(spec.pathLike ? parts.some((c) => c === '' || c === '.' || c === '..') : parts.length > 1 || v === '..' || v === '.', `${what}: path ${p}`).toBe(false);
      }
      if (a.kind === 'write' && a.content.includes(v)) expect(breaksLines(v), `${what}: a line break written into ${a.path}`).toBe(false);
    }
  }

  if (spec.unpacked) {
    const unpack = actionsOf(plan).find((a) => a.kind === 'unpack');
    expect(unpack?.kind === 'unpack' && `${unpack.source.path}${unpack.source.ref === undefined ? '' : `:${unpack.source.ref}`}`, what).toBe(v);
  }

  if (spec.kernelFiles) {
    const written = (path: string): string => {
      const a = actionsOf(plan).find((x) => x.kind === 'write' && x.path === path);
      return a?.kind === 'write' ? a.content : '';
    };
    const grub = written(`${RUN_DIR}/target/etc/default/grub.d/50-particle-installer.cfg`).split('\n');
    const line = grub.find((l) => l.startsWith('GRUB_CMDLINE_LINUX='));
    // Sourced by grub-mkconfig as shell, then pasted into grub.cfg: nothing inside the quotes may mean anything.
    expect(line, what).toMatch(/^GRUB_CMDLINE_LINUX="[^"$`\\;&|<>#{}*?]*"$/);
    expect(line!.slice('GRUB_CMDLINE_LINUX="'.length, -1).split(' '), what).toContain(v);
    expect(written(`${RUN_DIR}/target/etc/kernel/cmdline`).trimEnd().split(' '), what).toContain(v);
  }

  switch (spec.secret) {
    case 'password':
      if (distinctive) expect(containsDeep(plan, v), `${what}: the plain password is in the plan`).toBe(false);
      break;
    case 'passphrase':
      expect(got.secrets.get('luks-passphrase'), what).toBe(v);
      if (distinctive) expect(containsDeep(plan, v), `${what}: the passphrase is in the plan`).toBe(false);
      for (const a of runsOf(plan).filter((x) => x.argv[0] === 'cryptsetup' && x.argv[1] !== 'close')) expect(a.stdinSecret, what).toBe('luks-passphrase');
      break;
    case 'recovery-key':
      expect(got.secrets.get('luks-recovery-key'), what).toBe(v);
      expect(containsDeep(plan, v), what).toBe(false);
      break;
    case 'passphrase-file':
      // The path is read exactly as given, once, at plan time; what it holds travels as a secret.
      expect(got.reads, what).toEqual([v]);
      expect(got.secrets.get('luks-passphrase'), what).toBe(STUB_PASSPHRASE);
      expect(containsDeep(plan, STUB_PASSPHRASE), what).toBe(false);
      break;
    case undefined:
      break;
  }
}

function checkRefused(spec: FieldSpec, h: Hostile, r: Exclude<Attempt, { stage: 'planned' }>): void {
  const what = `${spec.name} / ${h.label}`;
  if (r.stage === 'validator') {
    expect(r.errors.length, what).toBeGreaterThan(0);
    const named = r.errors.filter((e) => e.field === spec.field || e.field.startsWith(`${spec.field}.`) || e.field.startsWith(`${spec.field}[`));
    expect(named.length, `${what}: no error names ${spec.field}: ${JSON.stringify(r.errors).slice(0, 300)}`).toBeGreaterThan(0);
    for (const e of r.errors) expectReadable(e.message, h.value, what);
  } else {
    const want = spec.planner ?? new RegExp(`^${spec.field.replace(/[.[\]]/g, '\\$&')}: `);
    expect(r.message, what).toMatch(want);
    expectReadable(r.message, h.value, what);
  }
}

describe('hostile field values against the validator and the planner', () => {
  const tally = { tried: 0, refused: 0, specsDone: 0 };
  const table: string[] = [];

  it.each(SPECS.map((s) => [s.name, s] as const))('%s: every hostile value is refused by name or carried as one argv element', (_name, spec) => {
    const marker = attempt(spec.build(spec.marker));
    expect(marker.stage, `${spec.name}: the harmless marker value must plan: ${JSON.stringify(marker).slice(0, 400)}`).toBe('planned');
    if (marker.stage !== 'planned') return;
    const corpus = [...HOSTILE, ...(spec.extra ?? []).map((value) => ({ label: `extra ${JSON.stringify(value).slice(0, 48)}`, value }))];
    const counts = { validator: 0, planner: 0, accepted: 0 };
    const accepted: string[] = [];
    for (const h of corpus) {
      const r = attempt(spec.build(h.value));
      tally.tried++;
      if (r.stage === 'planned') {
        checkAccepted(spec, h, r, marker);
        counts.accepted++;
        accepted.push(h.label);
      } else {
        checkRefused(spec, h, r);
        counts[r.stage]++;
        tally.refused++;
      }
    }
    table.push(`${spec.name}: ${corpus.length} tried, ${counts.validator} refused by the validator, ${counts.planner} by the planner, ${counts.accepted} passed safely${accepted.length ? ` (${accepted.join(', ')})` : ''}`);
    tally.specsDone++;
  });

  it('kernel arguments cannot smuggle shell or GRUB syntax, quotes or another argument', () => {
    for (const bad of ['x="$(touch${IFS}/pwned)"', '`id`', 'a;reboot', 'a$b', 'a\\b', "a'b", 'a#b', '{a}', 'a*', 'a|b', 'a&b', 'x="y', '--', '-s', 'a\u00a0b', 'ｑuiet']) {
      const r = attempt({ ...ociRootfs(base()), kernelArgs: ['quiet', bad] });
      expect(r.stage, bad).toBe('validator');
      if (r.stage === 'validator') expect(r.errors.map((e) => e.field), bad).toEqual(expect.arrayContaining(['kernelArgs[1]']));
    }
    const good = ['console=ttyS0,115200n8', 'rd.luks.options=discard', 'acpi_osi=!Linux', 'rd.shell=0', 'video=HDMI-A-1:1920x1080@60', 'modprobe.blacklist=nouveau,radeon', 'usbcore.quirks=0bda:8153:k', 'systemd.setenv=A=b+c%d~e'];
    const r = attempt({ ...ociRootfs(base()), kernelArgs: good });
    expect(r.stage).toBe('planned');
    if (r.stage !== 'planned') return;
    const grub = actionsOf(r.plan).find((a) => a.kind === 'write' && a.path.endsWith('50-particle-installer.cfg'));
    expect(grub?.kind === 'write' && grub.content).toContain(`GRUB_CMDLINE_LINUX="${good.join(' ')}"`);
    const b = attempt({ ...base(), kernelArgs: good });
    expect(b.stage).toBe('planned');
    if (b.stage !== 'planned') return;
    const deploy = runsOf(b.plan).find((a) => a.argv[0] === 'podman' && a.argv.includes('run') && a.argv.includes('to-filesystem'))!.argv;
    expect(deploy.flatMap((a, i) => (deploy[i - 1] === '--karg' ? [a] : []))).toEqual(good);
  });

  it('the target image, passphrases, SSH key comments and full names refuse what would be unsafe downstream', () => {
    const field = (doc: unknown): string[] => {
      const r = attempt(doc);
      return r.stage === 'validator' ? r.errors.map((e) => e.field) : [];
    };
    expect(field({ ...base(), image: { reference: 'registry.example/x/y:1', targetImage: '--karg=init=/bin/sh' } })).toContain('image.targetImage');
    // A registry reference is ASCII: a right-to-left override or a homoglyph would make the summary lie.
    for (const ref of ['registry.example/fedora/\u202e24:arodef', 'registry.ex\u0430mple/fedora/fedora-bootc:42', 'registry.example/x/y:1\ud800']) {
      expect(field({ ...base(), image: { reference: ref } })).toContain('image.reference');
      expect(field({ ...base(), image: { reference: 'registry.example/x/y:1', targetImage: ref } })).toContain('image.targetImage');
    }
    expect(field({ ...base(), image: { reference: '/run/media/José/image', transport: 'oci' } })).toEqual([]);
    for (const c of ['\t', '\n', '\r', '\0', '\u001b']) expect(field(luks({ type: 'luks2', passphrase: `long enough${c}passphrase` }))).toContain('layout.encryption.passphrase');
    expect(field(luks({ type: 'luks2', passphrase: `'"$(reboot)\`id\`;|& ü 🔐 \u202e` }))).toEqual([]);
    for (const c of ['\u001b[2J', '\u000b', '\u000c', '\u0085', '\u007f']) expect(field({ ...base(), rootSshKeys: [`${KEY_BODY} a${c}b`] })).toContain('rootSshKeys[0]');
    expect(field({ ...base(), rootSshKeys: [`${KEY_BODY} Zoë's "key" \u202e 👩‍💻 $(id)`] })).toEqual([]);
    for (const c of ['\u2028', '\u2029', '\ud800', '\udc00']) expect(field(withUser(() => ({ fullName: `Anna${c}x` }))(''))).toContain('users[0].fullName');
    expect(field(withUser(() => ({ fullName: 'Zoë \u202eevil\u202c 👩‍💻 e\u0301 ａｂ\u00a0c' }))(''))).toEqual([]);
  });

  it('records what was tried', () => {
    expect(tally.specsDone, 'every field spec ran to the end').toBe(SPECS.length);
    console.info(`[security] injection corpus: ${HOSTILE.length} hostile values plus field-specific ones\n  ${table.join('\n  ')}\n  total ${tally.tried} tried, ${tally.refused} refused`);
    countWhenPassed('injections-tried', tally.tried);
    countWhenPassed('injections-refused', tally.refused);
  });
});

// ---------------------------------------------------------------------------------------------
// Level 2: the runner, a real install on loop devices (root)

const why = loopUnavailableReason(['sfdisk', 'mkfs.xfs', 'mkfs.vfat', 'wipefs', 'partx', 'useradd', 'groupadd', 'blkid']);
if (why) console.warn(`[security] real-install injection tests skipped: ${why}`);

interface Call {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>> | undefined;
  readonly input: string | undefined;
}

const FAKE_VARS = ['PATH', 'PARTICLE_FAKE_DELAY_MS', 'PARTICLE_FAKE_PAYLOAD_MIB', 'PARTICLE_FAKE_STORAGE', 'PARTICLE_FAKE_LOG', 'PARTICLE_FAKE_FAIL', 'PARTICLE_FAKE_HANG'] as const;

describe.skipIf(why !== null)('hostile accepted values through a real install (root, loop devices, bootc/podman fakes)', () => {
  let dir: string;
  let engine: Engine;
  const loops: string[] = [];
  const calls: Call[] = [];
  const saved = new Map<string, string | undefined>(FAKE_VARS.map((k) => [k, process.env[k]]));
  const token = randomBytes(6).toString('hex');

  // The most hostile values the validator lets through, one per field that reaches a command or a file.
  const HOST = ['0-' + 'z'.repeat(59) + '-9', 'a'.repeat(63), `${'x-'.repeat(31)}y`, '9'.repeat(61)].join('.');
  const FULL_1 = `O'Brien "Q" $(touch /tmp/pwned) \`id\` ; rm -rf / | & > < \\ \u202eevil\u202c 𝔘𝔫𝔦 👩‍💻 e\u0301 ａｂ\u00a0c,room 1,+1 555,other`;
  const FULL_2 = '--shell=/bin/evil -o -u 0 %s%n =x= #not a comment';
  const PW_1 = `--p=1 '"$(reboot) \`id\`; |& >< \\ ü 🔑 \u202e %n ${token}a`;
  const PW_2 = `x:0:0::/root:/bin/sh;root::0:0 пароль 密码 🔐 '"${token}b`;
  const KARGS = ['foo=bar=baz', 'rd.x=a:b/c+d@e%f!g~h', 'console=ttyS0,115200n8', 'systemd.setenv=A=b,c'];
  const KEYS_1 = [`${KEY_BODY} "quoted" $(id) \`id\`; rm -rf / | & ü \u202e 👩‍💻`, `${KEY_BODY_2} second@host`];
  const ROOT_KEYS = [`${KEY_BODY} root's "key" $(id) ;|&`];
  const REFERENCE = 'registry.example/example/os:42';
  const TARGET = 'registry.example/example/os:stable';
  const LUKS_PASS = `'; cryptsetup erase /dev/sda # "$(reboot)" \`id\` | & > ü 🔐 \u202e --key-file=/etc/shadow ${token}c`;
  const USERS = [
    { name: '_svc-1', fullName: FULL_1, password: PW_1, admin: true, sshKeys: KEYS_1 },
    { name: 'b0b', fullName: FULL_2, password: PW_2, autologin: true },
  ];
  const PASSWORDS = [PW_1, PW_2, LUKS_PASS];
  const TOKENS = [`${token}a`, `${token}b`, `${token}c`];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'particle-injection-'));
    process.env.PATH = `${FAKE_BIN}:${saved.get('PATH') ?? ''}`;
    process.env.PARTICLE_FAKE_DELAY_MS = '0';
    process.env.PARTICLE_FAKE_PAYLOAD_MIB = '2';
    process.env.PARTICLE_FAKE_STORAGE = join(dir, 'storage');
    process.env.PARTICLE_FAKE_LOG = join(dir, 'fake.log');
    delete process.env.PARTICLE_FAKE_FAIL;
    delete process.env.PARTICLE_FAKE_HANG;
    const real = createExec();
    // Every command the engine runs, streaming ones included (createEngine uses this for both).
    const exec: Exec = (argv, options) => {
      calls.push({ argv: [...argv], env: options?.env ? { ...options.env } : undefined, input: options?.input });
      return real(argv, options);
    };
    engine = createEngine({ mode: 'test', minimumSize: GiB, runRoot: join(dir, 'run'), logDir: join(dir, 'log'), exec });
  });

  afterEach(async () => {
    await engine?.installer?.settled();
  });

  afterAll(() => {
    if (dir) for (const m of mountsUnder(dir).reverse()) tryRun(['umount', '--lazy', m]);
    for (const l of loops) {
      tryRun(['partx', '--delete', l]);
      tryRun(['losetup', '-d', l]);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  function newDisk(name: string): string {
    const file = join(dir, `${name}.img`);
    sparseFile(file, 12 * GiB);
    const dev = attachLoop(file);
    loops.push(dev);
    return dev;
  }

  async function install(request: AnswerFileInput): Promise<InstallState> {
    const v = validateAnswerFile(request);
    expect(v.ok, JSON.stringify(!v.ok && v.errors)).toBe(true);
    calls.length = 0;
    const plan = await engine.handlers.planInstall({ request });
    await engine.handlers.startInstall({ planId: plan.id });
    await engine.installer!.settled();
    return InstallStateSchema.parse(await engine.handlers.getInstallState({}));
  }

  /** Every argv element holding `v`, with where it is. */
  const holding = (v: string): Array<{ argv: readonly string[]; i: number }> =>
    calls.flatMap((c) => c.argv.flatMap((e, i) => (e.includes(v) ? [{ argv: c.argv, i }] : [])));

  function expectNoSecretAnywhere(state: InstallState): void {
    for (const secret of [...PASSWORDS, ...TOKENS]) {
      for (const c of calls) {
        expect(c.argv.some((a) => a.includes(secret)), `a password in argv: ${c.argv[0]}`).toBe(false);
        expect(Object.values(c.env ?? {}).some((e) => e.includes(secret)), `a password in the environment of ${c.argv[0]}`).toBe(false);
      }
      expect(JSON.stringify(state).includes(secret), 'a password in the install state').toBe(false);
      expect(readFileSync(join(dir, 'fake.log'), 'utf8').includes(secret), 'a password in what bootc/podman were given').toBe(false);
      // The last install's log, plan and request, as bundle-logs would collect them.
      expect(filesUnder(join(dir, 'log')).length).toBeGreaterThan(0);
      for (const f of filesUnder(join(dir, 'log'))) expect(readFileSync(f).includes(Buffer.from(secret)), `a password in ${f}`).toBe(false);
    }
  }

  function expectCleanArgv(): void {
    expect(calls.length).toBeGreaterThan(10);
    for (const c of calls) {
      for (const a of c.argv) expect(/[\0\n\r]/.test(a), `NUL or line break in an argument of ${c.argv.join(' ')}`).toBe(false);
      for (const e of Object.values(c.env ?? {})) expect(/[\0\n\r]/.test(e), `NUL or line break in the environment of ${c.argv[0]}`).toBe(false);
      // A shell, if one were ever used, must not be handed any user value in its script.
      const script = shellScript(c.argv);
      if (script !== null) for (const v of [HOST, FULL_1, FULL_2, ...KARGS, ...KEYS_1, ...ROOT_KEYS, REFERENCE, TARGET]) expect(script.includes(v), script).toBe(false);
    }
  }

  it('runs every command with each hostile value as one whole argument and writes the files exactly', async () => {
    const disk = newDisk('hostile');
    const request: AnswerFileInput = {
      version: 1,
      disk: { path: disk },
      layout: { type: 'erase', filesystem: 'xfs' },
      image: { reference: REFERENCE, targetImage: TARGET },
      hostname: HOST,
      locale: 'sr_RS.UTF-8@latin',
      keyboard: { layout: 'fr', variant: 'bepo_afnor' },
      timezone: 'America/Argentina/Buenos_Aires',
      users: USERS,
      rootSshKeys: ROOT_KEYS,
      kernelArgs: KARGS,
    };
    // Through the engine's front door, a refused value stops planning with the field named, before any command.
    for (const bad of [{ kernelArgs: ['x="$(id)"'] }, { users: [{ ...USERS[0]!, fullName: 'x:0:0' }] }]) {
      calls.length = 0;
      const refused = await engine.handlers.planInstall({ request: { ...request, ...bad } }).then(
        () => null,
        (e: unknown) => e as { error?: { code?: string; message?: string } },
      );
      expect(refused?.error?.code).toBe('invalid-answer-file');
      expect(refused?.error?.message).toMatch(/^The request is not valid: (kernelArgs\[0\]|users\[0\]\.fullName): /);
      expect(calls.filter((c) => c.argv[0] !== 'lsblk' && c.argv[0] !== 'losetup')).toEqual([]);
    }
    const state = await install(request);
    expect(state.outcome?.kind, JSON.stringify(state.outcome)).toBe('finished');
    expectCleanArgv();
    expectNoSecretAnywhere(state);

    // Each value only where it belongs, as a whole element.
    const useradds = calls.filter((c) => c.argv[0] === 'useradd');
    expect(useradds).toHaveLength(2);
    const hashes = useradds.map((c) => c.argv[c.argv.indexOf('-p') + 1]!);
    USERS.forEach((u, n) => expect(verifyPassword(u.password, hashes[n]!), u.name).toBe(true));
    const wholeAfter = (v: string, option: string, tool: string): void => {
      const found = holding(v);
      expect(found.length, v).toBeGreaterThan(0);
      for (const { argv, i } of found) {
        expect(argv[i], `${JSON.stringify(v)} inside ${JSON.stringify(argv[i])} of ${argv[0]}`).toBe(v);
        expect([argv[0], argv[i - 1]], `${JSON.stringify(v)} in ${argv.join(' ')}`).toEqual([tool, option]);
      }
    };
    wholeAfter(FULL_1, '-c', 'useradd');
    wholeAfter(FULL_2, '-c', 'useradd');
    for (const h of hashes) wholeAfter(h, '-p', 'useradd');
    for (const k of KARGS) wholeAfter(k, '--karg', 'podman');
    wholeAfter(TARGET, '--target-imgref', 'podman');
    for (const { argv, i } of holding(REFERENCE)) expect([REFERENCE, `docker://${REFERENCE}`]).toContain(argv[i]);
    for (const v of [HOST, ...KEYS_1, ...ROOT_KEYS]) expect(holding(v), `${v} reached an argument`).toEqual([]);

    // What bootc itself was handed inside the container: the same arguments, in order.
    const inside = readFileSync(join(dir, 'fake.log'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { tool: string; argv: string[]; container?: boolean })
      .filter((l) => l.tool === 'bootc' && l.container);
    // The install, then `bootc install finalize /target` after the settings.
    expect(inside.map((l) => l.argv.slice(0, 2).join(' '))).toEqual(['install to-filesystem', 'install finalize']);
    expect(inside[1]!.argv).toEqual(['install', 'finalize', '/target']);
    const bootcArgv = inside[0]!.argv;
    // The console keymap the planner adds for the French layout comes first, then the answer file's own.
    expect(bootcArgv.flatMap((a, i) => (bootcArgv[i - 1] === '--karg' ? [a] : []))).toEqual(['vconsole.keymap=fr-bepo_afnor', ...KARGS]);

    // The files, read back from the installed disk.
    const plan = state.plan!;
    const root = plan.partitions.at(-1)!;
    run(['partx', '--update', disk]);
    const mnt = mkdtempSync(join(dir, 'check-'));
    run(['mount', '-o', 'ro', root.path, mnt]);
    try {
      const deployRoot = join(mnt, 'ostree/deploy/default/deploy');
      const dep = join(deployRoot, readdirSync(deployRoot).find((d) => d.endsWith('.0'))!);
      const etc = (f: string): string => readFileSync(join(dep, 'etc', f), 'utf8');

      const passwd = etc('passwd').split('\n').filter(Boolean);
      for (const l of passwd) expect(l.split(':'), `passwd line ${JSON.stringify(l)}`).toHaveLength(7);
      for (const u of USERS) {
        const mine = passwd.filter((l) => l.startsWith(`${u.name}:`));
        expect(mine, u.name).toHaveLength(1);
        const f = mine[0]!.split(':');
        expect([f[1], f[4], f[5], f[6]]).toEqual(['x', u.fullName, `/home/${u.name}`, '/bin/bash']);
      }
      expect(passwd.filter((l) => l.includes('$(touch') || l.includes('--shell=/bin/evil'))).toHaveLength(2);
      expect(passwd.filter((l) => /^[^:]*:[^:]*:0:/.test(l)).map((l) => l.split(':')[0])).toEqual(['root']);

      const shadow = etc('shadow').split('\n').filter(Boolean);
      for (const l of shadow) expect(l.split(':'), `shadow line ${JSON.stringify(l)}`).toHaveLength(9);
      for (const u of USERS) {
        const line = shadow.find((l) => l.startsWith(`${u.name}:`));
        expect(verifyPassword(u.password, line!.split(':')[1]!), u.name).toBe(true);
      }
      expect(etc('group').split('\n').find((l) => l.startsWith('wheel:'))!.split(':')[3]!.split(',')).toContain('_svc-1');

      expect(etc('hostname')).toBe(`${HOST}\n`);
      expect(etc('locale.conf')).toBe('LANG=sr_RS.UTF-8@latin\n');
      expect(etc('vconsole.conf')).toBe('KEYMAP=fr-bepo_afnor\nXKBLAYOUT=fr\nXKBVARIANT=bepo_afnor\n');
      expect(etc('gdm/custom.conf')).toBe('[daemon]\nAutomaticLoginEnable=True\nAutomaticLogin=b0b\n');
      const home = join(mnt, 'ostree/deploy/default/var/home');
      expect(readFileSync(join(home, '_svc-1/.ssh/authorized_keys'), 'utf8')).toBe(`${KEYS_1.join('\n')}\n`);
      const tmpfiles = etc('tmpfiles.d/bootc-root-ssh.conf');
      const b64 = /^f~ \/var\/roothome\/\.ssh\/authorized_keys 600 root root - (\S+)$/m.exec(tmpfiles)![1]!;
      expect(Buffer.from(b64, 'base64').toString('utf8')).toBe(`${ROOT_KEYS.join('\n')}\n`);

      const options = /^options (.*)$/m.exec(readFileSync(join(mnt, 'boot/loader/entries/ostree-1.conf'), 'utf8'))![1]!.split(' ');
      for (const k of KARGS) expect(options.filter((o) => o === k), k).toHaveLength(1);

      // No plain password anywhere on the installed disk.
      for (const f of filesUnder(mnt)) {
        const bytes = readFileSync(f);
        for (const secret of [...PASSWORDS, ...TOKENS]) expect(bytes.includes(Buffer.from(secret)), `a password in ${f}`).toBe(false);
      }
    } finally {
      tryRun(['umount', mnt]);
    }
    expect(mountsUnder(dir)).toEqual([]);
    console.info(`[security] real install with hostile values: ${calls.length} commands recorded, none through a shell, each value one whole argument`);
  }, 150_000);

  it('feeds a hostile LUKS passphrase on stdin only, and keeps it out of errors and logs', async () => {
    const disk = newDisk('luks');
    const state = await install({
      version: 1,
      disk: { path: disk },
      layout: { type: 'erase', filesystem: 'xfs', encryption: { type: 'luks2', passphrase: LUKS_PASS } },
      image: { reference: REFERENCE },
      hostname: 'luks-box',
      users: [{ name: 'anna', fullName: FULL_2, password: PW_1 }],
    });
    // Without device-mapper (most containers) cryptsetup open fails after luksFormat; with it, the install finishes.
    const out = state.outcome;
    if (out?.kind === 'failed') {
      expect(out.error.step, JSON.stringify(out)).toBe('encrypt');
      expect(out.error.command?.[0]).toBe('cryptsetup');
    } else {
      expect(out?.kind, JSON.stringify(out)).toBe('finished');
    }
    expectCleanArgv();
    expectNoSecretAnywhere(state);
    const fed = calls.filter((c) => c.input === LUKS_PASS);
    expect(fed.length).toBeGreaterThan(0);
    for (const c of fed) {
      expect(c.argv[0]).toBe('cryptsetup');
      expect(c.argv.slice(c.argv.indexOf('--key-file'), c.argv.indexOf('--key-file') + 2)).toEqual(['--key-file', '-']);
    }
    expect(calls.filter((c) => c.input?.includes(`${token}c`)).length).toBe(fed.length);
    expect(mountsUnder(dir)).toEqual([]);
    console.info(`[security] LUKS install (${out?.kind === 'failed' ? `stopped at ${out.error.step}: ${out.error.message}` : 'finished'}): the passphrase went on stdin to ${fed.length} command(s) and nowhere else`);

    // The two installs tried each hostile value above once, through the real runner.
    countWhenPassed('injections-tried', [HOST, FULL_1, FULL_2, PW_1, PW_2, ...KARGS, ...KEYS_1, ...ROOT_KEYS, LUKS_PASS].length);
  }, 150_000);
});

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((t) => t.startsWith(dir));
}

/** Regular files under dir (not following links), smaller than 16 MiB. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile() && statSync(p).size < 16 * 1024 ** 2) out.push(p);
  }
  return out;
}
