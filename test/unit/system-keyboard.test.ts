import { copyFileSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeError, type EngineMode } from '../../src/shared';
import { CommandError, type Exec, type ExecOptions } from '../../src/engine/exec';
import { EngineFailure } from '../../src/engine/failure';
import { DEFAULT_SYSTEM_PATHS, type SystemDeps } from '../../src/engine/system/deps';
import {
  choiceForXkbName,
  KeyboardService,
  parseKeyboardDefaults,
  parseLocalectlStatus,
  parseSwayInputs,
  parseXkbRules,
  readXkbRules,
  swayKeyboardsShow,
  xkbLayoutName,
} from '../../src/engine/system/keyboard';
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

const RULES = parseXkbRules(readFileSync(join(FIX, 'xkb/evdev.xml'), 'utf8'));
const GET_INPUTS = readFileSync(join(FIX, 'sway/get_inputs.json'), 'utf8');
const SOCK = '/run/user/1000/sway-ipc.1000.sock';

/**
 * Plays sway behind swaymsg as sway-ipc(7) and sway/commands/input.c describe it: each `input
 * type:keyboard xkb_layout|xkb_variant` command compiles the keymap at once and fails when the
 * layout has no such variant; `-t get_inputs --raw` answers the saved sample with every keyboard's
 * active layout name set to what XKB calls the current keymap. `stuck`: accepts every command and
 * changes nothing (a compositor that ignores the socket's commands); `fail`: refuses that command.
 */
function fakeSway(o: { stuck?: boolean; fail?: string; keyboards?: 'none' | 'split' } = {}): { exec: Exec; calls: Call[]; state: () => { layout: string; variant: string } } {
  const calls: Call[] = [];
  let layout = 'us';
  let variant = '';
  const exists = (l: string, v: string): boolean => xkbLayoutName(RULES, { layout: l, ...(v ? { variant: v } : {}) }) !== null;
  const fail = (argv: readonly string[], message: string): never => {
    throw new CommandError(makeError('command-failed', `${argv[0]} exited with code 2.`, { command: [...argv], exitCode: 2, stderrTail: message }));
  };
  const exec: Exec = async (argv, options: ExecOptions = {}) => {
    calls.push({ argv: [...argv], ...(options.env ? { env: options.env } : {}) });
    const ok = (stdout = '') => ({ exitCode: 0, stdout, stderr: '', durationMs: 1 });
    if (argv[0] !== 'swaymsg') return ok();
    expect(argv.slice(1, 3)).toEqual(['-s', SOCK]);
    const words = argv.slice(3);
    if (words[0] === '-t' && words[1] === 'get_inputs') {
      const name = xkbLayoutName(RULES, { layout, ...(variant ? { variant } : {}) });
      const inputs = JSON.parse(GET_INPUTS) as Record<string, unknown>[];
      const out = inputs
        .filter((d) => o.keyboards !== 'none' || d.type !== 'keyboard')
        .map((d, i) => (d.type === 'keyboard' ? { ...d, xkb_layout_names: [o.keyboards === 'split' && i > 0 ? 'English (US)' : name], xkb_active_layout_name: o.keyboards === 'split' && i > 0 ? 'English (US)' : name } : d));
      return ok(JSON.stringify(out));
    }
    expect(words.slice(0, 2)).toEqual(['input', 'type:keyboard']);
    if (o.fail === words[2]) fail(argv, 'Error: Failed to compile keymap');
    if (o.stuck) return ok();
    const value = words[3] === '""' ? '' : words[3]!;
    if (words[2] === 'xkb_layout') {
      if (!exists(value, variant)) fail(argv, `Error: Failed to compile keymap: ${value}(${variant})`);
      layout = value;
    } else if (words[2] === 'xkb_variant') {
      if (!exists(layout, value)) fail(argv, `Error: Failed to compile keymap: ${layout}(${value})`);
      variant = value;
    }
    return ok();
  };
  return { exec, calls, state: () => ({ layout, variant }) };
}

describe('sway get_inputs', () => {
  it('reads the keyboards of the documented reply and leaves pointers and switches out', () => {
    const keyboards = parseSwayInputs(GET_INPUTS);
    expect(keyboards).toEqual([
      { identifier: '1:1:AT_Translated_Set_2_keyboard', name: 'AT Translated Set 2 keyboard', activeLayoutName: 'English (US)', layoutNames: ['English (US)'] },
      { identifier: '0:1:Power_Button', name: 'Power Button', activeLayoutName: 'English (US)', layoutNames: ['English (US)'] },
    ]);
  });

  it('takes the active name from the index where an older or newer sway leaves the name out', () => {
    const json = JSON.stringify([{ identifier: 'k', name: 'K', type: 'keyboard', xkb_layout_names: ['English (US)', 'German (no dead keys)'], xkb_active_layout_index: 1 }]);
    expect(parseSwayInputs(json)[0]!.activeLayoutName).toBe('German (no dead keys)');
    expect(parseSwayInputs('[{"type":"keyboard"}]')[0]).toEqual({ identifier: '', name: '', activeLayoutName: null, layoutNames: [] });
  });

  it('refuses what is not the documented array, rather than reading it as "no keyboards"', () => {
    expect(() => parseSwayInputs('{"success": false}')).toThrow(/not an array/);
    expect(() => parseSwayInputs('[1]')).toThrow(/not an input device/);
    expect(() => parseSwayInputs('swaymsg: unable to connect')).toThrow();
  });

  it('maps choices to XKB names and back, and tells matching keyboards from the others', () => {
    expect(xkbLayoutName(RULES, { layout: 'de', variant: 'nodeadkeys' })).toBe('German (no dead keys)');
    expect(xkbLayoutName(RULES, { layout: 'de' })).toBe('German');
    expect(xkbLayoutName(RULES, { layout: 'de', variant: 'intl' })).toBeNull();
    expect(choiceForXkbName(RULES, 'German (no dead keys)')).toEqual({ layout: 'de', variant: 'nodeadkeys' });
    expect(choiceForXkbName(RULES, 'English (US)')).toEqual({ layout: 'us' });
    expect(choiceForXkbName(RULES, 'Klingon')).toBeNull();
    const keyboards = parseSwayInputs(GET_INPUTS);
    expect(swayKeyboardsShow(keyboards, 'English (US)').matching).toHaveLength(2);
    expect(swayKeyboardsShow(keyboards, 'German').others).toHaveLength(2);
  });
});

describe('setKeyboard', () => {
  const all = ['localectl', 'setxkbmap', 'swaymsg'];
  const x11 = { PARTICLE_SESSION_DISPLAY: ':0', PARTICLE_SESSION_XAUTHORITY: '/run/user/1000/xauth' };
  const sway = { PARTICLE_SESSION_SWAYSOCK: SOCK };

  it('refuses a layout or variant the rules do not have', async () => {
    const s = service('normal', { tools: all });
    await expect(s.set({ layout: 'xx' })).rejects.toMatchObject({ error: { code: 'invalid-input' } });
    await expect(s.set({ layout: 'de', variant: 'intl' })).rejects.toMatchObject({ error: { code: 'invalid-input', message: expect.stringContaining('"intl" is not a variant of the keyboard layout "de"') } });
  });

  it('demo and test modes touch nothing', async () => {
    const { exec, calls } = recordingExec();
    expect(await service('demo', { exec, tools: all, env: { ...x11, ...sway } }).set({ layout: 'de' })).toEqual({ applied: false, detail: 'Demo mode leaves this computer’s keyboard as it is.' });
    expect((await service('test', { exec, tools: all, env: { ...x11, ...sway } }).set({ layout: 'de' })).applied).toBe(false);
    expect(calls).toEqual([]);
  });

  it('sway: switches the kiosk’s keyboards, then reads them back before it says applied', async () => {
    const { exec, calls, state } = fakeSway();
    const r = await service('normal', { exec, tools: ['localectl', 'swaymsg'], env: sway }).set({ layout: 'de', variant: 'nodeadkeys' });
    expect(calls.map((c) => c.argv)).toEqual([
      ['localectl', 'set-x11-keymap', 'de', '', 'nodeadkeys'],
      ['swaymsg', '-s', SOCK, 'input', 'type:keyboard', 'xkb_variant', '""'],
      ['swaymsg', '-s', SOCK, 'input', 'type:keyboard', 'xkb_layout', 'de'],
      ['swaymsg', '-s', SOCK, 'input', 'type:keyboard', 'xkb_variant', 'nodeadkeys'],
      ['swaymsg', '-s', SOCK, '-t', 'get_inputs', '--raw'],
    ]);
    expect(state()).toEqual({ layout: 'de', variant: 'nodeadkeys' });
    expect(r).toEqual({
      applied: true,
      saved: true,
      detail: 'Applied to the running session with swaymsg; the keyboard now types with “German (no dead keys)”. Also saved for new sessions with localectl.',
    });
  });

  it('sway: a variant the new layout lacks is cleared first, so no command fails half-way', async () => {
    const { exec, state } = fakeSway();
    const s = service('normal', { exec, tools: ['swaymsg'], env: sway });
    expect((await s.set({ layout: 'us', variant: 'intl' })).applied).toBe(true);
    // German has no "intl": setting the layout before clearing the variant would not compile.
    const r = await s.set({ layout: 'de' });
    expect(state()).toEqual({ layout: 'de', variant: '' });
    expect(r).toEqual({ applied: true, detail: 'Applied to the running session with swaymsg; the keyboard now types with “German”.' });
  });

  it('sway: accepted commands are not enough, the keyboards must report the layout', async () => {
    const { exec } = fakeSway({ stuck: true });
    const r = await service('normal', { exec, tools: ['localectl', 'swaymsg'], env: sway }).set({ layout: 'de', variant: 'nodeadkeys' });
    expect(r).toEqual({
      applied: false,
      saved: true,
      detail: 'Saved for new sessions with localectl, not applied to this screen. swaymsg was accepted, but sway’s keyboards report “English (US)”, not “German (no dead keys)”.',
    });
    const none = await service('normal', { exec: fakeSway({ keyboards: 'none' }).exec, tools: ['swaymsg'], env: sway }).set({ layout: 'de' });
    expect(none).toEqual({ applied: false, detail: 'swaymsg was accepted, but sway reports no keyboard to check.' });
  });

  it('sway: a refused command is reported, and nothing counts as applied', async () => {
    const { exec, calls } = fakeSway({ fail: 'xkb_layout' });
    const r = await service('normal', { exec, tools: ['swaymsg'], env: sway }).set({ layout: 'de' });
    expect(r.applied).toBe(false);
    expect(r.saved).toBeUndefined();
    expect(r.detail).toBe('swaymsg failed (swaymsg exited with code 2.).');
    expect(calls.some((c) => c.argv.includes('get_inputs'))).toBe(false);
  });

  it('sway: keyboards that disagree are named, the switch still counts', async () => {
    const { exec } = fakeSway({ keyboards: 'split' });
    const r = await service('normal', { exec, tools: ['swaymsg'], env: sway }).set({ layout: 'de' });
    expect(r.applied).toBe(true);
    expect(r.detail).toMatch(/1 of sway’s 2 keyboards still report “English \(US\)” \(Power Button\)\.$/);
  });

  it('localectl alone is saved for new sessions, not applied to this screen', async () => {
    const { exec, calls } = recordingExec();
    const r = await service('normal', { exec, tools: all }).set({ layout: 'de', variant: 'nodeadkeys' });
    expect(calls.map((c) => c.argv)).toEqual([['localectl', 'set-x11-keymap', 'de', '', 'nodeadkeys']]);
    expect(r).toEqual({
      applied: false,
      saved: true,
      detail: 'Saved for new sessions with localectl, not applied to this screen. The engine was not told the session’s display or sway socket.',
    });
  });

  it('a sway socket without swaymsg is said, not skipped in silence', async () => {
    const r = await service('normal', { exec: recordingExec().exec, tools: ['localectl'], env: sway }).set({ layout: 'de' });
    expect(r).toEqual({ applied: false, saved: true, detail: 'Saved for new sessions with localectl, not applied to this screen. The session’s sway socket is known, but swaymsg is not installed.' });
  });

  it('X: setxkbmap on the session display switches it, with its XAUTHORITY', async () => {
    const { exec, calls } = recordingExec();
    const r = await service('normal', { exec, tools: all, env: x11 }).set({ layout: 'de', variant: 'nodeadkeys' });
    expect(calls.map((c) => c.argv)).toEqual([
      ['localectl', 'set-x11-keymap', 'de', '', 'nodeadkeys'],
      ['setxkbmap', '-layout', 'de', '-variant', 'nodeadkeys'],
    ]);
    expect(calls[1]!.env).toEqual({ DISPLAY: ':0', XAUTHORITY: '/run/user/1000/xauth' });
    expect(r).toEqual({ applied: true, saved: true, detail: 'Applied to the running session with setxkbmap; the keyboard now types with “German (no dead keys)”. Also saved for new sessions with localectl.' });
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
    expect(r).toEqual({ applied: true, detail: 'Applied to the running session with setxkbmap; the keyboard now types with “German”. localectl failed (localectl exited with code 1.).' });
  });

  it('nothing available: not applied, and says why', async () => {
    const { exec, calls } = recordingExec();
    const r = await service('normal', { exec, tools: ['setxkbmap'] }).set({ layout: 'de' });
    expect(calls).toEqual([]);
    expect(r.applied).toBe(false);
    expect(r.detail).toMatch(/not told the session/);
  });
});

describe('current keyboard under sway', () => {
  it('is what the kiosk’s keyboards type with, not /etc/default/keyboard', async () => {
    const file = join(tmp, 'keyboard-de');
    writeFileSync(file, 'XKBLAYOUT="de"\n');
    const { exec, calls } = fakeSway();
    const s = service('normal', { exec, tools: ['swaymsg'], env: { PARTICLE_SESSION_SWAYSOCK: SOCK }, paths: { keyboardDefaults: file } });
    expect((await s.list()).current).toEqual({ layout: 'us' });
    expect(calls.map((c) => c.argv)).toEqual([['swaymsg', '-s', SOCK, '-t', 'get_inputs', '--raw']]);
    await s.set({ layout: 'de', variant: 'nodeadkeys' });
    expect(await s.current()).toEqual({ layout: 'de', variant: 'nodeadkeys' });
  });

  it('unknown when the keyboards disagree or sway cannot be asked, so the wizard applies its choice', async () => {
    const split = service('normal', { exec: fakeSway({ keyboards: 'split' }).exec, tools: ['swaymsg'], env: { PARTICLE_SESSION_SWAYSOCK: SOCK } });
    await split.set({ layout: 'de' });
    expect(await split.current()).toBeNull();
    const { exec } = recordingExec((argv) => argv[0] === 'swaymsg');
    expect(await service('normal', { exec, tools: ['swaymsg'], env: { PARTICLE_SESSION_SWAYSOCK: SOCK } }).current()).toBeNull();
  });
});
