import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateAnswerFile } from '../../src/shared/answer-file';
import { answerFileSchemaText, SCHEMA_PATH } from '../../scripts/gen-schema';

const example = JSON.parse(readFileSync(new URL('../../docs/examples/erase-disk.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const minimal = {
  version: 1,
  disk: { path: '/dev/vda' },
  layout: { type: 'erase' },
  image: { reference: 'quay.io/fedora/fedora-bootc:42' },
};

function errorsOf(doc: unknown): string[] {
  const r = validateAnswerFile(doc);
  return r.ok ? [] : r.errors.map((e) => `${e.field}: ${e.message}`);
}

describe('answer file v1', () => {
  it('checked-in JSON Schema matches the zod source (run `npm run schema` when this fails)', () => {
    expect(readFileSync(SCHEMA_PATH, 'utf8')).toBe(answerFileSchemaText());
  });

  it('accepts the shipped example and fills defaults in a minimal file', () => {
    expect(errorsOf(example)).toEqual([]);
    const r = validateAnswerFile(minimal);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.locale).toBe('en_US.UTF-8');
    expect(r.value.timezone).toBe('UTC');
    expect(r.value.layout).toEqual({ type: 'erase', filesystem: 'xfs', encryption: { type: 'none' }, swap: 'zram', growOnFirstBoot: false });
    expect(r.value.image.transport).toBe('registry');
    expect(r.value.deployer).toBe('bootc');
    expect(r.value.bootloader).toBe('auto');
  });

  it('accepts the shipped oci-rootfs example (deployer, boot loader, growing, an OCI archive)', () => {
    const doc = JSON.parse(readFileSync(new URL('../../docs/examples/oci-rootfs-image.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    const r = validateAnswerFile(doc);
    expect(r.ok, JSON.stringify(r)).toBe(true);
    if (!r.ok) return;
    expect(r.value.deployer).toBe('oci-rootfs');
    expect(r.value.bootloader).toBe('grub');
    expect(r.value.image.transport).toBe('oci-archive');
    expect(r.value.layout.type === 'erase' && r.value.layout.growOnFirstBoot).toBe(true);
    expect(validateAnswerFile({ ...doc, deployer: 'rpm-ostree' }).ok).toBe(false);
    expect(validateAnswerFile({ ...doc, bootloader: 'lilo' }).ok).toBe(false);
  });

  it.each([
    [{ ...minimal, version: 2 }, 'version'],
    [{ ...minimal, hostname: 'bad_host!' }, 'hostname'],
    [{ ...minimal, timezone: 'Mars/Olympus Mons' }, 'timezone'],
    [{ ...minimal, disk: { path: '/dev/vda', serial: 'X' } }, 'disk'],
    [{ ...minimal, disk: { path: '/dev/../etc/passwd' } }, 'disk.path'],
    [{ ...minimal, layout: { type: 'erase', filesystem: 'ntfs' } }, 'layout.filesystem'],
    [{ ...minimal, layout: { type: 'erase', encryption: { type: 'luks2', passphrase: 'short' } } }, 'layout.encryption.passphrase'],
    [{ ...minimal, users: [{ name: 'Root User' }] }, 'users[0].name'],
    [{ ...minimal, users: [{ name: 'root' }] }, 'users[0].name'],
    [{ ...minimal, users: [{ name: 'a', fullName: 'x:y' }] }, 'users[0].fullName'],
    [{ ...minimal, users: [{ name: 'a', passwordHash: 'plain' }] }, 'users[0].passwordHash'],
    [{ ...minimal, users: [{ name: 'a' }, { name: 'a' }] }, 'users'],
    [{ ...minimal, image: { reference: '--privileged' } }, 'image.reference'],
    [{ ...minimal, image: { reference: 'a b' } }, 'image.reference'],
    [{ ...minimal, kernelArgs: ['quiet splash'] }, 'kernelArgs[0]'],
    [{ ...minimal, rootSshKeys: ['ssh-ed25519 AAAA\nrm -rf /'] }, 'rootSshKeys[0]'],
    [{ ...minimal, surprise: true }, '(root)'],
  ])('refuses a bad field and names it (%#: %s)', (doc, field) => {
    const errs = errorsOf(doc);
    expect(errs.length).toBeGreaterThan(0);
    expect(errs.some((e) => e.startsWith(`${field}:`))).toBe(true);
  });

  // What no one can type at a prompt: C0 and C1 controls (DEL, NEL, CSI too) and unpaired surrogates.
  const UNTYPABLE = ['line\nbreak', 'tab\there', 'nul\0here', 'esc\x1b[31m', 'del\x7fhere', 'nel\u0085here', 'csi\u009bhere', 'lone\ud800high', 'lone\udc00low', '\udc00\ud800'];
  const TYPABLE = ['correct horse battery', 'Ünïcødé pässwörd', 'пароль-пароль', '密码密码密码密码', 'emoji 🔐🔑 ok', 'a\u00a0nbsp\u2028'];

  it('refuses user passwords holding control characters or unpaired surrogates, with a clear message', () => {
    for (const password of UNTYPABLE) {
      const errs = errorsOf({ ...minimal, users: [{ name: 'ada', password }] });
      expect(errs, JSON.stringify(password)).toEqual([
        'users[0].password: must not contain control characters (line breaks, tabs, NUL) or unpaired surrogates: they cannot be typed at a login prompt',
      ]);
    }
    for (const password of TYPABLE) expect(errorsOf({ ...minimal, users: [{ name: 'ada', password }] }), password).toEqual([]);
  });

  it('refuses the same characters in a LUKS passphrase, and counts its length in code points', () => {
    const luks = (passphrase: string) => ({ ...minimal, layout: { type: 'erase', encryption: { type: 'luks2', passphrase } } });
    for (const p of UNTYPABLE) {
      expect(errorsOf(luks(`${p} long enough`)), JSON.stringify(p)).toEqual([
        'layout.encryption.passphrase: must not contain control characters (line breaks, tabs, NUL) or unpaired surrogates: they cannot be typed when the disk is unlocked',
      ]);
    }
    for (const p of TYPABLE) expect(errorsOf(luks(`${p} long enough`)), p).toEqual([]);
    // An emoji is two UTF-16 units but one code point: four are too few, 512 (1024 units) are not too many.
    expect(errorsOf(luks('🔐🔐🔐🔐'))).toEqual(['layout.encryption.passphrase: must be at least 8 characters']);
    expect(errorsOf(luks('🔐'.repeat(8)))).toEqual([]);
    expect(errorsOf(luks('🔐'.repeat(512)))).toEqual([]);
    expect(errorsOf(luks('🔐'.repeat(513))).map((e) => e.split(':')[0])).toEqual(['layout.encryption.passphrase']);
  });

  it('refuses a missing disk, layout and image, naming each', () => {
    const fields = errorsOf({ version: 1 }).map((e) => e.split(':')[0]);
    expect(fields).toEqual(expect.arrayContaining(['disk', 'layout', 'image']));
  });
});
