import { suggestHostname, suggestUsername } from '../users/suggest';
import { isUserFormValid, type TextField, type UserFields } from '../users/validate';
import type { Slice, UsersSlice } from './types';

/**
 * The first (and for now only) user. The password lives here in memory only: the store is never
 * persisted, logged or sent anywhere before the install request.
 */
const EMPTY: UserFields = {
  fullName: '',
  username: '',
  hostname: '',
  password: '',
  confirm: '',
  admin: true,
  autologin: false,
  sshKeys: '',
};

const UNTOUCHED: Record<TextField, boolean> = { fullName: false, username: false, hostname: false, password: false, confirm: false, sshKeys: false };

export const usersSlice: Slice<UsersSlice> = () => (set) => ({
  users: { fields: EMPTY, touched: UNTOUCHED, usernameEdited: false, hostnameEdited: false },
  setUserField(field, value) {
    set(({ users }) => {
      let fields: UserFields = { ...users.fields, [field]: value };
      // Typing in a field makes it the person's. Emptying it hands it back to the suggestion, but only
      // from the next change upstream: refilling at once would make the field impossible to clear.
      const usernameEdited = field === 'username' ? value !== '' : users.usernameEdited;
      const hostnameEdited = field === 'hostname' ? value !== '' : users.hostnameEdited;
      if (field === 'fullName' && !usernameEdited) fields = { ...fields, username: suggestUsername(fields.fullName) };
      if (fields.username !== users.fields.username && !hostnameEdited) fields = { ...fields, hostname: suggestHostname(fields.username) };
      return { users: { ...users, fields, usernameEdited, hostnameEdited } };
    });
  },
  setUserOption(option, value) {
    set(({ users }) => ({ users: { ...users, fields: { ...users.fields, [option]: value } } }));
  },
  touchUserField(field) {
    set(({ users }) => (users.touched[field] ? {} : { users: { ...users, touched: { ...users.touched, [field]: true } } }));
  },
});

export function usersValid(state: { users: UsersSlice['users'] }): boolean {
  return isUserFormValid(state.users.fields);
}
