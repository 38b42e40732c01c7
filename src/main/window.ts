import { BrowserWindow, session, type WebPreferences } from 'electron';
import { isAppUrl } from './ipc';

/** The CSP for the installer page; the renderer's index.html carries the same as a meta tag. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The hardened preferences; exported so a test can check every one of them. */
export function webPreferences(preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
    sandbox: true,
    contextIsolation: true,
    nodeIntegration: false,
    nodeIntegrationInSubFrames: false,
    nodeIntegrationInWorker: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    spellcheck: false,
    devTools: !process.env.CI && process.env.NODE_ENV !== 'production',
  };
}

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
  wc.setWindowOpenHandler(() => ({ action: 'deny' }));
  wc.on('will-attach-webview', (event) => event.preventDefault());
}
