import { describe, expect, it } from 'vitest';
import { AnswerFileSchema, type AnswerFile, type AnswerFileInput } from '../../src/shared/answer-file';
import { PLAN_PLACEHOLDERS, PlanActionSchema, type PlanAction } from '../../src/shared/install';
import { hashRequestPasswords } from '../../src/engine/crypt';
import { configureActions, consoleKeymap, keymapKernelArgs, utf8Locale } from '../../src/engine/plan/configure';

const ALICE_PASSWORD = 'corr3ct h0rse: bättery ✓';
const KEYS = [
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq0y1nC5oV8ZbE0uXl3zq7Yh2m4P1x9dTn6WcJvQyKf alice@laptop',
  'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY=',
];

const FULL: AnswerFileInput = {
  version: 1,
  locale: 'de_DE.UTF-8',
  keyboard: { layout: 'de', variant: 'nodeadkeys' },
  timezone: 'Europe/Berlin',
  hostname: 'workstation.example.org',
  disk: { path: '/dev/vda' },
  layout: { type: 'erase' },
  image: { reference: 'quay.io/fedora/fedora-bootc:42' },
  users: [
    { name: 'alice', fullName: 'Alice Example', password: ALICE_PASSWORD, admin: true, autologin: true, sshKeys: KEYS },
    { name: 'bob', fullName: 'Bob Builder' },
  ],
};

/** The request as configureActions receives it: validated, then with passwords hashed. */
function hashed(input: AnswerFileInput = FULL): AnswerFile {
  return hashRequestPasswords(AnswerFileSchema.parse(input));
}

const expectedXorg = [
  '# Written by the installer in the format systemd-localed(8) uses; change it with localectl(1).',
  'Section "InputClass"',
  '        Identifier "system-keyboard"',
  '        MatchIsKeyboard "on"',
  '        Option "XkbLayout" "de"',
  '        Option "XkbVariant" "nodeadkeys"',
  'EndSection',
  '',
].join('\n');

describe('configureActions', () => {
  it('gives the exact actions for a full request', () => {
    const request = hashed();
    const hash = request.users[0]?.passwordHash ?? '';
    expect(hash).toMatch(/^\$6\$/);
    const home = '{stateroot-var}/home/alice';
    expect(configureActions(request, {})).toEqual<PlanAction[]>([
      { kind: 'mkdir', path: '{deployment}/var', mode: '0755' },
      { kind: 'run', argv: ['mount', '--bind', '{stateroot-var}', '{deployment}/var'] },
      { kind: 'mkdir', path: '{stateroot-var}/home', mode: '0755' },
      { kind: 'run', argv: ['groupadd', '-R', '{deployment}', '-f', 'wheel'] },
      { kind: 'run', argv: ['useradd', '-R', '{deployment}', '-m', '-U', '-c', 'Alice Example', '-G', 'wheel', '-p', hash, '-s', '/bin/bash', 'alice'] },
      { kind: 'run', argv: ['useradd', '-R', '{deployment}', '-m', '-U', '-c', 'Bob Builder', '-s', '/bin/bash', 'bob'] },
      { kind: 'mkdir', path: `${home}/.ssh`, mode: '0700' },
      { kind: 'write', path: `${home}/.ssh/authorized_keys`, content: `${KEYS[0]}\n${KEYS[1]}\n`, mode: '0600' },
      { kind: 'run', argv: ['chown', '-R', `--reference=${home}`, `${home}/.ssh`] },
      { kind: 'mkdir', path: '{deployment}/etc/gdm', mode: '0755' },
      { kind: 'write', path: '{deployment}/etc/gdm/custom.conf', content: '[daemon]\nAutomaticLoginEnable=True\nAutomaticLogin=alice\n', mode: '0644' },
      { kind: 'mkdir', path: '{deployment}/etc/sddm.conf.d', mode: '0755' },
      { kind: 'write', path: '{deployment}/etc/sddm.conf.d/autologin.conf', content: '[Autologin]\nUser=alice\n', mode: '0644' },
      { kind: 'run', argv: ['rm', '-f', '{deployment}/etc/localtime'] },
      { kind: 'symlink', path: '{deployment}/etc/localtime', target: '../usr/share/zoneinfo/Europe/Berlin' },
      { kind: 'write', path: '{deployment}/etc/locale.conf', content: 'LANG=de_DE.UTF-8\n', mode: '0644' },
      { kind: 'write', path: '{deployment}/etc/vconsole.conf', content: 'KEYMAP=de-nodeadkeys\nXKBLAYOUT=de\nXKBVARIANT=nodeadkeys\n', mode: '0644' },
      { kind: 'mkdir', path: '{deployment}/etc/X11', mode: '0755' },
      { kind: 'mkdir', path: '{deployment}/etc/X11/xorg.conf.d', mode: '0755' },
      { kind: 'write', path: '{deployment}/etc/X11/xorg.conf.d/00-keyboard.conf', content: expectedXorg, mode: '0644' },
      { kind: 'write', path: '{deployment}/etc/hostname', content: 'workstation.example.org\n', mode: '0644' },
      { kind: 'relabel', root: '{deployment}', paths: ['{deployment}/etc', '{deployment}/var/home'] },
      { kind: 'run', argv: ['umount', '{deployment}/var'] },
    ]);
  });

  it('produces valid actions, all under a placeholder, bind mount first and umount last', () => {
    const actions = configureActions(hashed(), {});
    for (const a of actions) {
      expect(PlanActionSchema.safeParse(a).success).toBe(true);
      if (a.kind !== 'run' && 'path' in a) expect(PLAN_PLACEHOLDERS.some((p) => a.path.startsWith(`${p}/`)), a.path).toBe(true);
    }
    const runs = actions.filter((a) => a.kind === 'run');
    expect(runs[0]?.argv.slice(0, 2)).toEqual(['mount', '--bind']);
    expect(actions.at(-1)).toEqual({ kind: 'run', argv: ['umount', '{deployment}/var'] });
    const useradd = actions.findIndex((a) => a.kind === 'run' && a.argv[0] === 'useradd');
    expect(useradd).toBeGreaterThan(actions.findIndex((a) => a.kind === 'run' && a.argv[0] === 'mount'));
    expect(useradd).toBeLessThan(actions.findIndex((a) => a.kind === 'symlink'));
  });

  it('never carries a plain password', () => {
    const json = JSON.stringify(configureActions(hashed(), {}));
    expect(json).not.toContain(ALICE_PASSWORD);
    expect(json).not.toContain('corr3ct');
  });

  it('refuses a request whose passwords were not hashed', () => {
    expect(() => configureActions(AnswerFileSchema.parse(FULL), {})).toThrow(/hashRequestPasswords/);
  });

  it('refuses NUL and line breaks that got past validation', () => {
    const base = hashed();
    const bad: AnswerFile[] = [
      { ...base, hostname: 'a\nb' },
      { ...base, locale: 'de_DE\0' },
      { ...base, timezone: 'Europe/Berlin\r' },
      { ...base, keyboard: { layout: 'de', variant: 'x\ny' } },
      { ...base, users: [{ ...base.users[1]!, fullName: 'Bob\nroot::0:0::/:/bin/sh' }] },
      { ...base, users: [{ ...base.users[0]!, sshKeys: ['ssh-ed25519 AAAA\nssh-rsa BBBB'] }] },
    ];
    for (const r of bad) expect(() => configureActions(r, {})).toThrow(/NUL or line break/);
  });

  it('uses the sudo group on Debian-like images', () => {
    const argvs = configureActions(hashed(), { adminGroup: 'sudo' }).flatMap((a) => (a.kind === 'run' ? [a.argv] : []));
    expect(argvs).toContainEqual(['groupadd', '-R', '{deployment}', '-f', 'sudo']);
    expect(argvs.find((a) => a.includes('alice'))).toEqual(expect.arrayContaining(['-G', 'sudo']));
  });

  it('leaves out what was not asked for', () => {
    const actions = configureActions(hashed({ ...FULL, hostname: undefined, keyboard: { layout: 'us' }, timezone: 'UTC', users: [] }), {});
    const paths = actions.flatMap((a) => ('path' in a ? [a.path] : []));
    expect(paths.some((p) => p.includes('hostname') || p.includes('gdm') || p.includes('sddm') || p.includes('.ssh'))).toBe(false);
    expect(actions.some((a) => a.kind === 'run' && (a.argv[0] === 'useradd' || a.argv[0] === 'groupadd'))).toBe(false);
    expect(actions).toContainEqual({ kind: 'symlink', path: '{deployment}/etc/localtime', target: '../usr/share/zoneinfo/UTC' });
    const xorg = actions.find((a) => a.kind === 'write' && a.path.endsWith('00-keyboard.conf'));
    expect(xorg?.kind === 'write' && xorg.content).not.toContain('XkbVariant');
    expect(actions).toContainEqual({ kind: 'write', path: '{deployment}/etc/vconsole.conf', content: 'KEYMAP=us\nXKBLAYOUT=us\n', mode: '0644' });
  });
});

describe('consoleKeymap and utf8Locale', () => {
  it.each([
    ['us', undefined, 'us'],
    ['de', undefined, 'de'],
    ['de', 'nodeadkeys', 'de-nodeadkeys'],
    ['gb', undefined, 'uk'],
    ['us', 'dvorak', 'dvorak'],
    ['ch', 'fr', 'fr_CH'],
    ['fr', 'bepo', 'fr-bepo'],
  ] as const)('%s %s → %s', (layout, variant, keymap) => {
    expect(consoleKeymap(layout, variant)).toBe(keymap);
  });

  it.each([
    ['en_US.UTF-8', 'en_US.UTF-8'],
    ['de_DE', 'de_DE.UTF-8'],
    ['ca_ES@valencia', 'ca_ES.UTF-8@valencia'],
    ['sr_RS.UTF-8@latin', 'sr_RS.UTF-8@latin'],
  ])('%s → %s', (locale, lang) => {
    expect(utf8Locale(locale)).toBe(lang);
  });
});

describe('keymap kernel arguments', () => {
  it('name the console keymap, rd. only for an encrypted root, nothing for plain US', () => {
    expect(keymapKernelArgs({ layout: 'de', variant: 'nodeadkeys' }, true)).toEqual(['vconsole.keymap=de-nodeadkeys', 'rd.vconsole.keymap=de-nodeadkeys']);
    expect(keymapKernelArgs({ layout: 'de', variant: 'nodeadkeys' }, false)).toEqual(['vconsole.keymap=de-nodeadkeys']);
    expect(keymapKernelArgs({ layout: 'ch', variant: 'de_nodeadkeys' }, true)).toEqual(['vconsole.keymap=sg-latin1', 'rd.vconsole.keymap=sg-latin1']);
    expect(keymapKernelArgs({ layout: 'gb' }, false)).toEqual(['vconsole.keymap=uk']);
    expect(keymapKernelArgs({ layout: 'us' }, true)).toEqual([]);
    expect(keymapKernelArgs({ layout: 'us', variant: 'dvorak' }, false)).toEqual(['vconsole.keymap=dvorak']);
  });

  it('leave either argument to the answer file when it gives it, and refuse a line break', () => {
    expect(keymapKernelArgs({ layout: 'fr' }, true, ['rd.vconsole.keymap=fr-latin9'])).toEqual(['vconsole.keymap=fr']);
    expect(keymapKernelArgs({ layout: 'fr' }, true, ['vconsole.keymap=fr-latin9', 'rd.vconsole.keymap=fr-latin9'])).toEqual([]);
    expect(() => keymapKernelArgs({ layout: 'de\nx' }, false)).toThrow(/line break/);
  });
});

