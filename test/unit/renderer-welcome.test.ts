import { describe, expect, it } from 'vitest';
import type { EngineInfo, InstallerApi } from '../../src/shared/api';
import { makeError, type Result } from '../../src/shared/errors';
import type { RequirementCheck, Requirements } from '../../src/shared/system';
import { branding, type Branding } from '../../src/renderer/src/branding';
import { createAppStore } from '../../src/renderer/src/store';
import { filterLocales } from '../../src/renderer/src/welcome/languages';
import { requirementParams, requirementsGate } from '../../src/renderer/src/welcome/requirements';

const check = (id: RequirementCheck['id'], status: RequirementCheck['status']): RequirementCheck => ({ id, status, measured: null, required: null, message: '' });

const POLICY: Branding['requirements'] = {
  memory: { blocking: false, minimum: 2 * 1024 ** 3 },
  disk: { blocking: true },
  firmware: { blocking: true, require: 'uefi' },
  power: { blocking: false },
  network: { blocking: true },
};

describe('language search', () => {
  it('finds languages by native name, English name, UI-language name and code', () => {
    expect(filterLocales('deutsch', 'en').map((l) => l.code)).toEqual(['de']);
    expect(filterLocales('german', 'en').map((l) => l.code)).toEqual(['de']);
    expect(filterLocales('allemand', 'fr').map((l) => l.code)).toEqual(['de']);
    expect(filterLocales('arabic', 'en').map((l) => l.code)).toEqual(['ar']);
    expect(filterLocales('pt-br', 'en').map((l) => l.code)).toEqual(['pt-BR']);
    expect(filterLocales('portugues', 'en').map((l) => l.code)).toEqual(['pt-BR']);
    expect(filterLocales('日本', 'en').map((l) => l.code)).toEqual(['ja']);
    expect(filterLocales('', 'en')).toHaveLength(8);
    expect(filterLocales('klingon', 'en')).toEqual([]);
  });
});

describe('requirement gate', () => {
  const state = (checks: RequirementCheck[] | null, extra: Partial<{ loading: boolean; error: ReturnType<typeof makeError> }> = {}) => ({
    checks,
    loading: extra.loading ?? false,
    error: extra.error ?? null,
  });

  it('waits while checking', () => {
    expect(requirementsGate(state(null), POLICY)).toMatchObject({ kind: 'checking', canInstall: false });
    expect(requirementsGate(state([check('disk', 'ok')], { loading: true }), POLICY)).toMatchObject({ kind: 'checking', canInstall: false });
  });

  it('blocks on a failed blocking check only', () => {
    expect(requirementsGate(state([check('disk', 'failed'), check('memory', 'failed')]), POLICY)).toEqual({ kind: 'blocked', canInstall: false, ids: ['disk'] });
    expect(requirementsGate(state([check('memory', 'failed'), check('power', 'failed'), check('disk', 'ok')]), POLICY)).toEqual({ kind: 'warn', canInstall: true, ids: ['memory', 'power'] });
    // Not measured is a warning, never a block: nobody is locked out by a sensor that cannot be read.
    expect(requirementsGate(state([check('firmware', 'unknown')]), POLICY)).toEqual({ kind: 'warn', canInstall: true, ids: ['firmware'] });
    expect(requirementsGate(state([check('network', 'skipped'), check('disk', 'ok')]), POLICY)).toEqual({ kind: 'ok', canInstall: true });
  });

  it('lets the person go on after an engine error, even when an earlier answer blocked', () => {
    const error = makeError('internal', 'checkRequirements is not implemented yet');
    expect(requirementsGate(state(null, { error }), POLICY)).toEqual({ kind: 'error', canInstall: true });
    expect(requirementsGate(state([check('disk', 'failed')], { error }), POLICY)).toEqual({ kind: 'error', canInstall: true });
  });

  it('asks the engine with the branding’s thresholds and image', () => {
    const info: EngineInfo = { version: '0', protocol: 1, mode: 'demo', root: true, firmware: 'uefi', arch: 'x64', tpm2: false };
    expect(requirementParams(branding, info)).toEqual({
      minimumMemory: branding.requirements.memory.minimum,
      firmware: branding.requirements.firmware.require,
      image: branding.defaultImage,
    });
    const offered = { reference: 'oci:/run/live/image', transport: 'oci' as const };
    expect(requirementParams(branding, { ...info, offeredImage: offered }).image).toEqual(offered);
    // The image to check has strict fields: the offer's deployer stays out of it.
    expect(requirementParams(branding, { ...info, offeredImage: { ...offered, deployer: 'oci-rootfs' } }).image).toEqual(offered);
  });
});

describe('requirements slice', () => {
  it('loads, re-checks, and keeps errors as data', async () => {
    const answers: Array<Result<Requirements>> = [
      { ok: false, error: makeError('internal', 'checkRequirements is not implemented yet') },
      { ok: true, value: { checks: [check('disk', 'ok')] } },
      { ok: true, value: { checks: [check('disk', 'ok')], machine: { vendor: 'LENOVO', model: 'ThinkPad X13', virtual: false, name: 'LENOVO ThinkPad X13', graphics: [], safeGraphics: [] } } },
    ];
    const params: unknown[] = [];
    const api = {
      checkRequirements: async (p: unknown) => {
        params.push(p);
        return answers.shift()!;
      },
      on: () => () => {},
    } as unknown as InstallerApi;
    const store = createAppStore({ api, stepCount: 3 });
    const p = requirementParams(branding, null);
    const first = store.getState().checkRequirements(p);
    expect(store.getState().requirements.loading).toBe(true);
    await first;
    expect(store.getState().requirements).toMatchObject({ checks: null, loading: false, error: { message: 'checkRequirements is not implemented yet' } });
    await store.getState().checkRequirements(p);
    // An engine that does not name the machine (older, or its probe failed): none.
    expect(store.getState().requirements).toEqual({ checks: [check('disk', 'ok')], machine: null, loading: false, error: null });
    await store.getState().checkRequirements(p);
    expect(store.getState().requirements.machine?.name).toBe('LENOVO ThinkPad X13');
    expect(params).toEqual([p, p, p]);
  });
});
