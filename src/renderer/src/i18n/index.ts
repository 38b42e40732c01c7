import i18next, { type i18n } from 'i18next';
import { initReactI18next } from 'react-i18next';
import { LOCALES, DEFAULT_LOCALE, localeDirection, type LocaleCode } from './locales';
import ar from './locales/ar';
import de from './locales/de';
import en, { type Translation } from './locales/en';
import es from './locales/es';
import fr from './locales/fr';
import ja from './locales/ja';
import ptBR from './locales/pt-BR';
import zhCN from './locales/zh-CN';

/** Every translation, bundled: the set is small and the installer must work offline. */
export const RESOURCES: Record<LocaleCode, Translation> = {
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
