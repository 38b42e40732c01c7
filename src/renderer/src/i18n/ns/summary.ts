import { defineNamespace } from '../namespace';

/** Strings of the summary page(s), under the "summary." prefix. */
export default defineNamespace({
  en: { step: { title: 'Summary', heading: 'Ready to install', blocked: 'Check the summary; the install starts only when you confirm it.' } },
  de: { step: { title: 'Summary', heading: 'Ready to install', blocked: 'Check the summary; the install starts only when you confirm it.' } },
  fr: { step: { title: 'Summary', heading: 'Ready to install', blocked: 'Check the summary; the install starts only when you confirm it.' } },
  es: { step: { title: 'Summary', heading: 'Ready to install', blocked: 'Check the summary; the install starts only when you confirm it.' } },
  'pt-BR': { step: { title: 'Summary', heading: 'Ready to install', blocked: 'Check the summary; the install starts only when you confirm it.' } },
  ar: { step: { title: 'Summary', heading: 'Ready to install', blocked: 'Check the summary; the install starts only when you confirm it.' } },
  'zh-CN': { step: { title: 'Summary', heading: 'Ready to install', blocked: 'Check the summary; the install starts only when you confirm it.' } },
  ja: { step: { title: 'Summary', heading: 'Ready to install', blocked: 'Check the summary; the install starts only when you confirm it.' } },
});
