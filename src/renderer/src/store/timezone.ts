import { browserTimeZone, preselectZone, UTC } from '../timezone/zones';
import type { Slice, TimezoneSlice } from './types';

/** The time zone: tzdata's list from the engine and the chosen IANA id. */
export const timezoneSlice: Slice<TimezoneSlice> = ({ api }) => (set, get) => {
  let generation = 0;
  return {
    timezone: { list: null, loading: false, error: null, selected: UTC, chosenByHand: false },

    async loadTimeZones() {
      const mine = ++generation;
      set((s) => ({ timezone: { ...s.timezone, loading: true, error: null } }));
      const r = await api.listTimeZones({});
      if (mine !== generation) return;
      if (!r.ok) {
        set((s) => ({ timezone: { ...s.timezone, loading: false, error: r.error } }));
        return;
      }
      const { timezone } = get();
      const keep = timezone.chosenByHand && (timezone.selected === UTC || r.value.zones.some((z) => z.id === timezone.selected));
      set({
        timezone: { ...timezone, list: r.value, loading: false, selected: keep ? timezone.selected : preselectZone(r.value, browserTimeZone()), chosenByHand: keep },
      });
    },

    chooseTimeZone(id) {
      const { list } = get().timezone;
      if (id !== UTC && !list?.zones.some((z) => z.id === id)) return;
      set((s) => ({ timezone: { ...s.timezone, selected: id, chosenByHand: true } }));
    },
  };
};
