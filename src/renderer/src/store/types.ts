import type { StateCreator } from 'zustand';
import type { InstallerApi, EngineInfo } from '../../../shared/api';
import type { DiskList } from '../../../shared/disk';
import type { InstallerError } from '../../../shared/errors';
import type { InstallState, ProgressEvent } from '../../../shared/install';
import type { KeyboardChoice, KeyboardLayouts, TimeZones } from '../../../shared/system';
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
  /** Jump to a step by index (the failure page's "Back to summary"). */
  goTo(index: number): void;
}

/** How the UI looks: the high-contrast theme. */
export interface UiSlice {
  readonly ui: { readonly contrast: 'normal' | 'high' };
  setContrast(contrast: 'normal' | 'high'): void;
}

/** Keyboard page (issue 5): the XKB list from the engine and the choice, applied to the live session. */
export interface KeyboardSlice {
  readonly keyboard: {
    readonly list: KeyboardLayouts | null;
    readonly loading: boolean;
    readonly error: InstallerError | null;
    /** The chosen layout; preselected from the UI language until the person picks one. */
    readonly choice: KeyboardChoice;
    /** Picked by hand, so a later language change no longer replaces it. */
    readonly chosenByHand: boolean;
  };
  loadKeyboardLayouts(): Promise<void>;
  chooseKeyboard(choice: KeyboardChoice): Promise<void>;
}

/** Time zone page (issue 5). */
export interface TimezoneSlice {
  readonly timezone: {
    readonly list: TimeZones | null;
    readonly loading: boolean;
    readonly error: InstallerError | null;
    /** IANA id; preselected from the system (or the browser) until the person picks one. */
    readonly selected: string;
  };
  loadTimeZones(): Promise<void>;
  chooseTimeZone(id: string): void;
}

/**
 * The install, as the engine reports it. The engine is the source of truth: a reloaded or
 * reconnected UI calls loadInstallState and shows whatever is running, finished or failed.
 */
export interface InstallSlice {
  readonly install: {
    /** null until the engine has been asked. */
    readonly state: InstallState | null;
    /** A request to the engine (start, cancel, retry) that failed, to show next to its button. */
    readonly error: InstallerError | null;
    /** A start, cancel or retry is on its way. */
    readonly busy: boolean;
    /** After a failure, "Back to summary" shows the wizard again while the engine keeps the failed state. */
    readonly dismissed: boolean;
  };
  loadInstallState(): Promise<void>;
  beginInstall(planId: string): Promise<void>;
  cancelInstall(): Promise<void>;
  retryInstall(): Promise<void>;
  /** Leave the failure page for the wizard's summary. */
  dismissInstall(): void;
  /** Folds one progress event into the state (subscribed in main.tsx). */
  applyProgress(event: ProgressEvent): void;
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

export type AppState = EngineSlice & DisksSlice & WizardSlice & LocaleSlice & UsersSlice & KeyboardSlice & TimezoneSlice & InstallSlice & UiSlice;

/** What slices get besides zustand's set/get: the engine, passed in so tests can fake it. */
export interface StoreDeps {
  readonly api: InstallerApi;
}

export type Slice<T> = (deps: StoreDeps) => StateCreator<AppState, [], [], T>;
