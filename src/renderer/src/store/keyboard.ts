import type { KeyboardSlice, Slice } from './types';

/** Placeholder: the keyboard page's slice (issue 5) replaces this. */
export const keyboardSlice: Slice<KeyboardSlice> = () => () => ({
  keyboard: { list: null, loading: false, error: null, choice: { layout: 'us' }, chosenByHand: false },
  async loadKeyboardLayouts() {},
  async chooseKeyboard() {},
});
