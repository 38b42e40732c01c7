import type { Slice, TimezoneSlice } from './types';

/** Placeholder: the time zone page's slice (issue 5) replaces this. */
export const timezoneSlice: Slice<TimezoneSlice> = () => () => ({
  timezone: { list: null, loading: false, error: null, selected: 'UTC' },
  async loadTimeZones() {},
  chooseTimeZone() {},
});
