/**
 * Deep scrubbing of JSON-like data before it leaves the engine in a log or a bug-report bundle.
 * Walking the value (rather than searching its serialised text) also catches secrets that JSON
 * would have escaped, such as one containing a quote or a backslash.
 */

/** Keys whose values are secrets whatever they hold. Hashes (passwordHash) are not secrets and stay. */
const SECRET_KEYS: ReadonlySet<string> = new Set(['passphrase', 'password']);

export const MASK = '***';

/** Applies `redact` to every string (keys too) in a JSON-like value; returns a copy. */
export function redactDeep<T>(value: T, redact: (s: string) => string): T {
  return walk(value, redact, false) as T;
}

/** Like redactDeep, and also replaces the value of every key named passphrase or password by "***". */
export function scrubSecrets<T>(value: T, redact: (s: string) => string): T {
  return walk(value, redact, true) as T;
}

function walk(value: unknown, redact: (s: string) => string, maskKeys: boolean): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map((v) => walk(v, redact, maskKeys));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const masked = maskKeys && SECRET_KEYS.has(k.toLowerCase()) && v !== null && v !== undefined;
      out[redact(k)] = masked ? MASK : walk(v, redact, maskKeys);
    }
    return out;
  }
  return value;
}
