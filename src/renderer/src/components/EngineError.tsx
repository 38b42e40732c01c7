import { useTranslation } from 'react-i18next';
import type { InstallerError } from '../../../shared/errors';
import { Header } from './Header';

interface Props {
  readonly error: InstallerError | null;
  readonly browser: boolean;
}

/** Shown instead of the wizard when the engine cannot be reached: nothing else can work without it. */
export function EngineError({ error, browser }: Props) {
  const { t } = useTranslation();
  return (
    <div className="app">
      <Header />
      <main id="main" className="center-screen" tabIndex={-1}>
        <section className="card error-card" role="alert" aria-labelledby="engine-error-title">
          <h1 id="engine-error-title">{t('engine.errorTitle')}</h1>
          <p>{t('engine.errorBody')}</p>
          {browser && <p>{t('engine.browserHint')}</p>}
          {error && (
            <details className="details">
              <summary>{t('engine.details')}</summary>
              <p className="detail">
                <bdi lang="en">{error.message}</bdi>
              </p>
              {error.detail && <pre lang="en" dir="ltr">{error.detail}</pre>}
            </details>
          )}
          <div className="actions">
            <button type="button" className="button primary" onClick={() => window.location.reload()}>
              {t('engine.retry')}
            </button>
          </div>
        </section>
      </main>
    </div>
  );
}
