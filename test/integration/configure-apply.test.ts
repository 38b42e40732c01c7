import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { AnswerFileSchema } from '../../src/shared/answer-file';
import type { PlanAction } from '../../src/shared/install';
import { hashRequestPasswords, verifyPassword } from '../../src/engine/crypt';
import { configureActions } from '../../src/engine/plan/configure';

/**
 * Carries the configure actions out for real on a directory standing in for a bootc deployment:
 * useradd -R works on any directory holding an /etc/passwd, and the bind mount is a real one.
 */

const PASSWORD = 'Tr0ub4dor&3 ünïcødé';
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq0y1nC5oV8ZbE0uXl3zq7Yh2m4P1x9dTn6WcJvQyKf alice@laptop';

function skipReason(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (useradd -R, mount --bind, chown)';
  for (const tool of ['useradd', 'groupadd', 'mount', 'umount', 'chown']) {
    if (spawnSync('sh', ['-c', 'command -v "$1"', 'sh', tool]).status !== 0) return `${tool} is not installed`;
  }
  return null;
}
const reason = skipReason();
if (reason) console.warn(`[unit] configure apply skipped: ${reason}`);

const cleanup: string[] = [];
afterAll(() => {
  for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
});

/** Whether `path` is a mount point right now, from /proc/self/mountinfo (field 5). */
function mounted(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[4] === path);
}

/** A deployment as bootc leaves it, reduced to what the configure step touches. */
function fakeInstall(): { root: string; deployment: string; stateVar: string } {
  const root = mkdtempSync(join(tmpdir(), 'configure-apply-'));
  cleanup.push(root);
  const stateroot = join(root, 'ostree/deploy/default');
  const deployment = join(stateroot, 'deploy/0123abcd.0');
  const stateVar = join(stateroot, 'var');
  mkdirSync(stateVar, { recursive: true });
  mkdirSync(join(deployment, 'etc'), { recursive: true });
  mkdirSync(join(deployment, 'var'));
  mkdirSync(join(deployment, 'usr/share/zoneinfo/Europe'), { recursive: true });
  // ostree images point /home into /var, which is how homes end up in the stateroot.
  symlinkSync('var/home', join(deployment, 'home'));
  const etc = (name: string, lines: string[], mode: number): void => {
    writeFileSync(join(deployment, 'etc', name), `${lines.join('\n')}\n`);
    chmodSync(join(deployment, 'etc', name), mode);
  };
  etc('passwd', ['root:x:0:0:root:/root:/bin/bash', 'bin:x:1:1:bin:/bin:/sbin/nologin', 'daemon:x:2:2:daemon:/sbin:/sbin/nologin', 'nobody:x:65534:65534:Kernel Overflow User:/:/sbin/nologin'], 0o644);
  etc('group', ['root:x:0:', 'bin:x:1:', 'daemon:x:2:', 'nobody:x:65534:'], 0o644);
  etc('shadow', ['root:!locked::0:99999:7:::', 'bin:*:19000:0:99999:7:::', 'daemon:*:19000:0:99999:7:::', 'nobody:*:19000:0:99999:7:::'], 0o000);
  etc('gshadow', ['root:::', 'bin:::', 'daemon:::', 'nobody:::'], 0o000);
  etc('login.defs', ['UID_MIN 1000', 'UID_MAX 60000', 'GID_MIN 1000', 'GID_MAX 60000', 'SYS_UID_MIN 201', 'SYS_GID_MIN 201'], 0o644);
  // The image ships a link already; the actions must replace it.
  symlinkSync('../usr/share/zoneinfo/UTC', join(deployment, 'etc/localtime'));
  return { root, deployment, stateVar };
}

async function apply(actions: readonly PlanAction[], deployment: string, stateVar: string): Promise<void> {
  const resolve = (s: string): string => s.split('{deployment}').join(deployment).split('{stateroot-var}').join(stateVar);
  for (const a of actions) {
    switch (a.kind) {
      case 'run': {
        const [cmd, ...args] = a.argv.map(resolve);
        await execa(cmd as string, args, { stdin: 'ignore' });
        break;
      }
      case 'mkdir':
        mkdirSync(resolve(a.path), { recursive: true, mode: parseInt(a.mode, 8) });
        chmodSync(resolve(a.path), parseInt(a.mode, 8));
        break;
      case 'write':
        // No recursive mkdir here on purpose: the plan must create every parent it needs.
        writeFileSync(resolve(a.path), a.content);
        chmodSync(resolve(a.path), parseInt(a.mode, 8));
        break;
      case 'symlink':
        symlinkSync(resolve(a.target), resolve(a.path));
        break;
    }
  }
}

/** Like the runner's teardown: the bind mount goes away even when an action failed. */
async function applyThenUnmount(actions: readonly PlanAction[], deployment: string, stateVar: string): Promise<void> {
  const varMount = join(deployment, 'var');
  try {
    await apply(actions, deployment, stateVar);
  } finally {
    if (mounted(varMount)) spawnSync('umount', [varMount]);
  }
}

const table = (file: string): string[][] => readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split(':'));

describe.skipIf(reason !== null)('configure actions applied to a fake deployment (root)', () => {
  it('creates users, homes, keys and settings where the installed system expects them', async () => {
    const { deployment, stateVar } = fakeInstall();
    const request = hashRequestPasswords(
      AnswerFileSchema.parse({
        version: 1,
        locale: 'de_DE.UTF-8',
        keyboard: { layout: 'de', variant: 'nodeadkeys' },
        timezone: 'Europe/Berlin',
        hostname: 'workstation',
        disk: { path: '/dev/vda' },
        layout: { type: 'erase' },
        image: { reference: 'quay.io/fedora/fedora-bootc:42' },
        users: [
          { name: 'alice', fullName: 'Alice Example', password: PASSWORD, admin: true, autologin: true, sshKeys: [KEY] },
          { name: 'bob', fullName: 'Bob Builder' },
        ],
      }),
    );
    const varMount = join(deployment, 'var');
    await applyThenUnmount(configureActions(request, { adminGroup: 'wheel' }), deployment, stateVar);
    expect(mounted(varMount)).toBe(false);

    const etc = (f: string): string => join(deployment, 'etc', f);
    const passwd = table(etc('passwd'));
    const alice = passwd.find((e) => e[0] === 'alice');
    const bob = passwd.find((e) => e[0] === 'bob');
    expect(alice?.[4]).toBe('Alice Example');
    expect(alice?.[6]).toBe('/bin/bash');
    expect(bob?.[4]).toBe('Bob Builder');
    expect(bob?.[6]).toBe('/bin/bash');
    const aliceUid = Number(alice?.[2]);
    expect(aliceUid).toBeGreaterThanOrEqual(1000);

    const shadow = table(etc('shadow'));
    const aliceHash = shadow.find((e) => e[0] === 'alice')?.[1] ?? '';
    expect(aliceHash).toMatch(/^\$6\$/);
    expect(verifyPassword(PASSWORD, aliceHash)).toBe(true);
    // No password: useradd leaves the account locked.
    expect(shadow.find((e) => e[0] === 'bob')?.[1]).toMatch(/^!/);

    const group = table(etc('group'));
    expect(group.find((e) => e[0] === 'wheel')?.[3]?.split(',')).toContain('alice');
    expect(group.find((e) => e[0] === 'wheel')?.[3]?.split(',') ?? []).not.toContain('bob');
    expect(group.find((e) => e[0] === 'alice')?.[2]).toBe(alice?.[3]);

    // Homes landed in the stateroot's var (through the bind mount), not in the deployment.
    for (const [name, uid] of [['alice', aliceUid], ['bob', Number(bob?.[2])]] as const) {
      const st = statSync(join(stateVar, 'home', name));
      expect(st.isDirectory()).toBe(true);
      expect(st.uid).toBe(uid);
    }
    expect(readdirSync(varMount)).toEqual([]);
    const keys = join(stateVar, 'home/alice/.ssh/authorized_keys');
    expect(readFileSync(keys, 'utf8')).toBe(`${KEY}\n`);
    expect(statSync(keys).mode & 0o777).toBe(0o600);
    expect(statSync(keys).uid).toBe(aliceUid);
    expect(statSync(join(stateVar, 'home/alice/.ssh')).mode & 0o777).toBe(0o700);
    expect(statSync(join(stateVar, 'home/alice/.ssh')).uid).toBe(aliceUid);

    expect(readFileSync(etc('hostname'), 'utf8')).toBe('workstation\n');
    expect(readFileSync(etc('locale.conf'), 'utf8')).toBe('LANG=de_DE.UTF-8\n');
    expect(readFileSync(etc('vconsole.conf'), 'utf8')).toBe('KEYMAP=de-nodeadkeys\nXKBLAYOUT=de\nXKBVARIANT=nodeadkeys\n');
    const xorg = readFileSync(etc('X11/xorg.conf.d/00-keyboard.conf'), 'utf8');
    expect(xorg).toContain('Option "XkbLayout" "de"');
    expect(xorg).toContain('Option "XkbVariant" "nodeadkeys"');
    expect(lstatSync(etc('localtime')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(etc('localtime'))).toBe('../usr/share/zoneinfo/Europe/Berlin');
    expect(readFileSync(etc('gdm/custom.conf'), 'utf8')).toContain('AutomaticLogin=alice\n');
    expect(readFileSync(etc('sddm.conf.d/autologin.conf'), 'utf8')).toBe('[Autologin]\nUser=alice\n');
    expect(statSync(etc('hostname')).mode & 0o777).toBe(0o644);
  });

  it('leaves nothing mounted when an action fails halfway', async () => {
    const { deployment, stateVar } = fakeInstall();
    const request = AnswerFileSchema.parse({ version: 1, disk: { path: '/dev/vda' }, layout: { type: 'erase' }, image: { reference: 'x' }, users: [{ name: 'carol' }] });
    const actions = configureActions(request, {});
    // Fail right after the bind mount, before the plan's own umount.
    const failing: PlanAction[] = [...actions.slice(0, 2), { kind: 'run', argv: ['false'] }, ...actions.slice(2)];
    await expect(applyThenUnmount(failing, deployment, stateVar)).rejects.toThrow();
    expect(mounted(join(deployment, 'var'))).toBe(false);
  });
});
