import { Suspense, useEffect, useRef, type MouseEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { branding } from '../branding';
import { ContrastToggle } from '../components/ContrastToggle';
import { EngineNotice } from '../components/EngineNotice';
import { Header } from '../components/Header';
import { useApp } from '../store/react';
import { ChunkLoading } from './deferred';
import { STEPS } from './steps';
import { StepRail } from './StepRail';

function focusMain(event: MouseEvent<HTMLAnchorElement>) {
  // Focus directly instead of following #main, so no navigation happens (Electron locks navigation).
  event.preventDefault();
  document.getElementById('main')?.focus();
}

export function WizardShell() {
  const { t } = useTranslation();
  const stepIndex = useApp((s) => s.wizard.stepIndex);
  const goNext = useApp((s) => s.goNext);
  const goBack = useApp((s) => s.goBack);
  const step = STEPS[stepIndex] ?? STEPS[0]!;
  const canProceed = useApp((s) => step.canProceed(s));
  const heading = useRef<HTMLHeadingElement>(null);
  const firstRender = useRef(true);

  // Screen-reader and keyboard users land on the new page's heading, not on a button that moved.
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    heading.current?.focus();
  }, [stepIndex]);

  const Page = step.component;
  const Footer = step.footer;
  return (
    <div className="app">
      <a href="#main" className="skip-link" onClick={focusMain} data-testid="app-skip-link">
        {t('app.skipLink')}
      </a>
      <Header>
        <div className="header-tools">
          <span className="step-count">{t('app.stepOf', { current: stepIndex + 1, total: STEPS.length })}</span>
          <ContrastToggle />
        </div>
      </Header>
      <div className="layout">
        <StepRail steps={STEPS} current={stepIndex} />
        <main id="main" className="content" tabIndex={-1} aria-labelledby="page-heading" data-testid={`page-${step.id}`}>
          <EngineNotice />
          <h1 id="page-heading" ref={heading} tabIndex={-1} data-testid="page-heading">
            {t(step.headingKey, { product: branding.productName })}
          </h1>
          <Suspense fallback={<ChunkLoading />}>
            <Page />
          </Suspense>
        </main>
      </div>
      <footer className="nav-bar">
        <div className="nav-inner">
          <button type="button" className="button secondary" onClick={goBack} disabled={stepIndex === 0} data-testid="nav-back">
            {t('app.back')}
          </button>
          {Footer ? (
            <Footer />
          ) : (
            <div className="nav-next">
              {!canProceed && (
                <p id="next-blocked" className="nav-hint">
                  {t(step.blockedKey)}
                </p>
              )}
              <button
                type="button"
                className="button primary"
                onClick={goNext}
                disabled={!canProceed}
                aria-describedby={canProceed ? undefined : 'next-blocked'}
                data-testid="nav-next"
              >
                {t('app.next')}
              </button>
            </div>
          )}
        </div>
      </footer>
    </div>
  );
}
