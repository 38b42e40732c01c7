import i18next, { type i18n } from 'i18next';
import { initReactI18next } from 'react-i18next';
import { pseudoPostProcessor } from './pseudo';
import { LOCALES, DEFAULT_LOCALE, localeDirection, type LocaleCode } from './locales';
import ar from './locales/ar';
import de from './locales/de';
import en, { type Translation } from './locales/en';
import es from './locales/es';
import fr from './locales/fr';
import ja from './locales/ja';
import ptBR from './locales/pt-BR';
import zhCN from './locales/zh-CN';
import install from './ns/install';
import keyboard from './ns/keyboard';
import storage from './ns/storage';
import summary from './ns/summary';
import timezone from './ns/timezone';
import ui from './ns/ui';
import welcome from './ns/welcome';

/** Pages' strings, one file per page with every language (i18n/ns), each under its own key prefix. */
export const NAMESPACES = { ui, welcome, keyboard, timezone, storage, summary, install } as const;

type Namespaced = { readonly [N in keyof typeof NAMESPACES]: (typeof NAMESPACES)[N]['en'] };
export type FullTranslation = Translation & Namespaced;

const BASE: Record<LocaleCode, Translation> = {
  en,
  de,
  fr,
  es,
  'pt-BR': ptBR,
  ar,
  'zh-CN': zhCN,
  ja,
};

function withNamespaces(code: LocaleCode): FullTranslation {
  const extra = Object.fromEntries(Object.entries(NAMESPACES).map(([name, ns]) => [name, ns[code]]));
  return { ...BASE[code], ...extra } as FullTranslation;
}

/** Every translation, bundled: the set is small and the installer must work offline. */
export const RESOURCES: Record<LocaleCode, FullTranslation> = Object.fromEntries(
  (Object.keys(BASE) as LocaleCode[]).map((code) => [code, withNamespaces(code)]),
) as Record<LocaleCode, FullTranslation>;

export interface I18nOptions {
  /** Pseudo-localize every string (see pseudo.ts). */
  readonly pseudo?: boolean;
}

export function createI18n(locale: LocaleCode, options: I18nOptions = {}): i18n {
  const instance = i18next.createInstance();
  if (options.pseudo) instance.use(pseudoPostProcessor);
  void instance.use(initReactI18next).init({
    ...(options.pseudo ? { postProcess: ['pseudo'] } : {}),
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
