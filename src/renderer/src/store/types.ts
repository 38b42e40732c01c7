import type { StateCreator } from 'zustand';
import type { InstallerApi, EngineInfo } from '../../../shared/api';
import type { DiskList } from '../../../shared/disk';
import type { InstallerError } from '../../../shared/errors';
import type { LocaleCode } from '../i18n/locales';
import type { TextField, UserFields } from '../users/validate';

export interface EngineSlice {
  readonly engine: {
    /** connecting until getInfo answers; lost when the engine cannot be reached any more. */
    readonly status: 'connecting' | 'ready' | 'lost';
    readonly info: EngineInfo | null;
    readonly error: InstallerError | null;
  };
  loadEngineInfo(): Promise<void>;
  engineLost(error: InstallerError): void;
}

export interface DisksSlice {
  readonly disks: {
    readonly list: DiskList | null;
    readonly loading: boolean;
    readonly error: InstallerError | null;
    /** Device path of the chosen disk; only ever a disk whose verdict is not refused. */
    readonly selectedPath: string | null;
  };
  loadDisks(): Promise<void>;
  selectDisk(path: string): void;
}

export interface WizardSlice {
  readonly wizard: { readonly stepIndex: number; readonly stepCount: number };
  goNext(): void;
  goBack(): void;
}

export interface LocaleSlice {
  readonly locale: LocaleCode;
  setLocale(locale: LocaleCode): void;
}

export interface UsersSlice {
  readonly users: {
    readonly fields: UserFields;
    /** Fields the person has left at least once; their errors show from then on. */
    readonly touched: Readonly<Record<TextField, boolean>>;
    /** Typed by hand, so no longer replaced by the suggestion from the full name. */
    readonly usernameEdited: boolean;
    /** Typed by hand, so no longer replaced by the suggestion from the username. */
    readonly hostnameEdited: boolean;
  };
  /** Sets a text field; the username and host name suggestions follow until edited by hand. */
  setUserField(field: TextField, value: string): void;
  setUserOption(option: 'admin' | 'autologin', value: boolean): void;
  touchUserField(field: TextField): void;
}

export type AppState = EngineSlice & DisksSlice & WizardSlice & LocaleSlice & UsersSlice;

/** What slices get besides zustand's set/get: the engine, passed in so tests can fake it. */
export interface StoreDeps {
  readonly api: InstallerApi;
}

export type Slice<T> = (deps: StoreDeps) => StateCreator<AppState, [], [], T>;
