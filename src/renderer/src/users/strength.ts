/**
 * A deliberately simple password strength estimate, enough to warn a person before they pick
 * "password1"; not a cracking-time model. Weak passwords stay allowed: it is the person's machine.
 */

export const STRENGTH_LEVELS = ['very-weak', 'weak', 'fair', 'strong'] as const;
export type StrengthLevel = (typeof STRENGTH_LEVELS)[number];

// The passwords that top every leaked-password list; matched case-insensitively, digits at the end ignored.
const COMMON = new Set([
  'password', 'passw0rd', 'p@ssword', 'p@ssw0rd', '123456', '12345678', '123456789', '1234567890', 'qwerty',
  'qwertz', 'azerty', 'qwertyuiop', 'asdfgh', 'asdfghjkl', 'zxcvbnm', 'abc123', 'letmein', 'welcome', 'admin',
  'administrator', 'root', 'toor', 'iloveyou', 'monkey', 'dragon', 'football', 'baseball', 'soccer', 'master',
  'sunshine', 'princess', 'shadow', 'superman', 'trustno1', 'whatever', 'starwars', 'hello', 'freedom',
  'secret', 'changeme', 'default', 'login', 'linux', 'ubuntu', 'fedora', 'debian', 'user', 'guest', 'test',
  'motdepasse', 'passwort', 'contrasena', 'senha', 'azertyuiop', '000000', '111111', '654321', '666666',
]);

const SEQUENCES = ['abcdefghijklmnopqrstuvwxyz', '0123456789', 'qwertyuiop', 'asdfghjkl', 'zxcvbnm', 'qwertzuiop', 'azertyuiop'];

function isCommon(password: string): boolean {
  const lower = password.toLowerCase();
  return COMMON.has(lower) || COMMON.has(lower.replace(/[0-9!.]+$/, ''));
}

/** Three or more of one character in a row, or hardly any distinct characters at all. */
function hasRepeats(password: string): boolean {
  return /(.)\1\1/u.test(password) || new Set(password).size <= Math.max(2, password.length / 4);
}

/** A run of four along the alphabet, the digits or a keyboard row, either way round. */
function hasSequence(password: string): boolean {
  const lower = password.toLowerCase();
  for (let i = 0; i + 4 <= lower.length; i++) {
    const run = lower.slice(i, i + 4);
    const reversed = [...run].reverse().join('');
    if (SEQUENCES.some((s) => s.includes(run) || s.includes(reversed))) return true;
  }
  return false;
}

function characterClasses(password: string): number {
  return [/\p{Ll}/u, /\p{Lu}/u, /\p{Nd}/u, /[^\p{Ll}\p{Lu}\p{Nd}]/u].filter((re) => re.test(password)).length;
}

export function estimateStrength(password: string): StrengthLevel {
  const length = [...password].length;
  // Too short to resist guessing whatever characters it uses.
  if (length < 6 || isCommon(password)) return 'very-weak';
  let score = length < 8 ? 1 : length < 12 ? 2 : length < 16 ? 3 : 4;
  const classes = characterClasses(password);
  if (classes >= 3) score += 1;
  if (classes === 1 && length < 16) score -= 1;
  if (hasRepeats(password)) score -= 1;
  if (hasSequence(password)) score -= 1;
  return STRENGTH_LEVELS[Math.max(0, Math.min(3, score))]!;
}
