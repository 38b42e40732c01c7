import type { ComponentType } from 'react';
import { DiskPage } from '../pages/DiskPage';
import { UsersPage } from '../pages/UsersPage';
import { WelcomePage } from '../pages/WelcomePage';
import { selectedDisk, usersValid, type AppState } from '../store';

/**
 * The wizard, in order. A page is added here and nowhere else: keyboard and time zone belong before
 * users; summary, progress and done follow it.
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
}

export const STEPS: readonly StepDefinition[] = [
  {
    id: 'language',
    titleKey: 'steps.language.title',
    headingKey: 'steps.language.heading',
    blockedKey: 'steps.language.blocked',
    component: WelcomePage,
    canProceed: () => true,
  },
  {
    id: 'disk',
    titleKey: 'steps.disk.title',
    headingKey: 'steps.disk.heading',
    blockedKey: 'steps.disk.blocked',
    component: DiskPage,
    canProceed: (s) => selectedDisk(s) !== null,
  },
  {
    id: 'users',
    titleKey: 'steps.users.title',
    headingKey: 'steps.users.heading',
    blockedKey: 'steps.users.blocked',
    component: UsersPage,
    canProceed: usersValid,
  },
];
