/**
 * The branding's accent colours as the CSS custom properties app.css reads (--primary and its hover
 * and soft tints, --focus), plus --accent and --accent-dark as given. An accent too light for white
 * text (contrast under 4.5:1) is refused and the built-in blue stays: branding must not break WCAG AA.
 */
export interface BrandColors {
  readonly accent: string;
  readonly accentDark: string;
}

type Rgb = readonly [number, number, number];

function parseHex(color: string): Rgb | null {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color.trim());
  if (!m) return null;
  const hex = m[1]!.length === 3 ? [...m[1]!].map((c) => c + c).join('') : m[1]!;
  return [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16)) as unknown as Rgb;
}

const toHex = (rgb: Rgb): string => `#${rgb.map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;
const mix = (a: Rgb, b: Rgb, t: number): Rgb => [0, 1, 2].map((i) => a[i]! + (b[i]! - a[i]!) * t) as unknown as Rgb;

function luminance(rgb: Rgb): number {
  const [r, g, b] = rgb.map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as unknown as Rgb;
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG contrast ratio against white. */
export function contrastWithWhite(color: string): number | null {
  const rgb = parseHex(color);
  return rgb ? 1.05 / (luminance(rgb) + 0.05) : null;
}

export function brandVariables(colors: BrandColors): Record<string, string> {
  const out: Record<string, string> = {};
  const accent = parseHex(colors.accent);
  if (parseHex(colors.accentDark)) out['--accent-dark'] = colors.accentDark;
  if (!accent || (contrastWithWhite(colors.accent) ?? 0) < 4.5) return out;
  out['--accent'] = toHex(accent);
  out['--primary'] = toHex(accent);
  out['--focus'] = toHex(accent);
  out['--primary-hover'] = toHex(mix(accent, [0, 0, 0], 0.2));
  out['--primary-soft'] = toHex(mix(accent, [255, 255, 255], 0.9));
  return out;
}

/**
 * A rule on :root, not inline styles: it overrides app.css's defaults (same specificity, later in
 * the document) while the high-contrast theme (:root[data-contrast='high']) still wins over it.
 */
export function brandCss(colors: BrandColors): string {
  const vars = Object.entries(brandVariables(colors));
  return vars.length === 0 ? '' : `:root { ${vars.map(([k, v]) => `${k}: ${v};`).join(' ')} }`;
}

export function applyBrandColors(colors: BrandColors, doc: Document = document): void {
  const css = brandCss(colors);
  if (css === '') return;
  const style = doc.createElement('style');
  style.id = 'brand-colors';
  style.textContent = css;
  doc.head.append(style);
}
