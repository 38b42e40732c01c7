import { useTranslation } from 'react-i18next';
import { EngineError } from './components/EngineError';
import { Header } from './components/Header';
import { useApp } from './store/react';
import { WizardShell } from './wizard/WizardShell';

export function App({ browser }: { browser: boolean }) {
  const { t } = useTranslation();
  const status = useApp((s) => s.engine.status);
  const error = useApp((s) => s.engine.error);

  if (status === 'lost') return <EngineError error={error} browser={browser} />;
  if (status === 'connecting') {
    return (
      <div className="app">
        <Header />
        <main id="main" className="center-screen" tabIndex={-1}>
          <div className="loading" role="status" aria-busy="true">
            <span className="spinner" aria-hidden="true" />
            {t('app.loading')}
          </div>
        </main>
      </div>
    );
  }
  return <WizardShell />;
}
