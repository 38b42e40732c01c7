import { describe, expect, it } from 'vitest';
import { branding, localized } from '../../src/renderer/src/branding';
import { LOCALES } from '../../src/renderer/src/i18n/locales';
import { REQUIREMENT_IDS } from '../../src/shared/system';
import { ImageSchema } from '../../src/shared/answer-file';

describe('default branding (resources/branding/particleos)', () => {
  it('names the product, a valid default image and a policy for every requirement', () => {
    expect(branding.productName).toBe('ParticleOS');
    expect(ImageSchema.safeParse(branding.defaultImage).success).toBe(true);
    for (const id of REQUIREMENT_IDS) expect(typeof branding.requirements[id].blocking, id).toBe('boolean');
    expect(branding.requirements.memory.minimum).toBeGreaterThan(0);
  });

  it('resolves its logo and every slide image', () => {
    expect(branding.logo).toMatch(/^(data:image\/svg\+xml|\/)/);
    expect(branding.slideshow.length).toBeGreaterThan(0);
    for (const s of branding.slideshow) expect(s.image).not.toBeNull();
  });

  it('translates the welcome text and every slide into every UI language', () => {
    for (const { code } of LOCALES) {
      expect(branding.welcome[code], code).toBeTruthy();
      for (const s of branding.slideshow) {
        expect(s.title[code], `${code} title`).toBeTruthy();
        expect(s.body[code], `${code} body`).toBeTruthy();
      }
    }
    expect(localized({ en: 'x' }, 'ja')).toBe('x');
  });
});
