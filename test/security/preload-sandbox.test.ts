import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as events from 'node:events';
import * as timers from 'node:timers';
import * as url from 'node:url';
import { join, resolve } from 'node:path';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { EVENT_NAMES, METHOD_NAMES, ipcEventChannel, ipcInvokeChannel } from '../../src/shared/api-names';

/**
 * The BUILT preload (out/preload/index.cjs), run the way a sandboxed Electron renderer runs it: in a
 * fresh V8 context whose `require` gives only what Electron's sandboxed preload gets (`electron`,
 * `events`, `timers`, `url`, also with the `node:` prefix) and throws for anything else, with the
 * globals Electron adds there (`process`, `Buffer`, `setImmediate`, `clearImmediate`). `electron` is
 * a recording double of contextBridge and ipcRenderer. A bundle that required any other module (it
 * once required zod) fails here as it would leave Electron's window blank.
 * The built renderer, which runs in a page with no `require` at all, is held to the same rule.
 */

const REPO = resolve(import.meta.dirname, '../..');
const PRELOAD = join(REPO, 'out/preload/index.cjs');
const RENDERER_ASSETS = join(REPO, 'out/renderer/assets');
const why = existsSync(PRELOAD) && existsSync(RENDERER_ASSETS) ? null : 'the app is not built (npm run build makes out/preload and out/renderer; npm test builds first)';
if (why) console.warn(`[security] built-bundle checks skipped: ${why}`);

const SANDBOX_MODULES = ['electron', 'events', 'timers', 'url'] as const;

interface Loaded {
  readonly required: string[];
  readonly exposed: Array<[string, unknown]>;
  readonly invoked: Array<[string, unknown]>;
  readonly listening: string[];
}

/** Runs CommonJS `code` as a sandboxed preload; throws what the code throws (a refused require among it). */
function loadSandboxed(code: string): Loaded {
  const loaded: Loaded = { required: [], exposed: [], invoked: [], listening: [] };
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, value: unknown) => void loaded.exposed.push([key, value]) },
    ipcRenderer: {
      invoke: async (channel: string, params: unknown) => {
        loaded.invoked.push([channel, params]);
        return { ok: true, value: null };
      },
      on: (channel: string) => void loaded.listening.push(channel),
      removeListener: () => undefined,
    },
  };
  const modules: Record<string, unknown> = { electron, events, timers, url };
  const sandboxRequire = (name: string): unknown => {
    loaded.required.push(name);
    const bare = name.replace(/^node:/, '');
    if (!(SANDBOX_MODULES as readonly string[]).includes(bare) || (bare === 'electron' && name !== 'electron')) {
      throw new Error(`module not found: ${name} (a sandboxed preload can require only ${SANDBOX_MODULES.join(', ')})`);
    }
    return modules[bare];
  };
  const context = vm.createContext({ process: { platform: 'linux', env: {}, versions: {} }, Buffer, setImmediate, clearImmediate, console });
  const wrapper = vm.runInContext(`(function (exports, require, module, __filename, __dirname) {\n${code}\n})`, context, { filename: PRELOAD }) as (...args: unknown[]) => void;
  const module = { exports: {} };
  wrapper(module.exports, sandboxRequire, module, PRELOAD, join(REPO, 'out/preload'));
  return loaded;
}

describe.skipIf(why !== null)('built bundles against the rules of where they run', () => {
  it('the built preload loads with only what a sandboxed preload may require, and window.installer holds exactly the API', async () => {
    const loaded = loadSandboxed(readFileSync(PRELOAD, 'utf8'));
    expect(loaded.required).toEqual(['electron']);
    expect(loaded.exposed.map(([key]) => key)).toEqual(['installer']);
    const api = loaded.exposed[0]![1] as Record<string, unknown>;
    expect(Object.isFrozen(api)).toBe(true);
    expect(Object.keys(api).sort()).toEqual([...METHOD_NAMES, 'on'].sort());
    for (const [key, value] of Object.entries(api)) expect(typeof value, key).toBe('function');
    // Each function reaches its own channel and nothing else.
    for (const m of METHOD_NAMES) await (api[m] as (p?: unknown) => Promise<unknown>)();
    expect(loaded.invoked).toEqual(METHOD_NAMES.map((m) => [ipcInvokeChannel(m), {}]));
    for (const e of EVENT_NAMES) (api.on as (e: string, l: () => void) => () => void)(e, () => undefined);
    expect(loaded.listening).toEqual(EVENT_NAMES.map((e) => ipcEventChannel(e)));
    expect((api.on as (e: string, l: () => void) => () => void)('not-an-event', () => undefined)).toBeTypeOf('function');
    expect(loaded.listening).toHaveLength(EVENT_NAMES.length);
  });

  it('the same loader refuses a preload that requires anything else (what the old bundle did with zod)', () => {
    expect(() => loadSandboxed('const { z } = require("zod"); require("electron");')).toThrow(/module not found: zod/);
    expect(() => loadSandboxed('require("node:fs");')).toThrow(/module not found: node:fs/);
    expect(() => loadSandboxed('require("events"); require("node:timers"); require("url");')).not.toThrow();
  });

  it('the built renderer requires nothing and imports no Node module: it runs in a page', () => {
    const files = readdirSync(RENDERER_ASSETS).filter((f) => f.endsWith('.js'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const text = readFileSync(join(RENDERER_ASSETS, f), 'utf8');
      expect(text, f).not.toMatch(/\brequire\(\s*["'][^"']+["']\s*\)/);
      expect(text, f).not.toMatch(/\bfrom\s*["']node:|\bimport\(\s*["']node:/);
    }
  });
});
