import { useTranslation } from 'react-i18next';
import { useApp } from '../store/react';
import type { StepDefinition } from './steps';

interface Props {
  readonly steps: readonly StepDefinition[];
  readonly current: number;
}

/** Where the person is in the wizard; informative only, moving happens with Back and Next. */
export function StepRail({ steps, current }: Props) {
  const { t } = useTranslation();
  const locale = useApp((s) => s.locale);
  const number = new Intl.NumberFormat(locale);
  return (
    <nav className="step-rail" aria-label={t('app.stepsLabel')} data-testid="step-rail">
      <ol>
        {steps.map((step, i) => {
          const state = i < current ? 'done' : i === current ? 'current' : 'upcoming';
          return (
            <li key={step.id} className={`step step-${state}`} aria-current={i === current ? 'step' : undefined} data-testid={`step-${step.id}`} data-state={state}>
              <span className="step-marker" aria-hidden="true">
                {i < current ? '✓' : number.format(i + 1)}
              </span>
              <span className="step-title">{t(step.titleKey)}</span>
            </li>
          );
        })}
      </ol>
    </nav>
  );
}
