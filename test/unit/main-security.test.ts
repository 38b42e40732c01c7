import { describe, expect, it } from 'vitest';
import { webPreferences, CONTENT_SECURITY_POLICY } from '../../src/main/security';
import { isAppUrl, isTrustedSender } from '../../src/main/ipc';
import { engineArgv } from '../../src/main/engine-client';
import type { IpcMainInvokeEvent, WebContents } from 'electron';

describe('Electron main hardening (pure parts)', () => {
  it('window preferences: sandbox, isolation, no Node, web security', () => {
    const p = webPreferences('/app/out/preload/index.cjs');
    expect(p).toMatchObject({
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
    expect(p.preload).toBe('/app/out/preload/index.cjs');
  });

  it('CSP allows only our own scripts and no inline script', () => {
    const directives = Object.fromEntries(CONTENT_SECURITY_POLICY.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
    expect(directives['script-src']).toEqual(["'self'"]);
    expect(directives['default-src']).toEqual(["'self'"]);
    expect(directives['object-src']).toEqual(["'none'"]);
    expect(directives['frame-ancestors']).toEqual(["'none'"]);
  });

  it('only the app page counts as the app', () => {
    const app = 'file:///opt/particle/out/renderer/index.html';
    expect(isAppUrl('file:///opt/particle/out/renderer/index.html#/disk', app)).toBe(true);
    expect(isAppUrl('file:///etc/passwd', app)).toBe(false);
    expect(isAppUrl('https://example.com/', app)).toBe(false);
    expect(isAppUrl('http://localhost:5173/x', 'http://localhost:5173/')).toBe(true);
    expect(isAppUrl('http://localhost:5174/', 'http://localhost:5173/')).toBe(false);
    expect(isAppUrl('not a url', app)).toBe(false);
  });

  it('IPC from a sub-frame, another window or a foreign page is not trusted', () => {
    const mainFrame = { url: 'file:///app/out/renderer/index.html' };
    const win = { mainFrame } as unknown as WebContents;
    const other = { mainFrame } as unknown as WebContents;
    const ev = (sender: WebContents, frame: unknown) => ({ sender, senderFrame: frame }) as unknown as IpcMainInvokeEvent;
    const app = 'file:///app/out/renderer/index.html';
    expect(isTrustedSender(ev(win, mainFrame), win, app)).toBe(true);
    expect(isTrustedSender(ev(win, { url: mainFrame.url }), win, app)).toBe(false);
    expect(isTrustedSender(ev(other, mainFrame), win, app)).toBe(false);
    expect(isTrustedSender(ev(win, null), win, app)).toBe(false);
    const foreign = { url: 'https://evil.example/' };
    const win2 = { mainFrame: foreign } as unknown as WebContents;
    expect(isTrustedSender(ev(win2, foreign), win2, app)).toBe(false);
  });

  it('the engine runs as root directly, otherwise through pkexec, never through a shell', () => {
    const l = { mode: 'demo' as const, cliPath: '/app/out/engine/cli.mjs', nodePath: '/usr/bin/node', launcher: '/nonexistent/engine' };
    expect(engineArgv(l, true)).toEqual(['/usr/bin/node', '/app/out/engine/cli.mjs', 'service', '--stdio', '--mode', 'demo']);
    expect(engineArgv(l, false)).toEqual(['pkexec', '/usr/bin/node', '/app/out/engine/cli.mjs', 'service', '--stdio', '--mode', 'demo']);
    expect(engineArgv(l, false).some((a) => /^(sh|bash)$/.test(a) || a === '-c')).toBe(false);
  });
});
