import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { EngineError } from './components/EngineError';
import { Header } from './components/Header';
import { InstallView } from './install/InstallView';
import { engineLoss, installView } from './install/model';
import { useApp } from './store/react';
import { WizardShell } from './wizard/WizardShell';

export function App({ browser }: { browser: boolean }) {
  const { t } = useTranslation();
  const status = useApp((s) => s.engine.status);
  const error = useApp((s) => s.engine.error);
  const install = useApp((s) => s.install);
  const view = installView(install.state, install.dismissed);
  // Until the engine has said whether an install exists, neither the wizard nor the install shows:
  // a page reloaded mid-install must not flash the Welcome page first.
  const installUnknown = install.state === null && install.error === null;

  // Leaving the install views for the wizard ("Back to the summary") mounts the wizard afresh, which
  // does not move focus on its first render: put it on the wizard page's heading here.
  const shown = useRef(view);
  useEffect(() => {
    if (shown.current !== null && view === null) document.getElementById('page-heading')?.focus();
    shown.current = view;
  }, [view]);

  if (status === 'lost') return <EngineError error={error} browser={browser} loss={engineLoss(install.state)} />;
  if (status === 'connecting' || installUnknown) {
    return (
      <div className="app">
        <Header />
        <main id="main" className="center-screen" tabIndex={-1} data-testid="page-loading">
          <div className="loading" role="status" aria-busy="true">
            <span className="spinner" aria-hidden="true" />
            {t('app.loading')}
          </div>
        </main>
      </div>
    );
  }
  if (view) return <InstallView view={view} />;
  return <WizardShell />;
}
