import { useCallback } from 'react';
import { useTranslation } from 'react-i18next';
import { formatSize, type SizeUnit } from '../format';
import { useApp } from '../store/react';

/** formatSize bound to the current locale and its translated unit names. */
export function useSizeFormatter(): (bytes: number) => string {
  const { t } = useTranslation();
  const locale = useApp((s) => s.locale);
  return useCallback((bytes: number) => formatSize(bytes, locale, (u: SizeUnit) => t(`units.${u}`)), [locale, t]);
}
