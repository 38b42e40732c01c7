import { useTranslation } from 'react-i18next';
import { useApp } from '../store/react';

/** A toggle button (aria-pressed) for the high-contrast theme, in the header of every page. */
export function ContrastToggle() {
  const { t } = useTranslation();
  const contrast = useApp((s) => s.ui.contrast);
  const setContrast = useApp((s) => s.setContrast);
  const on = contrast === 'high';
  return (
    <button
      type="button"
      className="contrast-toggle"
      aria-pressed={on}
      title={t('ui.contrastHint')}
      onClick={() => setContrast(on ? 'normal' : 'high')}
      data-testid="header-contrast"
    >
      <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">
        <circle cx="8" cy="8" r="6.5" fill="none" stroke="currentColor" strokeWidth="1.5" />
        <path d="M8 1.5a6.5 6.5 0 0 1 0 13z" fill="currentColor" />
      </svg>
      {t('ui.contrast')}
    </button>
  );
}
