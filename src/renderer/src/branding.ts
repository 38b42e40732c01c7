/**
 * What a distribution rebrands. Kept in one small object so a downstream build can replace this file
 * (or, later, load it from resources/branding) without touching any component.
 */
export interface Branding {
  /** Product name shown in the header and the welcome heading; a name, so never translated. */
  readonly productName: string;
}

export const branding: Branding = {
  productName: 'Particle Installer',
};
