import type { EngineSlice, Slice } from './types';

export const engineSlice: Slice<EngineSlice> = ({ api }) => (set) => ({
  engine: { status: 'connecting', info: null, error: null },
  async loadEngineInfo() {
    const r = await api.getInfo({});
    set({ engine: r.ok ? { status: 'ready', info: r.value, error: null } : { status: 'lost', info: null, error: r.error } });
  },
  engineLost(error) {
    set((s) => ({ engine: { ...s.engine, status: 'lost', error } }));
  },
});
