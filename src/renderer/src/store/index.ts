import { createStore, type StoreApi } from 'zustand/vanilla';
import type { InstallerApi } from '../../../shared/api';
import { DEFAULT_LOCALE, type LocaleCode } from '../i18n/locales';
import { disksSlice } from './disks';
import { engineSlice } from './engine-info';
import { localeSlice } from './locale';
import type { AppState } from './types';
import { usersSlice } from './users';
import { keyboardSlice } from './keyboard';
import { timezoneSlice } from './timezone';
import { requirementsSlice } from './requirements';
import { installSlice } from './install';
import { storageSlice } from './storage';
import { summarySlice } from './summary';
import { uiSlice } from './ui';
import { wizardSlice } from './wizard';

export type { AppState } from './types';
export { isSelectable, selectedDisk } from './disks';
export { usersValid } from './users';
export { storageErrors, storageValid } from './storage';

export interface StoreOptions {
  readonly api: InstallerApi;
  readonly stepCount: number;
  readonly locale?: LocaleCode;
}

export type AppStore = StoreApi<AppState>;

/** One store per app (and per test), built from slices that each own one part of the state. */
export function createAppStore({ api, stepCount, locale = DEFAULT_LOCALE }: StoreOptions): AppStore {
  const deps = { api };
  const store = createStore<AppState>()((...a) => ({
    ...engineSlice(deps)(...a),
    ...disksSlice(deps)(...a),
    ...wizardSlice(stepCount)(deps)(...a),
    ...localeSlice(locale)(deps)(...a),
    ...usersSlice(deps)(...a),
    ...keyboardSlice(deps)(...a),
    ...timezoneSlice(deps)(...a),
    ...requirementsSlice(deps)(...a),
    ...installSlice(deps)(...a),
    ...storageSlice(deps)(...a),
    ...summarySlice(deps)(...a),
    ...uiSlice(deps)(...a),
  }));
  // The keyboard follows the UI language (and, on a real machine, the live layout) until picked by hand.
  store.getState().preselectKeyboard();
  store.subscribe((state, previous) => {
    if (state.locale !== previous.locale || state.engine.info !== previous.engine.info) state.preselectKeyboard();
  });
  return store;
}
