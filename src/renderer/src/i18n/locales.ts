/** The languages the installer UI speaks. Names are native so people can find their own. */
export const LOCALES = [
  { code: 'en', nativeName: 'English', dir: 'ltr' },
  { code: 'de', nativeName: 'Deutsch', dir: 'ltr' },
  { code: 'fr', nativeName: 'Français', dir: 'ltr' },
  { code: 'es', nativeName: 'Español', dir: 'ltr' },
  { code: 'pt-BR', nativeName: 'Português (Brasil)', dir: 'ltr' },
  { code: 'ar', nativeName: 'العربية', dir: 'rtl' },
  { code: 'zh-CN', nativeName: '简体中文', dir: 'ltr' },
  { code: 'ja', nativeName: '日本語', dir: 'ltr' },
] as const;

export type LocaleCode = (typeof LOCALES)[number]['code'];
export type TextDirection = 'ltr' | 'rtl';

export const DEFAULT_LOCALE: LocaleCode = 'en';

export function isLocaleCode(value: unknown): value is LocaleCode {
  return LOCALES.some((l) => l.code === value);
}

export function localeDirection(code: LocaleCode): TextDirection {
  return LOCALES.find((l) => l.code === code)?.dir ?? 'ltr';
}

/**
 * Best supported match for a list of BCP 47 tags (navigator.languages): exact tag first, then the
 * same language with another region (pt-PT still prefers pt-BR to English).
 */
export function matchLocale(preferred: readonly string[]): LocaleCode {
  for (const tag of preferred) {
    const exact = LOCALES.find((l) => l.code.toLowerCase() === tag.toLowerCase());
    if (exact) return exact.code;
    const lang = tag.split('-')[0]?.toLowerCase();
    const sameLang = LOCALES.find((l) => l.code.split('-')[0]?.toLowerCase() === lang);
    if (sameLang) return sameLang.code;
  }
  return DEFAULT_LOCALE;
}
