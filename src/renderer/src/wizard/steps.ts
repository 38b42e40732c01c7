import type { ComponentType } from 'react';
import { DiskFooter } from '../components/DiskFooter';
import { SummaryFooter } from '../components/SummaryFooter';
import { WelcomePage } from '../pages/WelcomePage';
import { WelcomeFooter } from '../components/WelcomeFooter';
import { branding } from '../branding';
import { requirementsGate } from '../welcome/requirements';
import { storageValid, usersValid, type AppState } from '../store';
import { deferred } from './deferred';
import { STEP_ORDER, type WizardStepId } from './step-order';

// The pages after Welcome, each its own chunk (see deferred.tsx); preloadSteps() fetches them.
const keyboard = deferred(() => import('../pages/KeyboardPage').then((m) => m.KeyboardPage));
const timezone = deferred(() => import('../pages/TimezonePage').then((m) => m.TimezonePage));
const disk = deferred(() => import('../pages/DiskPage').then((m) => m.DiskPage));
const users = deferred(() => import('../pages/UsersPage').then((m) => m.UsersPage));
const summary = deferred(() => import('../pages/SummaryPage').then((m) => m.SummaryPage));

/** Fetches the code of every page after Welcome, so Next never waits for it. */
export function preloadSteps(): Promise<void> {
  return Promise.all([keyboard, timezone, disk, users, summary].map((d) => d.preload())).then(() => undefined);
}

/**
 * The wizard's pages. A page is added here and in step-order.ts (its place and name), nowhere else. Progress, done and failure are not
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

/** What each page is besides its place and name (wizard/step-order.ts). */
const PAGES: Record<WizardStepId, Omit<StepDefinition, 'id' | 'titleKey'>> = {
  language: {
    headingKey: 'steps.language.heading',
    blockedKey: 'steps.language.blocked',
    component: WelcomePage,
    canProceed: (s) => requirementsGate(s.requirements, branding.requirements).canInstall,
    footer: WelcomeFooter,
  },
  keyboard: {
    headingKey: 'keyboard.step.heading',
    blockedKey: 'keyboard.step.blocked',
    component: keyboard.Component,
    canProceed: () => true,
  },
  timezone: {
    headingKey: 'timezone.step.heading',
    blockedKey: 'timezone.step.blocked',
    component: timezone.Component,
    canProceed: () => true,
  },
  disk: {
    headingKey: 'steps.disk.heading',
    blockedKey: 'storage.blocked',
    component: disk.Component,
    canProceed: storageValid,
    // Next with a blocked message naming what is missing (a disk, a passphrase, a partition for /).
    footer: DiskFooter,
  },
  users: {
    headingKey: 'steps.users.heading',
    blockedKey: 'steps.users.blocked',
    component: users.Component,
    canProceed: usersValid,
  },
  summary: {
    headingKey: 'summary.step.heading',
    blockedKey: 'summary.step.blocked',
    component: summary.Component,
    canProceed: (s) => s.summary.plan !== null,
    // "Install" (with its confirmation) instead of Next.
    footer: SummaryFooter,
  },
};

export const STEPS: readonly StepDefinition[] = STEP_ORDER.map((s) => ({ ...s, ...PAGES[s.id] }));
