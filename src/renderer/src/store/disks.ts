import type { Disk, DiskList } from '../../../shared/disk';
import type { DisksSlice, Slice } from './types';

export function isSelectable(disk: Disk): boolean {
  return disk.verdict !== 'refused';
}

/** Keeps a selection only while the disk is still there and still usable after a rescan. */
function keepSelection(list: DiskList, selected: string | null): string | null {
  const disk = list.disks.find((d) => d.path === selected);
  return disk && isSelectable(disk) ? disk.path : null;
}

export const disksSlice: Slice<DisksSlice> = ({ api }) => (set, get) => {
  // A rescan started while another runs wins; the older answer is dropped.
  let generation = 0;
  return {
    disks: { list: null, loading: false, error: null, selectedPath: null },
    async loadDisks() {
      const mine = ++generation;
      set((s) => ({ disks: { ...s.disks, loading: true, error: null } }));
      const r = await api.listDisks({});
      if (mine !== generation) return;
      set((s) =>
        r.ok
          ? { disks: { list: r.value, loading: false, error: null, selectedPath: keepSelection(r.value, s.disks.selectedPath) } }
          : { disks: { ...s.disks, loading: false, error: r.error } },
      );
    },
    selectDisk(path) {
      const disk = get().disks.list?.disks.find((d) => d.path === path);
      if (!disk || !isSelectable(disk)) return;
      set((s) => ({ disks: { ...s.disks, selectedPath: path } }));
    },
  };
};

export function selectedDisk(state: { disks: DisksSlice['disks'] }): Disk | null {
  const { list, selectedPath } = state.disks;
  return list?.disks.find((d) => d.path === selectedPath) ?? null;
}

/**
 * Disks that can be installed on first, in the engine's order, then the refused ones (the live
 * medium's own loop devices, a too-small stick) with their reasons: the person's choice is at the
 * top of the page instead of below a screenful of reasons.
 */
export function usableFirst<T extends { readonly verdict: string }>(disks: readonly T[]): T[] {
  return [...disks.filter((d) => d.verdict !== 'refused'), ...disks.filter((d) => d.verdict === 'refused')];
}
