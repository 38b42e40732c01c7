import { useDeferredValue, useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { SetupListbox } from '../components/SetupListbox';
import { TimezoneMap } from '../components/TimezoneMap';
import { useApp } from '../store/react';
import { buildEntries, countryNamer, entriesInRegion, formatZoneTime, regionsOf, searchZones, UTC, type ZoneEntry } from '../timezone/zones';
import '../styles/forms.css';
import '../styles/setup-pages.css';

/** Ticks once a minute, on the minute, so the shown time stays right without busy re-rendering. */
function useNow(): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout>;
    const tick = () => {
      setNow(new Date());
      timer = setTimeout(tick, 60_000 - (Date.now() % 60_000) + 50);
    };
    timer = setTimeout(tick, 60_000 - (Date.now() % 60_000) + 50);
    return () => clearTimeout(timer);
  }, []);
  return now;
}

function entryLabel(e: ZoneEntry, separator: string): string {
  return e.countries.length > 0 ? `${e.city}${separator}${e.countries.join(separator)}` : e.city;
}

export function TimezonePage() {
  const { t } = useTranslation();
  const locale = useApp((s) => s.locale);
  const { list, loading, error, selected } = useApp((s) => s.timezone);
  const load = useApp((s) => s.loadTimeZones);
  const choose = useApp((s) => s.chooseTimeZone);
  const [query, setQuery] = useState('');
  const deferredQuery = useDeferredValue(query);
  const now = useNow();

  useEffect(() => {
    if (!list && !loading) void load();
    // Only on arrival; Retry reloads after an error.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const entries = useMemo(() => (list ? buildEntries(list, countryNamer(locale, list.countryNames)) : []), [list, locale]);
  const results = useMemo(() => searchZones(entries, deferredQuery, locale), [entries, deferredQuery, locale]);
  const regions = useMemo(() => regionsOf(list?.zones ?? []), [list]);
  const current = entries.find((e) => e.zone.id === selected) ?? null;
  const region = current?.zone.region ?? UTC;
  const cities = region === UTC ? [] : entriesInRegion(entries, region, locale);
  const separator = t('app.listSeparator');

  if (!list) {
    return (
      <>
        <p className="lead">{t('timezone.intro')}</p>
        {error && !loading ? (
          <section className="banner banner-error" role="alert" aria-labelledby="timezone-error-title">
            <h2 id="timezone-error-title" className="banner-title">
              {t('timezone.errorTitle')}
            </h2>
            <p className="detail">
              <bdi lang="en">{error.message}</bdi>
            </p>
            <button type="button" className="button secondary" onClick={() => void load()} data-testid="timezone-retry">
              {t('timezone.retry')}
            </button>
          </section>
        ) : (
          <div className="loading" role="status" aria-busy="true">
            <span className="spinner" aria-hidden="true" />
            {t('timezone.loading')}
          </div>
        )}
      </>
    );
  }

  const regionName = (r: string) => t(`timezone.regions.${r}`, { defaultValue: r });
  const chooseRegion = (r: string) => {
    if (r === UTC) return choose(UTC);
    // The region's biggest-named city would be arbitrary; its first in the alphabet is predictable.
    const first = entriesInRegion(entries, r, locale)[0];
    if (first) choose(first.zone.id);
  };
  const shownName = selected === UTC ? t('timezone.utc') : current ? entryLabel(current, separator) : selected;

  return (
    <>
      <p className="lead">{t('timezone.intro')}</p>

      <TimezoneMap zones={list.zones} selected={selected} onPick={choose} />

      <div className="tz-now">
        {/* Only the choice is announced; the clock ticking every minute would be noise. */}
        <p className="tz-now-zone" role="status" data-testid="timezone-selected">
          {t('timezone.selected')} <strong>{shownName}</strong> <bdi dir="ltr" className="tz-id">{selected}</bdi>
        </p>
        <p>{t('timezone.localTime', { time: formatZoneTime(now, selected, locale) })}</p>
      </div>

      <div className="field setup-search">
        <label htmlFor="timezone-search" className="field-label">
          {t('timezone.search')}
        </label>
        <input
          id="timezone-search"
          className="input"
          type="search"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={(e) => {
            // Down from the search field goes to the results, as in a search box with suggestions.
            // The list may still show a deferred query; go by what is typed now.
            const first = e.key === 'ArrowDown' ? searchZones(entries, query, locale)[0] : undefined;
            if (first) {
              e.preventDefault();
              choose(first.zone.id);
              document.getElementById('timezone-results')?.focus();
            }
          }}
          aria-describedby="timezone-search-hint timezone-count"
          data-testid="timezone-search"
          autoComplete="off"
          spellCheck={false}
        />
        <p id="timezone-search-hint" className="field-hint">
          {t('timezone.searchHint')}
        </p>
        <p id="timezone-count" className="visually-hidden" role="status">
          {deferredQuery.trim() === '' ? '' : t('timezone.matches', { count: results.length })}
        </p>
      </div>

      {deferredQuery.trim() !== '' && (
        <div className="setup-column">
          <p id="timezone-results-label" className="field-label">
            {t('timezone.results')}
          </p>
          <SetupListbox
            id="timezone-results"
            labelledBy="timezone-results-label"
            options={results.map((e) => ({ key: e.zone.id, label: entryLabel(e, separator), hint: <bdi dir="ltr">{e.zone.id}</bdi> }))}
            selectedKey={selected}
            onSelect={choose}
            emptyText={t('timezone.noMatch')}
          />
        </div>
      )}

      <fieldset className="setup-columns tz-selects">
        <legend className="field-label">{t('timezone.browse')}</legend>
        <div className="field">
          <label htmlFor="timezone-region" className="field-hint">
            {t('timezone.region')}
          </label>
          <select id="timezone-region" className="input" value={region} onChange={(e) => chooseRegion(e.target.value)} data-testid="timezone-region">
            {regions.map((r) => (
              <option key={r} value={r}>
                {regionName(r)}
              </option>
            ))}
            <option value={UTC}>{t('timezone.utc')}</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="timezone-city" className="field-hint">
            {t('timezone.city')}
          </label>
          <select
            id="timezone-city"
            className="input"
            value={region === UTC ? UTC : selected}
            onChange={(e) => choose(e.target.value)}
            disabled={region === UTC}
            data-testid="timezone-city"
          >
            {region === UTC ? (
              <option value={UTC}>{t('timezone.utc')}</option>
            ) : (
              cities.map((e) => (
                <option key={e.zone.id} value={e.zone.id}>
                  {entryLabel(e, separator)}
                </option>
              ))
            )}
          </select>
        </div>
      </fieldset>
    </>
  );
}
