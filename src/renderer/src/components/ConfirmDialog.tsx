import { useEffect, useId, useRef, type ReactNode } from 'react';

interface Props {
  readonly open: boolean;
  readonly title: string;
  readonly children: ReactNode;
  readonly confirmLabel: string;
  /** The safe choice; it has focus when the dialog opens, so Enter never confirms by accident. */
  readonly cancelLabel: string;
  /** "danger" styles the confirm button as destructive. */
  readonly tone?: 'normal' | 'danger';
  readonly onConfirm: () => void;
  /** Called for the cancel button, Escape and any other way the dialog closes without confirming. */
  readonly onCancel: () => void;
  /** The opening button's test id X: the dialog is X-dialog, its buttons X-dismiss and X-confirm. */
  readonly testId: string;
}

/**
 * A modal question on the native <dialog>: the browser traps focus, makes the rest inert, closes on
 * Escape and returns focus to where it was. Generic, so other pages (the Summary's "Install") can share it.
 */
export function ConfirmDialog({ open, title, children, confirmLabel, cancelLabel, tone = 'normal', onConfirm, onCancel, testId }: Props) {
  const dialog = useRef<HTMLDialogElement>(null);
  const confirmed = useRef(false);
  const id = useId();

  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (open && !d.open) {
      confirmed.current = false;
      d.showModal();
    } else if (!open && d.open) d.close();
  }, [open]);

  return (
    <dialog
      ref={dialog}
      className="confirm-dialog"
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-body`}
      data-testid={`${testId}-dialog`}
      onClose={() => {
        if (!confirmed.current) onCancel();
      }}
    >
      <h2 id={`${id}-title`} className="confirm-title">
        {title}
      </h2>
      <div id={`${id}-body`} className="confirm-body">
        {children}
      </div>
      <div className="confirm-actions">
        {/* autoFocus inside a dialog is where showModal puts focus. */}
        <button type="button" className="button secondary" autoFocus onClick={() => dialog.current?.close()} data-testid={`${testId}-dismiss`}>
          {cancelLabel}
        </button>
        <button
          type="button"
          className={`button ${tone === 'danger' ? 'danger' : 'primary'}`}
          data-testid={`${testId}-confirm`}
          onClick={() => {
            confirmed.current = true;
            dialog.current?.close();
            onConfirm();
          }}
        >
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
