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
import { installSlice } from './install';
import { uiSlice } from './ui';
import { wizardSlice } from './wizard';

export type { AppState } from './types';
export { isSelectable, selectedDisk } from './disks';
export { usersValid } from './users';

export interface StoreOptions {
  readonly api: InstallerApi;
  readonly stepCount: number;
  readonly locale?: LocaleCode;
}

export type AppStore = StoreApi<AppState>;

/** One store per app (and per test), built from slices that each own one part of the state. */
export function createAppStore({ api, stepCount, locale = DEFAULT_LOCALE }: StoreOptions): AppStore {
  const deps = { api };
  return createStore<AppState>()((...a) => ({
    ...engineSlice(deps)(...a),
    ...disksSlice(deps)(...a),
    ...wizardSlice(stepCount)(deps)(...a),
    ...localeSlice(locale)(deps)(...a),
    ...usersSlice(deps)(...a),
    ...keyboardSlice(deps)(...a),
    ...timezoneSlice(deps)(...a),
    ...installSlice(deps)(...a),
    ...uiSlice(deps)(...a),
  }));
}
