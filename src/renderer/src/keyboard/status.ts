import type { KeyboardApplyState } from '../store/types';
import type { Translate } from '../summary/describe';

/**
 * The Keyboard page's status line: whether the screen in front of the person now types with the
 * choice. "Saved for new sessions" (localectl without a session switch) is said in the person's
 * language, not as the engine's English detail, because it is the case that locks people out: a
 * password typed now would come out in the old layout.
 */
export function applyStatusText(apply: KeyboardApplyState, t: Translate): string {
  switch (apply.status) {
    case 'idle':
      return '';
    case 'applying':
      return t('keyboard.applying');
    case 'done':
      if (apply.result.applied) return t('keyboard.applied');
      return apply.result.saved ? t('keyboard.savedNotApplied') : t('keyboard.notApplied', { detail: apply.result.detail });
    case 'failed':
      return t('keyboard.applyFailed', { detail: apply.error.message });
  }
}
