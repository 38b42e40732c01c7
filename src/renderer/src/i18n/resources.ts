import type { LocaleCode } from './locales';
import ar from '../../../shared/locales/ar.json';
import de from '../../../shared/locales/de.json';
import en from '../../../shared/locales/en.json';
import es from '../../../shared/locales/es.json';
import fr from '../../../shared/locales/fr.json';
import ja from '../../../shared/locales/ja.json';
import ptBR from '../../../shared/locales/pt-BR.json';
import zhCN from '../../../shared/locales/zh-CN.json';

/**
 * Every string in every language: one JSON file per locale in src/shared/locales, nested as
 * i18next reads them (the format Weblate, Crowdin and Transifex call "i18next JSON"). English is the
 * source. The built wizard does not import this module: i18n/load.ts imports English and fetches
 * another language's file when it is first wanted. Tests and the engine (its step titles) read them.
 */

/** The same tree of keys as T, with any string at the leaves: what every other language must match. */
export type Shape<T> = { readonly [K in keyof T]: T[K] extends string ? string : Shape<T[K]> };

/** English's tree: every language has exactly these keys (a missing one fails the type check below,
 * an extra one the i18n unit test). */
export type FullTranslation = Shape<typeof en>;

/** Every translation: the set is small and the installer must work offline. */
export const RESOURCES: Readonly<Record<LocaleCode, FullTranslation>> = {
  en,
  de,
  fr,
  es,
  'pt-BR': ptBR,
  ar,
  'zh-CN': zhCN,
  ja,
};
