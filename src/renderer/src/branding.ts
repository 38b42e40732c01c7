import raw from '@branding/branding.json';
import type { ImageTransport } from '../../shared';
import type { RequirementId } from '../../shared/system';
import type { LocaleCode } from './i18n/locales';

/**
 * What a distribution rebrands: resources/branding/NAME/branding.json plus its images. The build
 * picks NAME from PARTICLE_BRANDING (default particleos) by redirecting this import, so no component
 * changes. Text fields hold one string per UI language; English is the fallback.
 */
export type LocalizedText = Partial<Record<LocaleCode, string>> & { readonly en: string };

export interface RequirementPolicy {
  /** When the check fails: true stops the install, false only warns. */
  readonly blocking: boolean;
  /** Memory: bytes needed. */
  readonly minimum?: number;
  /** Firmware: "uefi" when the image boots only on UEFI. */
  readonly require?: 'any' | 'uefi';
}

export interface Slide {
  /** Image URL, resolved by the bundler. */
  readonly image: string | null;
  readonly title: LocalizedText;
  readonly body: LocalizedText;
}

export interface Branding {
  /** Product name shown in the header and the welcome heading; a name, so never translated. */
  readonly productName: string;
  readonly logo: string | null;
  readonly colors: { readonly accent: string; readonly accentDark: string };
  readonly defaultImage: { readonly reference: string; readonly transport: ImageTransport };
  readonly minimumDiskSize: number;
  readonly requirements: Readonly<Record<RequirementId, RequirementPolicy>>;
  readonly welcome: LocalizedText;
  readonly slideshow: readonly Slide[];
}

interface RawBranding {
  productName: string;
  logo?: string;
  colors: { accent: string; accentDark: string };
  defaultImage: { reference: string; transport: string };
  minimumDiskSize: number;
  requirements: Record<string, RequirementPolicy>;
  welcome: LocalizedText;
  slideshow: Array<{ image?: string; title: LocalizedText; body: LocalizedText }>;
}

// Every image of the branding folder, as URLs (small SVGs are inlined as data: URLs).
const assets = import.meta.glob<string>('@branding/*.{svg,png,webp,jpg}', {
  eager: true,
  query: '?url',
  import: 'default',
});

function asset(name: string | undefined): string | null {
  if (!name) return null;
  const hit = Object.entries(assets).find(([path]) => path.endsWith(`/${name}`));
  return hit ? hit[1] : null;
}

const REQUIREMENT_DEFAULTS: Record<RequirementId, RequirementPolicy> = {
  memory: { blocking: false, minimum: 2 * 1024 ** 3 },
  disk: { blocking: true },
  firmware: { blocking: true, require: 'any' },
  power: { blocking: false },
  network: { blocking: true },
};

export function loadBranding(json: RawBranding): Branding {
  return {
    productName: json.productName,
    logo: asset(json.logo),
    colors: json.colors,
    defaultImage: { reference: json.defaultImage.reference, transport: json.defaultImage.transport as ImageTransport },
    minimumDiskSize: json.minimumDiskSize,
    requirements: Object.fromEntries(
      (Object.keys(REQUIREMENT_DEFAULTS) as RequirementId[]).map((id) => [id, { ...REQUIREMENT_DEFAULTS[id], ...(json.requirements[id] ?? {}) }]),
    ) as Record<RequirementId, RequirementPolicy>,
    welcome: json.welcome,
    slideshow: json.slideshow.map((s) => ({ image: asset(s.image), title: s.title, body: s.body })),
  };
}

export const branding: Branding = loadBranding(raw as RawBranding);

/** A branding text in the UI language, else English. */
export function localized(text: LocalizedText, locale: LocaleCode): string {
  return text[locale] ?? text.en;
}
