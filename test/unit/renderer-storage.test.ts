import { describe, expect, it } from 'vitest';
import type { EngineInfo, InstallerApi } from '../../src/shared/api';
import type { Disk, DiskList, Partition } from '../../src/shared/disk';
import { makeError, type Result } from '../../src/shared/errors';
import { createAppStore, storageErrors, storageValid } from '../../src/renderer/src/store';
import { PassphraseSchema } from '../../src/shared/answer-file';
import { RESOURCES } from '../../src/renderer/src/i18n';
import { LOCALES } from '../../src/renderer/src/i18n/locales';
import { DEFAULT_FIELDS, MAX_PASSPHRASE, MIN_PASSPHRASE, missingItems, recoveryConfirmed, toLayout, validateStorage, type StorageFields } from '../../src/renderer/src/storage/model';
import { makeDisk } from '../support/make-disk';

const GiB = 1024 ** 3;
const ESP = 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b';
const KEY = 'cbdefghi-jklnrtuv-cbdefghi-jklnrtuv-cbdefghi-jklnrtuv-cbdefghi-jklnrtuv';
const KEY2 = 'vvvvvvvv-uuuuuuuu-tttttttt-rrrrrrrr-nnnnnnnn-llllllll-kkkkkkkk-jjjjjjjj';

function part(n: number, extra: Partial<Partition>): Partition {
  return { path: `/dev/sda${n}`, name: `sda${n}`, number: n, start: n * GiB, size: GiB, typeGuid: null, typeName: null, partLabel: null, fsType: 'ext4', label: null, uuid: `uuid-${n}`, mountpoints: [], holders: [], os: null, ...extra };
}

const ESP_PART = part(1, { typeGuid: ESP, typeName: 'EFI System', fsType: 'vfat' });
const PARTED: Disk = makeDisk({ path: '/dev/sda', partitionTable: 'gpt', verdict: 'warn', partitions: [ESP_PART, part(2, {}), part(3, { fsType: 'xfs' }), part(4, { fsType: 'ntfs' })] });
const BLANK: Disk = makeDisk({ path: '/dev/vdb' });
const RECOVERY = { key: null, group: 0, typed: '' };
const INFO = (tpm2: boolean): EngineInfo => ({ version: '1', protocol: 1, mode: 'demo', root: true, firmware: 'uefi', arch: 'x64', tpm2 });

function fields(patch: Partial<StorageFields>): StorageFields {
  return { ...DEFAULT_FIELDS, ...patch };
}

describe('storage rules: erase', () => {
  it('accepts the defaults: xfs, no encryption, zram', () => {
    const e = validateStorage(DEFAULT_FIELDS, BLANK, false, RECOVERY);
    expect(missingItems(BLANK, e)).toEqual([]);
    expect(toLayout(DEFAULT_FIELDS, BLANK, false, RECOVERY)).toEqual({ type: 'erase', filesystem: 'xfs', encryption: { type: 'none' }, swap: 'zram' });
  });

  it('wants a passphrase of 8 or more characters, typed twice alike', () => {
    const empty = validateStorage(fields({ encrypt: true }), BLANK, false, RECOVERY);
    expect(empty.passphrase).toEqual([{ key: 'passphraseRequired' }]);
    expect(empty.confirm).toEqual([]);
    const short = validateStorage(fields({ encrypt: true, passphrase: 'seven77', confirm: 'seven77' }), BLANK, false, RECOVERY);
    expect(short.passphrase).toEqual([{ key: 'passphraseShort', params: { min: 8 } }]);
    const mismatch = validateStorage(fields({ encrypt: true, passphrase: 'long enough', confirm: 'long enougH' }), BLANK, false, RECOVERY);
    expect(mismatch.passphrase).toEqual([]);
    expect(mismatch.confirm).toEqual([{ key: 'passphraseMismatch' }]);
    expect(missingItems(BLANK, mismatch)).toEqual(['confirm']);
    const unconfirmed = validateStorage(fields({ encrypt: true, passphrase: 'long enough' }), BLANK, false, RECOVERY);
    expect(unconfirmed.confirm).toEqual([{ key: 'confirmRequired' }]);
    const ok = validateStorage(fields({ encrypt: true, passphrase: 'long enough', confirm: 'long enough' }), BLANK, false, RECOVERY);
    expect(missingItems(BLANK, ok)).toEqual([]);
  });

  it('counts characters, not UTF-16 units, and caps at 512', () => {
    const emoji = '🔐🔐🔐🔐🔐🔐🔐'; // 7 characters, 14 code units
    expect(validateStorage(fields({ encrypt: true, passphrase: emoji, confirm: emoji }), BLANK, false, RECOVERY).passphrase[0]?.key).toBe('passphraseShort');
    const long = 'x'.repeat(513);
    expect(validateStorage(fields({ encrypt: true, passphrase: long, confirm: long }), BLANK, false, RECOVERY).passphrase[0]?.key).toBe('passphraseLong');
    expect([MIN_PASSPHRASE, MAX_PASSPHRASE]).toEqual([8, 512]);
  });

  it('agrees with the engine: a passphrase passes the wizard exactly when the shared schema accepts it', () => {
    const keys = (p: string) => validateStorage(fields({ encrypt: true, passphrase: p, confirm: p }), BLANK, false, RECOVERY).passphrase.map((e) => e.key);
    const cases: Array<[string, string[]]> = [
      ['long enough', []],
      ['🔐'.repeat(300), []], // 300 characters, 600 UTF-16 units: within 512 for both
      ['🔐'.repeat(512), []],
      ['🔐'.repeat(513), ['passphraseLong']],
      ['🔐🔐🔐🔐', ['passphraseShort']], // 8 UTF-16 units, but 4 characters
      ['x'.repeat(600), ['passphraseLong']],
      ['tab\tin the middle', ['passphraseUntypable']],
      ['line\nbreak here', ['passphraseUntypable']],
      ['nul\0in the middle', ['passphraseUntypable']],
      ['next line \u0085 (C1)', ['passphraseUntypable']],
      ['lone \ud83d surrogate', ['passphraseUntypable']],
      ['\t', ['passphraseShort', 'passphraseUntypable']],
      [`${'x'.repeat(600)}\n`, ['passphraseLong', 'passphraseUntypable']],
    ];
    for (const [p, want] of cases) {
      expect(keys(p), JSON.stringify(p.slice(0, 24))).toEqual(want);
      expect(PassphraseSchema.safeParse(p).success, JSON.stringify(p.slice(0, 24))).toBe(want.length === 0);
    }
  });

  it('translates the refusal of untypable characters in every language', () => {
    for (const { code } of LOCALES) expect(RESOURCES[code].storage.errors.passphraseUntypable, code).toMatch(/\S/);
    for (const { code } of LOCALES.filter((l) => l.code !== 'en')) expect(RESOURCES[code].storage.errors.passphraseUntypable, code).not.toBe(RESOURCES.en.storage.errors.passphraseUntypable);
  });

  it('refuses a swap partition next to an encrypted root, as the planner does', () => {
    const e = validateStorage(fields({ encrypt: true, passphrase: 'long enough', confirm: 'long enough', swap: 'partition' }), BLANK, false, RECOVERY);
    expect(e.swap).toEqual([{ key: 'swapUnencrypted' }]);
    expect(validateStorage(fields({ swap: 'partition' }), BLANK, false, RECOVERY).swap).toEqual([]);
  });

  it('ignores the passphrase while encryption is off', () => {
    const f = fields({ encrypt: false, passphrase: 'x', confirm: 'y' });
    expect(missingItems(BLANK, validateStorage(f, BLANK, false, RECOVERY))).toEqual([]);
    expect(toLayout(f, BLANK, false, RECOVERY)).toMatchObject({ encryption: { type: 'none' } });
  });

  it('names a missing disk first', () => {
    expect(missingItems(null, validateStorage(DEFAULT_FIELDS, null, false, RECOVERY))).toEqual(['disk']);
  });
});

describe('storage rules: TPM2 and the recovery key', () => {
  const tpm = fields({ encrypt: true, tpm2: true, passphrase: 'long enough', confirm: 'long enough' });

  it('uses luks2-tpm2 only when the engine has a TPM2', () => {
    expect(toLayout(tpm, BLANK, false, RECOVERY)).toMatchObject({ encryption: { type: 'luks2', passphrase: 'long enough' } });
    expect(missingItems(BLANK, validateStorage(tpm, BLANK, false, RECOVERY))).toEqual([]);
    expect(toLayout(tpm, BLANK, true, { key: KEY, group: 2, typed: 'cbdefghi' })).toEqual({
      type: 'erase',
      filesystem: 'xfs',
      swap: 'zram',
      encryption: { type: 'luks2-tpm2', passphrase: 'long enough', recoveryKey: KEY },
    });
  });

  it('requires the asked-for group typed back before Next', () => {
    expect(validateStorage(tpm, BLANK, true, RECOVERY).recovery).toEqual([{ key: 'recoveryMissing' }]);
    expect(validateStorage(tpm, BLANK, true, { key: KEY, group: 2, typed: '' }).recovery).toEqual([{ key: 'recoveryRequired', params: { group: 3 } }]);
    expect(validateStorage(tpm, BLANK, true, { key: KEY, group: 2, typed: 'jklnrtuv' }).recovery).toEqual([{ key: 'recoveryMismatch', params: { group: 3 } }]);
    const e = validateStorage(tpm, BLANK, true, { key: KEY, group: 2, typed: 'cbdefghi' });
    expect(missingItems(BLANK, e)).toEqual([]);
  });

  it('accepts the group with spaces and in capitals', () => {
    expect(recoveryConfirmed({ key: KEY, group: 1, typed: ' JKLN RTUV ' })).toBe(true);
    expect(recoveryConfirmed({ key: KEY, group: 1, typed: 'jklnrtu' })).toBe(false);
    expect(recoveryConfirmed({ key: 'not a key', group: 0, typed: 'not' })).toBe(false);
  });
});

describe('storage rules: existing partitions', () => {
  const map = (mounts: StorageFields['mounts']) => fields({ mode: 'existing', mounts });
  const errorsOf = (f: StorageFields, disk: Disk = PARTED) => validateStorage(f, disk, false, RECOVERY);

  it('requires a partition for /', () => {
    const e = errorsOf(map({ '/dev/sda2': { mountpoint: '/home', format: false, filesystem: 'xfs' } }));
    expect(e.mapping).toEqual([{ key: 'rootRequired' }]);
    expect(missingItems(PARTED, e)).toEqual(['root']);
  });

  it('refuses two partitions on one mountpoint, naming both', () => {
    const e = errorsOf(map({ '/dev/sda2': { mountpoint: '/', format: true, filesystem: 'ext4' }, '/dev/sda3': { mountpoint: '/', format: false, filesystem: 'xfs' } }));
    expect(e.partitions['/dev/sda2']).toEqual([{ key: 'duplicateMountpoint', params: { mountpoint: '/' } }]);
    expect(e.partitions['/dev/sda3']).toEqual([{ key: 'duplicateMountpoint', params: { mountpoint: '/' } }, { key: 'keepRootClears' }]);
    expect(missingItems(PARTED, e)).toEqual(['partitions']);
  });

  it('allows only an ESP, in vfat, on /boot/efi, and vfat nowhere else', () => {
    const notEsp = errorsOf(map({ '/dev/sda2': { mountpoint: '/', format: true, filesystem: 'xfs' }, '/dev/sda3': { mountpoint: '/boot/efi', format: true, filesystem: 'xfs' } }));
    expect(notEsp.partitions['/dev/sda3']).toEqual([{ key: 'notEsp' }, { key: 'espVfat' }]);
    const vfatRoot = errorsOf(map({ '/dev/sda2': { mountpoint: '/', format: true, filesystem: 'vfat' } }));
    expect(vfatRoot.partitions['/dev/sda2']).toEqual([{ key: 'vfatOnlyEsp', params: { mountpoint: '/' } }]);
    const ok = errorsOf(map({ '/dev/sda1': { mountpoint: '/boot/efi', format: false, filesystem: 'vfat' }, '/dev/sda2': { mountpoint: '/', format: true, filesystem: 'btrfs' } }));
    expect(missingItems(PARTED, ok)).toEqual([]);
  });

  it('keeps / (installed alongside) but not a file system the engine cannot use', () => {
    const keepRoot = errorsOf(map({ '/dev/sda3': { mountpoint: '/', format: false, filesystem: 'xfs' }, '/dev/sda1': { mountpoint: '/boot/efi', format: true, filesystem: 'vfat' } }));
    expect(missingItems(PARTED, keepRoot)).toEqual([]);
    // bootc's --replace=alongside empties the ESP and /boot: keeping / needs both formatted.
    const keptEsp = errorsOf(map({ '/dev/sda3': { mountpoint: '/', format: false, filesystem: 'xfs' }, '/dev/sda1': { mountpoint: '/boot/efi', format: false, filesystem: 'vfat' } }));
    expect(keptEsp.partitions['/dev/sda3']).toEqual([{ key: 'keepRootClears' }]);
    const noEspMapped = errorsOf(map({ '/dev/sda3': { mountpoint: '/', format: false, filesystem: 'xfs' } }));
    expect(noEspMapped.partitions['/dev/sda3']).toEqual([{ key: 'keepRootClears' }]);
    const keptBoot = errorsOf(map({ '/dev/sda3': { mountpoint: '/', format: false, filesystem: 'xfs' }, '/dev/sda1': { mountpoint: '/boot/efi', format: true, filesystem: 'vfat' }, '/dev/sda2': { mountpoint: '/boot', format: false, filesystem: 'ext4' } }));
    expect(keptBoot.partitions['/dev/sda3']).toEqual([{ key: 'keepRootClears' }]);
    const ntfs = errorsOf(map({ '/dev/sda2': { mountpoint: '/', format: true, filesystem: 'xfs' }, '/dev/sda4': { mountpoint: '/home', format: false, filesystem: 'xfs' } }));
    expect(ntfs.partitions['/dev/sda4']).toEqual([{ key: 'keepUnsupported', params: { filesystem: 'ntfs' } }]);
    const formatted = errorsOf(map({ '/dev/sda2': { mountpoint: '/', format: true, filesystem: 'xfs' }, '/dev/sda4': { mountpoint: '/home', format: true, filesystem: 'ext4' } }));
    expect(missingItems(PARTED, formatted)).toEqual([]);
  });

  it('on a BIOS machine, wants a BIOS boot partition on a GPT disk', () => {
    const mapping = map({ '/dev/sda2': { mountpoint: '/', format: true, filesystem: 'xfs' }, '/dev/sda1': { mountpoint: '/boot/efi', format: true, filesystem: 'vfat' } });
    expect(validateStorage(mapping, PARTED, false, RECOVERY, 'bios').mapping).toEqual([{ key: 'noBiosBoot' }]);
    expect(validateStorage(mapping, PARTED, false, RECOVERY, 'uefi').mapping).toEqual([]);
    const withBiosBoot: Disk = { ...PARTED, partitions: [...PARTED.partitions, { ...PARTED.partitions[1]!, path: '/dev/sda5', name: 'sda5', number: 5, typeGuid: '21686148-6449-6E6F-744E-656564454649', fsType: null, uuid: null }] };
    expect(validateStorage(mapping, withBiosBoot, false, RECOVERY, 'bios').mapping).toEqual([]);
  });

  it('refuses mounted partitions and disks without an ESP', () => {
    const mounted: Disk = { ...PARTED, partitions: PARTED.partitions.map((p) => (p.path === '/dev/sda2' ? { ...p, mountpoints: ['/mnt'] } : p)) };
    expect(errorsOf(map({ '/dev/sda2': { mountpoint: '/', format: true, filesystem: 'xfs' } }), mounted).partitions['/dev/sda2']).toEqual([{ key: 'inUse', params: { mountpoints: '/mnt' } }]);
    const noEsp: Disk = { ...PARTED, partitions: PARTED.partitions.slice(1) };
    expect(errorsOf(map({ '/dev/sda2': { mountpoint: '/', format: true, filesystem: 'xfs' } }), noEsp).mapping).toEqual([{ key: 'noEsp' }]);
  });

  it('is not offered for a disk without partitions: the layout falls back to erase', () => {
    const f = map({});
    expect(missingItems(BLANK, errorsOf(f, BLANK))).toEqual([]);
    expect(toLayout(f, BLANK, false, RECOVERY)).toMatchObject({ type: 'erase' });
  });

  it('turns the mapping into the request: filesystem only when formatting, vfat for the ESP', () => {
    const f = map({
      '/dev/sda1': { mountpoint: '/boot/efi', format: true, filesystem: 'vfat' },
      '/dev/sda2': { mountpoint: '/', format: true, filesystem: 'btrfs' },
      '/dev/sda3': { mountpoint: '/home', format: false, filesystem: 'xfs' },
      '/dev/sda4': { mountpoint: null, format: true, filesystem: 'xfs' },
      '/dev/other9': { mountpoint: '/', format: true, filesystem: 'xfs' },
    });
    expect(toLayout(f, PARTED, false, RECOVERY)).toEqual({
      type: 'existing',
      mounts: [
        { partition: '/dev/sda1', mountpoint: '/boot/efi', format: true, filesystem: 'vfat' },
        { partition: '/dev/sda2', mountpoint: '/', format: true, filesystem: 'btrfs' },
        { partition: '/dev/sda3', mountpoint: '/home', format: false },
      ],
    });
  });
});

/** A fake engine: disks, info and recovery keys from queues. */
function fakeApi(disks: DiskList, tpm2: boolean, keys: Array<Result<{ key: string }>>): InstallerApi {
  return {
    getInfo: async () => ({ ok: true, value: INFO(tpm2) }),
    listDisks: async () => ({ ok: true, value: disks }),
    generateRecoveryKey: async () => keys.shift() ?? { ok: false, error: makeError('internal', 'generateRecoveryKey is not implemented yet') },
    on: () => () => {},
  } as unknown as InstallerApi;
}

const LIST: DiskList = { disks: [PARTED, BLANK], minimumSize: 16 * GiB, allowLoop: true, probedAt: '2026-01-01T00:00:00Z' };

describe('storage slice', () => {
  async function store(tpm2: boolean, keys: Array<Result<{ key: string }>> = []) {
    const s = createAppStore({ api: fakeApi(LIST, tpm2, keys), stepCount: 6 });
    await s.getState().loadEngineInfo();
    await s.getState().loadDisks();
    return s;
  }

  it('is invalid without a disk and valid with the defaults once one is chosen', async () => {
    const s = await store(false);
    expect(storageValid(s.getState())).toBe(false);
    s.getState().selectDisk('/dev/vdb');
    expect(storageValid(s.getState())).toBe(true);
    s.getState().setStorage({ encrypt: true, passphrase: 'long enough' });
    expect(storageValid(s.getState())).toBe(false);
    s.getState().setStorage({ confirm: 'long enough' });
    expect(storageValid(s.getState())).toBe(true);
  });

  it('maps partitions of the chosen disk only; picking /boot/efi makes it vfat', async () => {
    const s = await store(false);
    s.getState().setMount('/dev/sda2', { mountpoint: '/' });
    expect(s.getState().storage.fields.mounts).toEqual({});
    s.getState().selectDisk('/dev/sda');
    s.getState().setStorage({ mode: 'existing' });
    expect(storageErrors(s.getState()).mapping).toEqual([{ key: 'rootRequired' }]);
    s.getState().setMount('/dev/sda2', { mountpoint: '/', format: true });
    s.getState().setMount('/dev/sda1', { mountpoint: '/boot/efi' });
    expect(s.getState().storage.fields.mounts['/dev/sda1']).toEqual({ mountpoint: '/boot/efi', format: false, filesystem: 'vfat' });
    expect(storageValid(s.getState())).toBe(true);
    s.getState().setMount('/dev/sda1', { mountpoint: '/home' });
    expect(s.getState().storage.fields.mounts['/dev/sda1']?.filesystem).toBe('xfs');
  });

  it('fetches a recovery key when TPM2 is turned on and asks for one group of it', async () => {
    const s = await store(true, [{ ok: true, value: { key: KEY } }, { ok: true, value: { key: KEY2 } }]);
    s.getState().selectDisk('/dev/vdb');
    s.getState().setStorage({ encrypt: true, passphrase: 'long enough', confirm: 'long enough' });
    await s.getState().setTpm2(true);
    const r = s.getState().storage.recovery;
    expect(r).toMatchObject({ key: KEY, typed: '', loading: false, error: null });
    expect(r.group).toBeGreaterThanOrEqual(0);
    expect(r.group).toBeLessThan(8);
    expect(storageValid(s.getState())).toBe(false);
    s.getState().setRecoveryTyped('wrongwrg');
    expect(storageErrors(s.getState()).recovery[0]?.key).toBe('recoveryMismatch');
    s.getState().setRecoveryTyped(KEY.split('-')[r.group]!);
    expect(storageValid(s.getState())).toBe(true);
    // Off and on again keeps the key; a new key needs a new confirmation.
    await s.getState().setTpm2(false);
    await s.getState().setTpm2(true);
    expect(s.getState().storage.recovery.key).toBe(KEY);
    await s.getState().loadRecoveryKey();
    expect(s.getState().storage.recovery).toMatchObject({ key: KEY2, typed: '' });
    expect(storageValid(s.getState())).toBe(false);
  });

  it('keeps the engine error when no key can be made, and blocks Next', async () => {
    const s = await store(true);
    s.getState().selectDisk('/dev/vdb');
    s.getState().setStorage({ encrypt: true, passphrase: 'long enough', confirm: 'long enough' });
    await s.getState().setTpm2(true);
    expect(s.getState().storage.recovery.error?.message).toContain('not implemented');
    expect(storageErrors(s.getState()).recovery).toEqual([{ key: 'recoveryMissing' }]);
  });

  it('without a TPM2 the option is ignored and plain LUKS2 is valid', async () => {
    const s = await store(false);
    s.getState().selectDisk('/dev/vdb');
    s.getState().setStorage({ encrypt: true, passphrase: 'long enough', confirm: 'long enough' });
    await s.getState().setTpm2(true);
    expect(storageValid(s.getState())).toBe(true);
  });
});
