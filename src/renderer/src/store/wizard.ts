import type { Slice, WizardSlice } from './types';

/**
 * Only the position lives here; what each step is and whether it may be left is the step registry's
 * business (wizard/steps.tsx), which the shell consults before calling goNext.
 */
export const wizardSlice =
  (stepCount: number): Slice<WizardSlice> =>
  () =>
  (set) => ({
    wizard: { stepIndex: 0, stepCount },
    goNext() {
      set((s) => ({ wizard: { ...s.wizard, stepIndex: Math.min(s.wizard.stepIndex + 1, s.wizard.stepCount - 1) } }));
    },
    goTo(index) {
      set((s) => ({ wizard: { ...s.wizard, stepIndex: Math.min(Math.max(index, 0), s.wizard.stepCount - 1) } }));
    },
    goBack() {
      set((s) => ({ wizard: { ...s.wizard, stepIndex: Math.max(s.wizard.stepIndex - 1, 0) } }));
    },
  });
