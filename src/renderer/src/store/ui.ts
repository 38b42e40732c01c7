import type { Slice, UiSlice } from './types';

const KEY = 'particle-installer.contrast';

/** The person's last choice on this machine, else what the system asks for (prefers-contrast: more). */
export function initialContrast(win: Pick<Window, 'localStorage' | 'matchMedia'> | undefined = globalThis.window): 'normal' | 'high' {
  if (!win) return 'normal';
  try {
    const saved = win.localStorage.getItem(KEY);
    if (saved === 'high' || saved === 'normal') return saved;
  } catch {
    // Storage can be disabled; the system preference still applies.
  }
  return win.matchMedia?.('(prefers-contrast: more)').matches ? 'high' : 'normal';
}

export const uiSlice: Slice<UiSlice> = () => (set) => ({
  ui: { contrast: initialContrast() },
  setContrast(contrast) {
    set((s) => ({ ui: { ...s.ui, contrast } }));
    try {
      globalThis.window?.localStorage.setItem(KEY, contrast);
    } catch {
      // Not remembered; it still applies now.
    }
  },
});
