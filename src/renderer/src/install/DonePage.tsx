import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { branding } from '../branding';
import { SaveLogBundle } from '../components/SaveLogBundle';
import { useApp } from '../store/react';
import { formatDuration } from './model';

/** How long a window.close() gets before we say the window cannot close itself. */
const CLOSE_GRACE_MS = 300;

type Notice = { readonly text: string; readonly detail?: string; readonly tone: 'info' | 'bad' } | null;

export function DonePage() {
  const { t } = useTranslation();
  const outcome = useApp((s) => s.install.state?.outcome);
  const locale = useApp((s) => s.locale);
  const power = useApp((s) => s.power);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice>(null);
  const closeTimer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(closeTimer.current), []);

  async function turn(action: 'reboot' | 'poweroff') {
    setBusy(true);
    setNotice(null);
    const r = await power(action);
    setBusy(false);
    if (!r.ok) setNotice({ text: t('install.done.powerFailed'), detail: r.error.message, tone: 'bad' });
    else if (!r.value.applied) setNotice({ text: t('install.done.powerNotApplied'), detail: r.value.detail, tone: 'info' });
  }

  function keepLive() {
    setNotice(null);
    window.close();
    // Browsers ignore close() for windows a script did not open; then say so instead of doing nothing.
    closeTimer.current = setTimeout(() => {
      if (!window.closed) setNotice({ text: t('install.done.closeFailed'), tone: 'info' });
    }, CLOSE_GRACE_MS);
  }

  return (
    <>
      <div className="banner banner-ok">
        <p className="banner-title">
          <span aria-hidden="true">✓ </span>
          {t('install.done.body', { product: branding.productName })}
        </p>
        {outcome?.kind === 'finished' && <p>{t('install.done.took', { time: formatDuration(outcome.durationMs, locale) })}</p>}
      </div>
      <div className="actions">
        <button type="button" className="button primary" disabled={busy} onClick={() => void turn('reboot')} data-testid="done-reboot">
          {t('install.done.reboot')}
        </button>
        <button type="button" className="button secondary" disabled={busy} onClick={() => void turn('poweroff')} data-testid="done-poweroff">
          {t('install.done.poweroff')}
        </button>
        <button type="button" className="button secondary" onClick={keepLive} data-testid="done-keep-live">
          {t('install.done.keepLive')}
        </button>
      </div>
      <div role="status" className="power-status" data-testid="done-power-status">
        {notice && (
          <p className={notice.tone === 'bad' ? 'status-bad' : undefined}>
            {notice.text}
            {notice.detail && (
              <>
                {' '}
                <bdi lang="en" className="detail">
                  {notice.detail}
                </bdi>
              </>
            )}
          </p>
        )}
      </div>
      <SaveLogBundle />
    </>
  );
}
