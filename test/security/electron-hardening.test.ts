import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { IpcMainInvokeEvent, WebContents } from 'electron';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerIpc, type IpcMainLike } from '../../src/main/ipc';
import { CONTENT_SECURITY_POLICY } from '../../src/main/security';
import { EVENT_NAMES, METHOD_NAMES, ipcEventChannel, ipcInvokeChannel, type MethodName } from '../../src/shared/api';
import type { RpcClient } from '../../src/shared/rpc-client';
import { countWhenPassed } from './counts';

/**
 * The Electron hardening as the real src/main and src/preload code applies it.
 *
 * `electron` is replaced by a RECORDING TEST DOUBLE of the parts of its API our code touches
 * (BrowserWindow, webContents, session, ipcMain, contextBridge, ipcRenderer, app, shell). It only
 * observes what our code passes and registers, and lets the test call the handlers our code
 * installed as Electron would. It proves nothing about Electron itself: the real-Electron level is
 * test/electron/app.test.ts (skipped where no Electron binary can be installed).
 *
 * Every place in this file that asserts a protection adds one to `hardening-checks` when its test
 * passes, however many values it loops over.
 */

const REPO = resolve(import.meta.dirname, '../..');
/** A made-up install location; the double's app.getAppPath() answers it. */
const APP_DIR = '/opt/particle-installer-test/resources/app';
const APP_URL = `file://${APP_DIR}/out/renderer/index.html`;

/** The places in this file whose checks passed: a check looped over many values is one place. */
const sites = new Set<string>();
/**
 * Runs one check's assertions. Each place in this file that checks counts once, however many values
 * a loop gives it, and only if its test passes (countWhenPassed).
 */
function check(fn: () => void): void {
  fn();
  const site = new Error().stack?.split('\n')[2]?.trim() ?? '';
  if (sites.has(site)) return;
  sites.add(site);
  countWhenPassed('hardening-checks');
}

type Listener = (...args: unknown[]) => unknown;

const fake = vi.hoisted(() => {
  class Emitter {
    readonly listeners = new Map<string, Array<(...args: unknown[]) => unknown>>();
    on(event: string, fn: (...args: unknown[]) => unknown): this {
      this.listeners.set(event, [...(this.listeners.get(event) ?? []), fn]);
      return this;
    }
    once(event: string, fn: (...args: unknown[]) => unknown): this {
      return this.on(event, fn);
    }
    all(event: string): Array<(...args: unknown[]) => unknown> {
      return this.listeners.get(event) ?? [];
    }
  }
  class FakeWebContents extends Emitter {
    readonly mainFrame = { url: 'about:blank' };
    windowOpenHandlers: Array<(details: unknown) => unknown> = [];
    readonly sent: Array<[string, unknown]> = [];
    setWindowOpenHandler(fn: (details: unknown) => unknown): void {
      this.windowOpenHandlers.push(fn);
    }
    send(channel: string, payload: unknown): void {
      this.sent.push([channel, payload]);
    }
    isDestroyed(): boolean {
      return false;
    }
  }
  const windows: FakeBrowserWindow[] = [];
  class FakeBrowserWindow extends Emitter {
    readonly webContents = new FakeWebContents();
    readonly loaded: string[] = [];
    constructor(readonly options: Record<string, unknown>) {
      super();
      windows.push(this);
    }
    loadURL(url: string): Promise<void> {
      this.loaded.push(url);
      this.webContents.mainFrame.url = url;
      return Promise.resolve();
    }
    show(): void {}
  }
  const session = {
    permissionRequestHandlers: [] as Array<(...args: unknown[]) => unknown>,
    permissionCheckHandlers: [] as Array<(...args: unknown[]) => unknown>,
    devicePermissionHandlers: [] as Array<(...args: unknown[]) => unknown>,
    headersReceived: [] as unknown[][],
    beforeRequest: [] as unknown[][],
  };
  const defaultSession = {
    setPermissionRequestHandler: (fn: (...args: unknown[]) => unknown) => session.permissionRequestHandlers.push(fn),
    setPermissionCheckHandler: (fn: (...args: unknown[]) => unknown) => session.permissionCheckHandlers.push(fn),
    setDevicePermissionHandler: (fn: (...args: unknown[]) => unknown) => session.devicePermissionHandlers.push(fn),
    webRequest: {
      onHeadersReceived: (...args: unknown[]) => session.headersReceived.push(args),
      onBeforeRequest: (...args: unknown[]) => session.beforeRequest.push(args),
    },
  };
  const app = new (class extends Emitter {
    readonly isPackaged = false;
    quits = 0;
    getAppPath(): string {
      return '/opt/particle-installer-test/resources/app';
    }
    whenReady(): Promise<void> {
      return Promise.resolve();
    }
    quit(): void {
      this.quits++;
    }
    exit(): void {
      this.quits++;
    }
  })();
  const ipcMainHandlers = new Map<string, (...args: unknown[]) => unknown>();
  const ipcMainOn: string[] = [];
  const ipcMain = {
    handle: (channel: string, fn: (...args: unknown[]) => unknown) => {
      if (ipcMainHandlers.has(channel)) throw new Error(`second handler for ${channel}`);
      ipcMainHandlers.set(channel, fn);
    },
    removeHandler: (channel: string) => ipcMainHandlers.delete(channel),
    on: (channel: string) => ipcMainOn.push(channel),
    handleOnce: (channel: string) => ipcMainOn.push(channel),
  };
  const exposed: Array<[string, unknown]> = [];
  const contextBridge = { exposeInMainWorld: (name: string, value: unknown) => exposed.push([name, value]) };
  const rendererListeners = new Map<string, Set<(...args: unknown[]) => unknown>>();
  const invoked: Array<[string, unknown]> = [];
  const ipcRenderer = {
    invoke: (channel: string, params: unknown) => {
      invoked.push([channel, params]);
      return Promise.resolve({ ok: true, value: null });
    },
    on: (channel: string, fn: (...args: unknown[]) => unknown) => {
      if (!rendererListeners.has(channel)) rendererListeners.set(channel, new Set());
      rendererListeners.get(channel)!.add(fn);
      return ipcRenderer;
    },
    removeListener: (channel: string, fn: (...args: unknown[]) => unknown) => {
      rendererListeners.get(channel)?.delete(fn);
      return ipcRenderer;
    },
    send: (channel: string) => invoked.push([`send:${channel}`, null]),
    sendSync: (channel: string) => invoked.push([`sendSync:${channel}`, null]),
  };
  const openedExternally: string[] = [];
  const shell = { openExternal: (url: string) => (openedExternally.push(url), Promise.resolve()) };
  // What the mocked engine connection was asked (index.ts would otherwise start the real engine).
  const engineLines: string[] = [];
  return {
    FakeWebContents,
    windows,
    session,
    app,
    ipcMainHandlers,
    ipcMainOn,
    exposed,
    rendererListeners,
    invoked,
    openedExternally,
    engineLines,
    electron: { app, BrowserWindow: FakeBrowserWindow, session: { defaultSession }, ipcMain, contextBridge, ipcRenderer, shell },
  };
});

vi.mock('electron', () => ({ ...fake.electron, default: fake.electron }));

// index.ts would spawn the privileged engine; give it a real RpcClient whose lines go nowhere but here.
vi.mock('../../src/main/engine-client', async () => {
  const { RpcClient } = await import('../../src/shared/rpc-client');
  return {
    connectEngine: () => ({ client: new RpcClient((line) => fake.engineLines.push(line)), close: () => {} }),
    engineArgv: () => [],
  };
});

/** A preventable Electron event, as the double hands it to listeners. */
function preventable(extra: Record<string, unknown> = {}): { defaultPrevented: boolean; preventDefault(): void } & Record<string, unknown> {
  const e = {
    ...extra,
    defaultPrevented: false,
    preventDefault() {
      e.defaultPrevented = true;
    },
  };
  return e;
}

/** `directive -> sources` of a CSP string. */
function parseCsp(csp: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of csp.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) out.set(name.toLowerCase(), sources);
  }
  return out;
}

/** The sources a directive allows, falling back to default-src as CSP does for fetch directives. */
function effective(csp: Map<string, string[]>, directive: string): string[] {
  return csp.get(directive) ?? csp.get('default-src') ?? ['*'];
}

const HOSTILE_URLS = [
  'https://evil.example/',
  'http://evil.example/phish.html',
  'file:///etc/passwd',
  `file://evil.example${APP_DIR}/out/renderer/index.html`,
  'javascript:alert(document.domain)',
  'data:text/html,<script>alert(1)</script>',
  'about:blank',
  'chrome://settings',
  'devtools://devtools/bundled/inspector.html',
  'ftp://evil.example/x',
];

describe('Electron hardening as src/main and src/preload apply it (recording double of electron)', () => {
  let win: InstanceType<typeof fake.electron.BrowserWindow>;

  beforeAll(async () => {
    vi.stubEnv('ELECTRON_RENDERER_URL', undefined);
    vi.stubEnv('PARTICLE_PSEUDO_LOCALE', undefined);
    const argv = process.argv;
    process.argv = [argv[0]!, 'out/main/index.js'];
    try {
      await import('../../src/main/index');
    } finally {
      process.argv = argv;
    }
    await vi.waitFor(() => expect(fake.windows.length).toBe(1));
    win = fake.windows[0]!;
    await vi.waitFor(() => expect(fake.ipcMainHandlers.size).toBeGreaterThan(0));
  });

  afterAll(() => {
    vi.unstubAllEnvs();
    console.log(`electron hardening: ${sites.size} distinct checks passed against the recording double of electron`);
  });

  it('creates one window, with exactly the hardened webPreferences, loading the packaged page', () => {
    const prefs = win.options.webPreferences as Record<string, unknown>;
    const hardened = {
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
    } as const;
    for (const [key, value] of Object.entries(hardened)) check(() => expect(prefs[key], `webPreferences.${key}`).toBe(value));
    // Nothing else is set but the preload and three harmless switches: no enableBlinkFeatures,
    // additionalArguments, partition, javascript toggles or anything that loosens the above.
    check(() =>
      expect(Object.keys(prefs).sort()).toEqual([...Object.keys(hardened), 'preload', 'navigateOnDragDrop', 'spellcheck', 'devTools'].sort()),
    );
    check(() => expect(prefs.navigateOnDragDrop).toBe(false));
    check(() => expect(prefs.preload).toBe(`${APP_DIR}/out/preload/index.cjs`));
    check(() => expect(typeof prefs.devTools).toBe('boolean'));
    check(() => expect(fake.windows).toHaveLength(1));
    check(() => expect(win.loaded).toEqual([APP_URL]));
    // Shown only when ready, so no half-drawn window with a default (unlocked) page.
    check(() => expect(win.options.show).toBe(false));
  });

  it('installs the CSP header on every response, at least as strict as the page’s own meta CSP', () => {
    check(() => expect(fake.session.headersReceived).toHaveLength(1));
    const args = fake.session.headersReceived[0]!;
    // No URL filter: the listener is the only argument, so it sees every response of the session.
    check(() => expect(args).toHaveLength(1));
    const listener = args[0] as (details: unknown, cb: (r: { responseHeaders?: Record<string, string[]> }) => void) => void;
    for (const url of [APP_URL, `file://${APP_DIR}/out/renderer/assets/index.js`, 'http://localhost:5173/']) {
      let answer: { responseHeaders?: Record<string, string[]> } | undefined;
      listener({ url, responseHeaders: { 'Content-Type': ['text/html'] } }, (r) => (answer = r));
      check(() => {
        expect(answer?.responseHeaders?.['Content-Security-Policy'], url).toEqual([CONTENT_SECURITY_POLICY]);
        expect(answer?.responseHeaders?.['Content-Type'], 'other headers are kept').toEqual(['text/html']);
      });
    }

    const header = parseCsp(CONTENT_SECURITY_POLICY);
    const html = readFileSync(resolve(REPO, 'src/renderer/index.html'), 'utf8');
    const metaContent = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]+)"/i.exec(html)?.[1];
    check(() => expect(metaContent, 'index.html carries a CSP meta tag').toBeTruthy());
    const meta = parseCsp(metaContent!);

    for (const [name, csp] of [
      ['header', header],
      ['meta', meta],
    ] as const) {
      const all = [...csp.values()].flat();
      check(() => expect(all, `${name}: no eval`).not.toContain("'unsafe-eval'"));
      check(() => expect(all, `${name}: no wasm eval`).not.toContain("'wasm-unsafe-eval'"));
      check(() => expect(effective(csp, 'script-src'), `${name}: scripts only from the app itself`).toEqual(["'self'"]));
      check(() => expect(effective(csp, 'script-src-elem'), `${name}: no inline <script>`).not.toContain("'unsafe-inline'"));
      check(() => expect(effective(csp, 'default-src'), `${name}: default-src`).toEqual(["'self'"]));
      // Remote origins: any host or wildcard, and http(s) scheme sources. The meta tag's ws:/wss:
      // (for the served UI, see its comment) are the only scheme sources allowed, and only to connect.
      const remote = (s: string) => s === '*' || /^(https?:|[a-z0-9.-]+\.[a-z]{2,}|\*\.)/i.test(s);
      for (const [directive, sources] of csp) check(() => expect(sources.filter(remote), `${name}: ${directive} names a remote origin`).toEqual([]));
      for (const [directive, sources] of csp) {
        const schemes = sources.filter((s) => /^[a-z][a-z0-9+.-]*:$/i.test(s));
        const allowed = directive === 'img-src' ? ['data:'] : directive === 'connect-src' && name === 'meta' ? ['ws:', 'wss:'] : [];
        check(() => expect(schemes.filter((s) => !allowed.includes(s)), `${name}: ${directive} scheme sources`).toEqual([]));
      }
    }
    // Electron's header never allows more than the page's own policy does, and agrees with it on
    // everything the page uses (scripts, styles, images, default).
    for (const directive of ['default-src', 'script-src', 'style-src', 'img-src']) {
      check(() => expect(effective(header, directive), directive).toEqual(effective(meta, directive)));
    }
    for (const directive of new Set([...header.keys(), ...meta.keys()])) {
      if (['base-uri', 'form-action', 'frame-ancestors', 'sandbox', 'report-uri', 'report-to'].includes(directive)) continue;
      const h = effective(header, directive);
      const m = effective(meta, directive);
      check(() => expect(h.filter((s) => !m.includes(s) && s !== "'none'"), `header ${directive} ⊆ meta ${directive}`).toEqual([]));
    }
    // Directives only the header can carry (frame-ancestors is ignored in a meta tag).
    for (const directive of ['object-src', 'base-uri', 'form-action', 'frame-ancestors']) {
      check(() => expect(header.get(directive), directive).toEqual(["'none'"]));
    }
    check(() => expect(header.get('connect-src'), 'Electron talks to the engine over IPC: no sockets').toEqual(["'self'"]));
  });

  it('keeps the window on the app: navigation, redirects and sub-frame navigation away are prevented', () => {
    const wc = win.webContents;
    for (const event of ['will-navigate', 'will-redirect', 'will-frame-navigate']) {
      check(() => expect(wc.all(event).length, `${event} listener`).toBeGreaterThan(0));
      for (const url of HOSTILE_URLS) {
        const e = preventable({ url, isMainFrame: event !== 'will-frame-navigate', frame: null });
        for (const l of wc.all(event)) (l as Listener)(e, url);
        check(() => expect(e.defaultPrevented, `${event} → ${url}`).toBe(true));
      }
      // Positive control: the app's own page (another route of it) is not blocked.
      const own = preventable({ url: `${APP_URL}?pseudo=1`, isMainFrame: true, frame: null });
      for (const l of wc.all(event)) (l as Listener)(own, own.url);
      check(() => expect(own.defaultPrevented, `${event} → the app itself`).toBe(false));
    }
  });

  it('denies every new window, opens nothing externally and attaches no webview', () => {
    const contents = [win.webContents];
    // Every webContents the app ever creates gets the global handlers too.
    const created = new fake.FakeWebContents();
    check(() => expect(fake.app.all('web-contents-created').length).toBeGreaterThan(0));
    for (const l of fake.app.all('web-contents-created')) l({}, created);
    contents.push(created);
    for (const wc of contents) {
      check(() => expect(wc.windowOpenHandlers.length).toBeGreaterThan(0));
      for (const url of [...HOSTILE_URLS, APP_URL, 'https://github.com/', 'mailto:root@localhost']) {
        for (const h of wc.windowOpenHandlers) {
          check(() => expect(h({ url, frameName: '', features: '', disposition: 'new-window', referrer: { url: APP_URL } }), url).toEqual({ action: 'deny' }));
        }
      }
      const attach = preventable();
      check(() => expect(wc.all('will-attach-webview').length, 'will-attach-webview listener').toBeGreaterThan(0));
      for (const l of wc.all('will-attach-webview')) l(attach, { preload: '/tmp/evil.js', nodeIntegration: true }, { src: 'https://evil.example/' });
      check(() => expect(attach.defaultPrevented, 'webview attach prevented').toBe(true));
    }
    // The renderer has no external links, and main never hands a URL to the desktop.
    check(() => expect(fake.openedExternally).toEqual([]));
    for (const file of ['index.ts', 'window.ts', 'ipc.ts', 'security.ts', 'engine-client.ts']) {
      const src = readFileSync(resolve(REPO, 'src/main', file), 'utf8');
      check(() => expect(src, `src/main/${file} uses shell`).not.toMatch(/\bshell\b[\s\S]{0,40}from 'electron'|openExternal/));
    }
  });

  it('refuses every permission request, permission check and device', () => {
    check(() => expect(fake.session.permissionRequestHandlers).toHaveLength(1));
    check(() => expect(fake.session.permissionCheckHandlers).toHaveLength(1));
    check(() => expect(fake.session.devicePermissionHandlers).toHaveLength(1));
    const permissions = [
      'media',
      'geolocation',
      'notifications',
      'midiSysex',
      'pointerLock',
      'fullscreen',
      'openExternal',
      'clipboard-read',
      'clipboard-sanitized-write',
      'display-capture',
      'idle-detection',
      'keyboardLock',
      'fileSystem',
      'hid',
      'serial',
      'usb',
      'window-management',
      'unknown',
    ];
    const [request] = fake.session.permissionRequestHandlers;
    const [probe] = fake.session.permissionCheckHandlers;
    const [device] = fake.session.devicePermissionHandlers;
    for (const p of permissions) {
      const answers: unknown[] = [];
      request!(win.webContents, p, (granted: unknown) => answers.push(granted), { requestingUrl: APP_URL, isMainFrame: true });
      check(() => expect(answers, `request ${p}`).toEqual([false]));
      check(() => expect(probe!(win.webContents, p, 'file://', { requestingUrl: APP_URL, isMainFrame: true }), `check ${p}`).toBe(false));
    }
    for (const deviceType of ['hid', 'serial', 'usb']) {
      check(() => expect(device!({ deviceType, origin: 'file://', device: {} }), `device ${deviceType}`).toBe(false));
    }
  });

  it('index.ts registers one invoke handler per method and nothing else, bound to this window', async () => {
    check(() => expect([...fake.ipcMainHandlers.keys()].sort()).toEqual(METHOD_NAMES.map(ipcInvokeChannel).sort()));
    check(() => expect(fake.ipcMainOn, 'no fire-and-forget channels').toEqual([]));
    // The real wiring: a message from another webContents is refused before the engine hears of it.
    const other = new fake.FakeWebContents();
    other.mainFrame.url = APP_URL;
    const before = fake.engineLines.length;
    const r = await fake.ipcMainHandlers.get(ipcInvokeChannel('listDisks'))!({ sender: other, senderFrame: other.mainFrame }, {});
    check(() => expect(r).toMatchObject({ ok: false, error: { code: 'unauthorized' } }));
    check(() => expect(fake.engineLines.length, 'nothing sent to the engine').toBe(before));
    // Positive control: the window's own main frame does reach the engine.
    void fake.ipcMainHandlers.get(ipcInvokeChannel('getInfo'))!({ sender: win.webContents, senderFrame: win.webContents.mainFrame }, {});
    await vi.waitFor(() => expect(fake.engineLines.length).toBe(before + 1));
    check(() => expect(JSON.parse(fake.engineLines.at(-1)!)).toMatchObject({ method: 'getInfo', params: {} }));
  });

  describe('IPC relay (registerIpc with a recording engine client)', () => {
    function setup() {
      const handlers = new Map<string, (event: IpcMainInvokeEvent, ...args: unknown[]) => Promise<unknown>>();
      const ipc: IpcMainLike = {
        handle: (channel, fn) => void handlers.set(channel, fn),
        removeHandler: (channel) => void handlers.delete(channel),
      };
      const calls: Array<[string, unknown]> = [];
      const subscriptions = new Map<string, (payload: unknown) => void>();
      const client = {
        call: (method: string, params: unknown) => {
          calls.push([method, params]);
          return Promise.resolve({ ok: true, value: {} });
        },
        on: (event: string, listener: (payload: unknown) => void) => {
          subscriptions.set(event, listener);
          return () => subscriptions.delete(event);
        },
      } as unknown as RpcClient;
      const window = new fake.FakeWebContents();
      window.mainFrame.url = APP_URL;
      const unregister = registerIpc(ipc, client, window as unknown as WebContents, APP_URL);
      const invoke = (m: MethodName, event: unknown, params: unknown) => handlers.get(ipcInvokeChannel(m))!(event as IpcMainInvokeEvent, params);
      return { handlers, calls, subscriptions, window, unregister, invoke };
    }

    it('refuses, as data, messages from another window, a sub-frame, no frame or a foreign page', async () => {
      const { calls, window, invoke } = setup();
      const other = new fake.FakeWebContents();
      other.mainFrame.url = APP_URL;
      const subFrame = { url: APP_URL, parent: window.mainFrame };
      const senders: Array<[string, () => unknown]> = [
        ['another webContents', () => ({ sender: other, senderFrame: other.mainFrame })],
        ['a sub-frame of the window', () => ({ sender: window, senderFrame: subFrame })],
        ['another window’s frame', () => ({ sender: window, senderFrame: other.mainFrame })],
        ['no frame (destroyed)', () => ({ sender: window, senderFrame: null })],
        ['no sender', () => ({ sender: undefined, senderFrame: window.mainFrame })],
      ];
      for (const m of METHOD_NAMES) {
        for (const [what, event] of senders) {
          const r = await invoke(m, event(), {});
          check(() => expect(r, `${m} from ${what}`).toMatchObject({ ok: false, error: { code: 'unauthorized' } }));
        }
        // The window's main frame after it was navigated away (had the lock failed).
        for (const url of HOSTILE_URLS) {
          window.mainFrame.url = url;
          const r = await invoke(m, { sender: window, senderFrame: window.mainFrame }, {});
          check(() => expect(r, `${m} from ${url}`).toMatchObject({ ok: false, error: { code: 'unauthorized' } }));
        }
        window.mainFrame.url = APP_URL;
      }
      check(() => expect(calls, 'the engine client was never called').toEqual([]));
      // Positive control: the same harness does relay a trusted, valid call.
      await invoke('getInfo', { sender: window, senderFrame: window.mainFrame }, {});
      check(() => expect(calls).toEqual([['getInfo', {}]]));
    });

    it('refuses, as data, payloads that fail the contract’s schema', async () => {
      const { calls, window, invoke } = setup();
      const trusted = { sender: window, senderFrame: window.mainFrame };
      const specific: Partial<Record<MethodName, unknown[]>> = {
        startInstall: [{ planId: '' }, { planId: 'x'.repeat(65) }, { planId: 7 }, { planId: 'ok', force: true }],
        setKeyboard: [{ layout: 'us; reboot' }, { layout: 'us', variant: '$(poweroff)' }, { layout: '-Dfoo' }, {}],
        power: [{ action: 'halt' }, { action: 'reboot', when: 'now' }, {}],
        saveFile: [
          { kind: 'log-bundle', target: { type: 'device', path: '/etc/shadow; rm' } },
          { kind: 'log-bundle', target: { type: 'device', path: '../../etc/shadow' } },
          { kind: 'secrets', target: { type: 'download' } },
          { kind: 'answer-file', text: 'x'.repeat(1024 * 1024 + 1), target: { type: 'download' } },
        ],
        inspectImage: [{ image: { reference: '--rootfs=/', transport: 'registry' } }, { image: { reference: 'a b' } }, { image: 'quay.io/x' }],
        checkRequirements: [{ minimumMemory: -1 }, { minimumMemory: 1.5 }, { minimumMemory: 1, firmware: 'bios' }],
        validateAnswerFile: [{ document: {}, extra: 1 }],
        planInstall: [{ request: {}, dryRun: false }],
        exportAnswerFile: [{ request: {}, passwords: true }],
      };
      for (const m of METHOD_NAMES) {
        // Never an object, or an object with a key the contract does not know (every params schema is strict).
        for (const bad of [42, 'text', ['x'], true, { unexpected: true }, ...(specific[m] ?? [])]) {
          const r = await invoke(m, trusted, bad);
          check(() => expect(r, `${m}(${JSON.stringify(bad).slice(0, 60)})`).toMatchObject({ ok: false, error: { code: 'invalid-input' } }));
        }
      }
      check(() => expect(calls, 'the engine client was never called').toEqual([]));
    });

    it('sends engine events to this window only, and unregisters every handler', () => {
      const { handlers, subscriptions, window, unregister } = setup();
      check(() => expect([...subscriptions.keys()].sort()).toEqual([...EVENT_NAMES].sort()));
      subscriptions.get('disksChanged')!({});
      check(() => expect(window.sent).toEqual([[ipcEventChannel('disksChanged'), {}]]));
      unregister();
      check(() => expect(handlers.size, 'no handler left').toBe(0));
      check(() => expect(subscriptions.size, 'no subscription left').toBe(0));
    });
  });

  describe('preload', () => {
    beforeAll(async () => {
      await import('../../src/preload/index');
    });

    it('exposes exactly one global, `installer`: frozen, the API’s functions and `on`, no ipcRenderer', async () => {
      check(() => expect(fake.exposed.map(([name]) => name)).toEqual(['installer']));
      const api = fake.exposed[0]![1] as Record<string, unknown>;
      check(() => expect(Object.isFrozen(api)).toBe(true));
      check(() => expect(Object.keys(api).sort()).toEqual([...METHOD_NAMES, 'on'].sort()));
      for (const [key, value] of Object.entries(api)) check(() => expect(typeof value, key).toBe('function'));
      const ipcRenderer = fake.electron.ipcRenderer as unknown as Record<string, unknown>;
      check(() => expect(Object.values(api).some((v) => v === ipcRenderer || Object.values(ipcRenderer).includes(v))).toBe(false));
      const raw = ['ipcRenderer', 'invoke', 'send', 'sendSync', 'sendToHost', 'postMessage', 'require', 'process', 'electron'];
      check(() => expect(Object.keys(api).filter((k) => raw.includes(k)), 'no raw IPC or Node handle').toEqual([]));
      check(() =>
        expect(() => {
          (api as { evil?: unknown }).evil = () => {};
        }).toThrow(TypeError),
      );
      // A method call goes to its own channel only, with the params as given (or {}).
      const before = fake.invoked.length;
      await (api.getInfo as (p?: unknown) => Promise<unknown>)();
      await (api.startInstall as (p: unknown) => Promise<unknown>)({ planId: 'abc' });
      check(() =>
        expect(fake.invoked.slice(before)).toEqual([
          [ipcInvokeChannel('getInfo'), {}],
          [ipcInvokeChannel('startInstall'), { planId: 'abc' }],
        ]),
      );
    });

    it('`on` ignores unknown events and non-functions, and never leaks the Electron event', () => {
      const api = fake.exposed[0]![1] as { on: (event: unknown, listener: unknown) => unknown };
      const listening = () => [...fake.rendererListeners.values()].reduce((n, s) => n + s.size, 0);
      const base = listening();
      for (const [event, listener] of [
        ['nope', () => {}],
        ['__proto__', () => {}],
        ['constructor', () => {}],
        ['toString', () => {}],
        [ipcEventChannel('progress'), () => {}],
        [42, () => {}],
        ['progress', 'not a function'],
        ['progress', null],
        ['engineLost', { handleEvent() {} }],
      ] as Array<[unknown, unknown]>) {
        const off = api.on(event, listener);
        check(() => expect(typeof off, String(event)).toBe('function'));
        check(() => expect(() => (off as () => void)()).not.toThrow());
        check(() => expect(listening(), `${String(event)} subscribed nothing`).toBe(base));
      }
      const got: unknown[] = [];
      const off = api.on('progress', (...args: unknown[]) => got.push(args)) as () => void;
      const [registered] = fake.rendererListeners.get(ipcEventChannel('progress')) ?? [];
      check(() => expect(registered).toBeTypeOf('function'));
      const electronEvent = { sender: fake.electron.ipcRenderer, senderId: 0, ports: [] };
      registered!(electronEvent, { kind: 'log', line: 'x' });
      check(() => expect(got, 'the listener gets the payload only').toEqual([[{ kind: 'log', line: 'x' }]]));
      off();
      check(() => expect(listening(), 'unsubscribed').toBe(base));
    });
  });
});
