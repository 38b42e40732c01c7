import { DiskSelectorSchema, type AnswerFileInput } from '../../shared/answer-file';
import type { EngineInfo } from '../../shared/api';
import type { Disk } from '../../shared/disk';
import { branding } from './branding';
import type { LocaleCode } from './i18n/locales';
import { toLayout } from './storage/model';
import { selectedDisk } from './store/disks';
import type { AppState } from './store/types';
import { sshKeyLines, toAnswerFileUser } from './users/validate';

/**
 * The install request (an answer file) from everything the wizard asked. The engine validates it
 * again; this only assembles it, so a field the person left invalid comes back as the engine's field
 * error on the summary rather than vanishing here.
 */

/** The installed system's locale for each UI language. */
export const SYSTEM_LOCALES: Readonly<Record<LocaleCode, string>> = {
  en: 'en_US.UTF-8',
  de: 'de_DE.UTF-8',
  fr: 'fr_FR.UTF-8',
  es: 'es_ES.UTF-8',
  'pt-BR': 'pt_BR.UTF-8',
  ar: 'ar_EG.UTF-8',
  'zh-CN': 'zh_CN.UTF-8',
  ja: 'ja_JP.UTF-8',
};

const selects = (selector: Record<string, string>): boolean => DiskSelectorSchema.safeParse(selector).success;

/**
 * The most stable way to name the disk: its by-id name survives renumbering (sda becoming sdb after a
 * reboot or a hot-plug); a serial only when no other disk shares it (cheap USB sticks often do); the
 * path otherwise (loop devices have neither).
 */
export function diskSelector(disk: Disk, all: readonly Disk[]): AnswerFileInput['disk'] {
  if (disk.byIdPath && selects({ byId: disk.byIdPath })) return { byId: disk.byIdPath };
  if (disk.serial && all.filter((d) => d.serial === disk.serial).length === 1 && selects({ serial: disk.serial })) return { serial: disk.serial };
  return { path: disk.path };
}

/** The image to install: what the engine offers (an image embedded in the ISO), else the branding's. */
export function imageFor(info: EngineInfo | null): AnswerFileInput['image'] {
  // Only the image's own fields: the offer's deployer is the request's, at the top level.
  const { reference, transport } = info?.offeredImage ?? branding.defaultImage;
  const targetImage = info?.offeredImage?.targetImage;
  return { reference, transport, ...(targetImage === undefined ? {} : { targetImage }) };
}

/** How the image is installed, when the engine's offer says (an oci-rootfs image); else the answer file's default. */
export function deployerFor(info: EngineInfo | null): Pick<AnswerFileInput, 'deployer'> {
  const deployer = info?.offeredImage?.deployer;
  return deployer === undefined ? {} : { deployer };
}

function user(state: AppState): NonNullable<AnswerFileInput['users']>[number] {
  try {
    return toAnswerFileUser(state.users.fields);
  } catch {
    // Invalid fields: send them as typed, so the engine names the field that is wrong.
    const f = state.users.fields;
    return { name: f.username, fullName: f.fullName.trim() || undefined, password: f.password, admin: f.admin, autologin: f.autologin, sshKeys: sshKeyLines(f.sshKeys).map((l) => l.key) };
  }
}

export function buildRequest(state: AppState): AnswerFileInput {
  const disk = selectedDisk(state);
  const f = state.users.fields;
  const tpm2 = state.engine.info?.tpm2 === true;
  return {
    version: 1,
    locale: SYSTEM_LOCALES[state.locale],
    keyboard: state.keyboard.choice.variant
      ? { layout: state.keyboard.choice.layout, variant: state.keyboard.choice.variant }
      : { layout: state.keyboard.choice.layout },
    timezone: state.timezone.selected,
    ...(f.hostname !== '' ? { hostname: f.hostname } : {}),
    // No disk chosen cannot reach the summary; an empty path makes the engine say which field is missing.
    disk: disk ? diskSelector(disk, state.disks.list?.disks ?? []) : { path: '' },
    layout: toLayout(state.storage.fields, disk, tpm2, state.storage.recovery),
    users: f.username === '' && f.password === '' ? [] : [user(state)],
    image: imageFor(state.engine.info),
    ...deployerFor(state.engine.info),
  };
}
