import { describe, expect, it } from 'vitest';
import type { AnswerFileInput } from '../../src/shared/answer-file';
import type { EngineInfo, InstallerApi } from '../../src/shared/api';
import type { DiskList } from '../../src/shared/disk';
import { makeError } from '../../src/shared/errors';
import type { InstallPlan, PlannedPartition } from '../../src/shared/install';
import { formatSize } from '../../src/renderer/src/format';
import { createI18n } from '../../src/renderer/src/i18n';
import { createAppStore } from '../../src/renderer/src/store';
import { describePlan, omittedSecret, planProblems, stepForField, type Translate } from '../../src/renderer/src/summary/describe';
import { makeDisk } from '../support/make-disk';

const GiB = 1024 ** 3;
const TB = 1000 ** 4;

function p(number: number, content: PlannedPartition['content'], mountpoint: string | null, size: number | null): PlannedPartition {
  return { number, path: `/dev/nvme0n1p${number}`, label: '', typeGuid: '', size, content, mountpoint, uuid: 'u' };
}

function plan(layout: InstallPlan['layout'], partitions: PlannedPartition[]): InstallPlan {
  return {
    id: 'plan-1',
    createdAt: '2026-01-01T00:00:00Z',
    disk: { path: '/dev/nvme0n1', serial: 'S5', wwn: null, size: TB, byIdPath: null, diskSeq: null, ptUuid: null },
    firmware: 'uefi',
    arch: 'x64',
    layout,
    partitions,
    kernelArgs: [],
    sourceImgref: 'docker://x',
    targetImgref: null,
    steps: [],
    pointOfNoReturn: 0,
    summary: ['Erase the disk (English, never shown)'],
    warnings: [],
  };
}

const ERASE_PLAN = plan('erase', [p(1, 'bios-boot', null, 1024 ** 2), p(2, 'vfat', '/boot/efi', GiB), p(3, 'ext4', '/boot', GiB), p(4, 'luks2', '/', null)]);
const ENCRYPTED: AnswerFileInput = {
  version: 1,
  disk: { path: '/dev/nvme0n1' },
  layout: { type: 'erase', filesystem: 'ext4', encryption: { type: 'luks2', passphrase: 'long enough' }, swap: 'none' },
  image: { reference: 'x' },
};

function translator(locale: 'en' | 'de'): { t: Translate; size: (b: number) => string } {
  const i18n = createI18n(locale);
  const t = i18n.t.bind(i18n) as unknown as Translate;
  return { t, size: (b) => formatSize(b, locale, (u) => t(`units.${u}`)) };
}

describe('describePlan', () => {
  it('says in English what is erased, naming the disk, with a table of partitions', () => {
    const { t, size } = translator('en');
    const d = describePlan({ plan: ERASE_PLAN, request: ENCRYPTED, diskModel: 'Samsung 980 PRO', t, formatSize: size });
    expect(d.tone).toBe('danger');
    expect(d.headline).toBe('Erase Samsung 980 PRO, 931\u00a0GiB (nvme0n1): everything on it will be lost.');
    expect(d.details).toEqual([
      'The system uses the ext4 file system.',
      'The system is encrypted (LUKS2); you type the passphrase at every start.',
      'No swap space is set up.',
      'This computer starts in UEFI mode.',
    ]);
    expect(d.rows).toEqual([
      { number: 1, path: '/dev/nvme0n1p1', size: '1\u00a0MiB', content: 'BIOS boot', mountpoint: null, encrypted: false },
      { number: 2, path: '/dev/nvme0n1p2', size: '1\u00a0GiB', content: 'EFI system, FAT (vfat)', mountpoint: 'the EFI system partition (/boot/efi)', encrypted: false },
      { number: 3, path: '/dev/nvme0n1p3', size: '1\u00a0GiB', content: 'ext4', mountpoint: 'boot files (/boot)', encrypted: false },
      { number: 4, path: '/dev/nvme0n1p4', size: 'Rest of the disk', content: 'Encrypted (LUKS2), ext4 inside', mountpoint: 'the system (/)', encrypted: true },
    ]);
    expect(d.headline).not.toContain('never shown');
  });

  it('says the same in German', () => {
    const { t, size } = translator('de');
    const d = describePlan({ plan: ERASE_PLAN, request: ENCRYPTED, diskModel: 'Samsung 980 PRO', t, formatSize: size });
    expect(d.headline).toBe('Samsung 980 PRO, 931\u00a0GiB (nvme0n1) wird gelöscht: Alles darauf geht verloren.');
    expect(d.details[1]).toBe('Das System wird verschlüsselt (LUKS2); Sie geben die Passphrase bei jedem Start ein.');
    expect(d.rows[3]).toMatchObject({ size: 'Rest der Festplatte', content: 'Verschlüsselt (LUKS2), darin ext4', mountpoint: 'das System (/)' });
  });

  it('falls back to words for a disk without a model, and covers TPM2 and zram', () => {
    const { t, size } = translator('en');
    const request: AnswerFileInput = { ...ENCRYPTED, layout: { type: 'erase', encryption: { type: 'luks2-tpm2', passphrase: 'long enough' } } };
    const d = describePlan({ plan: { ...ERASE_PLAN, firmware: 'bios' }, request, diskModel: null, t, formatSize: size });
    expect(d.headline).toBe('Erase the disk, 931\u00a0GiB (nvme0n1): everything on it will be lost.');
    expect(d.details).toContain('The system uses the XFS file system.');
    expect(d.details).toContain('Swap uses compressed memory (zram).');
    expect(d.details.some((x) => x.includes('TPM2'))).toBe(true);
    expect(d.details).toContain('This computer starts in BIOS (legacy) mode.');
  });

  it('describes existing partitions: what is formatted, what is kept, no table', () => {
    const { t, size } = translator('en');
    const request: AnswerFileInput = {
      ...ENCRYPTED,
      layout: {
        type: 'existing',
        mounts: [
          { partition: '/dev/nvme0n1p1', mountpoint: '/boot/efi', format: false },
          { partition: '/dev/nvme0n1p3', mountpoint: '/', format: false },
          { partition: '/dev/nvme0n1p4', mountpoint: '/home', format: true, filesystem: 'xfs' },
        ],
      },
    };
    const existing = plan('existing', [p(1, 'vfat', '/boot/efi', GiB), p(3, 'btrfs', '/', 100 * GiB), p(4, 'xfs', '/home', 200 * GiB)]);
    const d = describePlan({ plan: existing, request, diskModel: 'Samsung 980 PRO', t, formatSize: size });
    expect(d.tone).toBe('danger');
    expect(d.headline).toContain('the partitions to be formatted will be erased');
    expect(d.details).toEqual([
      'nvme0n1p1 keeps its contents and is used for the EFI system partition (/boot/efi).',
      'nvme0n1p3 keeps its contents and is used for the system (/).',
      'The new system is installed alongside the files already on nvme0n1p3.',
      'nvme0n1p4 is formatted as XFS and used for personal files (/home); what it holds now is erased.',
      'Other partitions on the disk are not changed.',
      'This computer starts in UEFI mode.',
    ]);
    expect(d.rows).toEqual([]);
    const keepAll = describePlan({ plan: existing, request: { ...request, layout: { type: 'existing', mounts: [{ partition: '/dev/nvme0n1p3', mountpoint: '/', format: false }] } }, diskModel: null, t, formatSize: size });
    expect(keepAll.tone).toBe('notice');
  });
});

describe('plan warnings', () => {
  const warning = (message: string) => ({ id: 'luks-keymap-default' as const, message, when: [{ path: '/t/bin/setupcon', test: 'missing' as const }], checkBefore: 'bootloader' as const });

  it('shows each kind once, translated, and none for a plan without', () => {
    const withWarnings = { ...ERASE_PLAN, warnings: [warning('initramfs-tools without console-setup'), warning('dracut without kbd')] };
    const en = describePlan({ plan: withWarnings, request: ENCRYPTED, diskModel: null, t: translator('en').t, formatSize: translator('en').size });
    expect(en.warnings).toEqual([expect.stringMatching(/^If the system image cannot load your keyboard layout before the system starts \(it lacks console-setup or kbd\)/)]);
    const de = describePlan({ plan: withWarnings, request: ENCRYPTED, diskModel: null, t: translator('de').t, formatSize: translator('de').size });
    expect(de.warnings).toEqual([expect.stringMatching(/^Kann das Systemabbild Ihre Tastaturbelegung nicht/)]);
    expect(describePlan({ plan: ERASE_PLAN, request: ENCRYPTED, diskModel: null, t: translator('en').t, formatSize: translator('en').size }).warnings).toEqual([]);
  });
});

describe('planning errors', () => {
  it('turns field errors into problems with the step to fix them on', () => {
    const e = makeError('invalid-answer-file', 'The request is not valid: …', { detail: 'users[0].name: is reserved for the system\nlayout.encryption.passphrase: must be at least 8 characters\nhostname: bad' });
    expect(planProblems(e)).toEqual([
      { field: 'users[0].name', message: 'is reserved for the system', step: 'users' },
      { field: 'layout.encryption.passphrase', message: 'must be at least 8 characters', step: 'disk' },
      { field: 'hostname', message: 'bad', step: 'users' },
    ]);
    // The planner's own refusals name only the field.
    expect(planProblems(makeError('invalid-answer-file', 'layout.swap: a swap partition…', { detail: 'layout.swap' }))).toEqual([{ field: 'layout.swap', message: 'layout.swap: a swap partition…', step: 'disk' }]);
  });

  it('sends a refused or vanished disk back to the Disk step', () => {
    expect(planProblems(makeError('disk-refused', '/dev/sda cannot be installed to'))).toEqual([{ field: 'disk', message: '/dev/sda cannot be installed to', step: 'disk' }]);
    expect(planProblems(makeError('internal', 'boom'))).toEqual([{ field: null, message: 'boom', step: null }]);
    expect(['locale', 'keyboard.layout', 'timezone', 'disk.path', 'image.reference'].map(stepForField)).toEqual(['language', 'keyboard', 'timezone', 'disk', null]);
  });

  it('names omitted secrets in words', () => {
    const { t } = translator('en');
    expect(omittedSecret(t, 'layout.encryption.passphrase')).toBe('the encryption passphrase');
    expect(omittedSecret(t, 'layout.encryption.recoveryKey')).toBe('the recovery key');
    expect(omittedSecret(t, 'users[0].password')).toBe('a password');
    expect(omittedSecret(t, 'something.else')).toBe('something.else');
  });
});

describe('summary slice', () => {
  const INFO: EngineInfo = { version: '1', protocol: 1, mode: 'demo', root: true, firmware: 'uefi', arch: 'x64', tpm2: false };
  const LIST: DiskList = { disks: [makeDisk({ path: '/dev/loop0', type: 'loop', size: 20 * GiB })], minimumSize: 16 * GiB, allowLoop: true, probedAt: 'x' };

  function api(calls: string[], planResult: () => unknown) {
    return {
      getInfo: async () => ({ ok: true, value: INFO }),
      listDisks: async () => ({ ok: true, value: LIST }),
      planInstall: async ({ request }: { request: unknown }) => {
        calls.push(`plan:${JSON.stringify((request as AnswerFileInput).layout)}`);
        return planResult();
      },
      inspectImage: async () => ({ ok: false, error: makeError('internal', 'inspectImage is not implemented yet') }),
      exportAnswerFile: async () => ({ ok: true, value: { text: '{"version":1}', omitted: ['layout.encryption.passphrase'] } }),
      listSaveTargets: async () => ({ ok: false, error: makeError('internal', 'listSaveTargets is not implemented yet') }),
      saveFile: async (params: unknown) => {
        calls.push(`save:${JSON.stringify(params)}`);
        return { ok: true, value: { fileName: 'answer.json', bytes: 13, contentBase64: 'eyJ2ZXJzaW9uIjoxfQ==' } };
      },
      startInstall: async () => {
        calls.push('startInstall');
        return { ok: false, error: makeError('internal', 'no') };
      },
      on: () => () => {},
    } as unknown as InstallerApi;
  }

  it('plans what the wizard holds now, keeps image errors non-fatal, and never starts an install', async () => {
    const calls: string[] = [];
    const store = createAppStore({ api: api(calls, () => ({ ok: true, value: ERASE_PLAN })), stepCount: 6 });
    await store.getState().loadEngineInfo();
    await store.getState().loadDisks();
    store.getState().selectDisk('/dev/loop0');
    const pending = store.getState().planSummary();
    expect(store.getState().summary).toMatchObject({ planning: true, plan: null });
    await pending;
    expect(store.getState().summary).toMatchObject({ planning: false, plan: { id: 'plan-1' }, planError: null, image: null, imageError: { code: 'internal' } });
    store.getState().setStorage({ swap: 'none' });
    await store.getState().planSummary();
    expect(calls).toEqual([expect.stringContaining('"swap":"zram"'), expect.stringContaining('"swap":"none"')]);
    expect(calls).not.toContain('startInstall');
  });

  it('keeps a planning error as data', async () => {
    const store = createAppStore({ api: api([], () => ({ ok: false, error: makeError('disk-refused', 'refused') })), stepCount: 6 });
    await store.getState().planSummary();
    expect(store.getState().summary).toMatchObject({ plan: null, planError: { code: 'disk-refused' } });
  });

  it('exports, offers a download when there are no removable targets, and saves what was exported', async () => {
    const calls: string[] = [];
    const store = createAppStore({ api: api(calls, () => ({ ok: true, value: ERASE_PLAN })), stepCount: 6 });
    expect(await store.getState().saveAnswerFile({ type: 'download' })).toBeNull();
    await store.getState().prepareExport();
    expect(store.getState().summary).toMatchObject({ exported: { omitted: ['layout.encryption.passphrase'] }, targets: [], exporting: false });
    const r = await store.getState().saveAnswerFile({ type: 'download' });
    expect(r?.fileName).toBe('answer.json');
    expect(calls).toContain('save:{"kind":"answer-file","text":"{\\"version\\":1}","target":{"type":"download"}}');
  });
});
