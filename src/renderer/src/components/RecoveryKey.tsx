import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { recoveryConfirmed, recoveryGroups } from '../storage/model';
import type { StorageError } from '../storage/model';
import { useApp } from '../store/react';
import { Field } from './Field';

/**
 * The recovery key for TPM2 unlocking: shown in groups, copyable where the Clipboard API exists, and
 * confirmed by typing one group back, so nobody installs without having kept it.
 */
export function RecoveryKey({ errors }: { readonly errors: readonly StorageError[] }) {
  const { t } = useTranslation();
  const recovery = useApp((s) => s.storage.recovery);
  const touched = useApp((s) => s.storage.touched.recovery);
  const load = useApp((s) => s.loadRecoveryKey);
  const setTyped = useApp((s) => s.setRecoveryTyped);
  const touch = useApp((s) => s.touchStorage);
  const [copyStatus, setCopyStatus] = useState('');
  const groups = recoveryGroups(recovery.key);
  const canCopy = typeof navigator !== 'undefined' && navigator.clipboard !== undefined && typeof navigator.clipboard.writeText === 'function';

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(recovery.key ?? '');
      setCopyStatus(t('storage.recovery.copied'));
    } catch {
      setCopyStatus(t('storage.recovery.copyFailed'));
    }
  };

  const number = recovery.group + 1;
  const confirmed = recoveryConfirmed(recovery);
  // A mismatch shows once eight letters are typed, or after leaving the field.
  const shown = touched || recovery.typed.replace(/\s+/g, '').length >= 8 ? errors.filter((e) => e.key !== 'recoveryMissing') : [];

  return (
    <section className="recovery" aria-labelledby="recovery-title">
      <h3 id="recovery-title" className="recovery-title">
        {t('storage.recovery.title')}
      </h3>
      <p className="field-hint">{t('storage.recovery.intro')}</p>
      {groups.length === 0 ? (
        recovery.loading ? (
          <div className="loading" role="status">
            <span className="spinner small" aria-hidden="true" />
            {t('storage.recovery.loading')}
          </div>
        ) : (
          <div className="banner banner-error" role="alert">
            <p className="banner-title">{t('storage.recovery.failed')}</p>
            {recovery.error && (
              <p className="detail">
                <bdi lang="en">{recovery.error.message}</bdi>
              </p>
            )}
            <button type="button" className="button secondary" onClick={() => void load()} data-testid="storage-recovery-retry">
              {t('storage.recovery.retry')}
            </button>
          </div>
        )
      ) : (
        <>
          <div className="recovery-key-row">
            <p className="visually-hidden" id="recovery-key-label">
              {t('storage.recovery.label')}
            </p>
            {/* Always left to right, whatever the page direction: the key is read off in this order. */}
            <ol className="recovery-key" dir="ltr" aria-labelledby="recovery-key-label" translate="no" data-testid="storage-recovery-key">
              {groups.map((g, i) => (
                <li key={i} className={i === recovery.group ? 'recovery-group asked' : 'recovery-group'}>
                  {g}
                </li>
              ))}
            </ol>
            {canCopy && (
              <button type="button" className="button secondary" onClick={() => void copy()} data-testid="storage-recovery-copy">
                {t('storage.recovery.copy')}
              </button>
            )}
          </div>
          <p className="field-hint" role="status">
            {copyStatus}
          </p>
          <Field
            id="recovery-confirm"
            label={t('storage.recovery.confirm', { group: number })}
            hint={t('storage.recovery.confirmHint')}
            errors={shown.map((e) => t(`storage.errors.${e.key}`, e.params))}
            liveErrors
          >
            {(c) => (
              <input
                {...c}
                className="input recovery-input"
                type="text"
                dir="ltr"
                maxLength={16}
                spellCheck={false}
                autoComplete="off"
                autoCapitalize="none"
                data-testid="storage-recovery-confirm"
                value={recovery.typed}
                onChange={(e) => setTyped(e.target.value)}
                onBlur={() => touch('recovery')}
              />
            )}
          </Field>
          {confirmed && (
            <p className="confirmed" role="status">
              <span aria-hidden="true">✓ </span>
              {t('storage.recovery.confirmed')}
            </p>
          )}
        </>
      )}
    </section>
  );
}
