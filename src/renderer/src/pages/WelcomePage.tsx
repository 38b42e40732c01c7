import { useTranslation } from 'react-i18next';
import { LOCALES, isLocaleCode } from '../i18n/locales';
import { useApp } from '../store/react';

/** The first page: pick the language. Choosing one re-translates everything at once. */
export function WelcomePage() {
  const { t } = useTranslation();
  const locale = useApp((s) => s.locale);
  const setLocale = useApp((s) => s.setLocale);
  return (
    <>
      <p className="lead">{t('steps.language.intro')}</p>
      <fieldset className="choice-grid language-grid">
        <legend className="section-title">{t('language.legend')}</legend>
        {LOCALES.map((l) => (
          <label key={l.code} className="choice">
            <input
              type="radio"
              name="locale"
              value={l.code}
              checked={locale === l.code}
              onChange={(e) => {
                if (isLocaleCode(e.target.value)) setLocale(e.target.value);
              }}
            />
            {/* Each name in its own language and direction, so it is spoken and shaped right. */}
            <span className="choice-label" lang={l.code} dir={l.dir}>
              {l.nativeName}
            </span>
          </label>
        ))}
      </fieldset>
    </>
  );
}
