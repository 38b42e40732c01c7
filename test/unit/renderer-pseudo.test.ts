import { describe, expect, it } from 'vitest';
import { createI18n } from '../../src/renderer/src/i18n';
import { PSEUDO_CLOSE, PSEUDO_OPEN, pseudoLocalize, pseudoRequested } from '../../src/renderer/src/i18n/pseudo';

describe('pseudo-locale', () => {
  it('accents, brackets and lengthens text so untranslated strings stand out', () => {
    const out = pseudoLocalize('Next step');
    expect(out.startsWith(PSEUDO_OPEN) && out.endsWith(PSEUDO_CLOSE)).toBe(true);
    expect(out).not.toMatch(/[A-Za-z]/);
    expect([...out].length).toBeGreaterThan('Next step'.length * 1.3);
    expect(pseudoLocalize('')).toBe('');
  });

  it('runs after interpolation in every language, and only when asked', () => {
    const pseudo = createI18n('de', { pseudo: true });
    const plain = createI18n('de');
    const value = pseudo.t('app.stepOf', { current: 2, total: 7 });
    expect(value).toContain('2');
    expect(value).toContain('7');
    expect(value.startsWith(PSEUDO_OPEN)).toBe(true);
    expect(plain.t('app.stepOf', { current: 2, total: 7 }).startsWith(PSEUDO_OPEN)).toBe(false);
  });

  it('is requested with ?pseudo=1', () => {
    expect(pseudoRequested('?pseudo=1')).toBe(true);
    expect(pseudoRequested('?token=x&pseudo=true')).toBe(true);
    expect(pseudoRequested('?pseudo=0')).toBe(false);
    expect(pseudoRequested('')).toBe(false);
  });
});
