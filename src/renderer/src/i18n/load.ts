import type { LocaleCode } from './locales';
import type { FullTranslation } from './resources';
import en from '../../../shared/locales/en.json';

/**
 * The wizard's strings, one JSON file per language (src/shared/locales): English is in the first
 * page's code, as the fallback; another language is its own chunk of the build, fetched when it is
 * first wanted, so a slow machine parses only the strings it shows. (Vite turns a JSON file this
 * large into `JSON.parse("…")`, which V8 parses faster than the same object as JavaScript.)
 */
export const ENGLISH: FullTranslation = en;

type Loaded = Promise<{ default: FullTranslation }>;
const LOADERS: Record<Exclude<LocaleCode, 'en'>, () => Loaded> = {
  de: () => import('../../../shared/locales/de.json'),
  fr: () => import('../../../shared/locales/fr.json'),
  es: () => import('../../../shared/locales/es.json'),
  'pt-BR': () => import('../../../shared/locales/pt-BR.json'),
  ar: () => import('../../../shared/locales/ar.json'),
  'zh-CN': () => import('../../../shared/locales/zh-CN.json'),
  ja: () => import('../../../shared/locales/ja.json'),
};

export function loadLocale(locale: LocaleCode): Promise<FullTranslation> {
  return locale === 'en' ? Promise.resolve(ENGLISH) : LOADERS[locale]().then((m) => m.default);
}

/** Fetches every language, so choosing one on Welcome switches at once. */
export function preloadLocales(): Promise<void> {
  return Promise.all(Object.values(LOADERS).map((load) => load())).then(() => undefined);
}
