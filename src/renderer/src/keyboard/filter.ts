import type { KeyboardChoice, KeyboardLayout, KeyboardLayouts, KeyboardVariant } from '../../../shared/system';
import type { LocaleCode } from '../i18n/locales';

/**
 * Searching and preselecting XKB layouts: pure, so the page stays a thin view and the rules are
 * tested without a DOM. A query is split into words; an item matches when every word appears in
 * its name or description, ignoring case and accents ("deutsch" does not, "german nodead" does).
 */

/** Lower case without accents, so "Français" is found by "francais". */
export function fold(text: string): string {
  return text.normalize('NFD').replace(/\p{Diacritic}/gu, '').toLowerCase();
}

export function queryWords(query: string): string[] {
  return fold(query).split(/[\s()]+/).filter((w) => w !== '');
}

function hits(words: readonly string[], ...texts: string[]): boolean {
  const hay = fold(texts.join(' '));
  return words.every((w) => hay.includes(w));
}

/** How a layout matches: by itself, only through some of its variants, or not at all. */
export type LayoutMatch = 'self' | 'variants' | null;

export function matchLayout(layout: KeyboardLayout, words: readonly string[]): LayoutMatch {
  if (words.length === 0 || hits(words, layout.name, layout.description)) return 'self';
  return layout.variants.some((v) => hits(words, v.name, v.description, layout.name)) ? 'variants' : null;
}

/** Layouts to list for a query, sorted by description; all of them for an empty query. */
export function filterLayouts(layouts: readonly KeyboardLayout[], query: string): KeyboardLayout[] {
  const words = queryWords(query);
  return layouts.filter((l) => matchLayout(l, words) !== null);
}

/**
 * A layout's variants for a query. When the layout itself matches, all of them; when it was found
 * only through variants ("dvorak"), just those, so the search narrows both lists.
 */
export function filterVariants(layout: KeyboardLayout, query: string): KeyboardVariant[] {
  const words = queryWords(query);
  if (matchLayout(layout, words) !== 'variants') return [...layout.variants];
  return layout.variants.filter((v) => hits(words, v.name, v.description, layout.name));
}

export function sortLayouts(layouts: readonly KeyboardLayout[]): KeyboardLayout[] {
  return [...layouts].sort((a, b) => a.description.localeCompare(b.description, 'en'));
}

/** The layout people of each UI language most likely have in front of them. */
export const LOCALE_LAYOUTS: Readonly<Record<LocaleCode, string>> = {
  en: 'us',
  de: 'de',
  fr: 'fr',
  es: 'es',
  'pt-BR': 'br',
  ar: 'ara',
  'zh-CN': 'cn',
  ja: 'jp',
};

export function sameChoice(a: KeyboardChoice | null | undefined, b: KeyboardChoice | null | undefined): boolean {
  return !!a && !!b && a.layout === b.layout && (a.variant ?? '') === (b.variant ?? '');
}

/**
 * The keyboard to preselect: on a real machine the live session's layout (the person set it up, or
 * the live system guessed it from the hardware); otherwise the UI language's usual layout, when the
 * engine lists it; otherwise US English.
 */
export function preselectKeyboard(locale: LocaleCode, list: KeyboardLayouts | null, mode: string | undefined): KeyboardChoice {
  const known = (name: string) => !list || list.layouts.some((l) => l.name === name);
  const current = list?.current;
  if (mode === 'normal' && current && known(current.layout)) {
    const layout = list!.layouts.find((l) => l.name === current.layout);
    const variantKnown = !current.variant || layout?.variants.some((v) => v.name === current.variant);
    return variantKnown ? current : { layout: current.layout };
  }
  const wanted = LOCALE_LAYOUTS[locale];
  if (known(wanted)) return { layout: wanted };
  if (known('us')) return { layout: 'us' };
  return { layout: list!.layouts[0]?.name ?? 'us' };
}

/**
 * Layouts that type a non-Latin script by default. A password typed with one of them can only be
 * typed again with the same layout, so the page says so. Variants named "latin" type Latin.
 */
const NON_LATIN = new Set([
  'af', 'am', 'ara', 'bd', 'bg', 'bt', 'by', 'et', 'ge', 'gr', 'il', 'in', 'iq', 'ir', 'kh', 'kz', 'kg', 'la', 'lk',
  'ma', 'mk', 'mm', 'mn', 'mv', 'np', 'pk', 'rs', 'ru', 'sy', 'th', 'tj', 'ua',
]);

export function isNonLatin(choice: KeyboardChoice): boolean {
  if (!NON_LATIN.has(choice.layout)) return false;
  return !/latin|translit/i.test(choice.variant ?? '');
}
