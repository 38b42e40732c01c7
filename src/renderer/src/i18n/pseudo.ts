/**
 * The pseudo-locale: every translated string comes out accented, bracketed and a third longer
 * ("⟦Ńéxţ ···⟧"), so a string that bypasses i18next stands out as plain ASCII, and a layout that
 * cannot take longer text shows it. Turned on with `?pseudo=1` in the page address (or
 * PARTICLE_PSEUDO_LOCALE=1 for the Electron shell), in any UI language.
 */
const ACCENTED: Record<string, string> = {
  a: 'á', b: 'ƀ', c: 'ç', d: 'ď', e: 'é', f: 'ƒ', g: 'ĝ', h: 'ĥ', i: 'í', j: 'ĵ', k: 'ķ', l: 'ĺ', m: 'ɱ',
  n: 'ń', o: 'ó', p: 'þ', q: 'ǫ', r: 'ŕ', s: 'š', t: 'ţ', u: 'ú', v: 'ṽ', w: 'ŵ', x: 'ẋ', y: 'ý', z: 'ž',
  A: 'Á', B: 'Ɓ', C: 'Ç', D: 'Ď', E: 'É', F: 'Ƒ', G: 'Ĝ', H: 'Ĥ', I: 'Í', J: 'Ĵ', K: 'Ķ', L: 'Ĺ', M: 'Ṁ',
  N: 'Ń', O: 'Ó', P: 'Þ', Q: 'Ǫ', R: 'Ŕ', S: 'Š', T: 'Ţ', U: 'Ú', V: 'Ṽ', W: 'Ŵ', X: 'Ẋ', Y: 'Ý', Z: 'Ž',
};

export const PSEUDO_OPEN = '⟦';
export const PSEUDO_CLOSE = '⟧';

export function pseudoLocalize(text: string): string {
  if (text === '') return text;
  const accented = [...text].map((ch) => ACCENTED[ch] ?? ch).join('');
  // About a third longer, as German and French often are.
  const padding = '·'.repeat(Math.ceil([...text].length / 3));
  return `${PSEUDO_OPEN}${accented}${padding ? ` ${padding}` : ''}${PSEUDO_CLOSE}`;
}

/** An i18next post-processor running after interpolation, so placeholders are filled first. */
export const pseudoPostProcessor = {
  type: 'postProcessor' as const,
  name: 'pseudo',
  process(value: string): string {
    return pseudoLocalize(value);
  },
};

/** Whether the page address asks for the pseudo-locale. */
export function pseudoRequested(search: string): boolean {
  const v = new URLSearchParams(search).get('pseudo');
  return v === '1' || v === 'true';
}
