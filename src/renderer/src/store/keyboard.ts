import type { KeyboardChoice } from '../../../shared/system';
import { preselectKeyboard, sameChoice } from '../keyboard/filter';
import type { KeyboardSlice, Slice } from './types';

/**
 * The keyboard: the XKB list from the engine, the choice (which the install request is built
 * from), and the live session switched to it, so the passwords typed later in the wizard come out
 * as they will at the login screen.
 */
export const keyboardSlice: Slice<KeyboardSlice> = ({ api }) => (set, get) => {
  let generation = 0;
  // One setKeyboard at a time: choices made while one is on its way collapse into the latest,
  // so holding an arrow key down in the list does not queue a hundred calls.
  let applying = false;
  let pending: KeyboardChoice | null = null;

  async function apply(choice: KeyboardChoice): Promise<void> {
    pending = choice;
    set((s) => ({ keyboard: { ...s.keyboard, apply: { status: 'applying', choice } } }));
    if (applying) return;
    applying = true;
    try {
      while (pending) {
        const next: KeyboardChoice = pending;
        pending = null;
        const r = await api.setKeyboard(next);
        // A newer choice came in meanwhile: this answer is about a layout no longer shown.
        if (pending) continue;
        set((s) => ({
          keyboard: { ...s.keyboard, apply: r.ok ? { status: 'done', choice: next, result: r.value } : { status: 'failed', choice: next, error: r.error } },
        }));
      }
    } finally {
      applying = false;
    }
  }

  return {
    keyboard: { list: null, loading: false, error: null, choice: { layout: 'us' }, chosenByHand: false, apply: { status: 'idle' } },

    async loadKeyboardLayouts() {
      const mine = ++generation;
      set((s) => ({ keyboard: { ...s.keyboard, loading: true, error: null } }));
      const r = await api.listKeyboardLayouts({});
      if (mine !== generation) return;
      if (!r.ok) {
        set((s) => ({ keyboard: { ...s.keyboard, loading: false, error: r.error } }));
        return;
      }
      const { keyboard, locale, engine } = get();
      if (keyboard.chosenByHand) {
        set({ keyboard: { ...keyboard, list: r.value, loading: false } });
        return;
      }
      const choice = preselectKeyboard(locale, r.value, engine.info?.mode);
      set({ keyboard: { ...keyboard, list: r.value, loading: false, choice } });
      // The live session already types this way when it is its own layout.
      if (!sameChoice(choice, r.value.current)) await apply(choice);
    },

    async chooseKeyboard(choice) {
      const list = get().keyboard.list;
      const layout = list?.layouts.find((l) => l.name === choice.layout);
      if (list && (!layout || (choice.variant && !layout.variants.some((v) => v.name === choice.variant)))) return;
      const clean: KeyboardChoice = choice.variant ? { layout: choice.layout, variant: choice.variant } : { layout: choice.layout };
      set((s) => ({ keyboard: { ...s.keyboard, choice: clean, chosenByHand: true } }));
      await apply(clean);
    },

    preselectKeyboard() {
      const { keyboard, locale, engine } = get();
      if (keyboard.chosenByHand) return;
      const choice = preselectKeyboard(locale, keyboard.list, engine.info?.mode);
      if (sameChoice(choice, keyboard.choice)) return;
      set({ keyboard: { ...keyboard, choice } });
      // Before the list has loaded there is nothing to apply yet; loading applies the preselection.
      if (keyboard.list && !sameChoice(choice, keyboard.list.current)) void apply(choice);
    },
  };
};
