import { DEFAULT_FIELDS, hasErrors, mountFor, validateStorage, type StorageErrors } from '../storage/model';
import { selectedDisk } from './disks';
import type { AppState, Slice, StorageSlice } from './types';

/**
 * The Disk page's options. The passphrase lives here in memory only, like the user's password: the
 * store is never persisted or logged, and the passphrase leaves it only inside the install request.
 */
const GROUPS = 8;

export const storageSlice: Slice<StorageSlice> = ({ api }) => (set, get) => {
  // A key asked for while another request runs replaces it; the older answer is dropped.
  let generation = 0;
  return {
    storage: {
      fields: DEFAULT_FIELDS,
      touched: { passphrase: false, confirm: false, recovery: false },
      recovery: { key: null, group: 2, typed: '', loading: false, error: null },
      imageFilesystem: null,
      filesystemChosen: false,
    },
    setStorage(patch) {
      set(({ storage }) => ({ storage: { ...storage, fields: { ...storage.fields, ...patch }, filesystemChosen: storage.filesystemChosen || patch.filesystem !== undefined } }));
    },
    applyImageFilesystem(fs) {
      set(({ storage }) => ({ storage: { ...storage, imageFilesystem: fs, fields: storage.filesystemChosen ? storage.fields : { ...storage.fields, filesystem: fs } } }));
    },
    async setTpm2(on) {
      set(({ storage }) => ({ storage: { ...storage, fields: { ...storage.fields, tpm2: on } } }));
      const { recovery } = get().storage;
      if (on && get().engine.info?.tpm2 === true && recovery.key === null && !recovery.loading) await get().loadRecoveryKey();
    },
    setMount(partition, patch) {
      const disk = selectedDisk(get());
      const p = disk?.partitions.find((x) => x.path === partition);
      if (!p) return;
      set(({ storage }) => {
        const current = mountFor(storage.fields, p);
        let next = { ...current, ...patch };
        // The ESP is always vfat; picking /boot/efi also picks its filesystem.
        if (patch.mountpoint === '/boot/efi') next = { ...next, filesystem: 'vfat' };
        else if (patch.mountpoint !== undefined && current.mountpoint === '/boot/efi' && next.filesystem === 'vfat') next = { ...next, filesystem: 'xfs' };
        return { storage: { ...storage, fields: { ...storage.fields, mounts: { ...storage.fields.mounts, [partition]: next } } } };
      });
    },
    touchStorage(field) {
      set(({ storage }) => (storage.touched[field] ? {} : { storage: { ...storage, touched: { ...storage.touched, [field]: true } } }));
    },
    async loadRecoveryKey() {
      const mine = ++generation;
      set(({ storage }) => ({ storage: { ...storage, recovery: { ...storage.recovery, loading: true, error: null } } }));
      const r = await api.generateRecoveryKey({});
      if (mine !== generation) return;
      set(({ storage }) => ({
        storage: {
          ...storage,
          touched: { ...storage.touched, recovery: false },
          recovery: r.ok
            ? // A fresh key: a fresh group to type back, so nobody confirms from memory of an old one.
              { key: r.value.key, group: Math.floor(Math.random() * GROUPS), typed: '', loading: false, error: null }
            : { ...storage.recovery, loading: false, error: r.error },
        },
      }));
    },
    setRecoveryTyped(text) {
      set(({ storage }) => ({ storage: { ...storage, recovery: { ...storage.recovery, typed: text } } }));
    },
  };
};

export function storageErrors(state: Pick<AppState, 'storage' | 'disks' | 'engine'>): StorageErrors {
  return validateStorage(state.storage.fields, selectedDisk(state), state.engine.info?.tpm2 === true, state.storage.recovery, state.engine.info?.firmware ?? null);
}

/** A disk is chosen and every storage choice can be installed. */
export function storageValid(state: Pick<AppState, 'storage' | 'disks' | 'engine'>): boolean {
  return selectedDisk(state) !== null && !hasErrors(storageErrors(state));
}
