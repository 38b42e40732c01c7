import { BrowserWindow, session } from 'electron';
import { isAppUrl } from './ipc';
import { CONTENT_SECURITY_POLICY, webPreferences } from './security';

export interface WindowOptions {
  readonly preloadPath: string;
  readonly appUrl: string;
  readonly kiosk: boolean;
}

export function createInstallerWindow(o: WindowOptions): BrowserWindow {
  const ses = session.defaultSession;
  // The installer needs no camera, notifications, geolocation…: refuse every permission.
  ses.setPermissionRequestHandler((_wc, _perm, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  // Nor any USB, HID or serial device, even one a page picked before (WebUSB/WebHID/Web Serial).
  ses.setDevicePermissionHandler(() => false);
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] },
    });
  });

  const win = new BrowserWindow({
    width: 1100,
    height: 760,
    minWidth: 800,
    minHeight: 600,
    show: false,
    kiosk: o.kiosk,
    fullscreen: o.kiosk,
    autoHideMenuBar: true,
    title: 'Particle Installer',
    backgroundColor: '#f6f7f9',
    webPreferences: webPreferences(o.preloadPath),
  });
  lockDown(win, o.appUrl);
  win.once('ready-to-show', () => win.show());
  return win;
}

/** No navigation away from the app, no new windows, no webviews. */
export function lockDown(win: BrowserWindow, appUrl: string): void {
  const wc = win.webContents;
  wc.on('will-navigate', (event, url) => {
    if (!isAppUrl(url, appUrl)) event.preventDefault();
  });
  wc.on('will-redirect', (event, url) => {
    if (!isAppUrl(url, appUrl)) event.preventDefault();
  });
  // will-navigate covers the main frame only; a sub-frame (an injected iframe) must not leave either.
  wc.on('will-frame-navigate', (event) => {
    if (!isAppUrl(event.url, appUrl)) event.preventDefault();
  });
  wc.setWindowOpenHandler(() => ({ action: 'deny' }));
  wc.on('will-attach-webview', (event) => event.preventDefault());
}
