import { useTranslation } from 'react-i18next';
import { SaveLogBundle } from '../components/SaveLogBundle';
import { useApp } from '../store/react';
import { STEPS } from '../wizard/steps';
import { failedOutcome } from './model';
import { StepList } from './StepList';

/** Index of the wizard's Summary step, where "Back to the summary" leads. */
const SUMMARY_INDEX = Math.max(0, STEPS.findIndex((s) => s.id === 'summary'));

/** After a failure or a cancel: what happened, what the disk holds, what a retry does, and the command. */
export function FailurePage() {
  const { t } = useTranslation();
  const state = useApp((s) => s.install.state);
  const busy = useApp((s) => s.install.busy);
  const requestError = useApp((s) => s.install.error);
  const retryInstall = useApp((s) => s.retryInstall);
  const dismissInstall = useApp((s) => s.dismissInstall);
  const goTo = useApp((s) => s.goTo);
  const outcome = failedOutcome(state);
  if (!state || !outcome) return null;

  const { error, diskState, retry, cancelled } = outcome;
  const stepId = error.step ?? (state.currentStep !== null ? state.plan?.steps[state.currentStep]?.id : undefined);
  const stepName = (id: string) => t(`planStep.${id}`, { defaultValue: id });

  return (
    <>
      <section className={`banner ${cancelled ? 'banner-warn' : 'banner-error'}`} aria-labelledby="failure-what">
        <h2 id="failure-what" className="banner-title">
          {t('install.failure.whatHappened')}
        </h2>
        <p>
          {/* A cancel is said once, with its step; a failure gets its code's sentence first. */}
          {!cancelled && `${t(`install.errors.${error.code}`)} `}
          {stepId ? t(cancelled ? 'install.failure.cancelledStep' : 'install.failure.failedStep', { step: stepName(stepId) }) : cancelled && t('install.errors.cancelled')}
        </p>
        {!cancelled && (
          <p className="detail">
            {t('install.failure.engineMessage')} <bdi lang="en">{error.message}</bdi>
          </p>
        )}
      </section>

      <section className="failure-section" aria-labelledby="failure-disk">
        <h2 id="failure-disk" className="section-title">
          {t('install.failure.diskTitle')}
        </h2>
        <p className={`disk-state disk-state-${diskState}`}>{t(`install.diskState.${diskState}`)}</p>
      </section>

      <section className="failure-section" aria-labelledby="failure-retry">
        <h2 id="failure-retry" className="section-title">
          {t('install.failure.retryTitle')}
        </h2>
        <p>{t('install.failure.retryFrom', { step: stepName(retry.from) })}</p>
        <p className="detail">
          {t('install.failure.retryReason')} <bdi lang="en">{retry.reason}</bdi>
        </p>
      </section>

      <StepList state={state} />

      {(error.command || error.stderrTail) && (
        <details className="details failure-command" data-testid="failure-command">
          <summary data-testid="failure-command-toggle">{t('install.failure.commandSummary')}</summary>
          <dl className="command-facts">
            {error.command && (
              <>
                <dt>{t('install.failure.command')}</dt>
                <dd>
                  <code dir="ltr" lang="en">
                    {error.command.join(' ')}
                  </code>
                </dd>
              </>
            )}
            {error.exitCode !== undefined && (
              <>
                <dt>{t('install.failure.exitCode')}</dt>
                <dd>
                  <code dir="ltr">{error.exitCode}</code>
                </dd>
              </>
            )}
            <dt>{t('install.failure.output')}</dt>
            <dd>
              {error.stderrTail ? (
                <pre className="command-output" dir="ltr" lang="en" tabIndex={0} data-testid="failure-command-output">
                  {error.stderrTail}
                </pre>
              ) : (
                t('install.failure.noOutput')
              )}
            </dd>
          </dl>
        </details>
      )}

      {requestError && (
        <div className="banner banner-error" role="alert">
          <p className="detail">
            <bdi lang="en">{requestError.message}</bdi>
          </p>
        </div>
      )}

      <div className="actions">
        <button type="button" className="button primary" disabled={busy} onClick={() => void retryInstall()} data-testid="failure-retry">
          {busy && <span className="spinner small" aria-hidden="true" />}
          {t(cancelled ? 'install.failure.retryCancelled' : 'install.failure.retry')}
        </button>
        <button
          type="button"
          className="button secondary"
          disabled={busy}
          data-testid="failure-back"
          onClick={() => {
            dismissInstall();
            goTo(SUMMARY_INDEX);
          }}
        >
          {t('install.failure.back')}
        </button>
      </div>

      <SaveLogBundle />
    </>
  );
}
