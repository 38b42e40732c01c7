import { describe, expect, it } from 'vitest';
import type { InstallerApi } from '../../src/shared/api';
import { makeError, type Result } from '../../src/shared/errors';
import type { TimeZone, TimeZones } from '../../src/shared/system';
import { createAppStore } from '../../src/renderer/src/store';
import {
  buildEntries,
  countryNamer,
  entriesInRegion,
  formatZoneTime,
  nearestZone,
  preselectZone,
  project,
  regionsOf,
  searchZones,
} from '../../src/renderer/src/timezone/zones';

const zone = (id: string, countries: string[], latitude: number, longitude: number): TimeZone => {
  const [region, ...rest] = id.split('/');
  return { id, region: region!, city: rest.join('/').replace(/_/g, ' '), countries, latitude, longitude };
};

const LIST: TimeZones = {
  zones: [
    zone('Europe/Oslo', ['NO', 'SJ'], 59.92, 10.75),
    zone('Europe/Berlin', ['DE', 'DK', 'NO', 'SE', 'SJ'], 52.5, 13.37),
    zone('America/Sao_Paulo', ['BR'], -23.53, -46.62),
    zone('America/Argentina/Buenos_Aires', ['AR'], -34.6, -58.45),
    zone('Pacific/Fiji', ['FJ'], -18.13, 178.42),
    zone('Pacific/Pago_Pago', ['AS', 'UM'], -14.27, -170.7),
    zone('Asia/Tokyo', ['JP'], 35.65, 139.74),
  ],
  current: null,
  countryNames: { NO: 'Norway', SJ: 'Svalbard & Jan Mayen', DE: 'Germany', DK: 'Denmark', SE: 'Sweden', BR: 'Brazil', AR: 'Argentina', FJ: 'Fiji', AS: 'Samoa (American)', UM: 'US minor outlying islands', JP: 'Japan' },
};

const entries = (locale: string) => buildEntries(LIST, countryNamer(locale, LIST.countryNames));

describe('time zone search', () => {
  it('finds a city first, then zones of a country', () => {
    expect(searchZones(entries('en'), 'Oslo', 'en').map((e) => e.zone.id)).toEqual(['Europe/Oslo']);
    expect(searchZones(entries('en'), 'norway', 'en').map((e) => e.zone.id)).toEqual(['Europe/Berlin', 'Europe/Oslo']);
    expect(searchZones(entries('en'), 'buenos', 'en')[0]!.city).toBe('Buenos Aires');
    expect(searchZones(entries('en'), 'sao paulo', 'en').map((e) => e.zone.id)).toEqual(['America/Sao_Paulo']);
    expect(searchZones(entries('en'), '', 'en')).toEqual([]);
  });

  it('finds countries by their name in the UI language and in English', () => {
    expect(searchZones(entries('de'), 'Norwegen', 'de').map((e) => e.zone.id)).toContain('Europe/Oslo');
    expect(searchZones(entries('ja'), 'ブラジル', 'ja').map((e) => e.zone.id)).toEqual(['America/Sao_Paulo']);
    expect(searchZones(entries('de'), 'Brazil', 'de').map((e) => e.zone.id)).toEqual(['America/Sao_Paulo']);
    expect(entries('fr').find((e) => e.zone.id === 'Europe/Oslo')!.countries[0]).toBe('Norvège');
  });

  it('falls back to the engine’s English name for codes Intl does not know', () => {
    expect(countryNamer('en', { XX: 'Nowhere' })('XX')).toBe('Nowhere');
  });

  it('lists regions and the cities of a region', () => {
    expect(regionsOf(LIST.zones)).toEqual(['America', 'Asia', 'Europe', 'Pacific']);
    expect(entriesInRegion(entries('en'), 'Europe', 'en').map((e) => e.city)).toEqual(['Berlin', 'Oslo']);
  });
});

describe('time zone preselection', () => {
  it('takes the system zone, else the browser zone, else UTC', () => {
    expect(preselectZone({ ...LIST, current: 'Asia/Tokyo' }, 'Europe/Oslo')).toBe('Asia/Tokyo');
    expect(preselectZone({ ...LIST, current: 'UTC' }, 'Europe/Oslo')).toBe('UTC');
    expect(preselectZone({ ...LIST, current: 'Mars/Olympus' }, 'Europe/Oslo')).toBe('Europe/Oslo');
    expect(preselectZone(LIST, 'Etc/Unknown')).toBe('UTC');
    expect(preselectZone(LIST, undefined)).toBe('UTC');
  });
});

describe('time zone map', () => {
  it('projects equirectangularly and picks the nearest zone across the date line', () => {
    expect(project(0, 0)).toEqual({ x: 180, y: 90 });
    expect(project(90, -180)).toEqual({ x: 0, y: 0 });
    expect(nearestZone(LIST.zones, 60, 11)!.id).toBe('Europe/Oslo');
    expect(nearestZone(LIST.zones, -17, -179.5)!.id).toBe('Pacific/Fiji');
    expect(nearestZone([], 0, 0)).toBeNull();
  });

  it('shows the local time of the zone', () => {
    const noon = new Date('2026-01-15T12:00:00Z');
    expect(formatZoneTime(noon, 'Europe/Oslo', 'en')).toMatch(/1:00\s?PM/);
    expect(formatZoneTime(noon, 'Asia/Tokyo', 'en')).toMatch(/9:00\s?PM/);
  });
});

function fakeApi(answers: Array<Result<TimeZones>>): InstallerApi {
  return { listTimeZones: async () => answers.shift()!, on: () => () => {} } as unknown as InstallerApi;
}

describe('time zone slice', () => {
  it('preselects on load, keeps a choice made by hand across reloads, and refuses unknown ids', async () => {
    const store = createAppStore({ api: fakeApi([{ ok: true, value: { ...LIST, current: 'Asia/Tokyo' } }, { ok: true, value: { ...LIST, current: 'Asia/Tokyo' } }]), stepCount: 3 });
    expect(store.getState().timezone.selected).toBe('UTC');
    await store.getState().loadTimeZones();
    expect(store.getState().timezone).toMatchObject({ selected: 'Asia/Tokyo', chosenByHand: false, loading: false });
    store.getState().chooseTimeZone('Mars/Olympus');
    expect(store.getState().timezone.selected).toBe('Asia/Tokyo');
    store.getState().chooseTimeZone('Europe/Oslo');
    await store.getState().loadTimeZones();
    expect(store.getState().timezone).toMatchObject({ selected: 'Europe/Oslo', chosenByHand: true });
    store.getState().chooseTimeZone('UTC');
    expect(store.getState().timezone.selected).toBe('UTC');
  });

  it('keeps a load error as data', async () => {
    const store = createAppStore({ api: fakeApi([{ ok: false, error: makeError('internal', 'listTimeZones is not implemented yet') }]), stepCount: 3 });
    await store.getState().loadTimeZones();
    expect(store.getState().timezone).toMatchObject({ list: null, loading: false, error: { message: 'listTimeZones is not implemented yet' } });
  });
});
