/**
 * The wizard's pages in order, with the name the step rail and the summary's "Go to" buttons show.
 * Kept apart from steps.ts (which imports every page) so a page can name another without an import
 * circle.
 */
export const STEP_ORDER = [
  { id: 'language', titleKey: 'steps.language.title' },
  { id: 'keyboard', titleKey: 'keyboard.step.title' },
  { id: 'timezone', titleKey: 'timezone.step.title' },
  { id: 'disk', titleKey: 'steps.disk.title' },
  { id: 'users', titleKey: 'steps.users.title' },
  { id: 'summary', titleKey: 'summary.step.title' },
] as const;

export type WizardStepId = (typeof STEP_ORDER)[number]['id'];
