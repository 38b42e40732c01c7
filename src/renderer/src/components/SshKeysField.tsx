import { useState, type ChangeEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Field } from './Field';

// A list of public keys is a few kilobytes; anything far larger is the wrong file (a private key
// store, an image) and should not be pasted into the form.
const MAX_FILE_BYTES = 64 * 1024;

interface Props {
  readonly value: string;
  readonly errors: readonly string[];
  readonly onChange: (value: string) => void;
  readonly onBlur: () => void;
}

type ImportStatus = { readonly key: 'imported' | 'importFailed' | 'errors.sshFileTooLarge'; readonly file: string } | null;

/** SSH public keys, typed or read from a file in the page itself (the renderer has no Node). */
export function SshKeysField({ value, errors, onChange, onBlur }: Props) {
  const { t } = useTranslation();
  const [status, setStatus] = useState<ImportStatus>(null);

  async function importFile(event: ChangeEvent<HTMLInputElement>) {
    const input = event.currentTarget;
    const file = input.files?.[0];
    // Cleared so choosing the same file again still fires a change.
    input.value = '';
    if (!file) return;
    if (file.size > MAX_FILE_BYTES) {
      setStatus({ key: 'errors.sshFileTooLarge', file: file.name });
      return;
    }
    try {
      const text = (await file.text()).replace(/\r\n/g, '\n').trim();
      const kept = value.replace(/\s+$/, '');
      onChange(kept === '' ? text : `${kept}\n${text}`);
      onBlur();
      setStatus({ key: 'imported', file: file.name });
    } catch {
      setStatus({ key: 'importFailed', file: file.name });
    }
  }

  return (
    <Field id="user-ssh-keys" label={t('users.sshKeys')} hint={t('users.sshKeysHint')} errors={errors}>
      {(control) => (
        <>
          <textarea
            {...control}
            className="input textarea"
            rows={4}
            dir="ltr"
            spellCheck={false}
            autoCapitalize="none"
            autoCorrect="off"
            data-testid="users-ssh-keys"
            value={value}
            onChange={(e) => onChange(e.target.value)}
            onBlur={onBlur}
          />
          <div className="file-import">
            <label className="button secondary file-button">
              <input type="file" className="visually-hidden" accept=".pub,text/plain" onChange={(e) => void importFile(e)} data-testid="users-ssh-import" />
              {t('users.importKeys')}
            </label>
            <p role="status" className={status?.key === 'imported' ? 'muted' : 'field-error'} data-testid="users-ssh-import-status">
              {status && <>{t(`users.${status.key}`, { file: status.file })}</>}
            </p>
          </div>
        </>
      )}
    </Field>
  );
}
