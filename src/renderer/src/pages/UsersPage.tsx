import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Field } from '../components/Field';
import { PasswordStrength } from '../components/PasswordStrength';
import { SshKeysField } from '../components/SshKeysField';
import { UsernameRules } from '../components/UsernameRules';
import '../styles/forms.css';
import { useApp } from '../store/react';
import { validateUserFields, type FieldError, type TextField } from '../users/validate';

export function UsersPage() {
  const { t } = useTranslation();
  const { fields, touched } = useApp((s) => s.users);
  const setField = useApp((s) => s.setUserField);
  const setOption = useApp((s) => s.setUserOption);
  const touch = useApp((s) => s.touchUserField);
  const errors = validateUserFields(fields);
  // Open on arrival when keys were entered before; after that the person opens and closes it.
  const [sshOpen] = useState(fields.sshKeys !== '');

  // Errors wait until the person leaves a field, so nobody is scolded before typing. The mismatch
  // shows as soon as the confirmation is as long as the password: that is when they expect a match.
  const shown = (field: TextField): string[] => {
    const visible = touched[field] || (field === 'confirm' && fields.confirm.length >= fields.password.length && fields.confirm !== '');
    return visible ? (errors[field] ?? []).map((e: FieldError) => t(`users.errors.${e.key}`, e.params)) : [];
  };
  const text = (field: TextField) => ({
    value: fields[field],
    onChange: (e: { target: { value: string } }) => setField(field, e.target.value),
    onBlur: () => touch(field),
  });
  // Login and host names are Latin-only; keeping them left to right stops RTL from reordering "-" and "_".
  const latin = { dir: 'ltr', spellCheck: false, autoCapitalize: 'none', autoCorrect: 'off', autoComplete: 'off' } as const;

  return (
    <>
      <p className="lead">{t('steps.users.intro')}</p>

      <section className="form-card" aria-labelledby="users-account">
        <h2 id="users-account" className="form-card-title">
          {t('users.sectionAccount')}
        </h2>
        <Field id="user-full-name" label={t('users.fullName')} hint={t('users.fullNameHint')} errors={shown('fullName')}>
          {(c) => <input {...c} {...text('fullName')} className="input" type="text" dir="auto" autoComplete="off" data-testid="users-full-name" />}
        </Field>
        <Field id="user-name" label={t('users.username')} hint={t('users.usernameHint')} errors={shown('username')} describedBy={['user-name-rules']}>
          {(c) => <input {...c} {...text('username')} {...latin} className="input" type="text" maxLength={64} data-testid="users-username" />}
        </Field>
        <UsernameRules id="user-name-rules" username={fields.username} />
      </section>

      <section className="form-card" aria-labelledby="users-password">
        <h2 id="users-password" className="form-card-title">
          {t('users.sectionPassword')}
        </h2>
        <Field
          id="user-password"
          label={t('users.password')}
          hint={t('users.passwordHint')}
          errors={shown('password')}
          describedBy={fields.password === '' ? [] : ['user-password-strength']}
          after={<PasswordStrength id="user-password-strength" password={fields.password} />}
        >
          {(c) => <input {...c} {...text('password')} className="input" type="password" dir="ltr" autoComplete="new-password" data-testid="users-password" />}
        </Field>
        <Field id="user-confirm" label={t('users.confirm')} errors={shown('confirm')} liveErrors>
          {(c) => <input {...c} {...text('confirm')} className="input" type="password" dir="ltr" autoComplete="new-password" data-testid="users-confirm" />}
        </Field>
      </section>

      <section className="form-card" aria-labelledby="users-computer">
        <h2 id="users-computer" className="form-card-title">
          {t('users.sectionComputer')}
        </h2>
        <Field id="user-hostname" label={t('users.hostname')} hint={t('users.hostnameHint')} errors={shown('hostname')}>
          {(c) => <input {...c} {...text('hostname')} {...latin} className="input" type="text" maxLength={253} data-testid="users-hostname" />}
        </Field>
        <fieldset className="options">
          <legend className="field-label">{t('users.optionsLegend')}</legend>
          {(['admin', 'autologin'] as const).map((option) => (
            <div key={option} className="check">
              <input
                id={`user-${option}`}
                type="checkbox"
                checked={fields[option]}
                onChange={(e) => setOption(option, e.target.checked)}
                aria-describedby={`user-${option}-hint`}
                data-testid={`users-${option}`}
              />
              <div>
                <label htmlFor={`user-${option}`} className="check-label">
                  {t(`users.${option}`)}
                </label>
                <p id={`user-${option}-hint`} className="field-hint">
                  {t(`users.${option}Hint`)}
                </p>
              </div>
            </div>
          ))}
        </fieldset>
      </section>

      <details className="form-card advanced" open={sshOpen}>
        <summary className="form-card-title" data-testid="users-ssh-toggle">
          {t('users.sshSummary')}
        </summary>
        <SshKeysField value={fields.sshKeys} errors={shown('sshKeys')} onChange={(v) => setField('sshKeys', v)} onBlur={() => touch('sshKeys')} />
      </details>
    </>
  );
}
