/**
 * The names of the InstallerApi's methods and events and the Electron IPC channels made from them,
 * with no dependency at all: the sandboxed preload imports only this, because a sandboxed preload may
 * `require` nothing but electron, events, timers and url (test/unit/preload-sandbox.test.ts loads the
 * built bundle under exactly that rule). src/shared/api.ts gives each name its schemas and fails to
 * compile when a list here and its map there disagree.
 */

export const METHOD_NAMES = [
  'getInfo', 'listDisks', 'validateAnswerFile', 'planInstall', 'startInstall', 'cancelInstall', 'retryInstall', 'getInstallState', 'listKeyboardLayouts',
  'setKeyboard', 'listTimeZones', 'checkRequirements', 'inspectImage', 'exportAnswerFile', 'listSaveTargets', 'saveFile', 'generateRecoveryKey', 'power',
] as const;
export type MethodName = (typeof METHOD_NAMES)[number];

export const EVENT_NAMES = ['disksChanged', 'log', 'progress', 'engineLost'] as const;
export type EventName = (typeof EVENT_NAMES)[number];

export function isMethodName(name: unknown): name is MethodName {
  return typeof name === 'string' && (METHOD_NAMES as readonly string[]).includes(name);
}

export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && (EVENT_NAMES as readonly string[]).includes(name);
}

/** Prefix of every Electron IPC channel; the relay refuses anything else. */
export const IPC_PREFIX = 'particle:';
export const ipcInvokeChannel = (m: MethodName): string => `${IPC_PREFIX}invoke:${m}`;
export const ipcEventChannel = (e: EventName): string => `${IPC_PREFIX}event:${e}`;
