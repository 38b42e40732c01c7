import type { ReactNode } from 'react';

/** What a control needs so its label, hint and errors reach assistive technology. */
export interface ControlProps {
  readonly id: string;
  readonly 'aria-describedby'?: string;
  readonly 'aria-invalid'?: true;
}

interface Props {
  readonly id: string;
  readonly label: string;
  readonly hint?: string;
  /** Messages already translated; shown and linked only when non-empty. */
  readonly errors: readonly string[];
  /** Further ids describing the control (rules, strength), read after the hint. */
  readonly describedBy?: readonly string[];
  /** Announce errors as they appear; for errors that follow typing rather than leaving a field. */
  readonly liveErrors?: boolean;
  readonly children: (control: ControlProps) => ReactNode;
  readonly after?: ReactNode;
}

/** A labelled control with its hint and errors, linked by aria-describedby and aria-invalid. */
export function Field({ id, label, hint, errors, describedBy = [], liveErrors = false, children, after }: Props) {
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = `${id}-error`;
  const ids = [hintId, ...describedBy, errors.length > 0 ? errorId : undefined].filter((x): x is string => x !== undefined);
  return (
    <div className="field">
      <label htmlFor={id} className="field-label">
        {label}
      </label>
      {hint && (
        <p id={hintId} className="field-hint">
          {hint}
        </p>
      )}
      {children({ id, 'aria-describedby': ids.length > 0 ? ids.join(' ') : undefined, 'aria-invalid': errors.length > 0 ? true : undefined })}
      {after}
      {/* Kept in the page even when empty, so a live region exists before its first message. */}
      <div id={errorId} className="field-errors" aria-live={liveErrors ? 'polite' : undefined}>
        {errors.map((message) => (
          <p key={message} className="field-error">
            <span aria-hidden="true" className="field-error-icon">
              !
            </span>
            {message}
          </p>
        ))}
      </div>
    </div>
  );
}
