import { deployerFor, imageFor } from '../request';
import type { EngineSlice, Slice, StorageSlice } from './types';

export const engineSlice: Slice<EngineSlice> = ({ api }) => (set, get) => ({
  engine: { status: 'connecting', info: null, error: null },
  async loadEngineInfo() {
    const r = await api.getInfo({});
    set({ engine: r.ok ? { status: 'ready', info: r.value, error: null } : { status: 'lost', info: null, error: r.error } });
    // A bootc image may name its root filesystem (its install config's root-fs-type): ask in the
    // background, so the Disk page preselects it. The wizard never waits for this.
    if (r.ok && deployerFor(r.value).deployer !== 'oci-rootfs') {
      const image = imageFor(r.value);
      void Promise.resolve()
        .then(() => api.inspectImage({ image }))
        .then((info) => {
          const apply = (get() as Partial<StorageSlice>).applyImageFilesystem;
          if (info.ok && info.value.rootFsType && apply) apply(info.value.rootFsType);
        })
        // Not read: the Disk page keeps its own default, and the Summary asks again and shows why.
        .catch(() => {});
    }
  },
  engineLost(error) {
    set((s) => ({ engine: { ...s.engine, status: 'lost', error } }));
  },
});
