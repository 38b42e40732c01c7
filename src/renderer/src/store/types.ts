import type { StateCreator } from 'zustand';
import type { InstallerApi, EngineInfo } from '../../../shared/api';
import type { DiskList } from '../../../shared/disk';
import type { InstallerError, Result } from '../../../shared/errors';
import type { InstallState, ProgressEvent } from '../../../shared/install';
import type { AnswerFileExport, ImageInfo, KeyboardChoice, KeyboardLayouts, SaveResult, SaveTarget, TimeZones } from '../../../shared/system';
import type { InstallPlan } from '../../../shared/install';
import type { MountChoice, RecoveryKeyState, StorageFields } from '../storage/model';
import type { ApplyResult, Machine, RequirementCheck } from '../../../shared/system';
import type { MethodParams } from '../../../shared/api';
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
    /** What the engine last said about switching the live session to the choice. */
    readonly apply: KeyboardApplyState;
  };
  loadKeyboardLayouts(): Promise<void>;
  /** The person's choice: kept from now on, and applied to the live session. */
  chooseKeyboard(choice: KeyboardChoice): Promise<void>;
  /** Follows the UI language (and the live layout) until the person chooses by hand. */
  preselectKeyboard(): void;
}

export type KeyboardApplyState =
  | { readonly status: 'idle' }
  | { readonly status: 'applying'; readonly choice: KeyboardChoice }
  | { readonly status: 'done'; readonly choice: KeyboardChoice; readonly result: ApplyResult }
  | { readonly status: 'failed'; readonly choice: KeyboardChoice; readonly error: InstallerError };

/** Welcome page (issue 5): memory, disk, firmware, power and network, as the engine measured them. */
export interface RequirementsSlice {
  readonly requirements: {
    readonly checks: readonly RequirementCheck[] | null;
    /** The computer as its firmware names it (the summary shows it). */
    readonly machine: Machine | null;
    readonly loading: boolean;
    readonly error: InstallerError | null;
  };
  checkRequirements(params: MethodParams<'checkRequirements'>): Promise<void>;
}

/** Time zone page (issue 5). */
export interface TimezoneSlice {
  readonly timezone: {
    readonly list: TimeZones | null;
    readonly loading: boolean;
    readonly error: InstallerError | null;
    /** IANA id; preselected from the system (or the browser) until the person picks one. */
    readonly selected: string;
    /** Picked by hand, so a reload of the list keeps it. */
    readonly chosenByHand: boolean;
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
  /** Removable partitions (USB sticks) the log bundle can be saved to; no state kept. */
  listSaveTargets(): Promise<Result<SaveTargets>>;
  /** The log bundle as a download (base64) or written onto a removable partition. */
  saveLogBundle(target: SaveTargetChoice): Promise<Result<SaveResult>>;
  /** Reboot or power off after the install; `applied` false (demo mode) comes with the engine's reason. */
  power(action: 'reboot' | 'poweroff'): Promise<Result<ApplyResult>>;
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

/** Disk page options (issue 5): erase or existing partitions, filesystem, encryption, swap. */
export interface StorageSlice {
  readonly storage: {
    readonly fields: StorageFields;
    /** Passphrase fields the person has left at least once; their errors show from then on. */
    readonly touched: { readonly passphrase: boolean; readonly confirm: boolean; readonly recovery: boolean };
    readonly recovery: RecoveryKeyState & { readonly loading: boolean; readonly error: InstallerError | null };
    /** The root filesystem the image's install config asks for, once read (engine's inspectImage). */
    readonly imageFilesystem: StorageFields['filesystem'] | null;
    /** Whether the person picked a filesystem; until then the image's choice replaces the default. */
    readonly filesystemChosen: boolean;
  };
  /** The image's own root filesystem (bootc's root-fs-type): preselected unless one was picked. */
  applyImageFilesystem(fs: StorageFields['filesystem']): void;
  setStorage(patch: Partial<Omit<StorageFields, 'mounts' | 'tpm2'>>): void;
  /** Turns TPM2 unlocking on or off; on fetches a recovery key when there is none yet. */
  setTpm2(on: boolean): Promise<void>;
  setMount(partition: string, patch: Partial<MountChoice>): void;
  touchStorage(field: 'passphrase' | 'confirm' | 'recovery'): void;
  loadRecoveryKey(): Promise<void>;
  setRecoveryTyped(text: string): void;
}

export interface SaveTargets {
  readonly targets: readonly SaveTarget[];
}

export type SaveTargetChoice = { readonly type: 'download' } | { readonly type: 'device'; readonly path: string };

/** Summary page (issue 5): the engine's plan for the request, image facts, answer-file export. */
export interface SummarySlice {
  readonly summary: {
    readonly plan: InstallPlan | null;
    readonly planning: boolean;
    readonly planError: InstallerError | null;
    readonly image: ImageInfo | null;
    readonly imageLoading: boolean;
    readonly imageError: InstallerError | null;
    readonly exported: AnswerFileExport | null;
    readonly targets: readonly SaveTarget[] | null;
    readonly exporting: boolean;
    readonly saving: boolean;
    readonly saveError: InstallerError | null;
  };
  /** Plans the request built from the whole store (again); the Summary page calls it on arrival. */
  planSummary(): Promise<void>;
  /** Exports the answer file and lists removable places to save it. */
  prepareExport(): Promise<void>;
  /** Saves the exported answer file; null when it failed (the error is in summary.saveError). */
  saveAnswerFile(target: SaveTargetChoice): Promise<SaveResult | null>;
}

export type AppState = EngineSlice & DisksSlice & WizardSlice & LocaleSlice & UsersSlice & KeyboardSlice & TimezoneSlice & RequirementsSlice & InstallSlice & UiSlice & StorageSlice & SummarySlice;

/** What slices get besides zustand's set/get: the engine, passed in so tests can fake it. */
export interface StoreDeps {
  readonly api: InstallerApi;
}

export type Slice<T> = (deps: StoreDeps) => StateCreator<AppState, [], [], T>;
