import type { AnswerFileInput } from '../../../shared/answer-file';
import type { InstallerError } from '../../../shared/errors';
import type { InstallPlan, PlannedPartition } from '../../../shared/install';

/**
 * The plan in plain words, in the person's language. The plan's own `summary` lines are English for
 * logs and the CLI; here sentences are built from its data (disk identity, layout, partitions) and the
 * request, so every word is translated and the dangerous part comes first.
 */

/** i18next's t, narrowed to what this module needs (so tests can pass any instance's t). */
export type Translate = (key: string, options?: Record<string, string | number>) => string;

export interface DescribeInput {
  readonly plan: InstallPlan;
  readonly request: AnswerFileInput;
  /** Vendor and model as people read them ("Samsung 980 PRO"), when the disk list knows it. */
  readonly diskModel: string | null;
  readonly t: Translate;
  readonly formatSize: (bytes: number) => string;
}

export interface PartitionRow {
  readonly number: number;
  readonly path: string;
  readonly size: string;
  readonly content: string;
  readonly mountpoint: string | null;
  readonly encrypted: boolean;
}

export interface PlanDescription {
  /** The sentence a person must not miss: what is erased. */
  readonly headline: string;
  /** danger: a disk or partitions are erased; notice: nothing existing is erased. */
  readonly tone: 'danger' | 'notice';
  /** Further sentences: what is kept, encryption, swap, firmware. */
  readonly details: readonly string[];
  /** Only for layouts that create partitions (erase, bootc). */
  readonly rows: readonly PartitionRow[];
  /** The plan's warnings, each once, in the person's language (the engine's English where unknown). */
  readonly warnings: readonly string[];
}

const kernelName = (path: string): string => path.replace(/^\/dev\//, '');

function mountpointName(t: Translate, mountpoint: string): string {
  const key = `summary.mountpoint.${mountpoint === '/' ? 'root' : mountpoint === '/boot' ? 'boot' : mountpoint === '/boot/efi' ? 'esp' : mountpoint === '/home' ? 'home' : 'other'}`;
  return t(key, { mountpoint });
}

function content(t: Translate, p: PlannedPartition, innerFs: string | undefined): string {
  if (p.content === 'luks2') return innerFs ? t('summary.content.luks2Inner', { filesystem: t(`summary.fs.${innerFs}`) }) : t('summary.content.luks2');
  if (p.content === 'vfat' && p.mountpoint === '/boot/efi') return t('summary.content.esp');
  if (p.content === 'bios-boot' || p.content === 'swap') return t(`summary.content.${p.content}`);
  return t(`summary.fs.${p.content}`);
}

export function describePlan({ plan, request, diskModel, t, formatSize }: DescribeInput): PlanDescription {
  const name = kernelName(plan.disk.path);
  const disk = diskModel ?? t('summary.unnamedDisk');
  const size = formatSize(plan.disk.size);
  const layout = request.layout;
  const details: string[] = [];
  let headline: string;
  let tone: PlanDescription['tone'] = 'danger';

  if (layout.type === 'existing') {
    const erased = layout.mounts.filter((m) => m.format);
    headline = erased.length > 0 ? t('summary.existingErase', { disk, size, name }) : t('summary.existingKeep', { disk, size, name });
    if (erased.length === 0) tone = 'notice';
    for (const m of layout.mounts) {
      const planned = plan.partitions.find((p) => p.path === m.partition);
      const fs = planned?.content ?? m.filesystem ?? '';
      const params = { partition: kernelName(m.partition), mountpoint: mountpointName(t, m.mountpoint), filesystem: fs ? t(`summary.fs.${fs}`) : '' };
      details.push(t(m.format ? 'summary.formatPartition' : 'summary.keepPartition', params));
      if (m.mountpoint === '/' && !m.format) details.push(t('summary.keepRoot', { partition: params.partition }));
    }
    details.push(t('summary.othersUntouched'));
  } else {
    headline = t(layout.type === 'bootc' ? 'summary.bootc' : 'summary.erase', { disk, size, name });
    details.push(t('summary.filesystem', { filesystem: t(`summary.fs.${layout.filesystem ?? 'xfs'}`) }));
    if (layout.type === 'erase') {
      const enc = layout.encryption?.type ?? 'none';
      details.push(t(enc === 'luks2' ? 'summary.encrypted' : enc === 'luks2-tpm2' ? 'summary.encryptedTpm2' : 'summary.notEncrypted'));
      details.push(t(`summary.swap.${layout.swap ?? 'zram'}`));
    } else if (layout.blockSetup === 'tpm2-luks') {
      details.push(t('summary.encryptedTpm2'));
    }
  }
  details.push(t(`summary.firmware.${plan.firmware}`));

  const innerFs = layout.type === 'existing' ? undefined : (layout.filesystem ?? 'xfs');
  const rows =
    layout.type === 'existing'
      ? []
      : plan.partitions.map((p) => ({
          number: p.number,
          path: p.path,
          size: p.size === null ? t('summary.table.rest') : formatSize(p.size),
          content: content(t, p, innerFs),
          mountpoint: p.mountpoint === null ? null : mountpointName(t, p.mountpoint),
          encrypted: p.content === 'luks2',
        }));
  return { headline, tone, details, rows, warnings: planWarnings(plan, t) };
}

/** One sentence per kind of warning: a plan may name the same one for each way an image can be built. */
export function planWarnings(plan: Pick<InstallPlan, 'warnings'>, t: Translate): string[] {
  const seen = new Map<string, string>();
  for (const w of plan.warnings) if (!seen.has(w.id)) seen.set(w.id, t(`summary.warning.${w.id}`, { defaultValue: w.message }));
  return [...seen.values()];
}

/** The wizard step that holds a request field ("users[0].name" → users). */
export function stepForField(field: string): 'language' | 'keyboard' | 'timezone' | 'disk' | 'users' | null {
  const top = field.split(/[.[]/)[0] ?? '';
  if (top === 'locale') return 'language';
  if (top === 'keyboard') return 'keyboard';
  if (top === 'timezone') return 'timezone';
  if (top === 'disk' || top === 'layout') return 'disk';
  if (top === 'users' || top === 'hostname') return 'users';
  return null;
}

export interface PlanProblem {
  /** Field path when the engine named one. */
  readonly field: string | null;
  /** The engine's English words, shown as detail. */
  readonly message: string;
  readonly step: ReturnType<typeof stepForField>;
}

/**
 * A planning error as problems a person can go and fix: field errors of an invalid request (the
 * engine lists them one per line, "field: message"), or the disk for a refused or missing disk.
 */
export function planProblems(error: InstallerError): PlanProblem[] {
  if (error.code === 'invalid-answer-file') {
    const lines = (error.detail ?? '').split('\n').filter((l) => l.trim() !== '');
    const parsed = lines.map((line) => {
      const m = /^([A-Za-z$][\w.[\]$]*)(?::\s*(.*))?$/.exec(line.trim());
      return m ? { field: m[1]!, message: m[2] ?? error.message, step: stepForField(m[1]!) } : { field: null, message: line, step: null };
    });
    if (parsed.length > 0) return parsed;
    return [{ field: null, message: error.message, step: null }];
  }
  if (error.code === 'disk-refused' || error.code === 'disk-not-found' || error.code === 'disk-changed') {
    return [{ field: 'disk', message: error.message, step: 'disk' }];
  }
  return [{ field: null, message: error.message, step: null }];
}

/** Secrets the export left out, in words ("layout.encryption.passphrase" → the encryption passphrase). */
export function omittedSecret(t: Translate, path: string): string {
  if (/passphrase$/i.test(path)) return t('summary.save.secret.passphrase');
  if (/recoveryKey$/i.test(path)) return t('summary.save.secret.recoveryKey');
  if (/password/i.test(path)) return t('summary.save.secret.password');
  return path;
}
