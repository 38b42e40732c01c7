import { useTranslation } from 'react-i18next';
import type { Disk, Partition } from '../../../shared/disk';
import { FILESYSTEMS, MOUNTPOINTS, mountFor, type MountFilesystem, type Mountpoint, type StorageErrors, type StorageFields } from '../storage/model';
import { useApp } from '../store/react';
import { useSizeFormatter } from './useSizeFormatter';

const MOUNT_KEYS: Readonly<Record<Mountpoint, string>> = { '/': 'root', '/boot': 'boot', '/boot/efi': 'esp', '/home': 'home' };

interface Props {
  readonly disk: Disk;
  readonly fields: StorageFields;
  readonly errors: StorageErrors;
}

/** Existing partitions mapped to mountpoints, each formatted or kept, with its errors beside it. */
export function ExistingPartitions({ disk, fields, errors }: Props) {
  const { t } = useTranslation();
  const formatSize = useSizeFormatter();
  const setMount = useApp((s) => s.setMount);
  const sep = t('app.listSeparator');

  const describe = (p: Partition): string =>
    [p.typeName ?? p.partLabel, p.fsType ?? t('storage.existing.empty'), p.label ? `“${p.label}”` : null, formatSize(p.size), p.mountpoints.length > 0 ? t('storage.existing.mounted') : null]
      .filter(Boolean)
      .join(sep);

  return (
    <section className="form-card" aria-labelledby="existing-title">
      <h2 id="existing-title" className="form-card-title">
        {t('storage.existing.title', { disk: disk.path })}
      </h2>
      <p className="field-hint">{t('storage.existing.intro')}</p>
      <div id="existing-mapping-errors" className="field-errors" aria-live="polite">
        {errors.mapping.map((e) => (
          <p key={e.key} className="field-error">
            <span aria-hidden="true" className="field-error-icon">
              !
            </span>
            {t(`storage.errors.${e.key}`, e.params)}
          </p>
        ))}
      </div>
      <ul className="mount-list" data-testid="storage-mount-list">
        {disk.partitions.map((p) => {
          const m = mountFor(fields, p);
          const id = `mount-${p.name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
          const errs = errors.partitions[p.path] ?? [];
          const errorId = `${id}-errors`;
          const described = `${id}-what${errs.length > 0 ? ` ${errorId}` : ''}`;
          const invalid = errs.length > 0 ? true : undefined;
          const esp = m.mountpoint === '/boot/efi';
          const testId = `storage-mount-${p.name}`;
          return (
            <li key={p.path} className={`mount-row${m.mountpoint ? ' used' : ''}`}>
              <p className="mount-name">
                <span className="mount-path" dir="ltr">
                  {p.path}
                </span>
                <span id={`${id}-what`} className="muted">
                  {describe(p)}
                </span>
              </p>
              <div className="mount-controls">
                <div className="field">
                  <label htmlFor={`${id}-use`} className="field-label">
                    {t('storage.existing.use')}
                  </label>
                  <select
                    id={`${id}-use`}
                    className="input select"
                    value={m.mountpoint ?? ''}
                    aria-describedby={described}
                    aria-invalid={invalid}
                    data-testid={`${testId}-use`}
                    onChange={(e) => setMount(p.path, { mountpoint: e.target.value === '' ? null : (e.target.value as Mountpoint) })}
                  >
                    <option value="">{t('storage.existing.unused')}</option>
                    {MOUNTPOINTS.map((mp) => (
                      <option key={mp} value={mp}>
                        {t(`storage.mountpoint.${MOUNT_KEYS[mp]}`)}
                      </option>
                    ))}
                  </select>
                </div>
                {m.mountpoint !== null && (
                  <div className="field">
                    <label htmlFor={`${id}-action`} className="field-label">
                      {t('storage.existing.action')}
                    </label>
                    <select
                      id={`${id}-action`}
                      className="input select"
                      value={m.format ? 'format' : 'keep'}
                      aria-describedby={described}
                      data-testid={`${testId}-action`}
                      onChange={(e) => setMount(p.path, { format: e.target.value === 'format' })}
                    >
                      <option value="keep">{t('storage.existing.keep')}</option>
                      <option value="format">{t('storage.existing.format')}</option>
                    </select>
                  </div>
                )}
                {m.mountpoint !== null && m.format && (
                  <div className="field">
                    <label htmlFor={`${id}-fs`} className="field-label">
                      {t('storage.existing.formatAs')}
                    </label>
                    <select
                      id={`${id}-fs`}
                      className="input select"
                      value={m.filesystem}
                      disabled={esp}
                      aria-describedby={described}
                      data-testid={`${testId}-fs`}
                      onChange={(e) => setMount(p.path, { filesystem: e.target.value as MountFilesystem })}
                    >
                      {(esp ? (['vfat'] as const) : FILESYSTEMS).map((fs) => (
                        <option key={fs} value={fs}>
                          {fs === 'vfat' ? t('storage.vfat') : t(`storage.filesystem.${fs}`)}
                        </option>
                      ))}
                    </select>
                  </div>
                )}
              </div>
              <div id={errorId} className="field-errors" aria-live="polite" data-testid={`${testId}-errors`}>
                {errs.map((e) => (
                  <p key={e.key} className="field-error">
                    <span aria-hidden="true" className="field-error-icon">
                      !
                    </span>
                    {t(`storage.errors.${e.key}`, e.params)}
                  </p>
                ))}
              </div>
            </li>
          );
        })}
      </ul>
      <p className="field-hint">{t('storage.existing.notApplicable')}</p>
    </section>
  );
}
