import { describe, expect, it } from 'vitest';
import { REFUSAL_CODES, VerdictSchema, WARNING_CODES } from '../../src/shared/disk';
import { RESOURCES, createI18n } from '../../src/renderer/src/i18n';
import { LOCALES, matchLocale } from '../../src/renderer/src/i18n/locales';
import { SIZE_UNITS } from '../../src/renderer/src/format';

/** Flattens a translation tree into dotted keys, keeping non-string leaves visible as failures. */
function flatten(tree: unknown, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [k, v] of Object.entries(tree as Record<string, unknown>)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object') for (const [kk, vv] of flatten(v, key)) out.set(kk, vv);
    else out.set(key, v);
  }
  return out;
}

const placeholders = (s: string): string[] => [...s.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]!).sort();

const en = flatten(RESOURCES.en);

describe('translations', () => {
  it('ship one resource per supported locale', () => {
    expect(Object.keys(RESOURCES).sort()).toEqual(LOCALES.map((l) => l.code).sort());
  });

  for (const { code } of LOCALES) {
    describe(code, () => {
      const keys = flatten(RESOURCES[code]);
      it('has every key English has', () => {
        expect([...en.keys()].filter((k) => !keys.has(k))).toEqual([]);
      });
      it('has no key English lacks', () => {
        expect([...keys.keys()].filter((k) => !en.has(k))).toEqual([]);
      });
      it('has no empty values', () => {
        expect([...keys].filter(([, v]) => typeof v !== 'string' || v.trim() === '').map(([k]) => k)).toEqual([]);
      });
      it('uses the same placeholders as English', () => {
        const wrong = [...en].filter(([k, v]) => JSON.stringify(placeholders(String(v))) !== JSON.stringify(placeholders(String(keys.get(k) ?? ''))));
        expect(wrong.map(([k]) => k)).toEqual([]);
      });
    });
  }

  it('translate every reason code and verdict of the disk contract', () => {
    for (const code of [...REFUSAL_CODES, ...WARNING_CODES]) expect(en.get(`disk.reason.${code}`), code).toBeTypeOf('string');
    for (const verdict of VerdictSchema.options) expect(en.get(`disk.verdict.${verdict}`), verdict).toBeTypeOf('string');
    for (const unit of SIZE_UNITS) expect(en.get(`units.${unit}`), unit).toBeTypeOf('string');
  });

  it('resolve through i18next, with Arabic right to left', () => {
    const i18n = createI18n('ar');
    expect(i18n.t('app.next')).toBe(RESOURCES.ar.app.next);
    expect(i18n.t('disk.reason.too-small', { minimum: '16 GiB' })).toContain('16 GiB');
    expect(i18n.dir('ar')).toBe('rtl');
    expect(LOCALES.find((l) => l.code === 'ar')?.dir).toBe('rtl');
  });
});

describe('matchLocale', () => {
  it('prefers an exact tag, then the same language, then English', () => {
    expect(matchLocale(['zh-CN', 'en'])).toBe('zh-CN');
    expect(matchLocale(['pt-PT'])).toBe('pt-BR');
    expect(matchLocale(['de-AT', 'fr'])).toBe('de');
    expect(matchLocale(['ko-KR'])).toBe('en');
    expect(matchLocale([])).toBe('en');
  });
});
