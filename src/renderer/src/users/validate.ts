import { AnswerFileSchema, UserSchema } from '../../../shared/answer-file';

/**
 * Validation of the Users form. Whether a value is valid is always the shared answer-file schema's
 * verdict, so the wizard and the engine agree; this file only turns verdicts into translation keys.
 */

export interface UserFields {
  readonly fullName: string;
  readonly username: string;
  readonly hostname: string;
  readonly password: string;
  readonly confirm: string;
  readonly admin: boolean;
  readonly autologin: boolean;
  /** The textarea as typed: one OpenSSH public key per line, blank lines ignored. */
  readonly sshKeys: string;
}

export type TextField = 'fullName' | 'username' | 'hostname' | 'password' | 'confirm' | 'sshKeys';

/** A translation key under users.errors plus what it interpolates. */
export interface FieldError {
  readonly key: string;
  readonly params?: Readonly<Record<string, string | number>>;
}

export type FormErrors = Partial<Record<TextField, readonly FieldError[]>>;

export interface UsernameRule {
  /** Translation key under users.rules. */
  readonly key: 'start' | 'chars' | 'length' | 'reserved';
  readonly met: boolean;
}

/**
 * The username rule broken into the parts a person can act on while typing. Together they are met
 * exactly when the shared schema accepts the name (a unit test holds them to that).
 */
export function usernameRules(name: string): UsernameRule[] {
  const start = /^[a-z_]/.test(name);
  const chars = name !== '' && /^[a-z0-9_-]*$/.test(name);
  const length = name.length >= 1 && name.length <= 32;
  // Reserved names all pass the other rules, so a name the schema rejects despite them is reserved.
  const reserved = !(start && chars && length) || UserSchema.shape.name.safeParse(name).success;
  return [
    { key: 'start', met: start },
    { key: 'chars', met: chars },
    { key: 'length', met: length },
    { key: 'reserved', met: reserved },
  ];
}

/** Non-blank lines of the SSH keys textarea, with their 1-based line numbers for messages. */
export function sshKeyLines(text: string): Array<{ line: number; key: string }> {
  return text
    .split(/\r?\n/)
    .map((key, i) => ({ line: i + 1, key: key.trim() }))
    .filter((l) => l.key !== '');
}

const ok = (schema: { safeParse(v: unknown): { success: boolean } }, value: unknown): boolean => schema.safeParse(value).success;

/** The shared schema's verdict on a non-empty password, as translation keys. */
function passwordErrors(password: string): FieldError[] {
  const r = UserSchema.shape.password.safeParse(password);
  if (r.success) return [];
  const codes = new Set(r.error.issues.map((i) => i.code));
  const out: FieldError[] = [];
  if (codes.has('too_big')) out.push({ key: 'passwordTooLong' });
  // The schema's only other rule for a non-empty password: no control characters or unpaired surrogates.
  if ([...codes].some((c) => c !== 'too_big')) out.push({ key: 'passwordUntypable' });
  return out;
}

export function validateUserFields(f: UserFields): FormErrors {
  const errors: Record<TextField, FieldError[]> = { fullName: [], username: [], hostname: [], password: [], confirm: [], sshKeys: [] };
  if (!ok(UserSchema.shape.fullName, f.fullName)) errors.fullName.push({ key: 'fullNameInvalid' });

  if (f.username === '') errors.username.push({ key: 'usernameRequired' });
  else if (!ok(UserSchema.shape.name, f.username)) errors.username.push({ key: 'usernameInvalid' });

  if (f.hostname === '') errors.hostname.push({ key: 'hostnameRequired' });
  else if (!ok(AnswerFileSchema.shape.hostname, f.hostname)) errors.hostname.push({ key: 'hostnameInvalid' });

  if (f.password === '') errors.password.push({ key: 'passwordRequired' });
  else errors.password.push(...passwordErrors(f.password));

  if (f.confirm === '') {
    if (f.password !== '') errors.confirm.push({ key: 'confirmRequired' });
  } else if (f.confirm !== f.password) errors.confirm.push({ key: 'passwordMismatch' });

  for (const { line, key } of sshKeyLines(f.sshKeys)) {
    if (!ok(UserSchema.shape.sshKeys, [key])) errors.sshKeys.push({ key: 'sshKeyInvalid', params: { line } });
  }
  return Object.fromEntries(Object.entries(errors).filter(([, list]) => list.length > 0));
}

export function isUserFormValid(f: UserFields): boolean {
  return Object.keys(validateUserFields(f)).length === 0;
}

/** The user as the answer file has it, for the summary and the install request. */
export function toAnswerFileUser(f: UserFields) {
  return UserSchema.parse({
    name: f.username,
    fullName: f.fullName.trim() === '' ? undefined : f.fullName.trim(),
    password: f.password,
    admin: f.admin,
    autologin: f.autologin,
    sshKeys: sshKeyLines(f.sshKeys).map((l) => l.key),
  });
}
