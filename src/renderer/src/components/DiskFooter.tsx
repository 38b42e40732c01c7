import { useTranslation } from 'react-i18next';
import { missingItems, validateStorage } from '../storage/model';
import { selectedDisk } from '../store/disks';
import { useApp } from '../store/react';

/**
 * The Disk step's Next button, with a blocked message that names what is still missing (a disk, a
 * passphrase, a partition for /…) rather than one sentence for every case.
 */
export function DiskFooter() {
  const { t } = useTranslation();
  const goNext = useApp((s) => s.goNext);
  const disk = useApp(selectedDisk);
  const storage = useApp((s) => s.storage);
  const tpm2 = useApp((s) => s.engine.info?.tpm2 === true);
  const firmware = useApp((s) => s.engine.info?.firmware ?? null);
  const missing = missingItems(disk, validateStorage(storage.fields, disk, tpm2, storage.recovery, firmware));
  const blocked = missing.length > 0;
  return (
    <div className="nav-next">
      {blocked && (
        <p id="next-blocked" className="nav-hint">
          {missing.map((key) => t(`storage.missing.${key}`)).join(' ')}
        </p>
      )}
      <button
        type="button"
        className="button primary"
        onClick={goNext}
        disabled={blocked}
        aria-describedby={blocked ? 'next-blocked' : undefined}
        data-testid="nav-next"
      >
        {t('app.next')}
      </button>
    </div>
  );
}
