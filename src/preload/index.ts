import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { EVENT_NAMES, METHOD_NAMES, ipcEventChannel, ipcInvokeChannel, isEventName } from '../shared/api-names';
import type { InstallerApi } from '../shared/api';

/**
 * The bridge: named functions only, one per InstallerApi method, and `on` for events. The
 * renderer never sees ipcRenderer or the Electron event object, and every `on` returns its
 * unsubscribe function.
 */
const api: Record<string, unknown> = {};
for (const m of METHOD_NAMES) {
  api[m] = (params: unknown) => ipcRenderer.invoke(ipcInvokeChannel(m), params ?? {});
}
api.on = (event: unknown, listener: unknown): (() => void) => {
  if (!isEventName(event) || typeof listener !== 'function' || !EVENT_NAMES.includes(event)) return () => {};
  const channel = ipcEventChannel(event);
  const wrapped = (_e: IpcRendererEvent, payload: unknown): void => (listener as (p: unknown) => void)(payload);
  ipcRenderer.on(channel, wrapped);
  return () => {
    ipcRenderer.removeListener(channel, wrapped);
  };
};

contextBridge.exposeInMainWorld('installer', Object.freeze(api) as unknown as InstallerApi);
