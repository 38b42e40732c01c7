import type { LocaleCode } from './locales';
import type { FullTranslation } from './resources';
import en from 'virtual:particle-i18n/en';

/**
 * The wizard's strings, one module per language, made by the build from resources.ts (see
 * electron.vite.config.ts): English is in the first page's code, as the fallback; another language
 * is fetched when it is first wanted, so a slow machine parses only the strings it shows.
 */
export const ENGLISH: FullTranslation = en;

const LOADERS: Record<Exclude<LocaleCode, 'en'>, () => Promise<{ default: FullTranslation }>> = {
  de: () => import('virtual:particle-i18n/de'),
  fr: () => import('virtual:particle-i18n/fr'),
  es: () => import('virtual:particle-i18n/es'),
  'pt-BR': () => import('virtual:particle-i18n/pt-BR'),
  ar: () => import('virtual:particle-i18n/ar'),
  'zh-CN': () => import('virtual:particle-i18n/zh-CN'),
  ja: () => import('virtual:particle-i18n/ja'),
};

export function loadLocale(locale: LocaleCode): Promise<FullTranslation> {
  return locale === 'en' ? Promise.resolve(ENGLISH) : LOADERS[locale]().then((m) => m.default);
}

/** Fetches every language, so choosing one on Welcome switches at once. */
export function preloadLocales(): Promise<void> {
  return Promise.all(Object.values(LOADERS).map((load) => load())).then(() => undefined);
}
