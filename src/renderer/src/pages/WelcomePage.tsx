import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { branding, localized } from '../branding';
import { WelcomeRequirements } from '../components/WelcomeRequirements';
import { isLocaleCode } from '../i18n/locales';
import { useApp } from '../store/react';
import { filterLocales } from '../welcome/languages';
import { requirementParams } from '../welcome/requirements';
import '../styles/forms.css';
import '../styles/setup-pages.css';

/**
 * The first page: pick the language (choosing one re-translates everything at once), read what the
 * system is, and see whether this computer can take it. Install and Try are in the footer.
 */
export function WelcomePage() {
  const { t } = useTranslation();
  const locale = useApp((s) => s.locale);
  const setLocale = useApp((s) => s.setLocale);
  const info = useApp((s) => s.engine.info);
  const requirements = useApp((s) => s.requirements);
  const checkRequirements = useApp((s) => s.checkRequirements);
  const [query, setQuery] = useState('');
  const locales = useMemo(() => filterLocales(query, locale), [query, locale]);

  useEffect(() => {
    if (!requirements.checks && !requirements.loading) void checkRequirements(requirementParams(branding, info));
    // Only on arrival; the Re-check button asks again.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  return (
    <>
      <p className="lead">{t('steps.language.intro')}</p>
      <p className="welcome-text" data-testid="welcome-text">{localized(branding.welcome, locale)}</p>

      <div className="language-section">
        <div className="field setup-search">
          <label htmlFor="language-search" className="field-label">
            {t('welcome.languageSearch')}
          </label>
          <input
            id="language-search"
            className="input"
            type="search"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            aria-describedby="language-count"
            data-testid="welcome-search"
            autoComplete="off"
            spellCheck={false}
          />
          <p id="language-count" className="visually-hidden" role="status">
            {query.trim() === '' ? '' : t('welcome.languageMatches', { count: locales.length })}
          </p>
        </div>
        <fieldset className="choice-grid language-grid">
          <legend className="section-title">{t('language.legend')}</legend>
          {locales.map((l) => (
            <label key={l.code} className="choice">
              <input
                type="radio"
                name="locale"
                value={l.code}
                checked={locale === l.code}
                data-testid={`welcome-language-${l.code}`}
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
          {locales.length === 0 && <p className="listbox-empty">{t('welcome.languageNone')}</p>}
        </fieldset>
      </div>

      <WelcomeRequirements />
    </>
  );
}
