import { defineNamespace } from '../namespace';

/** Strings of the keyboard page(s), under the "keyboard." prefix. */
export default defineNamespace({
  en: { step: { title: 'Keyboard', heading: 'Choose your keyboard layout', blocked: 'Choose a keyboard layout to continue.' } },
  de: { step: { title: 'Keyboard', heading: 'Choose your keyboard layout', blocked: 'Choose a keyboard layout to continue.' } },
  fr: { step: { title: 'Keyboard', heading: 'Choose your keyboard layout', blocked: 'Choose a keyboard layout to continue.' } },
  es: { step: { title: 'Keyboard', heading: 'Choose your keyboard layout', blocked: 'Choose a keyboard layout to continue.' } },
  'pt-BR': { step: { title: 'Keyboard', heading: 'Choose your keyboard layout', blocked: 'Choose a keyboard layout to continue.' } },
  ar: { step: { title: 'Keyboard', heading: 'Choose your keyboard layout', blocked: 'Choose a keyboard layout to continue.' } },
  'zh-CN': { step: { title: 'Keyboard', heading: 'Choose your keyboard layout', blocked: 'Choose a keyboard layout to continue.' } },
  ja: { step: { title: 'Keyboard', heading: 'Choose your keyboard layout', blocked: 'Choose a keyboard layout to continue.' } },
});
