/**
 * What a distribution rebrands. Kept in one small object so a downstream build can replace this file
 * (or, later, load it from resources/branding) without touching any component.
 */
export interface Branding {
  /** Product name shown in the header and the welcome heading. */
  readonly productName: string;
  /** Short line under the name in the header. */
  readonly tagline: string;
}

export const branding: Branding = {
  productName: 'Particle Installer',
  tagline: 'Image-based Linux',
};
