import { useTranslation } from 'react-i18next';
import type { InstallState } from '../../../shared/install';
import { stepLabel, type StepLabel } from './model';

const ICONS: Record<StepLabel, string> = {
  pending: '○',
  running: '●',
  done: '✓',
  failed: '✕',
  skipped: '–',
  notRun: '–',
  stopped: '■',
};

/**
 * Every step of the plan with its state, in words and an icon, never colour alone. The running step's
 * icon stands still: a spinner there kept a GPU-less Chromium drawing frames for the whole install
 * (npm run bench, "progress page CPU"), on the one CPU the install needs; the activity line and the
 * time left show that it moves.
 */
export function StepList({ state }: { state: InstallState }) {
  const { t } = useTranslation();
  const steps = state.plan?.steps ?? [];
  return (
    <section className="install-steps" aria-labelledby="install-steps-title" data-testid="install-steps">
      <h2 id="install-steps-title" className="section-title">
        {t('install.progress.stepsTitle')}
      </h2>
      <ol>
        {steps.map((step, i) => {
          const label = stepLabel(state.steps[i] ?? 'pending', state.phase);
          return (
            <li
              key={`${step.id}-${i}`}
              className={`install-step install-step-${label}`}
              aria-current={label === 'running' ? 'step' : undefined}
              data-testid={`install-step-${step.id}`}
              data-state={label}
            >
              <span className="install-step-icon" aria-hidden="true">
                {ICONS[label]}
              </span>
              <span className="install-step-name">{t(`planStep.${step.id}`)}</span>
              <span className="install-step-status">{t(`install.status.${label}`)}</span>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
