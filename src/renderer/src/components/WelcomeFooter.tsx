import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { branding } from '../branding';
import { useApp } from '../store/react';
import { requirementsGate } from '../welcome/requirements';

/** How long a window that really closes takes; after that, this one evidently stays. */
const CLOSE_GRACE_MS = 300;

/**
 * Welcome's two ways on: install (the next step) or try the live system (close the installer).
 * Install waits for the checks and is refused while a blocking check fails, saying why; an engine
 * error in the checks only warns, so a broken check never locks anyone out.
 */
export function WelcomeFooter() {
  const { t } = useTranslation();
  const goNext = useApp((s) => s.goNext);
  const requirements = useApp((s) => s.requirements);
  const gate = requirementsGate(requirements, branding.requirements);
  const [stillOpen, setStillOpen] = useState(false);
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);

  const tryLive = () => {
    // In Electron this quits the installer; a browser keeps a tab it did not open by script.
    window.close();
    clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      if (!window.closed) setStillOpen(true);
    }, CLOSE_GRACE_MS);
  };

  const hint =
    gate.kind === 'checking'
      ? t('welcome.footer.checking')
      : gate.kind === 'blocked'
        ? t('welcome.footer.blocked')
        : gate.kind === 'error'
          ? t('welcome.footer.unchecked')
          : gate.kind === 'warn'
            ? t('welcome.footer.warnings')
            : '';

  return (
    <div className="nav-next welcome-actions">
      <p id="welcome-install-hint" className={`nav-hint${gate.kind === 'blocked' ? ' nav-hint-bad' : ''}`}>
        {hint}
      </p>
      {/* Present from the start, so the message is announced when it appears. */}
      <p className="nav-hint live-hint" role="status" data-testid="welcome-try-live-status">
        {stillOpen ? t('welcome.footer.stillOpen') : ''}
      </p>
      <button type="button" className="button secondary" onClick={tryLive} data-testid="welcome-try-live">
        {t('welcome.footer.tryLive')}
      </button>
      <button
        type="button"
        className="button primary"
        onClick={goNext}
        disabled={!gate.canInstall}
        aria-describedby={hint ? 'welcome-install-hint' : undefined}
        data-testid="welcome-install"
      >
        {t('welcome.footer.install')}
      </button>
    </div>
  );
}
