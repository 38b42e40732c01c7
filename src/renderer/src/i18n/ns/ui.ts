import { defineNamespace } from '../namespace';

/** Strings of the frame around every page (header tools), under the "ui." prefix. */
export default defineNamespace({
  en: { contrast: 'High contrast', contrastHint: 'Black on white with stronger borders' },
  de: { contrast: 'Hoher Kontrast', contrastHint: 'Schwarz auf Weiß mit kräftigeren Rahmen' },
  fr: { contrast: 'Contraste élevé', contrastHint: 'Noir sur blanc avec des bordures plus marquées' },
  es: { contrast: 'Alto contraste', contrastHint: 'Negro sobre blanco con bordes más marcados' },
  'pt-BR': { contrast: 'Alto contraste', contrastHint: 'Preto no branco com bordas mais fortes' },
  ar: { contrast: 'تباين عالٍ', contrastHint: 'أسود على أبيض مع حدود أوضح' },
  'zh-CN': { contrast: '高对比度', contrastHint: '白底黑字，边框更醒目' },
  ja: { contrast: 'ハイコントラスト', contrastHint: '白地に黒、枠線を強調' },
});
