import { useTranslation } from 'react-i18next';
import type { RequirementCheck } from '../../../shared/system';
import { branding } from '../branding';
import { useApp } from '../store/react';
import { requirementParams } from '../welcome/requirements';
import { useSizeFormatter } from './useSizeFormatter';

const ICONS: Record<RequirementCheck['status'], string> = { ok: '✓', failed: '✕', unknown: '?', skipped: '–' };

/** Engine values with a name people know; anything else is shown as the engine said it. */
const VALUE_KEYS: Readonly<Record<string, string>> = {
  uefi: 'uefi',
  bios: 'bios',
  any: 'any',
  ac: 'ac',
  battery: 'battery',
  'no-battery': 'noBattery',
  connected: 'connected',
  'no-route': 'noRoute',
  unreachable: 'unreachable',
  registry: 'registry',
};

/** The checks of this computer against what the system needs, each in words and with an icon. */
export function WelcomeRequirements() {
  const { t } = useTranslation();
  const size = useSizeFormatter();
  const { checks, loading, error } = useApp((s) => s.requirements);
  const info = useApp((s) => s.engine.info);
  const check = useApp((s) => s.checkRequirements);
  const recheck = () => void check(requirementParams(branding, info));

  const value = (v: number | string | null): string | null => {
    if (v === null) return null;
    if (typeof v === 'number') return size(v);
    const key = VALUE_KEYS[v];
    return key ? t(`welcome.value.${key}`) : v;
  };

  return (
    <section className="form-card requirements" aria-labelledby="requirements-title" aria-busy={loading} data-testid="welcome-requirements">
      <div className="toolbar">
        <h2 id="requirements-title" className="form-card-title">
          {t('welcome.requirements.title')}
        </h2>
        <button type="button" className="button secondary" onClick={recheck} disabled={loading} data-testid="welcome-recheck">
          {loading && <span className="spinner small" aria-hidden="true" />}
          {t('welcome.requirements.recheck')}
        </button>
      </div>

      {loading && !checks && (
        <div className="loading" role="status">
          <span className="spinner" aria-hidden="true" />
          {t('welcome.requirements.checking')}
        </div>
      )}

      {error && !loading && (
        <div className="banner banner-error" role="alert" data-testid="welcome-requirements-error">
          <p className="banner-title">{t('welcome.requirements.errorTitle')}</p>
          <p>{t('welcome.requirements.errorBody')}</p>
          <p className="detail">
            <bdi lang="en">{error.message}</bdi>
          </p>
          <button type="button" className="button secondary" onClick={recheck} data-testid="welcome-requirements-retry">
            {t('welcome.requirements.retry')}
          </button>
        </div>
      )}

      {checks && (
        <ul className="req-list" data-testid="welcome-requirement-list">
          {checks.map((c) => {
            const blocking = branding.requirements[c.id].blocking;
            const measured = value(c.measured);
            const required = value(c.required);
            return (
              <li key={c.id} className={`req req-${c.status}`} data-testid={`welcome-requirement-${c.id}`} data-state={c.status}>
                <span className="req-icon" aria-hidden="true">
                  {ICONS[c.status]}
                </span>
                <div className="req-body">
                  <p className="req-head">
                    <span className="req-name">{t(`welcome.requirements.name.${c.id}`)}</span>
                    <span className="req-status" data-testid={`welcome-requirement-${c.id}-status`}>{t(`welcome.requirements.status.${c.status}`)}</span>
                    <span className={`req-kind ${blocking ? 'req-required' : 'req-recommended'}`} data-testid={`welcome-requirement-${c.id}-kind`}>
                      {t(blocking ? 'welcome.requirements.required' : 'welcome.requirements.recommended')}
                    </span>
                  </p>
                  {(measured || required) && (
                    <p className="req-values">
                      {measured && t('welcome.requirements.measured', { value: measured })}
                      {measured && required && t('app.listSeparator')}
                      {required && t('welcome.requirements.needed', { value: required })}
                    </p>
                  )}
                  {c.status === 'failed' && (
                    <p className="req-effect">
                      {t(`welcome.requirements.failed.${c.id}`)} {t(blocking ? 'welcome.requirements.blocks' : 'welcome.requirements.warns')}
                    </p>
                  )}
                </div>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
