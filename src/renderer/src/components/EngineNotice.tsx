import { useTranslation } from 'react-i18next';
import { useApp } from '../store/react';

/** Demo mode and engine notices, on every page: people must know nothing real will happen. */
export function EngineNotice() {
  const { t } = useTranslation();
  const info = useApp((s) => s.engine.info);
  if (!info || (info.mode !== 'demo' && !info.notice)) return null;
  const demo = info.mode === 'demo';
  return (
    <section className="banner banner-info" aria-labelledby="engine-notice-title" data-testid="engine-notice">
      {/* Not a heading: it sits above the page's h1 and must not come first in the outline. */}
      <p id="engine-notice-title" className="banner-title">
        {t(demo ? 'engine.demoTitle' : 'engine.noticeTitle')}
      </p>
      {demo && <p>{t('engine.demoBody')}</p>}
      {info.notice && (
        <p className="detail">
          <bdi lang="en">{info.notice}</bdi>
        </p>
      )}
    </section>
  );
}
