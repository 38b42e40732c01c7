import { LOCALES, type LocaleCode } from '../i18n/locales';
import { fold, queryWords } from '../keyboard/filter';

export type LocaleEntry = (typeof LOCALES)[number];

function languageName(code: string, inLocale: string): string {
  try {
    return new Intl.DisplayNames([inLocale], { type: 'language' }).of(code) ?? '';
  } catch {
    return '';
  }
}

/**
 * The installer's languages matching a search by native name, English name, name in the current UI
 * language or code ("deutsch", "german", "allemand", "de" all find Deutsch).
 */
export function filterLocales(query: string, uiLocale: LocaleCode): LocaleEntry[] {
  const words = queryWords(query);
  if (words.length === 0) return [...LOCALES];
  return LOCALES.filter((l) => {
    const hay = fold([l.nativeName, l.code, languageName(l.code, 'en'), languageName(l.code, uiLocale)].join(' '));
    return words.every((w) => hay.includes(w));
  });
}
