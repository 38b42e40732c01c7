/** One language's strings, made at build time from resources.ts (see electron.vite.config.ts). */
declare module 'virtual:particle-i18n/*' {
  import type { FullTranslation } from './resources';
  const translation: FullTranslation;
  export default translation;
}
