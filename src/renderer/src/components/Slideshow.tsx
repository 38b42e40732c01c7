import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { localized, type Slide } from '../branding';
import { useApp } from '../store/react';

/** How long a slide stays before the next one, when the slideshow plays by itself. */
export const SLIDE_INTERVAL_MS = 8000;

function useReducedMotion(): boolean {
  const query = '(prefers-reduced-motion: reduce)';
  const [reduced, setReduced] = useState(() => typeof matchMedia === 'function' && matchMedia(query).matches);
  useEffect(() => {
    if (typeof matchMedia !== 'function') return;
    const mq = matchMedia(query);
    const change = () => setReduced(mq.matches);
    mq.addEventListener('change', change);
    return () => mq.removeEventListener('change', change);
  }, []);
  return reduced;
}

/**
 * The branding's slides during the install: advances every 8 s, with pause, previous and next
 * (WCAG 2.2.2). Under prefers-reduced-motion it never advances by itself. While it plays, slide
 * changes are not announced; once the person steers it, they are.
 */
export function Slideshow({ slides }: { slides: readonly Slide[] }) {
  const { t } = useTranslation();
  const locale = useApp((s) => s.locale);
  const reduced = useReducedMotion();
  const [index, setIndex] = useState(0);
  const [paused, setPaused] = useState(false);
  // Rotation also rests while keyboard focus is inside, so a control never moves under the person.
  const [focused, setFocused] = useState(false);
  const playing = !paused && !focused && !reduced && slides.length > 1;

  useEffect(() => {
    if (!playing) return;
    const timer = setInterval(() => setIndex((i) => (i + 1) % slides.length), SLIDE_INTERVAL_MS);
    return () => clearInterval(timer);
  }, [playing, slides.length]);

  const slide = slides[index % Math.max(1, slides.length)];
  if (!slide) return null;
  const number = new Intl.NumberFormat(locale);
  const step = (by: number) => setIndex((i) => (i + by + slides.length) % slides.length);

  return (
    <section
      className="slideshow"
      aria-roledescription="carousel"
      aria-label={t('install.slideshow.label')}
      onFocus={() => setFocused(true)}
      onBlur={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setFocused(false);
      }}
    >
      <div className="slide-frame" aria-live={playing ? 'off' : 'polite'}>
        <div
          key={index}
          className="slide"
          role="group"
          aria-roledescription="slide"
          aria-label={t('install.slideshow.slide', { current: number.format(index + 1), total: number.format(slides.length) })}
        >
          {slide.image && <img className="slide-image" src={slide.image} alt="" />}
          <div className="slide-text">
            <p className="slide-title">{localized(slide.title, locale)}</p>
            <p className="slide-body">{localized(slide.body, locale)}</p>
          </div>
        </div>
      </div>
      {slides.length > 1 && (
        <div className="slide-controls">
          <button type="button" className="button secondary icon-button" onClick={() => step(-1)} aria-label={t('install.slideshow.previous')} data-testid="slideshow-previous">
            <span className="flip-rtl" aria-hidden="true">‹</span>
          </button>
          {!reduced && (
            <button type="button" className="button secondary icon-button" onClick={() => setPaused((p) => !p)} aria-label={t(paused ? 'install.slideshow.play' : 'install.slideshow.pause')} data-testid="slideshow-pause">
              <span aria-hidden="true">{paused ? '▶' : '❚❚'}</span>
            </button>
          )}
          <button type="button" className="button secondary icon-button" onClick={() => step(1)} aria-label={t('install.slideshow.next')} data-testid="slideshow-next">
            <span className="flip-rtl" aria-hidden="true">›</span>
          </button>
          <span className="slide-count" aria-hidden="true">
            {number.format(index + 1)} / {number.format(slides.length)}
          </span>
        </div>
      )}
    </section>
  );
}
