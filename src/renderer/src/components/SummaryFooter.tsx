import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { diskModel } from '../format';
import { useApp } from '../store/react';

/**
 * The Summary step's "Install": opens a modal confirmation naming the disk. Cancel has the focus, so
 * a stray Enter never erases a disk; Escape cancels; only the confirm button starts the install.
 */
export function SummaryFooter() {
  const { t } = useTranslation();
  const plan = useApp((s) => s.summary.plan);
  const planning = useApp((s) => s.summary.planning);
  const busy = useApp((s) => s.install.busy);
  const beginInstall = useApp((s) => s.beginInstall);
  const disks = useApp((s) => s.disks.list?.disks);
  const [open, setOpen] = useState(false);
  const dialog = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  const opener = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (open && !d.open) {
      d.showModal();
      cancel.current?.focus();
    } else if (!open && d.open) d.close();
  }, [open]);

  const close = () => {
    setOpen(false);
    opener.current?.focus();
  };

  // showModal makes the page inert; this keeps Tab cycling inside the dialog's own buttons as well.
  const trap = (e: KeyboardEvent<HTMLDialogElement>) => {
    if (e.key !== 'Tab') return;
    const buttons = [...(dialog.current?.querySelectorAll<HTMLButtonElement>('button:not([disabled])') ?? [])];
    if (buttons.length === 0) return;
    const first = buttons[0]!;
    const last = buttons[buttons.length - 1]!;
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  };

  const ready = plan !== null && !planning;
  const disk = plan ? disks?.find((d) => d.path === plan.disk.path) : undefined;
  const model = disk ? diskModel(disk) : null;
  // First-strong isolates keep "/dev/loop1" reading left to right inside Arabic sentences.
  const path = `\u2068${plan?.disk.path ?? ''}\u2069`;
  const name = model ? `${model} (${path})` : path;
  const erase = plan?.layout !== 'existing';

  return (
    <div className="nav-next">
      {!ready && (
        <p id="install-blocked" className="nav-hint">
          {t('summary.install.blocked')}
        </p>
      )}
      <button
        ref={opener}
        type="button"
        className="button primary danger"
        disabled={!ready || busy}
        aria-describedby={ready ? undefined : 'install-blocked'}
        aria-haspopup="dialog"
        onClick={() => setOpen(true)}
        data-testid="summary-install"
      >
        {t('summary.install.button')}
      </button>
      <dialog
        ref={dialog}
        className="confirm-dialog"
        aria-labelledby="confirm-title"
        aria-describedby="confirm-body"
        data-testid="summary-install-dialog"
        onCancel={(e) => {
          // Escape: close through state so focus returns to the Install button.
          e.preventDefault();
          close();
        }}
        onKeyDown={trap}
      >
        <h2 id="confirm-title" className="confirm-title">
          {t(erase ? 'summary.install.dialogTitleErase' : 'summary.install.dialogTitleExisting')}
        </h2>
        <p id="confirm-body" className="confirm-body">
          {t(erase ? 'summary.install.dialogBodyErase' : 'summary.install.dialogBodyExisting', { disk: name })}
        </p>
        <div className="confirm-actions">
          <button ref={cancel} type="button" className="button secondary" onClick={close} data-testid="summary-install-dismiss">
            {t('summary.install.cancel')}
          </button>
          <button
            type="button"
            className="button primary danger"
            disabled={busy}
            data-testid="summary-install-confirm"
            onClick={() => {
              if (!plan) return;
              setOpen(false);
              void beginInstall(plan.id);
            }}
          >
            {t(erase ? 'summary.install.confirmErase' : 'summary.install.confirmExisting')}
          </button>
        </div>
      </dialog>
    </div>
  );
}
