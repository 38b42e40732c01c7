import { app, ipcMain, BrowserWindow } from 'electron';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { connectEngine, type EngineConnection } from './engine-client';
import { registerIpc } from './ipc';
import { createInstallerWindow } from './window';
import { makeError, type EngineMode } from '../shared';

/**
 * Electron main: one window, hardened; the engine started or reached; IPC relayed after checks.
 * Flags: --kiosk (full screen, no way out but the app's own buttons), --demo (virtual disks),
 * --engine-socket PATH (use a running engine service, as the live ISO does).
 */

const { values: flags } = parseArgs({
  args: process.argv.slice(app.isPackaged ? 1 : 2),
  options: {
    kiosk: { type: 'boolean', default: false },
    demo: { type: 'boolean', default: false },
    'engine-socket': { type: 'string' },
  },
  strict: false,
});

const mode: EngineMode = flags.demo ? 'demo' : 'normal';
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

// Everything the renderer may reach is local; no remote content, ever.
app.on('web-contents-created', (_e, contents) => {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-attach-webview', (event) => event.preventDefault());
});

app.whenReady().then(() => {
  const appDir = app.getAppPath();
  const appUrl = process.env.ELECTRON_RENDERER_URL ?? pathToFileURL(join(appDir, 'out/renderer/index.html')).href;
  const engine: EngineConnection = connectEngine({
    ...(typeof flags['engine-socket'] === 'string' ? { socket: flags['engine-socket'] } : {}),
    mode,
    cliPath: join(appDir, 'out/engine/cli.mjs'),
    nodePath: process.env.PARTICLE_NODE ?? 'node',
    launcher: '/usr/libexec/particle-installer/engine',
    log,
  });

  const win: BrowserWindow = createInstallerWindow({
    preloadPath: join(appDir, 'out/preload/index.cjs'),
    appUrl,
    kiosk: flags.kiosk === true,
  });
  const unregister = registerIpc(ipcMain, engine.client, win.webContents, appUrl);
  // The pseudo-locale (untranslated strings stand out) is asked for in the page address.
  void win.loadURL(process.env.PARTICLE_PSEUDO_LOCALE === '1' ? `${appUrl}?pseudo=1` : appUrl);

  win.on('closed', () => {
    unregister();
    engine.close();
    app.quit();
  });
  engine.client.on('engineLost', ({ error }) => log(`engine lost: ${error.message}`));
}).catch((e: unknown) => {
  log(makeError('internal', `The installer could not start: ${String(e)}`).message);
  app.exit(1);
});

app.on('window-all-closed', () => app.quit());
