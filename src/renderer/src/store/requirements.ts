import type { RequirementsSlice, Slice } from './types';

/** The Welcome page's requirement checks, measured by the engine; re-checked on request. */
export const requirementsSlice: Slice<RequirementsSlice> = ({ api }) => (set) => {
  let generation = 0;
  return {
    requirements: { checks: null, machine: null, loading: false, error: null },
    async checkRequirements(params) {
      const mine = ++generation;
      set((s) => ({ requirements: { ...s.requirements, loading: true, error: null } }));
      const r = await api.checkRequirements(params);
      if (mine !== generation) return;
      set((s) => ({
        requirements: r.ok ? { checks: r.value.checks, machine: r.value.machine ?? null, loading: false, error: null } : { ...s.requirements, loading: false, error: r.error },
      }));
    },
  };
};
