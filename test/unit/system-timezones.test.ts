import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TimeZonesSchema } from '../../src/shared';
import { currentZone, listTimeZones, parseIso3166Tab, parseIso6709, parseZoneTab, splitZoneId, zoneFromLink } from '../../src/engine/system/timezones';

const FIX = resolve('test/fixtures/system/zoneinfo');
const tmp = mkdtempSync(join(tmpdir(), 'system-tz-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('ISO 6709 coordinates', () => {
  it('reads ±DDMM±DDDMM and ±DDMMSS±DDDMMSS into decimal degrees', () => {
    expect(parseIso6709('+5955+01045')).toEqual({ latitude: 59.916667, longitude: 10.75 });
    expect(parseIso6709('-3436-05827')).toEqual({ latitude: -34.6, longitude: -58.45 });
    expect(parseIso6709('+404251-0740023')).toEqual({ latitude: 40.714167, longitude: -74.006389 });
  });

  it('refuses malformed or mixed precision', () => {
    for (const bad of ['garbage', '+5955', '+595501+01045', '5955+01045', '+59a5+01045']) expect(parseIso6709(bad)).toBeNull();
  });
});

describe('zone.tab', () => {
  const zones = parseZoneTab(readFileSync(join(FIX, 'zone.tab'), 'utf8'));

  it('merges countries per zone and skips comments and broken rows', () => {
    expect(zones.map((z) => z.id)).toEqual(['America/Argentina/Buenos_Aires', 'America/New_York', 'Europe/Berlin', 'Europe/Oslo']);
    expect(zones.find((z) => z.id === 'Europe/Oslo')!.countries).toEqual(['NO', 'SJ']);
  });

  it('splits region and city, underscores as spaces', () => {
    expect(zones[0]).toMatchObject({ region: 'America', city: 'Argentina/Buenos Aires', latitude: -34.6 });
    expect(splitZoneId('UTC')).toEqual({ region: 'UTC', city: 'UTC' });
  });

  it('reads zone1970.tab comma lists too', () => {
    expect(parseZoneTab('CH,DE,LI\t+4723+00832\tEurope/Zurich\n')[0]!.countries).toEqual(['CH', 'DE', 'LI']);
  });

  it('reads iso3166.tab', () => {
    const names = parseIso3166Tab(readFileSync(join(FIX, 'iso3166.tab'), 'utf8'));
    expect(names.NO).toBe('Norway');
    expect(names.SJ).toBe('Svalbard & Jan Mayen');
    expect(Object.keys(names)).toHaveLength(5);
  });
});

describe('current zone', () => {
  const ids = new Set(['Europe/Oslo', 'America/New_York']);
  const link = (name: string, target: string): string => {
    const p = join(tmp, name);
    symlinkSync(target, p);
    return p;
  };

  it('reads the /etc/localtime link, relative or absolute, posix/ and right/ too', () => {
    expect(zoneFromLink('../usr/share/zoneinfo/Europe/Oslo')).toBe('Europe/Oslo');
    expect(zoneFromLink('/usr/share/zoneinfo/posix/America/New_York')).toBe('America/New_York');
    expect(zoneFromLink('/somewhere/else')).toBeNull();
    expect(currentZone({ localtime: link('lt-oslo', '../usr/share/zoneinfo/Europe/Oslo'), timezoneFile: join(tmp, 'none') }, ids)).toBe('Europe/Oslo');
  });

  it('UTC names become "UTC"; unknown zones null', () => {
    expect(currentZone({ localtime: link('lt-utc', '/usr/share/zoneinfo/Etc/UTC'), timezoneFile: join(tmp, 'none') }, ids)).toBe('UTC');
    expect(currentZone({ localtime: link('lt-odd', '/usr/share/zoneinfo/Mars/Olympus'), timezoneFile: join(tmp, 'none') }, ids)).toBeNull();
  });

  it('falls back to /etc/timezone when /etc/localtime is no link', () => {
    const file = join(tmp, 'timezone');
    writeFileSync(file, 'America/New_York\n');
    writeFileSync(join(tmp, 'localtime-copy'), 'TZif2…');
    expect(currentZone({ localtime: join(tmp, 'localtime-copy'), timezoneFile: file }, ids)).toBe('America/New_York');
    expect(currentZone({ localtime: join(tmp, 'missing'), timezoneFile: join(tmp, 'missing') }, ids)).toBeNull();
  });

  it('listTimeZones matches the contract', () => {
    const r = listTimeZones({ zoneinfoDir: FIX, localtime: join(tmp, 'lt-oslo'), timezoneFile: join(tmp, 'none') });
    expect(TimeZonesSchema.parse(r)).toEqual(r);
    expect(r.current).toBe('Europe/Oslo');
    expect(r.countryNames.DE).toBe('Germany');
    expect(() => listTimeZones({ zoneinfoDir: tmp, localtime: '', timezoneFile: '' })).toThrow(/tzdata/);
  });
});
