import type { IpcMainInvokeEvent, WebContents } from 'electron';
import { METHODS, METHOD_NAMES, EVENT_NAMES, ipcInvokeChannel, ipcEventChannel, fail, type RpcClient, type Result } from '../shared';

/**
 * The only place that registers IPC handlers. Each handler first checks that the message comes
 * from our window's main frame with our own origin, then validates the payload with the contract's
 * schema, and only then relays it to the engine. Anything else is refused as data, not thrown.
 */

export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcMainInvokeEvent, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

export function isTrustedSender(event: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>, window: WebContents, appUrl: string): boolean {
  const frame = event.senderFrame;
  if (!frame || event.sender !== window) return false;
  if (frame !== window.mainFrame) return false;
  return isAppUrl(frame.url, appUrl);
}

/**
 * Whether a URL is the installer's own page. file: URLs have an opaque origin, so for them the
 * whole path must match the page we loaded; for the dev server the origin must match.
 */
export function isAppUrl(url: string, appUrl: string): boolean {
  try {
    const u = new URL(url);
    const app = new URL(appUrl);
    // file://host/… names another machine's file: the host must match too (empty for a local page).
    if (app.protocol === 'file:') return u.protocol === 'file:' && u.host === app.host && u.pathname === app.pathname;
    return u.origin === app.origin;
  } catch {
    return false;
  }
}

export function registerIpc(ipc: IpcMainLike, client: RpcClient, window: WebContents, appUrl: string): () => void {
  for (const m of METHOD_NAMES) {
    ipc.handle(ipcInvokeChannel(m), async (event, params): Promise<Result<unknown>> => {
      if (!isTrustedSender(event, window, appUrl)) {
        return fail('unauthorized', 'This request did not come from the installer window.');
      }
      const parsed = METHODS[m].params.safeParse(params ?? {});
      if (!parsed.success) {
        return fail('invalid-input', `Invalid parameters for ${m}.`, { detail: parsed.error.message });
      }
      return client.call(m, parsed.data);
    });
  }
  const unsubscribe = EVENT_NAMES.map((e) =>
    client.on(e, (payload) => {
      if (!window.isDestroyed()) window.send(ipcEventChannel(e), payload);
    }),
  );
  return () => {
    for (const m of METHOD_NAMES) ipc.removeHandler(ipcInvokeChannel(m));
    for (const u of unsubscribe) u();
  };
}
