import { describe, expect, it } from 'vitest';
import { AnswerFileSchema, ImageSchema, validateAnswerFile } from '../../src/shared/answer-file';
import type { EngineInfo, InstallerApi, OfferedImage } from '../../src/shared/api';
import type { Disk, DiskList, Partition } from '../../src/shared/disk';
import { branding } from '../../src/renderer/src/branding';
import { LOCALES } from '../../src/renderer/src/i18n/locales';
import { buildRequest, diskSelector, imageFor, SYSTEM_LOCALES } from '../../src/renderer/src/request';
import { createAppStore, type AppStore } from '../../src/renderer/src/store';
import { makeDisk } from '../support/make-disk';

const GiB = 1024 ** 3;
const KEY = 'cbdefghi-jklnrtuv-cbdefghi-jklnrtuv-cbdefghi-jklnrtuv-cbdefghi-jklnrtuv';
const INFO = (tpm2 = false): EngineInfo => ({ version: '1', protocol: 1, mode: 'demo', root: true, firmware: 'uefi', arch: 'x64', tpm2 });

function part(n: number, extra: Partial<Partition>): Partition {
  return { path: `/dev/nvme0n1p${n}`, name: `nvme0n1p${n}`, number: n, start: n * GiB, size: GiB, typeGuid: null, typeName: null, partLabel: null, fsType: 'ext4', label: null, uuid: `u${n}`, mountpoints: [], holders: [], os: null, ...extra };
}

const NVME = makeDisk({
  path: '/dev/nvme0n1',
  byIdPath: '/dev/disk/by-id/nvme-Samsung_SSD_980_PRO_1TB_S5GXNX0R123456',
  serial: 'S5GXNX0R123456',
  model: 'Samsung SSD 980 PRO 1TB',
  partitionTable: 'gpt',
  verdict: 'warn',
  partitions: [part(1, { typeGuid: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b', fsType: 'vfat' }), part(2, {}), part(3, { fsType: 'xfs' })],
});
const LOOP = makeDisk({ path: '/dev/loop7', type: 'loop', size: 20 * GiB });
const STICK_A = makeDisk({ path: '/dev/sdb', serial: '0123456789', removable: true });
const STICK_B = makeDisk({ path: '/dev/sdc', serial: '0123456789', removable: true });
const all: Disk[] = [NVME, LOOP, STICK_A, STICK_B];

function api(tpm2 = false, offeredImage?: OfferedImage): InstallerApi {
  const list: DiskList = { disks: all, minimumSize: 16 * GiB, allowLoop: true, probedAt: '2026-01-01T00:00:00Z' };
  return {
    getInfo: async () => ({ ok: true, value: { ...INFO(tpm2), ...(offeredImage ? { offeredImage } : {}) } }),
    listDisks: async () => ({ ok: true, value: list }),
    generateRecoveryKey: async () => ({ ok: true, value: { key: KEY } }),
    on: () => () => {},
  } as unknown as InstallerApi;
}

async function wizard(disk: string, tpm2 = false, offeredImage?: OfferedImage): Promise<AppStore> {
  const store = createAppStore({ api: api(tpm2, offeredImage), stepCount: 6, locale: 'de' });
  await store.getState().loadEngineInfo();
  await store.getState().loadDisks();
  store.getState().selectDisk(disk);
  const s = store.getState();
  s.setUserField('fullName', 'Jürgen Groß');
  s.setUserField('password', 'correct horse battery');
  s.setUserField('confirm', 'correct horse battery');
  s.setUserField('sshKeys', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl jg@laptop\n\n');
  return store;
}

const parse = (store: AppStore) => AnswerFileSchema.parse(buildRequest(store.getState()));

describe('buildRequest', () => {
  it('builds a valid erase request from the whole wizard', async () => {
    const store = await wizard('/dev/loop7');
    const req = buildRequest(store.getState());
    expect(validateAnswerFile(req)).toEqual({ ok: true, value: expect.anything() });
    expect(req).toMatchObject({
      version: 1,
      locale: 'de_DE.UTF-8',
      // The keyboard and time zone slices preselect from the language and the system; whatever they hold goes in.
      keyboard: store.getState().keyboard.choice,
      timezone: store.getState().timezone.selected,
      hostname: 'jurgen-pc',
      disk: { path: '/dev/loop7' },
      layout: { type: 'erase', filesystem: 'xfs', encryption: { type: 'none' }, swap: 'zram' },
      image: { reference: branding.defaultImage.reference, transport: branding.defaultImage.transport },
    });
    expect(req.users).toEqual([
      { name: 'jurgen', fullName: 'Jürgen Groß', password: 'correct horse battery', admin: true, autologin: false, sshKeys: [expect.stringMatching(/^ssh-ed25519 /)] },
    ]);
  });

  it('takes the keyboard variant and time zone as chosen', async () => {
    const store = await wizard('/dev/loop7');
    store.setState((s) => ({ keyboard: { ...s.keyboard, choice: { layout: 'de', variant: 'nodeadkeys' } }, timezone: { ...s.timezone, selected: 'Europe/Berlin' } }));
    expect(parse(store)).toMatchObject({ keyboard: { layout: 'de', variant: 'nodeadkeys' }, timezone: 'Europe/Berlin' });
  });

  it('maps every UI language to a system locale the schema accepts', async () => {
    expect(Object.keys(SYSTEM_LOCALES).sort()).toEqual(LOCALES.map((l) => l.code).sort());
    const store = await wizard('/dev/loop7');
    for (const { code } of LOCALES) {
      store.getState().setLocale(code);
      expect(parse(store).locale).toBe(SYSTEM_LOCALES[code]);
    }
    expect(SYSTEM_LOCALES.ar).toBe('ar_EG.UTF-8');
    expect(SYSTEM_LOCALES['pt-BR']).toBe('pt_BR.UTF-8');
  });

  it('builds a valid encrypted request with ext4 and no swap', async () => {
    const store = await wizard('/dev/loop7');
    store.getState().setStorage({ filesystem: 'ext4', encrypt: true, passphrase: 'long enough', confirm: 'long enough', swap: 'none' });
    expect(parse(store).layout).toEqual({ type: 'erase', filesystem: 'ext4', encryption: { type: 'luks2', passphrase: 'long enough' }, swap: 'none', growOnFirstBoot: false });
  });

  it('builds a valid TPM2 request with the confirmed recovery key', async () => {
    const store = await wizard('/dev/loop7', true);
    store.getState().setStorage({ encrypt: true, passphrase: 'long enough', confirm: 'long enough' });
    await store.getState().setTpm2(true);
    expect(parse(store).layout).toEqual({ type: 'erase', filesystem: 'xfs', swap: 'zram', growOnFirstBoot: false, encryption: { type: 'luks2-tpm2', passphrase: 'long enough', recoveryKey: KEY } });
  });

  it('builds a valid existing-partitions request naming the disk by id', async () => {
    const store = await wizard('/dev/nvme0n1');
    const s = store.getState();
    s.setStorage({ mode: 'existing' });
    s.setMount('/dev/nvme0n1p1', { mountpoint: '/boot/efi' });
    s.setMount('/dev/nvme0n1p2', { mountpoint: '/', format: true, filesystem: 'btrfs' });
    s.setMount('/dev/nvme0n1p3', { mountpoint: '/home' });
    const req = parse(store);
    expect(req.disk).toEqual({ byId: '/dev/disk/by-id/nvme-Samsung_SSD_980_PRO_1TB_S5GXNX0R123456' });
    expect(req.layout).toEqual({
      type: 'existing',
      mounts: [
        { partition: '/dev/nvme0n1p1', mountpoint: '/boot/efi', format: false },
        { partition: '/dev/nvme0n1p2', mountpoint: '/', format: true, filesystem: 'btrfs' },
        { partition: '/dev/nvme0n1p3', mountpoint: '/home', format: false },
      ],
    });
  });

  it('installs the offered image with the deployer the engine names', async () => {
    const store = await wizard('/dev/loop7', false, { reference: '/run/live/image', transport: 'oci', deployer: 'oci-rootfs' });
    const req = buildRequest(store.getState());
    expect(req.image).toEqual({ reference: '/run/live/image', transport: 'oci' });
    expect(req.deployer).toBe('oci-rootfs');
    expect(parse(store)).toMatchObject({ image: { reference: '/run/live/image', transport: 'oci' }, deployer: 'oci-rootfs' });
  });

  it('leaves the deployer to the answer file’s default when the engine names none', async () => {
    const plain = buildRequest((await wizard('/dev/loop7')).getState());
    expect(plain).not.toHaveProperty('deployer');
    const offered = buildRequest((await wizard('/dev/loop7', false, { reference: '/run/live/image', transport: 'oci' })).getState());
    expect(offered.image).toEqual({ reference: '/run/live/image', transport: 'oci' });
    expect(offered).not.toHaveProperty('deployer');
    expect(AnswerFileSchema.parse(offered).deployer).toBe('bootc');
  });

  it('leaves an unusable user for the engine to name instead of throwing', async () => {
    const store = await wizard('/dev/loop7');
    store.getState().setUserField('username', 'Root!');
    const r = validateAnswerFile(buildRequest(store.getState()));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.field)).toContain('users[0].name');
  });
});

describe('diskSelector', () => {
  it('prefers by-id, then a serial no other disk shares, then the path', () => {
    expect(diskSelector(NVME, all)).toEqual({ byId: NVME.byIdPath });
    expect(diskSelector({ ...NVME, byIdPath: null }, all)).toEqual({ serial: 'S5GXNX0R123456' });
    expect(diskSelector(STICK_A, all)).toEqual({ path: '/dev/sdb' });
    expect(diskSelector(LOOP, all)).toEqual({ path: '/dev/loop7' });
    // A by-id name the schema would refuse (a space) falls through to the next way.
    expect(diskSelector({ ...NVME, byIdPath: '/dev/disk/by-id/bad name' }, all)).toEqual({ serial: 'S5GXNX0R123456' });
  });
});

describe('imageFor', () => {
  it('prefers the image the engine offers', () => {
    expect(imageFor(null)).toEqual({ reference: branding.defaultImage.reference, transport: branding.defaultImage.transport });
    const offered = { reference: '/run/live/image', transport: 'oci' as const };
    expect(imageFor({ ...INFO(), offeredImage: offered })).toEqual(offered);
  });

  it('keeps the offer’s deployer out of the image, whose fields are strict', () => {
    const image = imageFor({ ...INFO(), offeredImage: { reference: '/run/live/image', transport: 'oci', deployer: 'oci-rootfs' } });
    expect(image).toEqual({ reference: '/run/live/image', transport: 'oci' });
    expect(ImageSchema.safeParse(image).success).toBe(true);
  });

  it('carries the offer’s registry image to update from (an embedded bootc image) into the request', async () => {
    const image = imageFor({ ...INFO(), offeredImage: { reference: '/run/live/image', transport: 'oci', deployer: 'bootc', targetImage: 'quay.io/example/os:42' } });
    expect(image).toEqual({ reference: '/run/live/image', transport: 'oci', targetImage: 'quay.io/example/os:42' });
    expect(ImageSchema.safeParse(image).success).toBe(true);
  });
});
