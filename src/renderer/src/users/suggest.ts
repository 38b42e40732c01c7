import { AnswerFileSchema, UserSchema } from '../../../shared/answer-file';

/**
 * Suggestions for the Users step: a login name from the full name and a host name from the login
 * name. Whatever they return satisfies the shared answer-file rules, so a suggestion never shows up
 * as an error the person did not cause.
 */

// Letters that Unicode decomposition (NFKD) does not reduce to ASCII.
const SPECIAL: Readonly<Record<string, string>> = {
  ß: 'ss', ẞ: 'ss', ø: 'o', Ø: 'o', æ: 'ae', Æ: 'ae', œ: 'oe', Œ: 'oe', ł: 'l', Ł: 'l', đ: 'd', Đ: 'd',
  ð: 'd', Ð: 'd', þ: 'th', Þ: 'th', ı: 'i', ħ: 'h', Ħ: 'h', ŋ: 'n', Ŋ: 'n',
};

/** Latin text to lower-case ASCII: é→e, ß→ss, ø→o. Scripts without a Latin form are dropped. */
export function transliterate(text: string): string {
  return [...text]
    .map((c) => SPECIAL[c] ?? c)
    .join('')
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\x20-\x7e]/g, '');
}

const isUsername = (name: string): boolean => UserSchema.shape.name.safeParse(name).success;
const isHostname = (name: string): boolean => AnswerFileSchema.shape.hostname.safeParse(name).success;

/**
 * The first name, in ASCII: "Zoë Ødegård" → "zoe". A name in a script without a Latin form still
 * gets "user", so the person is never left with an empty field to figure out alone.
 */
export function suggestUsername(fullName: string): string {
  const trimmed = fullName.trim();
  if (trimmed === '') return '';
  const first = transliterate(trimmed).split(/\s+/)[0] ?? '';
  const base = first
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[^a-z_]+/, '')
    .slice(0, 32);
  if (base === '') return 'user';
  if (isUsername(base)) return base;
  // Only a reserved name (root, daemon…) gets here; a digit makes it the person's own.
  const numbered = `${base.slice(0, 31)}1`;
  return isUsername(numbered) ? numbered : 'user';
}

/** "anna" → "anna-pc"; underscores become hyphens because host names do not allow them. */
export function suggestHostname(username: string): string {
  const base = username
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
  if (base === '') return '';
  const host = `${base.replace(/-+$/, '')}-pc`;
  return isHostname(host) ? host : '';
}
