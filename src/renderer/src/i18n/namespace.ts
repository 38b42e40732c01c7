import type { LocaleCode } from './locales';

/** The same tree of keys as T, with any string at the leaves: what every other language must match. */
export type Shape<T> = { readonly [K in keyof T]: T[K] extends string ? string : Shape<T[K]> };

/**
 * One page's strings in every language, in one file: English first (the source), then each locale
 * with exactly English's keys. TypeScript refuses a missing or extra key; the i18n unit test checks
 * the same at run time, plus empty values and placeholders.
 */
export type Namespace<T> = { readonly en: T } & { readonly [C in Exclude<LocaleCode, 'en'>]: Shape<T> };

export function defineNamespace<const T>(ns: Namespace<T>): Namespace<T> {
  return ns;
}
