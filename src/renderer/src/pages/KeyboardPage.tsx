import { useDeferredValue, useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { SetupListbox, type ListboxOption } from '../components/SetupListbox';
import { filterLayouts, filterVariants, isNonLatin, sortLayouts } from '../keyboard/filter';
import { applyStatusText } from '../keyboard/status';
import { useApp } from '../store/react';
import '../styles/forms.css';
import '../styles/setup-pages.css';

/** Stands for "no variant" in the variant list; XKB names never start with "@". */
const DEFAULT_VARIANT = '@default';

export function KeyboardPage() {
  const { t } = useTranslation();
  const { list, loading, error, choice, apply } = useApp((s) => s.keyboard);
  const load = useApp((s) => s.loadKeyboardLayouts);
  const choose = useApp((s) => s.chooseKeyboard);
  const [query, setQuery] = useState('');
  // Typing stays responsive while the lists catch up.
  const deferredQuery = useDeferredValue(query);

  useEffect(() => {
    if (!list && !loading) void load();
    // Only on arrival; Retry reloads after an error.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const sorted = useMemo(() => sortLayouts(list?.layouts ?? []), [list]);
  const layouts = useMemo(() => filterLayouts(sorted, deferredQuery), [sorted, deferredQuery]);
  const layout = list?.layouts.find((l) => l.name === choice.layout) ?? null;
  const variants = useMemo(() => (layout ? filterVariants(layout, deferredQuery) : []), [layout, deferredQuery]);

  const layoutOptions: ListboxOption[] = useMemo(
    () => layouts.map((l) => ({ key: l.name, label: <bdi lang="en">{l.description}</bdi>, hint: <bdi dir="ltr">{l.name}</bdi> })),
    [layouts],
  );
  const variantOptions: ListboxOption[] = useMemo(
    () => [
      ...(layout ? [{ key: DEFAULT_VARIANT, label: t('keyboard.defaultVariant'), hint: <bdi lang="en">{layout.description}</bdi> }] : []),
      ...variants.map((v) => ({ key: v.name, label: <bdi lang="en">{v.description}</bdi>, hint: <bdi dir="ltr">{v.name}</bdi> })),
    ],
    [layout, variants, t],
  );

  if (!list) {
    return (
      <>
        <p className="lead">{t('keyboard.intro')}</p>
        {error && !loading ? (
          <section className="banner banner-error" role="alert" aria-labelledby="keyboard-error-title">
            <h2 id="keyboard-error-title" className="banner-title">
              {t('keyboard.errorTitle')}
            </h2>
            <p className="detail">
              <bdi lang="en">{error.message}</bdi>
            </p>
            <button type="button" className="button secondary" onClick={() => void load()} data-testid="keyboard-retry">
              {t('keyboard.retry')}
            </button>
          </section>
        ) : (
          <div className="loading" role="status" aria-busy="true">
            <span className="spinner" aria-hidden="true" />
            {t('keyboard.loading')}
          </div>
        )}
      </>
    );
  }

  const applyText = applyStatusText(apply, t);

  return (
    <>
      <p className="lead">{t('keyboard.intro')}</p>
      <div className="field setup-search">
        <label htmlFor="keyboard-search" className="field-label">
          {t('keyboard.search')}
        </label>
        <input
          id="keyboard-search"
          className="input"
          type="search"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          aria-describedby="keyboard-search-hint keyboard-count"
          data-testid="keyboard-search"
          autoComplete="off"
          spellCheck={false}
        />
        <p id="keyboard-search-hint" className="field-hint">
          {t('keyboard.searchHint')}
        </p>
        <p id="keyboard-count" className="visually-hidden" role="status">
          {deferredQuery.trim() === '' ? '' : t('keyboard.matches', { count: layouts.length })}
        </p>
      </div>

      <div className="setup-columns">
        <div className="setup-column">
          <p id="keyboard-layouts-label" className="field-label">
            {t('keyboard.layouts')}
          </p>
          <SetupListbox
            id="keyboard-layouts"
            labelledBy="keyboard-layouts-label"
            options={layoutOptions}
            selectedKey={choice.layout}
            onSelect={(name) => void choose({ layout: name })}
            emptyText={t('keyboard.noMatch')}
            busy={loading}
          />
        </div>
        <div className="setup-column">
          <p id="keyboard-variants-label" className="field-label">
            {t('keyboard.variants')}
          </p>
          <SetupListbox
            id="keyboard-variants"
            labelledBy="keyboard-variants-label"
            options={variantOptions}
            selectedKey={choice.variant ?? DEFAULT_VARIANT}
            onSelect={(name) => void choose(name === DEFAULT_VARIANT ? { layout: choice.layout } : { layout: choice.layout, variant: name })}
            emptyText={t('keyboard.chooseLayoutFirst')}
          />
        </div>
      </div>

      <p className="setup-status" role="status" data-testid="keyboard-status">
        {applyText && <bdi>{applyText}</bdi>}
      </p>

      {isNonLatin(choice) && (
        <div className="banner banner-warn" data-testid="keyboard-non-latin">
          <p className="banner-title">{t('keyboard.nonLatinTitle')}</p>
          <p>{t('keyboard.nonLatinBody')}</p>
        </div>
      )}

      <div className="field">
        <label htmlFor="keyboard-test" className="field-label">
          {t('keyboard.test')}
        </label>
        <input id="keyboard-test" className="input" type="text" dir="auto" autoComplete="off" spellCheck={false} data-testid="keyboard-test" />
        <p className="field-hint">{t('keyboard.testHint')}</p>
      </div>
    </>
  );
}
