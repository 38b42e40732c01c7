import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { branding } from '../branding';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { Slideshow } from '../components/Slideshow';
import { useApp } from '../store/react';
import { LiveLog } from './LiveLog';
import { announcedPercent, beforePointOfNoReturn, etaText, formatPercent, formatProgressPercent } from './model';
import { StepList } from './StepList';

/** The least time between two progress announcements, so a fast install does not chatter. */
const ANNOUNCE_GAP_MS = 3000;

/** Shows `text` in a polite live region, at most once per ANNOUNCE_GAP_MS (the latest text wins). */
function Announcer({ text }: { text: string }) {
  const [spoken, setSpoken] = useState('');
  const last = useRef(0);
  useEffect(() => {
    if (text === spoken) return;
    const wait = Math.max(0, last.current + ANNOUNCE_GAP_MS - Date.now());
    const timer = setTimeout(() => {
      last.current = Date.now();
      setSpoken(text);
    }, wait);
    return () => clearTimeout(timer);
  }, [text, spoken]);
  return (
    <div className="visually-hidden" role="status" aria-live="polite" aria-atomic="true">
      {spoken}
    </div>
  );
}

export function ProgressPage() {
  const { t } = useTranslation();
  const state = useApp((s) => s.install.state);
  const busy = useApp((s) => s.install.busy);
  const error = useApp((s) => s.install.error);
  const locale = useApp((s) => s.locale);
  const cancelInstall = useApp((s) => s.cancelInstall);
  const [confirming, setConfirming] = useState(false);
  if (!state) return null;

  const plan = state.plan;
  const total = plan?.steps.length ?? 0;
  const index = state.currentStep ?? 0;
  const step = plan?.steps[index];
  const stepName = step ? t(`planStep.${step.id}`) : '';
  const { fraction, overrun } = state.overall;
  const percent = formatProgressPercent(fraction, locale);
  const eta = etaText(state.overall, locale, t);
  const number = new Intl.NumberFormat(locale);
  const cancelling = state.phase === 'cancelling';
  const said = state.activity && !cancelling ? t(`install.activity.${state.activity}`) : null;
  // The boot loader step installing the boot loader needs saying once.
  const activity = said === stepName ? null : said;
  const announcement = step
    ? t('install.progress.announce', { current: number.format(index + 1), total: number.format(total), step: stepName, percent: formatPercent(announcedPercent(fraction) / 100, locale) })
    : '';

  return (
    <>
      <p className="lead">{t('install.progress.intro')}</p>
      <section className="progress-card card" aria-labelledby="progress-label">
        <div className="progress-head">
          <p id="progress-label" className="progress-label">
            {t('install.progress.barLabel')}
          </p>
          <p className="progress-percent" aria-hidden="true">
            {t('install.progress.percentDone', { percent })}
          </p>
        </div>
        <div
          className={`progress-track${cancelling ? ' is-cancelling' : ''}`}
          role="progressbar"
          aria-labelledby="progress-label"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={Math.round(fraction * 100)}
          aria-valuetext={`${t('install.progress.percentDone', { percent })}. ${eta}`}
        >
          <div className="progress-fill" style={{ inlineSize: `${Math.round(fraction * 10000) / 100}%` }} />
        </div>
        <div className="progress-meta">
          <div className="progress-now">
            <p className="progress-current" data-testid="progress-current">{cancelling ? t('install.progress.cancelling') : step ? t('install.progress.current', { step: stepName }) : ''}</p>
            {activity && <p className="progress-activity muted">{activity}</p>}
          </div>
          <p className={`progress-eta muted${overrun ? ' is-overrun' : ''}`}>{eta}</p>
        </div>
        <Announcer text={announcement} />
      </section>

      {error && (
        <div className="banner banner-error" role="alert">
          <p className="detail">
            <bdi lang="en">{error.message}</bdi>
          </p>
        </div>
      )}

      <div className="install-columns">
        <StepList state={state} />
        {branding.slideshow.length > 0 && <Slideshow slides={branding.slideshow} />}
      </div>

      <LiveLog lines={state.log} />

      <div className="actions install-actions">
        <button type="button" className="button secondary" disabled={cancelling || busy} onClick={() => setConfirming(true)} data-testid="progress-cancel">
          {cancelling && <span className="spinner small" aria-hidden="true" />}
          {t('install.progress.cancel')}
        </button>
      </div>

      <ConfirmDialog
        open={confirming}
        title={t('install.cancelDialog.title')}
        confirmLabel={t('install.cancelDialog.confirm')}
        cancelLabel={t('install.cancelDialog.keep')}
        tone="danger"
        testId="progress-cancel"
        onCancel={() => setConfirming(false)}
        onConfirm={() => {
          setConfirming(false);
          void cancelInstall();
        }}
      >
        <p>{t(beforePointOfNoReturn(state) ? 'install.cancelDialog.before' : 'install.cancelDialog.after')}</p>
      </ConfirmDialog>
    </>
  );
}
