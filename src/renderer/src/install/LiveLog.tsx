import { useLayoutEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';

/** Within this many pixels of the end counts as "at the bottom" (sub-pixel scroll positions). */
const SLACK = 8;

/**
 * The engine's log lines as they arrive, behind a disclosure. It follows the newest line unless the
 * person has scrolled up to read; scrolling back to the end resumes following. The log is not
 * announced (aria-live off): progress has its own throttled announcement.
 */
export function LiveLog({ lines }: { lines: readonly string[] }) {
  const { t } = useTranslation();
  const box = useRef<HTMLPreElement>(null);
  const follow = useRef(true);

  const toEnd = () => {
    const el = box.current;
    if (el) el.scrollTop = el.scrollHeight;
  };

  useLayoutEffect(() => {
    if (follow.current) toEnd();
  }, [lines]);

  return (
    <details
      className="details log-details"
      onToggle={(e) => {
        if ((e.currentTarget as HTMLDetailsElement).open && follow.current) toEnd();
      }}
    >
      <summary data-testid="progress-log-toggle">{t('install.log.summary')}</summary>
      <pre
        ref={box}
        className="live-log"
        role="log"
        aria-live="off"
        aria-label={t('install.log.label')}
        tabIndex={0}
        data-testid="progress-log"
        dir="ltr"
        lang={lines.length > 0 ? 'en' : undefined}
        onScroll={(e) => {
          const el = e.currentTarget;
          follow.current = el.scrollHeight - el.scrollTop - el.clientHeight <= SLACK;
        }}
      >
        {lines.length > 0 ? lines.join('\n') : t('install.log.empty')}
      </pre>
    </details>
  );
}
