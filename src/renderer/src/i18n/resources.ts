import type { LocaleCode } from './locales';
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

/**
 * Every string in every language, as the translators' files hold them. The built wizard does not
 * import this module: the build splits it into one module per language (electron.vite.config.ts,
 * i18n/load.ts), so the first page loads only the strings it shows. Tests and the build read it whole.
 */

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

/** Every translation: the set is small and the installer must work offline. */
export const RESOURCES: Record<LocaleCode, FullTranslation> = Object.fromEntries(
  (Object.keys(BASE) as LocaleCode[]).map((code) => [code, withNamespaces(code)]),
) as Record<LocaleCode, FullTranslation>;
