import { isLocaleCode, type LocaleCode } from '../i18n/locales';
import type { LocaleSlice, Slice } from './types';

export const localeSlice =
  (initial: LocaleCode): Slice<LocaleSlice> =>
  () =>
  (set) => ({
    locale: initial,
    setLocale(locale) {
      // Values may come from the DOM (radio values); ignore anything we do not ship.
      if (isLocaleCode(locale)) set({ locale });
    },
  });
