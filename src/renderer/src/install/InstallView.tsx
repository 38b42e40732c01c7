import { useEffect, useRef, type MouseEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { branding } from '../branding';
import { ContrastToggle } from '../components/ContrastToggle';
import { EngineNotice } from '../components/EngineNotice';
import { Header } from '../components/Header';
import { useApp } from '../store/react';
import { DonePage } from './DonePage';
import { FailurePage } from './FailurePage';
import type { InstallView as View } from './model';
import { ProgressPage } from './ProgressPage';
import '../styles/install.css';

function focusMain(event: MouseEvent<HTMLAnchorElement>) {
  event.preventDefault();
  document.getElementById('main')?.focus();
}

/**
 * Shown instead of the wizard once an install exists: progress, done or failure, as the engine's
 * phase says. Focus moves to the heading whenever the view (or running → cancelling) changes, so
 * screen-reader and keyboard users learn of it and start from the top.
 */
export function InstallView({ view }: { view: View }) {
  const { t } = useTranslation();
  const phase = useApp((s) => s.install.state?.phase ?? 'idle');
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    heading.current?.focus();
  }, [view, phase]);

  const headingKey =
    view === 'progress'
      ? phase === 'cancelling'
        ? 'install.heading.cancelling'
        : 'install.heading.progress'
      : view === 'done'
        ? 'install.heading.done'
        : phase === 'cancelled'
          ? 'install.heading.cancelled'
          : 'install.heading.failed';

  return (
    <div className="app">
      <a href="#main" className="skip-link" onClick={focusMain} data-testid="app-skip-link">
        {t('app.skipLink')}
      </a>
      <Header>
        <div className="header-tools">
          <ContrastToggle />
        </div>
      </Header>
      <main id="main" className={`content install-content install-${view}`} tabIndex={-1} aria-labelledby="page-heading" data-testid={`page-${view}`}>
        <EngineNotice />
        <h1 id="page-heading" ref={heading} tabIndex={-1} data-testid="page-heading">
          {t(headingKey, { product: branding.productName })}
        </h1>
        {view === 'progress' ? <ProgressPage /> : view === 'done' ? <DonePage /> : <FailurePage />}
      </main>
    </div>
  );
}
