import i18next, { type i18n } from 'i18next';
import { initReactI18next } from 'react-i18next';
import { pseudoPostProcessor } from './pseudo';
import { LOCALES, DEFAULT_LOCALE, localeDirection, type LocaleCode } from './locales';
import type { FullTranslation } from './resources';

export interface I18nOptions {
  /** Pseudo-localize every string (see pseudo.ts). */
  readonly pseudo?: boolean;
}

/**
 * An i18next instance with the translations given (English, the fallback, among them); others are
 * added with addLocale as they load.
 */
export function createI18nWith(resources: Partial<Record<LocaleCode, FullTranslation>>, locale: LocaleCode, options: I18nOptions = {}): i18n {
  const instance = i18next.createInstance();
  if (options.pseudo) instance.use(pseudoPostProcessor);
  void instance.use(initReactI18next).init({
    ...(options.pseudo ? { postProcess: ['pseudo'] } : {}),
    resources: Object.fromEntries(Object.entries(resources).map(([code, t]) => [code, { translation: t }])),
    lng: locale,
    fallbackLng: DEFAULT_LOCALE,
    supportedLngs: LOCALES.map((l) => l.code),
    // React escapes text itself; escaping here would show entities in the UI.
    interpolation: { escapeValue: false },
    // Resources are in memory, so initialise synchronously and render translated on the first paint.
    initAsync: false,
    returnNull: false,
  });
  return instance;
}

/** Gives the instance one more language's strings (loaded on demand, see load.ts). */
export function addLocale(instance: i18n, locale: LocaleCode, translation: FullTranslation): void {
  if (!instance.hasResourceBundle(locale, 'translation')) instance.addResourceBundle(locale, 'translation', translation);
}

/** Switches the UI language and the document's language and direction together. */
export function applyLocale(instance: i18n, locale: LocaleCode, doc: Document = document): void {
  void instance.changeLanguage(locale);
  doc.documentElement.lang = locale;
  doc.documentElement.dir = localeDirection(locale);
}
