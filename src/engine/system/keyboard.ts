import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeyboardChoiceSchema, type ApplyResult, type KeyboardChoice, type KeyboardLayout, type KeyboardLayouts } from '../../shared';
import { EngineFailure } from '../failure';
import { reason, type SystemDeps } from './deps';
import { child, childrenNamed, childText, parseXml } from './xml';

/**
 * Keyboard layouts from xkb-data's rules (the same list the installed system's XKB accepts), the
 * live session's current layout, and switching the live session so a password typed later comes
 * out the way the person expects.
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

  /** The live system's layout, in normal mode only: demo and test engines are not about this machine. */
  async current(): Promise<KeyboardChoice | null> {
    if (this.deps.mode !== 'normal') return null;
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
   * Every way available, in order: localectl (persists for X sessions started later and the
   * console), then the running session itself: setxkbmap on the X display or swaymsg on the sway
   * socket the engine was told about (the engine runs as root, outside the session).
   */
  private async apply(c: KeyboardChoice): Promise<ApplyResult> {
    const { exec, env, which } = this.deps;
    const worked: string[] = [];
    const failed: string[] = [];
    const attempt = async (name: string, commands: { argv: string[]; env?: Record<string, string> }[]): Promise<void> => {
      try {
        for (const cmd of commands) await exec(cmd.argv, { timeoutMs: 10_000, ...(cmd.env ? { env: cmd.env } : {}) });
        worked.push(name);
      } catch (e) {
        failed.push(`${name} failed (${reason(e)})`);
      }
    };
    if (which('localectl')) {
      await attempt('localectl', [{ argv: ['localectl', 'set-x11-keymap', c.layout, ...(c.variant ? ['', c.variant] : [])] }]);
    }
    const display = env.PARTICLE_SESSION_DISPLAY;
    if (display && which('setxkbmap')) {
      const xenv: Record<string, string> = { DISPLAY: display };
      if (env.PARTICLE_SESSION_XAUTHORITY) xenv.XAUTHORITY = env.PARTICLE_SESSION_XAUTHORITY;
      await attempt('setxkbmap', [{ argv: ['setxkbmap', '-layout', c.layout, ...(c.variant ? ['-variant', c.variant] : [])], env: xenv }]);
    }
    const sway = env.PARTICLE_SESSION_SWAYSOCK;
    if (sway && which('swaymsg')) {
      const cmd = (...words: string[]) => ({ argv: ['swaymsg', '-s', sway, 'input', 'type:keyboard', ...words] });
      // sway's own command parser reads "" as an empty variant, so a previous variant does not linger.
      await attempt('swaymsg', [cmd('xkb_layout', c.layout), cmd('xkb_variant', c.variant ?? '""')]);
    }
    if (worked.length === 0 && failed.length === 0) {
      return { applied: false, detail: 'No way to switch the keyboard was found: localectl is missing and the engine was not told the session’s display or sway socket.' };
    }
    const parts = [...(worked.length > 0 ? [`Applied with ${worked.join(' and ')}.`] : []), ...failed.map((f) => `${f}.`)];
    return { applied: worked.length > 0, detail: parts.join(' ') };
  }
}
