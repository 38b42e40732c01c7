import { describe, expect, it } from 'vitest';
import type { InstallerApi } from '../../src/shared/api';
import { UserSchema } from '../../src/shared/answer-file';
import { RESOURCES } from '../../src/renderer/src/i18n';
import { LOCALES } from '../../src/renderer/src/i18n/locales';
import { createAppStore, usersValid } from '../../src/renderer/src/store';
import { estimateStrength } from '../../src/renderer/src/users/strength';
import { suggestHostname, suggestUsername, transliterate } from '../../src/renderer/src/users/suggest';
import { isUserFormValid, sshKeyLines, toAnswerFileUser, usernameRules, validateUserFields, type UserFields } from '../../src/renderer/src/users/validate';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC6l6zJ0yJ1lq3o5r8u7sJ3yq8Jk2h1G3f4d5s6a7b8c anna@laptop';

const filled: UserFields = {
  fullName: 'Anna Müller',
  username: 'anna',
  hostname: 'anna-pc',
  password: 'correct horse battery staple',
  confirm: 'correct horse battery staple',
  admin: true,
  autologin: false,
  sshKeys: '',
};

const errorKeys = (f: Partial<UserFields>) =>
  Object.fromEntries(Object.entries(validateUserFields({ ...filled, ...f })).map(([k, v]) => [k, v.map((e) => e.key)]));

describe('username suggestion', () => {
  it('takes the first name in lower-case ASCII', () => {
    expect(suggestUsername('Anna Müller')).toBe('anna');
    expect(suggestUsername('  Élodie  Durand ')).toBe('elodie');
    expect(suggestUsername('Jean-Luc Picard')).toBe('jean-luc');
    expect(suggestUsername("O'Brien")).toBe('obrien');
  });

  it('transliterates letters that do not decompose', () => {
    expect(transliterate('Straße Øre Æsir Łódź þorn')).toBe('strasse ore aesir lodz thorn');
    expect(suggestUsername('Ørjan')).toBe('orjan');
    expect(suggestUsername('ßigi')).toBe('ssigi');
    expect(suggestUsername('Zoë')).toBe('zoe');
  });

  it('is empty for an empty name and "user" for names without a Latin form', () => {
    expect(suggestUsername('')).toBe('');
    expect(suggestUsername('   ')).toBe('');
    expect(suggestUsername('أحمد')).toBe('user');
    expect(suggestUsername('王伟')).toBe('user');
    expect(suggestUsername('2Pac')).toBe('pac');
  });

  it('never suggests a name the shared rule rejects', () => {
    expect(suggestUsername('Root Admin')).toBe('root1');
    expect(suggestUsername('A'.repeat(40))).toBe('a'.repeat(32));
    for (const name of ['Anna', 'Root', 'daemon', 'Ünal', '_x', '9', 'é', 'a b', 'Nobody']) {
      const s = suggestUsername(name);
      expect(UserSchema.shape.name.safeParse(s).success, `${name} → ${s}`).toBe(true);
    }
  });

  it('derives a valid host name from the username', () => {
    expect(suggestHostname('anna')).toBe('anna-pc');
    expect(suggestHostname('_anna_b')).toBe('anna-b-pc');
    expect(suggestHostname('')).toBe('');
    expect(suggestHostname('___')).toBe('');
  });
});

describe('password strength', () => {
  it('rates common, short, repeated and sequential passwords low', () => {
    expect(estimateStrength('')).toBe('very-weak');
    expect(estimateStrength('password')).toBe('very-weak');
    expect(estimateStrength('Password123')).toBe('very-weak');
    expect(estimateStrength('qwerty')).toBe('very-weak');
    expect(estimateStrength('x7#')).toBe('very-weak');
    expect(estimateStrength('aaaaaaaaaaaa')).toBe('weak');
    expect(estimateStrength('abcdefgh12')).toBe('weak');
    expect(estimateStrength('sunflower')).toBe('weak');
  });

  it('rates longer and mixed passwords higher', () => {
    expect(estimateStrength('sunflower7')).toBe('fair');
    expect(estimateStrength('Tr0ub4dor&3')).toBe('strong');
    expect(estimateStrength('correct horse battery staple')).toBe('strong');
  });
});

describe('username rules', () => {
  it('say which part is unmet', () => {
    const unmet = (n: string) => usernameRules(n).filter((r) => !r.met).map((r) => r.key);
    expect(unmet('anna')).toEqual([]);
    expect(unmet('')).toEqual(['start', 'chars', 'length']);
    expect(unmet('Anna')).toEqual(['start', 'chars']);
    expect(unmet('an na')).toEqual(['chars']);
    expect(unmet('a'.repeat(33))).toEqual(['length']);
    expect(unmet('root')).toEqual(['reserved']);
  });

  it('are all met exactly when the shared schema accepts the name', () => {
    for (const n of ['anna', '', 'Anna', '9lives', '_sys', 'a-b_c1', 'root', 'nobody', 'a'.repeat(32), 'a'.repeat(33), 'é', '-x', 'x.y']) {
      expect(usernameRules(n).every((r) => r.met), n).toBe(UserSchema.shape.name.safeParse(n).success);
    }
  });
});

describe('form validation', () => {
  it('accepts a complete form and builds the answer-file user', () => {
    expect(validateUserFields(filled)).toEqual({});
    expect(isUserFormValid(filled)).toBe(true);
    expect(toAnswerFileUser({ ...filled, sshKeys: `\n${KEY}\n` })).toMatchObject({ name: 'anna', fullName: 'Anna Müller', admin: true, sshKeys: [KEY] });
  });

  it('names each problem with a translation key', () => {
    expect(errorKeys({ username: '' })).toEqual({ username: ['usernameRequired'] });
    expect(errorKeys({ username: 'Root' })).toEqual({ username: ['usernameInvalid'] });
    expect(errorKeys({ hostname: '' })).toEqual({ hostname: ['hostnameRequired'] });
    expect(errorKeys({ hostname: 'Anna_PC' })).toEqual({ hostname: ['hostnameInvalid'] });
    expect(errorKeys({ password: '', confirm: '' })).toEqual({ password: ['passwordRequired'] });
    expect(errorKeys({ confirm: '' })).toEqual({ confirm: ['confirmRequired'] });
    expect(errorKeys({ confirm: 'correct horse' })).toEqual({ confirm: ['passwordMismatch'] });
    expect(errorKeys({ password: 'x'.repeat(1025), confirm: 'x'.repeat(1025) })).toEqual({ password: ['passwordTooLong'] });
    expect(errorKeys({ fullName: 'Anna: admin' })).toEqual({ fullName: ['fullNameInvalid'] });
  });

  it('refuses passwords that cannot be typed at a login prompt, saying why rather than "too long"', () => {
    const untypable = ['tab\there', 'line\nbreak', 'cr\rhere', 'nul\0here', 'esc\x1b[2J', 'del\x7f', 'nel\u0085', 'csi\u009b', 'lone\ud800', 'lone\udfff'];
    for (const password of untypable) {
      expect(errorKeys({ password, confirm: password }), JSON.stringify(password)).toEqual({ password: ['passwordUntypable'] });
      expect(UserSchema.shape.password.safeParse(password).success).toBe(false);
    }
    const long = `${'x'.repeat(1025)}\t`;
    expect(errorKeys({ password: long, confirm: long })).toEqual({ password: ['passwordTooLong', 'passwordUntypable'] });
    for (const password of ['emoji 🔐🔑 fine', 'пароль с пробелами', '密码密码', 'no-break\u00a0space']) {
      expect(errorKeys({ password, confirm: password }), password).toEqual({});
      expect(UserSchema.shape.password.safeParse(password).success).toBe(true);
    }
  });

  it('has the untypable-password message in every language, translated', () => {
    for (const { code } of LOCALES) {
      const errors = RESOURCES[code].users.errors;
      expect(errors.passwordUntypable, code).toMatch(/\S/);
      expect(errors.passwordUntypable, code).not.toBe(errors.passwordTooLong);
      if (code !== 'en') expect(errors.passwordUntypable, code).not.toBe(RESOURCES.en.users.errors.passwordUntypable);
    }
  });

  it('allows weak passwords and an empty full name', () => {
    expect(isUserFormValid({ ...filled, password: '1234', confirm: '1234', fullName: '' })).toBe(true);
  });

  it('checks each SSH key line and names the line', () => {
    expect(sshKeyLines(`${KEY}\n\n  \nnot a key`)).toEqual([{ line: 1, key: KEY }, { line: 4, key: 'not a key' }]);
    const errors = validateUserFields({ ...filled, sshKeys: `${KEY}\n\nnot a key\nssh-rsa !!!` });
    expect(errors.sshKeys).toEqual([
      { key: 'sshKeyInvalid', params: { line: 3 } },
      { key: 'sshKeyInvalid', params: { line: 4 } },
    ]);
    expect(isUserFormValid({ ...filled, sshKeys: `${KEY}\r\n` })).toBe(true);
  });
});

describe('users slice', () => {
  const store = () => createAppStore({ api: {} as InstallerApi, stepCount: 3 });

  it('starts empty, admin on, autologin off, and blocks Next', () => {
    const s = store().getState();
    expect(s.users.fields).toMatchObject({ fullName: '', username: '', hostname: '', password: '', admin: true, autologin: false });
    expect(usersValid(s)).toBe(false);
  });

  it('suggests username and host name until each is edited by hand', () => {
    const st = store();
    const { setUserField } = st.getState();
    setUserField('fullName', 'Zoë');
    expect(st.getState().users.fields).toMatchObject({ username: 'zoe', hostname: 'zoe-pc' });
    setUserField('fullName', 'Zoë Ødegård');
    expect(st.getState().users.fields).toMatchObject({ username: 'zoe', hostname: 'zoe-pc' });

    setUserField('hostname', 'studio');
    setUserField('fullName', 'Björn');
    expect(st.getState().users.fields).toMatchObject({ username: 'bjorn', hostname: 'studio' });

    setUserField('username', 'bj');
    setUserField('fullName', 'Björn Borg');
    expect(st.getState().users).toMatchObject({ usernameEdited: true, hostnameEdited: true, fields: { username: 'bj', hostname: 'studio' } });

    // Clearing a field stays cleared, and hands it back to the suggestion on the next change upstream.
    setUserField('username', '');
    expect(st.getState().users.fields.username).toBe('');
    setUserField('fullName', 'Björn B');
    expect(st.getState().users.fields.username).toBe('bjorn');
  });

  it('is valid once the fields are, with touched flags and options kept', () => {
    const st = store();
    const s = st.getState();
    s.setUserField('fullName', 'Anna Müller');
    s.setUserField('password', 'secret words here');
    s.setUserField('confirm', 'secret words her');
    expect(usersValid(st.getState())).toBe(false);
    s.setUserField('confirm', 'secret words here');
    expect(usersValid(st.getState())).toBe(true);
    s.touchUserField('confirm');
    s.setUserOption('autologin', true);
    s.setUserOption('admin', false);
    expect(st.getState().users.touched.confirm).toBe(true);
    expect(st.getState().users.touched.password).toBe(false);
    expect(st.getState().users.fields).toMatchObject({ admin: false, autologin: true });
  });
});
