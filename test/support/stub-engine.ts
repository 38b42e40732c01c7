import type { Engine, Handlers } from '../../src/engine/engine';
import { makeDisk } from './make-disk';
import { DEFAULT_MINIMUM_DISK_SIZE, type Disk, type EventName, type EventPayload, type InstallState } from '../../src/shared';

/** The stub engine's disk: a 64 GiB virtio disk. */
export function fakeDisk(overrides: Partial<Disk> = {}): Disk {
  return makeDisk({ model: 'Virtual disk', serial: 'SN-1', transport: 'virtio', ...overrides });
}

const IDLE: InstallState = { phase: 'idle', plan: null, currentStep: null, overall: { fraction: 0, etaSeconds: null }, steps: [], outcome: null, log: [] };

/**
 * An Engine with canned answers and a working event bus, so service tests never touch disks.
 * Pass `handlers` to replace any method (e.g. one that throws).
 */
export function stubEngine(handlers: Partial<Handlers> = {}): Engine {
  const listeners = new Map<EventName, Set<(p: unknown) => void>>();
  const base: Handlers = {
    getInfo: async () => ({ version: '0.0.0-test', protocol: 1, mode: 'test', root: false, firmware: 'uefi', arch: 'x64', tpm2: false }),
    listDisks: async () => ({
      disks: [fakeDisk()],
      minimumSize: DEFAULT_MINIMUM_DISK_SIZE,
      allowLoop: false,
      probedAt: new Date(0).toISOString(),
    }),
    validateAnswerFile: async () => ({ valid: true, errors: [] }),
    planInstall: async () => {
      throw new Error('the stub engine makes no plans');
    },
    startInstall: async () => IDLE,
    cancelInstall: async () => IDLE,
    retryInstall: async () => IDLE,
    getInstallState: async () => IDLE,
    listKeyboardLayouts: async () => ({
      layouts: [{ name: 'us', description: 'English (US)', languages: ['eng'], countries: ['US'], variants: [{ name: 'intl', description: 'English (US, intl., with dead keys)' }] }],
      current: { layout: 'us' },
    }),
    setKeyboard: async () => ({ applied: false, detail: 'the stub engine has no session' }),
    listTimeZones: async () => ({
      zones: [{ id: 'Europe/Berlin', region: 'Europe', city: 'Berlin', countries: ['DE'], latitude: 52.5, longitude: 13.37 }],
      current: 'Europe/Berlin',
      countryNames: { DE: 'Germany' },
    }),
    checkRequirements: async () => ({ checks: [] }),
    inspectImage: async ({ image }) => ({ reference: image.reference, digest: null, signature: 'unknown', size: null, detail: 'stub' }),
    exportAnswerFile: async () => ({ text: '{}', omitted: [] }),
    listSaveTargets: async () => ({ targets: [] }),
    saveFile: async () => ({ fileName: 'stub.json', bytes: 2, contentBase64: 'e30=' }),
    generateRecoveryKey: async () => ({ key: 'cccccccc-cccccccc-cccccccc-cccccccc-cccccccc-cccccccc-cccccccc-cccccccc' }),
    power: async () => ({ applied: false, detail: 'the stub engine has no power' }),
  };
  return {
    handlers: { ...base, ...handlers },
    on(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener as (p: unknown) => void);
      return () => set.delete(listener as (p: unknown) => void);
    },
    emit<E extends EventName>(event: E, payload: EventPayload<E>) {
      for (const l of listeners.get(event) ?? []) l(payload);
    },
  };
}
