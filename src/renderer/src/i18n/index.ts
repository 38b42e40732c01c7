import i18next, { type i18n } from 'i18next';
import { initReactI18next } from 'react-i18next';
import { LOCALES, DEFAULT_LOCALE, localeDirection, type LocaleCode } from './locales';
import ar from './locales/ar.json';
import de from './locales/de.json';
import en from './locales/en.json';
import es from './locales/es.json';
import fr from './locales/fr.json';
import ja from './locales/ja.json';
import ptBR from './locales/pt-BR.json';
import zhCN from './locales/zh-CN.json';

/** Every translation, bundled: the set is small and the installer must work offline. */
export const RESOURCES: Record<LocaleCode, typeof en> = {
  en,
  de,
  fr,
  es,
  'pt-BR': ptBR,
  ar,
  'zh-CN': zhCN,
  ja,
};

export function createI18n(locale: LocaleCode): i18n {
  const instance = i18next.createInstance();
  void instance.use(initReactI18next).init({
    resources: Object.fromEntries(Object.entries(RESOURCES).map(([code, t]) => [code, { translation: t }])),
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

/** Switches the UI language and the document's language and direction together. */
export function applyLocale(instance: i18n, locale: LocaleCode, doc: Document = document): void {
  void instance.changeLanguage(locale);
  doc.documentElement.lang = locale;
  doc.documentElement.dir = localeDirection(locale);
}
