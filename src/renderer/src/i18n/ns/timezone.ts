import { defineNamespace } from '../namespace';

/** Strings of the timezone page(s), under the "timezone." prefix. */
export default defineNamespace({
  en: { step: { title: 'Time zone', heading: 'Where are you?', blocked: 'Choose a time zone to continue.' } },
  de: { step: { title: 'Time zone', heading: 'Where are you?', blocked: 'Choose a time zone to continue.' } },
  fr: { step: { title: 'Time zone', heading: 'Where are you?', blocked: 'Choose a time zone to continue.' } },
  es: { step: { title: 'Time zone', heading: 'Where are you?', blocked: 'Choose a time zone to continue.' } },
  'pt-BR': { step: { title: 'Time zone', heading: 'Where are you?', blocked: 'Choose a time zone to continue.' } },
  ar: { step: { title: 'Time zone', heading: 'Where are you?', blocked: 'Choose a time zone to continue.' } },
  'zh-CN': { step: { title: 'Time zone', heading: 'Where are you?', blocked: 'Choose a time zone to continue.' } },
  ja: { step: { title: 'Time zone', heading: 'Where are you?', blocked: 'Choose a time zone to continue.' } },
});
