import type { i18n } from 'i18next';
import type { LocaleCode } from './locales';
import { createI18nWith, type I18nOptions } from './instance';
import { RESOURCES } from './resources';

export { RESOURCES, type FullTranslation } from './resources';
export { addLocale, applyLocale, createI18nWith, type I18nOptions } from './instance';

/** An i18next instance with every language loaded (tests; the wizard itself loads them as needed, see load.ts). */
export function createI18n(locale: LocaleCode, options: I18nOptions = {}): i18n {
  return createI18nWith(RESOURCES, locale, options);
}
