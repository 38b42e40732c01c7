import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeyboardChoiceSchema, type ApplyResult, type KeyboardChoice, type KeyboardLayout, type KeyboardLayouts } from '../../shared';
import { EngineFailure } from '../failure';
import { reason, type SystemDeps } from './deps';
import { child, childrenNamed, childText, parseXml } from './xml';

/**
 * Keyboard layouts from xkb-data's rules (the same list the installed system's XKB accepts), the
 * live session's current layout, and switching the live session so a password typed later comes
 * out the way the person expects. "Applied" means the session the person types in was switched:
 * saving a setting for sessions started later (localectl) does not change the screen in front of
 * them, and under sway the keyboards are asked afterwards which layout they now have.
 */

/** Layouts and variants from an XKB rules XML document (evdev.xml), sorted by description. */
export function parseXkbRules(xml: string): KeyboardLayout[] {
  const doc = parseXml(xml);
  const registry = child(doc, 'xkbConfigRegistry');
  const layouts: KeyboardLayout[] = [];
  for (const layout of childrenNamed(child(registry, 'layoutList'), 'layout')) {
    const item = child(layout, 'configItem');
    const name = childText(item, 'name');
    if (!name) continue;
    const variants = childrenNamed(child(layout, 'variantList'), 'variant').flatMap((v) => {
      const vi = child(v, 'configItem');
      const vname = childText(vi, 'name');
      return vname ? [{ name: vname, description: childText(vi, 'description') ?? vname }] : [];
    });
    layouts.push({
      name,
      description: childText(item, 'description') ?? name,
      languages: childrenNamed(child(item, 'languageList'), 'iso639Id').map((e) => e.text.trim()).filter(Boolean),
      countries: childrenNamed(child(item, 'countryList'), 'iso3166Id').map((e) => e.text.trim()).filter(Boolean),
      variants,
    });
  }
  return layouts.sort((a, b) => a.description.localeCompare(b.description, 'en') || a.name.localeCompare(b.name));
}

/** The rules file to read: evdev.xml (what X and Wayland use on Linux), else base.xml. */
export function readXkbRules(rulesDir: string): { file: string; text: string } {
  const tried: string[] = [];
  for (const name of ['evdev.xml', 'base.xml']) {
    const file = join(rulesDir, name);
    try {
      return { file, text: readFileSync(file, 'utf8') };
    } catch (e) {
      tried.push(`${file}: ${reason(e)}`);
    }
  }
  throw EngineFailure.of('internal', 'The keyboard layouts cannot be read: xkb-data is not installed.', { kind: 'system', detail: tried.join('\n') });
}

/** The first entry of a comma list, or undefined when empty. */
const first = (s: string | undefined): string | undefined => s?.split(',')[0]?.trim() || undefined;

function choice(layout: string | undefined, variant: string | undefined): KeyboardChoice | null {
  const r = KeyboardChoiceSchema.safeParse({ layout, ...(variant ? { variant } : {}) });
  return r.success ? r.data : null;
}

/** XKBLAYOUT and XKBVARIANT from Debian's /etc/default/keyboard (shell-style assignments). */
export function parseKeyboardDefaults(text: string): KeyboardChoice | null {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*(XKB[A-Z]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S*))/.exec(line);
    if (m) vars[m[1]!] = m[2] ?? m[3] ?? m[4] ?? '';
  }
  return choice(first(vars.XKBLAYOUT), first(vars.XKBVARIANT));
}

/** "X11 Layout:" and "X11 Variant:" from `localectl status`. */
export function parseLocalectlStatus(text: string): KeyboardChoice | null {
  const field = (label: string): string | undefined => new RegExp(`^\\s*${label}:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim();
  const layout = first(field('X11 Layout'));
  return layout && layout !== 'n/a' ? choice(layout, first(field('X11 Variant'))) : null;
}

/** A keyboard in sway's GET_INPUTS reply (sway-ipc(7), "100. GET_INPUTS"; swaywm/sway sway/sway-ipc.7.scd at 079a322c). */
export interface SwayKeyboard {
  readonly identifier: string;
  readonly name: string;
  /**
   * The active layout's name, which is what XKB's symbols call it, e.g. "German (no dead keys)":
   * the same text as the layout's or variant's description in the rules (evdev.xml).
   */
  readonly activeLayoutName: string | null;
  /** Every layout configured for it (newer sway; empty where not reported). */
  readonly layoutNames: readonly string[];
}

/**
 * The keyboards in the JSON `swaymsg -t get_inputs --raw` prints: an array of input devices, each
 * with identifier, name and type; keyboards also with xkb_active_layout_name and, in newer sway,
 * xkb_layout_names and xkb_active_layout_index. Pointers, switches and the like are left out.
 * Throws on anything but an array of objects, so a changed format is an error, never "no keyboard".
 */
export function parseSwayInputs(json: string): SwayKeyboard[] {
  const doc: unknown = JSON.parse(json);
  if (!Array.isArray(doc)) throw new Error('sway\'s get_inputs reply is not an array');
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  return doc.flatMap((input: unknown): SwayKeyboard[] => {
    if (typeof input !== 'object' || input === null) throw new Error('sway\'s get_inputs reply lists something that is not an input device');
    const d = input as Record<string, unknown>;
    if (d.type !== 'keyboard') return [];
    const names = Array.isArray(d.xkb_layout_names) ? d.xkb_layout_names.filter((n): n is string => typeof n === 'string') : [];
    const index = typeof d.xkb_active_layout_index === 'number' ? d.xkb_active_layout_index : null;
    return [
      {
        identifier: str(d.identifier) ?? '',
        name: str(d.name) ?? '',
        activeLayoutName: str(d.xkb_active_layout_name) ?? (index === null ? null : (names[index] ?? null)),
        layoutNames: names,
      },
    ];
  });
}

/** What XKB names a choice: the variant's description, or the layout's for no variant. */
export function xkbLayoutName(layouts: readonly KeyboardLayout[], c: KeyboardChoice): string | null {
  const layout = layouts.find((l) => l.name === c.layout);
  if (!layout) return null;
  if (c.variant === undefined) return layout.description;
  return layout.variants.find((v) => v.name === c.variant)?.description ?? null;
}

/** The choice an XKB layout name stands for (the reverse of xkbLayoutName), or null for none. */
export function choiceForXkbName(layouts: readonly KeyboardLayout[], name: string): KeyboardChoice | null {
  const layout = layouts.find((l) => l.description === name);
  if (layout) return { layout: layout.name };
  for (const l of layouts) {
    const v = l.variants.find((x) => x.description === name);
    if (v) return { layout: l.name, variant: v.name };
  }
  return null;
}

/**
 * Whether sway's keyboards now type with the layout named `expected`: the ones whose active layout
 * it is, and the others. A seat's keyboards all get `input type:keyboard` settings, so in practice it
 * is all or none; some is still "switched", as the person's keyboard is among them.
 */
export function swayKeyboardsShow(keyboards: readonly SwayKeyboard[], expected: string): { matching: SwayKeyboard[]; others: SwayKeyboard[] } {
  const matching = keyboards.filter((k) => k.activeLayoutName === expected);
  return { matching, others: keyboards.filter((k) => k.activeLayoutName !== expected) };
}

export class KeyboardService {
  private cache: { layouts: KeyboardLayout[]; parseMs: number; file: string } | null = null;

  constructor(private readonly deps: SystemDeps) {}

  /** Parsed once per engine: the rules file is about 250 KB and does not change while it runs. */
  rules(): { layouts: KeyboardLayout[]; parseMs: number; file: string } {
    if (!this.cache) {
      const { file, text } = readXkbRules(this.deps.paths.xkbRulesDir);
      const t0 = performance.now();
      const layouts = parseXkbRules(text);
      this.cache = { layouts, parseMs: performance.now() - t0, file };
    }
    return this.cache;
  }

  /**
   * The layouts a choice can name. A few XKB names have capitals ("macOS", "OADG109A"), which
   * the answer file's XKB name rule does not accept; offering them would only end in a refusal.
   */
  async list(): Promise<KeyboardLayouts> {
    const ok = (name: string): boolean => KeyboardChoiceSchema.shape.layout.safeParse(name).success;
    const layouts = this.rules()
      .layouts.filter((l) => ok(l.name))
      .map((l) => (l.variants.every((v) => ok(v.name)) ? l : { ...l, variants: l.variants.filter((v) => ok(v.name)) }));
    return { layouts, current: await this.current() };
  }

  /** The sway socket the engine was told about, when swaymsg can talk to it. */
  private swaySocket(): string | null {
    const sock = this.deps.env.PARTICLE_SESSION_SWAYSOCK;
    return sock && this.deps.which('swaymsg') ? sock : null;
  }

  private async swayKeyboards(sock: string): Promise<SwayKeyboard[]> {
    return parseSwayInputs((await this.deps.exec(['swaymsg', '-s', sock, '-t', 'get_inputs', '--raw'], { timeoutMs: 10_000 })).stdout);
  }

  /**
   * The live system's layout, in normal mode only: demo and test engines are not about this machine.
   * Under sway, what its keyboards type with (sway reads neither /etc/default/keyboard nor localed);
   * when they disagree or name no layout of the rules, null, so the wizard applies its own choice.
   */
  async current(): Promise<KeyboardChoice | null> {
    if (this.deps.mode !== 'normal') return null;
    const sock = this.swaySocket();
    if (sock) {
      try {
        const names = new Set((await this.swayKeyboards(sock)).map((k) => k.activeLayoutName));
        const [only] = names;
        return names.size === 1 && only ? choiceForXkbName(this.rules().layouts, only) : null;
      } catch {
        return null;
      }
    }
    try {
      const c = parseKeyboardDefaults(readFileSync(this.deps.paths.keyboardDefaults, 'utf8'));
      if (c) return c;
    } catch {
      // Not Debian-style configuration: ask localed.
    }
    if (!this.deps.which('localectl')) return null;
    try {
      return parseLocalectlStatus((await this.deps.exec(['localectl', 'status'], { timeoutMs: 5_000 })).stdout);
    } catch {
      return null;
    }
  }

  /** Checks the choice against the rules, then applies it to the live session (normal mode only). */
  async set(c: KeyboardChoice): Promise<ApplyResult> {
    const layout = this.rules().layouts.find((l) => l.name === c.layout);
    if (!layout) throw EngineFailure.of('invalid-input', `"${c.layout}" is not a keyboard layout this system knows (see listKeyboardLayouts).`);
    if (c.variant !== undefined && !layout.variants.some((v) => v.name === c.variant)) {
      throw EngineFailure.of('invalid-input', `"${c.variant}" is not a variant of the keyboard layout "${c.layout}".`);
    }
    if (this.deps.mode === 'demo') return { applied: false, detail: 'Demo mode leaves this computer’s keyboard as it is.' };
    if (this.deps.mode === 'test') return { applied: false, detail: 'Test mode leaves this computer’s keyboard as it is.' };
    return this.apply(c);
  }

  /**
   * Every way available: localectl saves the choice for sessions started later and the console (it
   * changes nothing a running Wayland compositor types with); setxkbmap on the X display, or swaymsg
   * on the sway socket the engine was told about (it runs as root, outside the session), switch the
   * running session. Only the latter count as applied, and swaymsg only once the keyboards report
   * the layout: that sway accepted a command says nothing about the keymap its keyboards ended up with.
   */
  private async apply(c: KeyboardChoice): Promise<ApplyResult> {
    const { exec, env, which } = this.deps;
    const expected = xkbLayoutName(this.rules().layouts, c) ?? c.layout;
    const problems: string[] = [];
    let saved = false;
    let switched: string | null = null;
    const run = async (argv: string[], extra: { env?: Record<string, string> } = {}): Promise<void> => {
      await exec(argv, { timeoutMs: 10_000, ...extra });
    };

    if (which('localectl')) {
      try {
        await run(['localectl', 'set-x11-keymap', c.layout, ...(c.variant ? ['', c.variant] : [])]);
        saved = true;
      } catch (e) {
        problems.push(`localectl failed (${reason(e)}).`);
      }
    }
    const display = env.PARTICLE_SESSION_DISPLAY;
    if (display && which('setxkbmap')) {
      const xenv: Record<string, string> = { DISPLAY: display };
      if (env.PARTICLE_SESSION_XAUTHORITY) xenv.XAUTHORITY = env.PARTICLE_SESSION_XAUTHORITY;
      try {
        await run(['setxkbmap', '-layout', c.layout, ...(c.variant ? ['-variant', c.variant] : [])], { env: xenv });
        switched = 'setxkbmap';
      } catch (e) {
        problems.push(`setxkbmap failed (${reason(e)}).`);
      }
    }
    const sockName = env.PARTICLE_SESSION_SWAYSOCK;
    const sock = this.swaySocket();
    if (sockName && !sock) problems.push('The session’s sway socket is known, but swaymsg is not installed.');
    if (sock) {
      const input = (...words: string[]): string[] => ['swaymsg', '-s', sock, 'input', 'type:keyboard', ...words];
      try {
        // Each `input` command compiles the keymap at once and fails when it cannot ("Failed to
        // compile keymap", cmd_input in swaywm/sway sway/commands/input.c at 01ec18e8), so a variant
        // the new layout lacks must go first: clear the variant, then set the layout, then its
        // variant. sway's command parser reads "" as an empty argument.
        await run(input('xkb_variant', '""'));
        await run(input('xkb_layout', c.layout));
        if (c.variant) await run(input('xkb_variant', c.variant));
        const keyboards = await this.swayKeyboards(sock);
        const { matching, others } = swayKeyboardsShow(keyboards, expected);
        if (matching.length > 0) {
          switched = switched ? `${switched} and swaymsg` : 'swaymsg';
          if (others.length > 0) problems.push(`${others.length} of sway’s ${keyboards.length} keyboards still report ${others.map((k) => `“${k.activeLayoutName ?? 'no layout'}” (${k.name})`).join(', ')}.`);
        } else if (keyboards.length === 0) {
          problems.push('swaymsg was accepted, but sway reports no keyboard to check.');
        } else {
          const seen = [...new Set(keyboards.map((k) => k.activeLayoutName ?? 'no layout'))].map((n) => `“${n}”`).join(', ');
          problems.push(`swaymsg was accepted, but sway’s keyboards report ${seen}, not “${expected}”.`);
        }
      } catch (e) {
        problems.push(`swaymsg failed (${reason(e)}).`);
      }
    }

    if (switched) {
      const parts = [`Applied to the running session with ${switched}; the keyboard now types with “${expected}”.`];
      if (saved) parts.push('Also saved for new sessions with localectl.');
      return { applied: true, detail: [...parts, ...problems].join(' '), ...(saved ? { saved } : {}) };
    }
    if (saved) {
      const why = display || sockName ? [] : ['The engine was not told the session’s display or sway socket.'];
      return { applied: false, saved: true, detail: ['Saved for new sessions with localectl, not applied to this screen.', ...why, ...problems].join(' ') };
    }
    if (problems.length === 0) {
      return { applied: false, detail: 'No way to switch the keyboard was found: localectl is missing and the engine was not told the session’s display or sway socket.' };
    }
    return { applied: false, detail: problems.join(' ') };
  }
}
