import { useTranslation } from 'react-i18next';
import type { InstallerError } from '../../../shared/errors';
import type { EngineLoss } from '../install/model';
import { Header } from './Header';

interface Props {
  readonly error: InstallerError | null;
  readonly browser: boolean;
  /** What the loss means for the target disk (see engineLoss); untouched when not given. */
  readonly loss?: EngineLoss;
}

/**
 * Shown instead of the wizard when the engine cannot be reached: nothing else can work without it.
 * "Nothing has been changed" is only said when no install has written the disk; an install cut off
 * while running gets the truth instead: the disk may be half written, and installing again fixes it.
 */
export function EngineError({ error, browser, loss = 'untouched' }: Props) {
  const { t } = useTranslation();
  return (
    <div className="app">
      <Header />
      <main id="main" className="center-screen" tabIndex={-1} data-testid="page-engine-error">
        <section className="card error-card" role="alert" aria-labelledby="engine-error-title">
          <h1 id="engine-error-title">{t('engine.errorTitle')}</h1>
          <p>{t('engine.errorBody')}</p>
          {loss === 'untouched' && <p>{t('engine.unchanged')}</p>}
          {loss === 'interrupted' && (
            <>
              <p>{t('engine.interrupted')}</p>
              <p>{t('engine.interruptedNext', { retry: t('engine.retry') })}</p>
            </>
          )}
          {browser && <p>{t('engine.browserHint')}</p>}
          {error && (
            <details className="details">
              <summary data-testid="engine-error-details">{t('engine.details')}</summary>
              <p className="detail">
                <bdi lang="en">{error.message}</bdi>
              </p>
              {error.detail && <pre lang="en" dir="ltr">{error.detail}</pre>}
            </details>
          )}
          <div className="actions">
            <button type="button" className="button primary" onClick={() => window.location.reload()} data-testid="engine-reconnect">
              {t('engine.retry')}
            </button>
          </div>
        </section>
      </main>
    </div>
  );
}
