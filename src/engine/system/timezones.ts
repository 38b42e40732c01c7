import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { TimeZone, TimeZones } from '../../shared';
import { EngineFailure } from '../failure';
import { reason, type SystemPaths } from './deps';

/**
 * Time zones from tzdata's zone.tab (one row per country and zone, so every country finds its own
 * zone: Europe/Oslo for Norway, although zone1970.tab folds it into Europe/Berlin), country names
 * from iso3166.tab, and the live system's zone from /etc/localtime.
 */

/** One ISO 6709 coordinate: ±DDMM[SS] (latitude, 2 degree digits) or ±DDDMM[SS] (longitude, 3). */
function sexagesimal(sign: string, digits: string, degreeDigits: number): number {
  const d = Number(digits.slice(0, degreeDigits));
  const m = Number(digits.slice(degreeDigits, degreeDigits + 2));
  const s = digits.length > degreeDigits + 2 ? Number(digits.slice(degreeDigits + 2, degreeDigits + 4)) : 0;
  const value = d + m / 60 + s / 3600;
  return Math.round((sign === '-' ? -value : value) * 1e6) / 1e6;
}

/** "+5955+01045" → {latitude: 59.916667, longitude: 10.75}; null when malformed. */
export function parseIso6709(text: string): { latitude: number; longitude: number } | null {
  const m = /^([+-])(\d{4}|\d{6})([+-])(\d{5}|\d{7})$/.exec(text.trim());
  if (!m || m[2]!.length - 4 !== m[4]!.length - 5) return null;
  return { latitude: sexagesimal(m[1]!, m[2]!, 2), longitude: sexagesimal(m[3]!, m[4]!, 3) };
}

/** "America/Argentina/Buenos_Aires" → region "America", city "Argentina/Buenos Aires". */
export function splitZoneId(id: string): { region: string; city: string } {
  const slash = id.indexOf('/');
  return slash === -1 ? { region: id, city: id.replace(/_/g, ' ') } : { region: id.slice(0, slash), city: id.slice(slash + 1).replace(/_/g, ' ') };
}

/** zone.tab (or zone1970.tab, whose country column is a comma list): zones merged by id, sorted by id. */
export function parseZoneTab(text: string): TimeZone[] {
  const byId = new Map<string, TimeZone>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const [codes, coords, id] = line.split('\t');
    const at = coords ? parseIso6709(coords) : null;
    if (!codes || !id || !at) continue;
    const countries = codes.split(',').map((c) => c.trim()).filter(Boolean);
    const known = byId.get(id);
    if (known) {
      for (const c of countries) if (!known.countries.includes(c)) known.countries.push(c);
    } else {
      byId.set(id, { id, ...splitZoneId(id), countries, ...at });
    }
  }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** iso3166.tab: "NO<TAB>Norway" lines. */
export function parseIso3166Tab(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const [code, name] = line.split('\t');
    if (code && name && /^[A-Z]{2}$/.test(code)) out[code] = name.trim();
  }
  return out;
}

const UTC_NAMES = new Set(['UTC', 'Etc/UTC', 'UCT', 'Etc/UCT', 'Universal', 'Etc/Universal', 'Zulu', 'Etc/Zulu', 'Etc/GMT', 'GMT']);

/** The zone name from a /etc/localtime link target ("../usr/share/zoneinfo/Europe/Oslo" → "Europe/Oslo"). */
export function zoneFromLink(target: string): string | null {
  const at = target.lastIndexOf('zoneinfo/');
  if (at === -1) return null;
  return target.slice(at + 'zoneinfo/'.length).replace(/^(posix|right)\//, '') || null;
}

/** The live zone, when it is one of `ids` (or UTC, which zone.tab does not list). */
export function currentZone(paths: Pick<SystemPaths, 'localtime' | 'timezoneFile'>, ids: ReadonlySet<string>): string | null {
  let name: string | null = null;
  try {
    name = zoneFromLink(readlinkSync(paths.localtime));
  } catch {
    // Not a link (a copied file) or absent: Debian also keeps the name in /etc/timezone.
  }
  if (name === null) {
    try {
      name = readFileSync(paths.timezoneFile, 'utf8').trim() || null;
    } catch {
      name = null;
    }
  }
  if (name === null) return null;
  if (UTC_NAMES.has(name)) return 'UTC';
  return ids.has(name) ? name : null;
}

export function listTimeZones(paths: Pick<SystemPaths, 'zoneinfoDir' | 'localtime' | 'timezoneFile'>): TimeZones {
  let zoneTab: string;
  try {
    zoneTab = readFileSync(join(paths.zoneinfoDir, 'zone.tab'), 'utf8');
  } catch (e) {
    throw EngineFailure.of('internal', 'The time zones cannot be read: tzdata is not installed.', { kind: 'system', detail: reason(e) });
  }
  let countryNames: Record<string, string> = {};
  try {
    countryNames = parseIso3166Tab(readFileSync(join(paths.zoneinfoDir, 'iso3166.tab'), 'utf8'));
  } catch {
    // Country names are a nicety; UIs can name countries with Intl.DisplayNames.
  }
  const zones = parseZoneTab(zoneTab);
  return { zones, current: currentZone(paths, new Set(zones.map((z) => z.id))), countryNames };
}
