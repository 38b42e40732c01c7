import { copyFileSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeError, type EngineMode } from '../../src/shared';
import { CommandError, type Exec, type ExecOptions } from '../../src/engine/exec';
import { EngineFailure } from '../../src/engine/failure';
import { DEFAULT_SYSTEM_PATHS, type SystemDeps } from '../../src/engine/system/deps';
import { KeyboardService, parseKeyboardDefaults, parseLocalectlStatus, parseXkbRules, readXkbRules } from '../../src/engine/system/keyboard';
import { decodeEntities, parseXml } from '../../src/engine/system/xml';

const FIX = resolve('test/fixtures/system');
const tmp = mkdtempSync(join(tmpdir(), 'system-keyboard-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Call {
  argv: string[];
  env?: Readonly<Record<string, string>>;
}

/** Records every command; `fail` picks the ones that exit 1, `stdout` what they print. */
function recordingExec(fail: (argv: readonly string[]) => boolean = () => false, stdout: (argv: readonly string[]) => string = () => ''): { exec: Exec; calls: Call[] } {
  const calls: Call[] = [];
  const exec: Exec = async (argv, options: ExecOptions = {}) => {
    calls.push({ argv: [...argv], ...(options.env ? { env: options.env } : {}) });
    if (fail(argv)) throw new CommandError(makeError('command-failed', `${argv[0]} exited with code 1.`, { command: [...argv], exitCode: 1 }));
    return { exitCode: 0, stdout: stdout(argv), stderr: '', durationMs: 1 };
  };
  return { exec, calls };
}

function service(mode: EngineMode, o: { exec?: Exec; env?: Record<string, string>; tools?: string[]; paths?: Partial<SystemDeps['paths']> } = {}): KeyboardService {
  const tools = new Set(o.tools ?? []);
  return new KeyboardService({
    mode,
    exec: o.exec ?? recordingExec().exec,
    paths: { ...DEFAULT_SYSTEM_PATHS, xkbRulesDir: join(FIX, 'xkb'), keyboardDefaults: join(tmp, 'no-such-keyboard'), ...o.paths },
    env: o.env ?? {},
    which: (c) => (tools.has(c) ? `/usr/bin/${c}` : null),
  });
}

describe('XML reader', () => {
  it('decodes named and numeric entities and keeps unknown ones', () => {
    expect(decodeEntities('a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; &#233; &#x2318; &nbsp;')).toBe('a <b> & "c" \'d\' é ⌘ &nbsp;');
  });

  it('skips comments, prolog and DOCTYPE, reads attributes and self-closing elements', () => {
    const doc = parseXml('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "y">]><r a="1 &amp; 2"><!-- <c>no</c> --><c/><c b=\'>\'>t&#65;</c></r>');
    const r = doc.children[0]!;
    expect(r.name).toBe('r');
    expect(r.attributes.a).toBe('1 & 2');
    expect(r.children.map((c) => c.name)).toEqual(['c', 'c']);
    expect(r.children[1]!.attributes.b).toBe('>');
    expect(r.children[1]!.text).toBe('tA');
  });

  it('tolerates unclosed elements and stray end tags', () => {
    const doc = parseXml('<a><b>x</c></b><d>y');
    expect(doc.children[0]!.children.map((c) => [c.name, c.text])).toEqual([
      ['b', 'x'],
      ['d', 'y'],
    ]);
  });
});

describe('XKB rules', () => {
  const layouts = parseXkbRules(readFileSync(join(FIX, 'xkb/evdev.xml'), 'utf8'));

  it('lists layouts sorted by description, with languages and countries', () => {
    expect(layouts.map((l) => l.name)).toEqual(['ara', 'cz', 'us', 'de']);
    expect(layouts.find((l) => l.name === 'de')).toMatchObject({ description: 'German', languages: ['ger', 'deu'], countries: ['DE'] });
    expect(layouts.find((l) => l.name === 'ara')).toMatchObject({ description: 'Arabic', countries: [], variants: [] });
  });

  it('reads variants, skipping commented-out ones, with entities decoded', () => {
    expect(layouts.find((l) => l.name === 'us')!.variants.map((v) => v.name)).toEqual(['intl', 'chr']);
    expect(layouts.find((l) => l.name === 'cz')!.variants[0]!.description).toBe('Czech (with <\\|> key & é)');
    expect(layouts.find((l) => l.name === 'de')!.variants.find((v) => v.name === 'mac')!.description).toBe('German (Macintosh ⌘)');
  });

  it('ignores models and options', () => {
    expect(layouts.some((l) => l.name === 'pc105' || l.name === 'grp')).toBe(false);
  });

  it('falls back to base.xml, and says when xkb-data is missing', () => {
    expect(readXkbRules(join(FIX, 'xkb-base-only')).file).toMatch(/base\.xml$/);
    expect(() => readXkbRules(join(tmp, 'nothing'))).toThrow(EngineFailure);
  });
});

describe('current keyboard', () => {
  it('reads the first of /etc/default/keyboard comma lists', () => {
    expect(parseKeyboardDefaults('XKBMODEL="pc105"\nXKBLAYOUT="de,us"\nXKBVARIANT="nodeadkeys,"\n')).toEqual({ layout: 'de', variant: 'nodeadkeys' });
    expect(parseKeyboardDefaults("XKBLAYOUT=fr\nXKBVARIANT=''\n")).toEqual({ layout: 'fr' });
    expect(parseKeyboardDefaults('# nothing\n')).toBeNull();
  });

  it('reads localectl status', () => {
    const text = '   System Locale: LANG=en_US.UTF-8\n       VC Keymap: de-nodeadkeys\n      X11 Layout: de\n       X11 Model: pc105\n     X11 Variant: nodeadkeys\n';
    expect(parseLocalectlStatus(text)).toEqual({ layout: 'de', variant: 'nodeadkeys' });
    expect(parseLocalectlStatus('   System Locale: n/a\n       VC Keymap: n/a\n      X11 Layout: n/a\n')).toBeNull();
  });

  it('normal mode: the defaults file first, then localectl; other modes: null', async () => {
    const file = join(tmp, 'keyboard');
    writeFileSync(file, 'XKBLAYOUT="de"\n');
    expect((await service('normal', { paths: { keyboardDefaults: file } }).list()).current).toEqual({ layout: 'de' });
    expect((await service('demo', { paths: { keyboardDefaults: file } }).list()).current).toBeNull();
    const { exec, calls } = recordingExec(undefined, () => '      X11 Layout: us\n     X11 Variant: intl\n');
    expect((await service('normal', { exec, tools: ['localectl'] }).list()).current).toEqual({ layout: 'us', variant: 'intl' });
    expect(calls.map((c) => c.argv)).toEqual([['localectl', 'status']]);
  });
});

describe('listKeyboardLayouts', () => {
  it('leaves out names a choice cannot carry (capitals)', async () => {
    const de = (await service('test').list()).layouts.find((l) => l.name === 'de')!;
    expect(de.variants.map((v) => v.name)).toEqual(['nodeadkeys', 'mac']);
  });

  it('parses once and caches', async () => {
    const dir = mkdtempSync(join(tmp, 'rules-'));
    copyFileSync(join(FIX, 'xkb/evdev.xml'), join(dir, 'evdev.xml'));
    const s = service('test', { paths: { xkbRulesDir: dir } });
    const first = await s.list();
    rmSync(join(dir, 'evdev.xml'));
    expect((await s.list()).layouts).toEqual(first.layouts);
    expect(s.rules().parseMs).toBeGreaterThanOrEqual(0);
  });
});

describe('setKeyboard', () => {
  const all = ['localectl', 'setxkbmap', 'swaymsg'];
  const session = { PARTICLE_SESSION_DISPLAY: ':0', PARTICLE_SESSION_XAUTHORITY: '/run/user/1000/xauth', PARTICLE_SESSION_SWAYSOCK: '/run/user/1000/sway.sock' };

  it('refuses a layout or variant the rules do not have', async () => {
    const s = service('normal', { tools: all });
    await expect(s.set({ layout: 'xx' })).rejects.toMatchObject({ error: { code: 'invalid-input' } });
    await expect(s.set({ layout: 'de', variant: 'intl' })).rejects.toMatchObject({ error: { code: 'invalid-input', message: expect.stringContaining('"intl" is not a variant of the keyboard layout "de"') } });
  });

  it('demo and test modes touch nothing', async () => {
    const { exec, calls } = recordingExec();
    expect(await service('demo', { exec, tools: all, env: session }).set({ layout: 'de' })).toEqual({ applied: false, detail: 'Demo mode leaves this computer’s keyboard as it is.' });
    expect((await service('test', { exec, tools: all, env: session }).set({ layout: 'de' })).applied).toBe(false);
    expect(calls).toEqual([]);
  });

  it('normal mode: localectl, then setxkbmap on the session display, then swaymsg, as argv', async () => {
    const { exec, calls } = recordingExec();
    const r = await service('normal', { exec, tools: all, env: session }).set({ layout: 'de', variant: 'nodeadkeys' });
    expect(calls.map((c) => c.argv)).toEqual([
      ['localectl', 'set-x11-keymap', 'de', '', 'nodeadkeys'],
      ['setxkbmap', '-layout', 'de', '-variant', 'nodeadkeys'],
      ['swaymsg', '-s', '/run/user/1000/sway.sock', 'input', 'type:keyboard', 'xkb_layout', 'de'],
      ['swaymsg', '-s', '/run/user/1000/sway.sock', 'input', 'type:keyboard', 'xkb_variant', 'nodeadkeys'],
    ]);
    expect(calls[1]!.env).toEqual({ DISPLAY: ':0', XAUTHORITY: '/run/user/1000/xauth' });
    expect(r).toEqual({ applied: true, detail: 'Applied with localectl and setxkbmap and swaymsg.' });
  });

  it('without a variant: no variant argument for localectl and setxkbmap', async () => {
    const { exec, calls } = recordingExec();
    await service('normal', { exec, tools: all, env: { PARTICLE_SESSION_DISPLAY: ':1' } }).set({ layout: 'us' });
    expect(calls.map((c) => c.argv)).toEqual([
      ['localectl', 'set-x11-keymap', 'us'],
      ['setxkbmap', '-layout', 'us'],
    ]);
    expect(calls[1]!.env).toEqual({ DISPLAY: ':1' });
  });

  it('reports which way failed and which worked', async () => {
    const { exec } = recordingExec((argv) => argv[0] === 'localectl');
    const r = await service('normal', { exec, tools: all, env: { PARTICLE_SESSION_DISPLAY: ':0' } }).set({ layout: 'de' });
    expect(r.applied).toBe(true);
    expect(r.detail).toMatch(/^Applied with setxkbmap\. localectl failed \(localectl exited with code 1\.\)\.$/);
  });

  it('nothing available: not applied, and says why', async () => {
    const { exec, calls } = recordingExec();
    const r = await service('normal', { exec, tools: ['setxkbmap'] }).set({ layout: 'de' });
    expect(calls).toEqual([]);
    expect(r.applied).toBe(false);
    expect(r.detail).toMatch(/not told the session/);
  });
});
