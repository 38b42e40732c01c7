import type { TimeZone, TimeZones } from '../../../shared/system';
import { fold, queryWords } from '../keyboard/filter';

/**
 * Time zones as people look for them: by city or by country, in their own language. Pure, so the
 * page is a thin view and the rules are tested without a DOM.
 */

export const UTC = 'UTC';

export interface ZoneEntry {
  readonly zone: TimeZone;
  /** The city as people say it ("Buenos Aires" for America/Argentina/Buenos_Aires). */
  readonly city: string;
  /** Country names in the UI language, one per country the zone covers. */
  readonly countries: readonly string[];
  /** Everything searchable, folded: city path, id, translated and English country names. */
  readonly haystack: string;
  /** The folded city alone, for ranking. */
  readonly cityKey: string;
}

/** Country names in the UI language, falling back to the engine's English names (iso3166.tab). */
export function countryNamer(locale: string, english: Readonly<Record<string, string>>): (code: string) => string {
  let names: Intl.DisplayNames | null = null;
  try {
    names = new Intl.DisplayNames([locale], { type: 'region', fallback: 'none' });
  } catch {
    names = null;
  }
  return (code) => {
    let name: string | undefined;
    try {
      name = names?.of(code);
    } catch {
      name = undefined;
    }
    return name ?? english[code] ?? code;
  };
}

export function cityOf(zone: Pick<TimeZone, 'city' | 'id'>): string {
  const parts = (zone.city || zone.id).split('/');
  return parts[parts.length - 1]!.replace(/_/g, ' ');
}

export function buildEntries(list: TimeZones, countryName: (code: string) => string): ZoneEntry[] {
  return list.zones.map((zone) => {
    const countries = zone.countries.map(countryName);
    const english = zone.countries.map((c) => list.countryNames[c] ?? '');
    const city = cityOf(zone);
    return {
      zone,
      city,
      countries,
      haystack: fold([zone.city, zone.id.replace(/_/g, ' '), ...countries, ...english, ...zone.countries].join(' ')),
      cityKey: fold(city),
    };
  });
}

/**
 * Zones matching every word of the query; cities starting with the query first, then cities
 * containing it, then zones found by country, each group alphabetical.
 */
export function searchZones(entries: readonly ZoneEntry[], query: string, locale: string, limit = 60): ZoneEntry[] {
  const words = queryWords(query);
  if (words.length === 0) return [];
  const whole = words.join(' ');
  const rank = (e: ZoneEntry) => (e.cityKey.startsWith(whole) ? 0 : e.cityKey.includes(whole) ? 1 : 2);
  return entries
    .filter((e) => words.every((w) => e.haystack.includes(w)))
    .sort((a, b) => rank(a) - rank(b) || a.city.localeCompare(b.city, locale))
    .slice(0, limit);
}

/** The first components of the ids ("Africa", "America", …), sorted. */
export function regionsOf(zones: readonly TimeZone[]): string[] {
  return [...new Set(zones.map((z) => z.region))].sort();
}

export function entriesInRegion(entries: readonly ZoneEntry[], region: string, locale: string): ZoneEntry[] {
  return entries.filter((e) => e.zone.region === region).sort((a, b) => a.city.localeCompare(b.city, locale));
}

/**
 * The zone to preselect: the live system's when it is one we list (or UTC), else the browser's
 * when we list it, else UTC.
 */
export function preselectZone(list: TimeZones, browserZone: string | undefined): string {
  const known = (id: string | null | undefined): id is string => !!id && list.zones.some((z) => z.id === id);
  if (list.current === UTC || known(list.current)) return list.current!;
  if (known(browserZone)) return browserZone;
  return UTC;
}

export function browserTimeZone(): string | undefined {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** The time now in a zone, with its offset, in the UI language ("Monday 14:05 GMT+1"). */
export function formatZoneTime(date: Date, zone: string, locale: string): string {
  try {
    return new Intl.DateTimeFormat(locale, { timeZone: zone, weekday: 'long', hour: 'numeric', minute: '2-digit', timeZoneName: 'shortOffset' }).format(date);
  } catch {
    return new Intl.DateTimeFormat(locale, { timeZone: UTC, weekday: 'long', hour: 'numeric', minute: '2-digit', timeZoneName: 'short' }).format(date);
  }
}

/** Equirectangular projection onto a 360 × 180 box: x = longitude + 180, y = 90 − latitude. */
export function project(latitude: number, longitude: number): { x: number; y: number } {
  return { x: longitude + 180, y: 90 - latitude };
}

/**
 * The zone nearest to a point of the map, by great-circle-ish distance (longitude scaled by the
 * cosine of the latitude and wrapped at the date line), so a click in the Pacific finds Fiji.
 */
export function nearestZone(zones: readonly TimeZone[], latitude: number, longitude: number): TimeZone | null {
  let best: TimeZone | null = null;
  let bestDistance = Infinity;
  const scale = Math.cos((latitude * Math.PI) / 180);
  for (const z of zones) {
    let dLon = Math.abs(z.longitude - longitude);
    if (dLon > 180) dLon = 360 - dLon;
    const dx = dLon * Math.max(scale, Math.cos((z.latitude * Math.PI) / 180));
    const dy = z.latitude - latitude;
    const d = dx * dx + dy * dy;
    if (d < bestDistance) {
      bestDistance = d;
      best = z;
    }
  }
  return best;
}
