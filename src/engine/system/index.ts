import type { Disk, EngineMode, InstallState } from '../../shared';
import type { Exec } from '../exec';
import type { Handlers } from '../handlers';
import { exportAnswerFile } from './answer-export';
import { DEFAULT_SYSTEM_PATHS, whichOnPath, type SystemDeps, type SystemPaths } from './deps';
import { inspectImage } from './image';
import { KeyboardService } from './keyboard';
import { power } from './power';
import { generateRecoveryKey } from './recovery-key';
import { checkRequirements } from './requirements';
import { machineProbe, type MachineProbe } from './machine';
import { saveFile, saveTargets, type SaveDeps } from './save';
import { listTimeZones } from './timezones';

/**
 * The wizard's questions to the machine besides disks and installs (keyboard, time zones,
 * requirements, image facts, answer-file export, saving, recovery keys, power), as engine handlers.
 */

export type SystemMethod =
  | 'listKeyboardLayouts'
  | 'setKeyboard'
  | 'listTimeZones'
  | 'checkRequirements'
  | 'inspectImage'
  | 'exportAnswerFile'
  | 'listSaveTargets'
  | 'saveFile'
  | 'generateRecoveryKey'
  | 'power';

export interface SystemHandlerOptions {
  readonly mode: EngineMode;
  readonly exec: Exec;
  readonly probe: () => Promise<Disk[]>;
  readonly minimumSize: number;
  readonly runRoot: string;
  readonly logDir: string;
  readonly installPhase: () => InstallState['phase'];
  readonly lastInstall: SaveDeps['lastInstall'];
  readonly paths?: Partial<SystemPaths>;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly which?: (command: string) => string | null;
  readonly tcpConnect?: (host: string, port: number, timeoutMs: number) => Promise<void>;
  /** The machine's facts; systeminformation by default (machine.ts). */
  readonly machine?: () => Promise<MachineProbe>;
}

export function systemHandlers(o: SystemHandlerOptions): Pick<Handlers, SystemMethod> {
  const deps: SystemDeps = {
    mode: o.mode,
    exec: o.exec,
    paths: { ...DEFAULT_SYSTEM_PATHS, ...o.paths },
    env: o.env ?? process.env,
    which: o.which ?? whichOnPath(),
  };
  const keyboard = new KeyboardService(deps);
  const save: SaveDeps = { mode: o.mode, exec: o.exec, probe: o.probe, runRoot: o.runRoot, logDir: o.logDir, lastInstall: o.lastInstall, machine: o.machine ?? machineProbe };
  return {
    listKeyboardLayouts: async () => keyboard.list(),
    setKeyboard: async (choice) => keyboard.set(choice),
    listTimeZones: async () => listTimeZones(deps.paths),
    checkRequirements: async (params) =>
      checkRequirements(
        { minimumMemory: params.minimumMemory, firmware: params.firmware ?? 'any', ...(params.image ? { image: { ...params.image, transport: params.image.transport ?? 'registry', enforceSignaturePolicy: params.image.enforceSignaturePolicy ?? false } } : {}) },
        { ...deps, probe: o.probe, machine: o.machine ?? machineProbe, minimumSize: o.minimumSize, ...(o.tcpConnect ? { tcpConnect: o.tcpConnect } : {}) },
      ),
    inspectImage: async ({ image }) => inspectImage({ reference: image.reference, transport: image.transport ?? 'registry' }, deps),
    exportAnswerFile: async ({ request }) => exportAnswerFile(request),
    listSaveTargets: async () => ({ targets: saveTargets(await o.probe(), o.mode) }),
    saveFile: async (params) => saveFile(params, save),
    generateRecoveryKey: async () => generateRecoveryKey(),
    power: async ({ action }) => power(action, { mode: o.mode, exec: o.exec, installPhase: o.installPhase }),
  };
}

export { DEFAULT_SYSTEM_PATHS, whichOnPath, type SystemDeps, type SystemPaths } from './deps';
