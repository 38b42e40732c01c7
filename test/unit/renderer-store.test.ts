import { describe, expect, it } from 'vitest';
import type { EngineInfo, InstallerApi } from '../../src/shared/api';
import type { Disk, DiskList } from '../../src/shared/disk';
import type { ImageInfo } from '../../src/shared/system';
import { makeError, type Result } from '../../src/shared/errors';
import { createAppStore, selectedDisk } from '../../src/renderer/src/store';
import { usableFirst } from '../../src/renderer/src/store/disks';
import { makeDisk } from '../support/make-disk';

const GiB = 1024 ** 3;

function disk(path: string, verdict: Disk['verdict']): Disk {
  return makeDisk({
    path,
    type: 'loop',
    verdict,
    reasons: verdict === 'ok' ? [] : [{ code: verdict === 'warn' ? 'existing-partitions' : 'mounted', message: 'x' }],
  });
}

const list = (...disks: Disk[]): DiskList => ({ disks, minimumSize: 16 * GiB, allowLoop: true, probedAt: '2026-01-01T00:00:00Z' });

const INFO: EngineInfo = { version: '0.1.0', protocol: 1, mode: 'demo', root: true, firmware: 'uefi', arch: 'x64', tpm2: false };

/** A fake engine answering from queues, so each test scripts exactly what the engine says. */
function fakeApi(answers: { info?: Result<EngineInfo>; disks?: Array<Result<DiskList> | Promise<Result<DiskList>>> }): InstallerApi {
  const disks = [...(answers.disks ?? [])];
  return {
    getInfo: async () => answers.info ?? { ok: true, value: INFO },
    listDisks: async () => disks.shift() ?? { ok: false, error: makeError('internal', 'no more answers') },
    validateAnswerFile: async () => ({ ok: true, value: { valid: true, errors: [] } }),
    on: () => () => {},
  } as unknown as InstallerApi;
}

describe('engine slice', () => {
  it('is ready with the engine info', async () => {
    const store = createAppStore({ api: fakeApi({}), stepCount: 2 });
    expect(store.getState().engine.status).toBe('connecting');
    await store.getState().loadEngineInfo();
    expect(store.getState().engine).toEqual({ status: 'ready', info: INFO, error: null });
  });

  it("preselects the image's own root filesystem (its bootc install config) unless one was picked, without waiting for it", async () => {
    let answer: (v: Result<ImageInfo>) => void = () => {};
    const asked: unknown[] = [];
    const api = {
      ...fakeApi({ info: { ok: true, value: { ...INFO, offeredImage: { reference: '/run/image', transport: 'oci' } } } }),
      inspectImage: (params: unknown) => {
        asked.push(params);
        return new Promise<Result<ImageInfo>>((r) => (answer = r));
      },
    } as unknown as InstallerApi;
    const store = createAppStore({ api, stepCount: 2 });
    await store.getState().loadEngineInfo();
    expect(store.getState().engine.status).toBe('ready');
    await Promise.resolve();
    expect(asked).toEqual([{ image: { reference: '/run/image', transport: 'oci' } }]);
    expect(store.getState().storage.fields.filesystem).toBe('xfs');
    answer({ ok: true, value: { reference: '/run/image', digest: null, signature: 'unknown', size: null, detail: '', rootFsType: 'btrfs' } });
    await new Promise((r) => setTimeout(r, 0));
    expect(store.getState().storage.fields.filesystem).toBe('btrfs');
    expect(store.getState().storage.imageFilesystem).toBe('btrfs');

    // Picked first: the person's choice stays.
    const picked = createAppStore({ api, stepCount: 2 });
    picked.getState().setStorage({ filesystem: 'ext4' });
    await picked.getState().loadEngineInfo();
    await Promise.resolve();
    answer({ ok: true, value: { reference: '/run/image', digest: null, signature: 'unknown', size: null, detail: '', rootFsType: 'btrfs' } });
    await new Promise((r) => setTimeout(r, 0));
    expect(picked.getState().storage.fields.filesystem).toBe('ext4');

    // An oci-rootfs image has no bootc install config: not asked.
    asked.length = 0;
    const rootfs = createAppStore({ api: { ...api, getInfo: async () => ({ ok: true, value: { ...INFO, offeredImage: { reference: '/run/image', transport: 'oci', deployer: 'oci-rootfs' } } }) } as InstallerApi, stepCount: 2 });
    await rootfs.getState().loadEngineInfo();
    await new Promise((r) => setTimeout(r, 0));
    expect(asked).toEqual([]);
  });

  it('is lost when getInfo fails or the engine goes away', async () => {
    const error = makeError('internal', 'gone', { kind: 'system' });
    const store = createAppStore({ api: fakeApi({ info: { ok: false, error } }), stepCount: 2 });
    await store.getState().loadEngineInfo();
    expect(store.getState().engine.status).toBe('lost');
    expect(store.getState().engine.error).toBe(error);

    const other = createAppStore({ api: fakeApi({}), stepCount: 2 });
    await other.getState().loadEngineInfo();
    other.getState().engineLost(error);
    expect(other.getState().engine).toMatchObject({ status: 'lost', error, info: INFO });
  });
});

describe('disks slice', () => {
  it('loads, shows loading meanwhile and keeps errors as data', async () => {
    const store = createAppStore({ api: fakeApi({ disks: [{ ok: false, error: makeError('command-failed', 'lsblk failed') }, { ok: true, value: list(disk('/dev/loop0', 'ok')) }] }), stepCount: 2 });
    const first = store.getState().loadDisks();
    expect(store.getState().disks.loading).toBe(true);
    await first;
    expect(store.getState().disks).toMatchObject({ loading: false, list: null, error: { code: 'command-failed' } });
    await store.getState().loadDisks();
    expect(store.getState().disks.error).toBeNull();
    expect(store.getState().disks.list?.disks).toHaveLength(1);
  });

  it('selects ok and warn disks but never refused or unknown ones', async () => {
    const store = createAppStore({
      api: fakeApi({ disks: [{ ok: true, value: list(disk('/dev/loop0', 'ok'), disk('/dev/loop1', 'warn'), disk('/dev/sda', 'refused')) }] }),
      stepCount: 2,
    });
    await store.getState().loadDisks();
    store.getState().selectDisk('/dev/sda');
    expect(store.getState().disks.selectedPath).toBeNull();
    store.getState().selectDisk('/dev/nope');
    expect(store.getState().disks.selectedPath).toBeNull();
    store.getState().selectDisk('/dev/loop1');
    expect(selectedDisk(store.getState())?.verdict).toBe('warn');
    store.getState().selectDisk('/dev/loop0');
    expect(store.getState().disks.selectedPath).toBe('/dev/loop0');
  });

  it('drops the selection when a rescan shows the disk gone or refused', async () => {
    const store = createAppStore({
      api: fakeApi({ disks: [{ ok: true, value: list(disk('/dev/loop0', 'ok'), disk('/dev/loop1', 'ok')) }, { ok: true, value: list(disk('/dev/loop0', 'refused'), disk('/dev/loop1', 'ok')) }] }),
      stepCount: 2,
    });
    await store.getState().loadDisks();
    store.getState().selectDisk('/dev/loop0');
    await store.getState().loadDisks();
    expect(store.getState().disks.selectedPath).toBeNull();
  });

  it('lets the newest rescan win when answers arrive out of order', async () => {
    let releaseSlow!: (r: Result<DiskList>) => void;
    const slow = new Promise<Result<DiskList>>((r) => (releaseSlow = r));
    const store = createAppStore({ api: fakeApi({ disks: [slow, { ok: true, value: list(disk('/dev/loop1', 'ok')) }] }), stepCount: 2 });
    const a = store.getState().loadDisks();
    await store.getState().loadDisks();
    releaseSlow({ ok: true, value: list(disk('/dev/loop0', 'ok')) });
    await a;
    expect(store.getState().disks.list?.disks.map((d) => d.path)).toEqual(['/dev/loop1']);
  });
});

describe('wizard and locale slices', () => {
  it('moves between steps within bounds', () => {
    const store = createAppStore({ api: fakeApi({}), stepCount: 3 });
    store.getState().goBack();
    expect(store.getState().wizard.stepIndex).toBe(0);
    for (let i = 0; i < 10; i++) store.getState().goNext();
    expect(store.getState().wizard.stepIndex).toBe(3 - 1);
    store.getState().goBack();
    expect(store.getState().wizard.stepIndex).toBe(3 - 2);
  });

  it('accepts only shipped locales', () => {
    const store = createAppStore({ api: fakeApi({}), stepCount: 2, locale: 'de' });
    expect(store.getState().locale).toBe('de');
    store.getState().setLocale('ar');
    expect(store.getState().locale).toBe('ar');
    store.getState().setLocale('xx' as never);
    expect(store.getState().locale).toBe('ar');
  });
});

describe('the Disk page lists usable disks first', () => {
  it('puts refused disks after the others, keeping the order within each group', () => {
    const d = (name: string, verdict: 'ok' | 'warn' | 'refused') => ({ name, verdict });
    expect(usableFirst([d('loop0', 'refused'), d('sda', 'warn'), d('loop1', 'refused'), d('vda', 'ok')]).map((x) => x.name)).toEqual(['sda', 'vda', 'loop0', 'loop1']);
    expect(usableFirst([])).toEqual([]);
  });
});
