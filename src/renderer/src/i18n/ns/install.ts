import { defineNamespace } from '../namespace';

/** Strings of the install page(s), under the "install." prefix. */
export default defineNamespace({
  en: { placeholder: 'TODO' },
  de: { placeholder: 'TODO' },
  fr: { placeholder: 'TODO' },
  es: { placeholder: 'TODO' },
  'pt-BR': { placeholder: 'TODO' },
  ar: { placeholder: 'TODO' },
  'zh-CN': { placeholder: 'TODO' },
  ja: { placeholder: 'TODO' },
});
