import type { ComponentType } from 'react';
import { DiskFooter } from '../components/DiskFooter';
import { SummaryFooter } from '../components/SummaryFooter';
import { DiskPage } from '../pages/DiskPage';
import { KeyboardPage } from '../pages/KeyboardPage';
import { SummaryPage } from '../pages/SummaryPage';
import { TimezonePage } from '../pages/TimezonePage';
import { UsersPage } from '../pages/UsersPage';
import { WelcomePage } from '../pages/WelcomePage';
import { WelcomeFooter } from '../components/WelcomeFooter';
import { branding } from '../branding';
import { requirementsGate } from '../welcome/requirements';
import { storageValid, usersValid, type AppState } from '../store';

/**
 * The wizard, in order. A page is added here and nowhere else. Progress, done and failure are not
 * steps: once an install exists the shell shows it instead (the engine is the source of truth).
 */
export interface StepDefinition {
  readonly id: string;
  /** Short name in the step rail. */
  readonly titleKey: string;
  /** The page's h1; receives {{product}}. */
  readonly headingKey: string;
  /** Shown next to a disabled Next button, saying what is missing. */
  readonly blockedKey: string;
  readonly component: ComponentType;
  /** Whether Next may leave this step. */
  readonly canProceed: (state: AppState) => boolean;
  /** Replaces the Next button (Welcome's "Install" and "Try the live system", Summary's "Install"). */
  readonly footer?: ComponentType;
}

export const STEPS: readonly StepDefinition[] = [
  {
    id: 'language',
    titleKey: 'steps.language.title',
    headingKey: 'steps.language.heading',
    blockedKey: 'steps.language.blocked',
    component: WelcomePage,
    canProceed: (s) => requirementsGate(s.requirements, branding.requirements).canInstall,
    footer: WelcomeFooter,
  },
  {
    id: 'keyboard',
    titleKey: 'keyboard.step.title',
    headingKey: 'keyboard.step.heading',
    blockedKey: 'keyboard.step.blocked',
    component: KeyboardPage,
    canProceed: () => true,
  },
  {
    id: 'timezone',
    titleKey: 'timezone.step.title',
    headingKey: 'timezone.step.heading',
    blockedKey: 'timezone.step.blocked',
    component: TimezonePage,
    canProceed: () => true,
  },
  {
    id: 'disk',
    titleKey: 'steps.disk.title',
    headingKey: 'steps.disk.heading',
    blockedKey: 'storage.blocked',
    component: DiskPage,
    canProceed: storageValid,
    // Next with a blocked message naming what is missing (a disk, a passphrase, a partition for /).
    footer: DiskFooter,
  },
  {
    id: 'users',
    titleKey: 'steps.users.title',
    headingKey: 'steps.users.heading',
    blockedKey: 'steps.users.blocked',
    component: UsersPage,
    canProceed: usersValid,
  },
  {
    id: 'summary',
    titleKey: 'summary.step.title',
    headingKey: 'summary.step.heading',
    blockedKey: 'summary.step.blocked',
    component: SummaryPage,
    canProceed: (s) => s.summary.plan !== null,
    // "Install" (with its confirmation) instead of Next.
    footer: SummaryFooter,
  },
];
