import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KeyboardLayoutsSchema, TimeZonesSchema } from '../../src/shared';
import { createEngine } from '../../src/engine/engine';
import { DEFAULT_SYSTEM_PATHS } from '../../src/engine/system';
import { parseXkbRules } from '../../src/engine/system/keyboard';

// The wizard's lists from this machine's own xkb-data and tzdata (scripts/setup-debian.sh installs
// both), through the engine as the service would call it.
const RULES = `${DEFAULT_SYSTEM_PATHS.xkbRulesDir}/evdev.xml`;
const noXkb = existsSync(RULES) ? null : `${RULES} is missing (install xkb-data)`;
const noTz = existsSync(`${DEFAULT_SYSTEM_PATHS.zoneinfoDir}/zone.tab`) ? null : 'zone.tab is missing (install tzdata)';
if (noXkb) console.warn(`[integration] system-data keyboard tests skipped: ${noXkb}`);
if (noTz) console.warn(`[integration] system-data time zone tests skipped: ${noTz}`);

const engine = createEngine({ mode: 'test', runRoot: '/nonexistent-particle-run' });

describe.skipIf(noXkb !== null)('keyboard layouts from xkb-data', () => {
  it('lists the real layouts: de with nodeadkeys, us first among English ones', async () => {
    const r = KeyboardLayoutsSchema.parse(await engine.handlers.listKeyboardLayouts({}));
    expect(r.layouts.length).toBeGreaterThan(50);
    const de = r.layouts.find((l) => l.name === 'de')!;
    expect(de.description).toBe('German');
    expect(de.variants.map((v) => v.name)).toContain('nodeadkeys');
    expect(de.countries).toContain('DE');
    const descriptions = r.layouts.map((l) => l.description);
    expect([...descriptions].sort((a, b) => a.localeCompare(b, 'en'))).toEqual(descriptions);
    expect(r.current).toBeNull(); // test mode does not read this machine's keyboard
  });

  it('parses the ~250 KB rules quickly', () => {
    const text = readFileSync(RULES, 'utf8');
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      parseXkbRules(text);
      times.push(performance.now() - t0);
    }
    console.info(`[integration] XKB rules: ${text.length} bytes parsed in ${times.map((t) => t.toFixed(1)).join(', ')} ms (cold first)`);
    expect(Math.min(...times)).toBeLessThan(200);
  });

  it('setKeyboard checks the real rules and leaves this machine alone in test mode', async () => {
    expect((await engine.handlers.setKeyboard({ layout: 'de', variant: 'nodeadkeys' })).applied).toBe(false);
    await expect(engine.handlers.setKeyboard({ layout: 'de', variant: 'no-such-variant' })).rejects.toMatchObject({ error: { code: 'invalid-input' } });
  });
});

describe.skipIf(noTz !== null)('time zones from tzdata', () => {
  it('every zone.tab zone, Europe/Oslo for Norway, coordinates and country names', async () => {
    const r = TimeZonesSchema.parse(await engine.handlers.listTimeZones({}));
    expect(r.zones.length).toBeGreaterThan(300);
    const oslo = r.zones.find((z) => z.id === 'Europe/Oslo')!;
    expect(oslo.countries).toContain('NO');
    expect(oslo.latitude).toBeCloseTo(59.9167, 3);
    expect(oslo.longitude).toBeCloseTo(10.75, 3);
    expect(r.zones.find((z) => z.id === 'America/Argentina/Buenos_Aires')!.city).toBe('Argentina/Buenos Aires');
    expect(r.countryNames.NO).toBe('Norway');
    for (const z of r.zones) for (const c of z.countries) expect(r.countryNames[c], `${z.id}: ${c}`).toBeDefined();
    // This machine's zone, when /etc/localtime names one (UTC here); null only when it cannot be read.
    if (existsSync('/etc/localtime')) expect(r.current === 'UTC' || r.zones.some((z) => z.id === r.current)).toBe(true);
  });
});
