import { useTranslation } from 'react-i18next';
import type { Disk } from '../../../shared/disk';
import { canUseExisting, effectiveMode, FILESYSTEMS, SWAP_CHOICES, validateStorage, type StorageError } from '../storage/model';
import { useApp } from '../store/react';
import { diskModel } from '../format';
import { ExistingPartitions } from './ExistingPartitions';
import { Field } from './Field';
import { OptionGroup } from './OptionGroup';
import { PasswordStrength } from './PasswordStrength';
import { RecoveryKey } from './RecoveryKey';

function ErrorList({ id, errors }: { readonly id: string; readonly errors: readonly string[] }) {
  return (
    <div id={id} className="field-errors" aria-live="polite">
      {errors.map((message) => (
        <p key={message} className="field-error">
          <span aria-hidden="true" className="field-error-icon">
            !
          </span>
          {message}
        </p>
      ))}
    </div>
  );
}

/** What to do with the chosen disk: erase it (file system, encryption, swap) or use its partitions. */
export function StorageOptions({ disk }: { readonly disk: Disk }) {
  const { t } = useTranslation();
  const storage = useApp((s) => s.storage);
  const tpm2Available = useApp((s) => s.engine.info?.tpm2 === true);
  const setStorage = useApp((s) => s.setStorage);
  const setTpm2 = useApp((s) => s.setTpm2);
  const touch = useApp((s) => s.touchStorage);
  const { fields, touched } = storage;
  const firmware = useApp((s) => s.engine.info?.firmware ?? null);
  const errors = validateStorage(fields, disk, tpm2Available, storage.recovery, firmware);
  const tr = (list: readonly StorageError[]) => list.map((e) => t(`storage.errors.${e.key}`, e.params));
  const existingOffered = canUseExisting(disk);
  const mode = effectiveMode(fields, disk);

  // As on the Users page: errors wait until the field is left, the mismatch until the lengths meet.
  const passErrors = touched.passphrase ? tr(errors.passphrase) : [];
  const confirmErrors = touched.confirm || (fields.confirm !== '' && fields.confirm.length >= fields.passphrase.length) ? tr(errors.confirm) : [];

  return (
    <div className="storage-options">
      <section className="form-card" aria-labelledby="storage-title">
        <h2 id="storage-title" className="form-card-title">
          {t('storage.optionsTitle', { disk: diskModel(disk) ?? disk.path })}
        </h2>
        {existingOffered && (
          <OptionGroup
            name="storage-mode"
            legend={t('storage.mode.legend')}
            value={mode}
            onChange={(v) => setStorage({ mode: v })}
            options={(['erase', 'existing'] as const).map((v) => ({ value: v, label: t(`storage.mode.${v}`), hint: t(`storage.mode.${v}Hint`) }))}
          />
        )}
        {mode === 'erase' && (
          <OptionGroup
            name="storage-fs"
            legend={t('storage.filesystem.legend')}
            value={fields.filesystem}
            onChange={(v) => setStorage({ filesystem: v })}
            options={FILESYSTEMS.map((v) => ({ value: v, label: t(`storage.filesystem.${v}`), hint: t(`storage.filesystem.${v}Hint`) }))}
          />
        )}
      </section>

      {mode === 'existing' ? (
        <ExistingPartitions disk={disk} fields={fields} errors={errors} />
      ) : (
        <>
          <section className="form-card" aria-labelledby="encryption-title">
            <h2 id="encryption-title" className="form-card-title">
              {t('storage.encryption.legend')}
            </h2>
            <div className="check">
              <input
                id="storage-encrypt"
                type="checkbox"
                checked={fields.encrypt}
                onChange={(e) => setStorage({ encrypt: e.target.checked })}
                aria-describedby="storage-encrypt-hint"
                data-testid="storage-encrypt"
              />
              <div>
                <label htmlFor="storage-encrypt" className="check-label">
                  {t('storage.encryption.enable')}
                </label>
                <p id="storage-encrypt-hint" className="field-hint">
                  {t('storage.encryption.enableHint')}
                </p>
              </div>
            </div>
            {fields.encrypt && (
              <>
                <Field
                  id="storage-passphrase"
                  label={t('storage.encryption.passphrase')}
                  hint={t('storage.encryption.passphraseHint')}
                  errors={passErrors}
                  describedBy={fields.passphrase === '' ? [] : ['storage-passphrase-strength']}
                  after={<PasswordStrength id="storage-passphrase-strength" password={fields.passphrase} />}
                >
                  {(c) => (
                    <input
                      {...c}
                      className="input"
                      type="password"
                      dir="ltr"
                      autoComplete="new-password"
                      data-testid="storage-passphrase"
                      value={fields.passphrase}
                      onChange={(e) => setStorage({ passphrase: e.target.value })}
                      onBlur={() => touch('passphrase')}
                    />
                  )}
                </Field>
                <Field id="storage-confirm" label={t('storage.encryption.confirm')} errors={confirmErrors} liveErrors>
                  {(c) => (
                    <input
                      {...c}
                      className="input"
                      type="password"
                      dir="ltr"
                      autoComplete="new-password"
                      data-testid="storage-confirm"
                      value={fields.confirm}
                      onChange={(e) => setStorage({ confirm: e.target.value })}
                      onBlur={() => touch('confirm')}
                    />
                  )}
                </Field>
                {tpm2Available && (
                  <div className="check">
                    <input
                      id="storage-tpm2"
                      type="checkbox"
                      checked={fields.tpm2}
                      onChange={(e) => void setTpm2(e.target.checked)}
                      aria-describedby="storage-tpm2-hint"
                      data-testid="storage-tpm2"
                    />
                    <div>
                      <label htmlFor="storage-tpm2" className="check-label">
                        {t('storage.encryption.tpm2')}
                      </label>
                      <p id="storage-tpm2-hint" className="field-hint">
                        {t('storage.encryption.tpm2Hint')}
                      </p>
                    </div>
                  </div>
                )}
                {tpm2Available && fields.tpm2 && <RecoveryKey errors={errors.recovery} />}
              </>
            )}
          </section>
          <section className="form-card" aria-labelledby="swap-title">
            <h2 id="swap-title" className="visually-hidden">
              {t('storage.swap.legend')}
            </h2>
            <OptionGroup
              name="storage-swap"
              legend={t('storage.swap.legend')}
              value={fields.swap}
              onChange={(v) => setStorage({ swap: v })}
              describedBy={errors.swap.length > 0 ? 'storage-swap-errors' : undefined}
              options={SWAP_CHOICES.map((v) => ({ value: v, label: t(`storage.swap.${v}`), hint: t(`storage.swap.${v}Hint`) }))}
            />
            <ErrorList id="storage-swap-errors" errors={tr(errors.swap)} />
          </section>
        </>
      )}
    </div>
  );
}
