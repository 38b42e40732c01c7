import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { DiskCard } from '../components/DiskCard';
import { StorageOptions } from '../components/StorageOptions';
import { selectedDisk, usableFirst } from '../store/disks';
import { useApp } from '../store/react';
import '../styles/forms.css';
import '../styles/storage-summary.css';

export function DiskPage() {
  const { t } = useTranslation();
  const disks = useApp((s) => s.disks);
  const loadDisks = useApp((s) => s.loadDisks);
  const selectDisk = useApp((s) => s.selectDisk);
  const chosen = useApp(selectedDisk);
  const { list, loading, error } = disks;

  useEffect(() => {
    if (!list && !loading) void loadDisks();
    // Only on arrival: later reloads are the person's (Rescan) or the engine's (disksChanged).
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  if (!list) {
    if (error && !loading) {
      return (
        <>
          <p className="lead">{t('steps.disk.intro')}</p>
          <section className="banner banner-error" role="alert" aria-labelledby="disk-error-title">
            <h2 id="disk-error-title" className="banner-title">
              {t('disk.errorTitle')}
            </h2>
            <p className="detail">
              <bdi lang="en">{error.message}</bdi>
            </p>
            <button type="button" className="button secondary" onClick={() => void loadDisks()} data-testid="disk-retry">
              {t('disk.retry')}
            </button>
          </section>
        </>
      );
    }
    return (
      <>
        <p className="lead">{t('steps.disk.intro')}</p>
        <div className="loading" role="status" aria-busy="true">
          <span className="spinner" aria-hidden="true" />
          {t('disk.loading')}
        </div>
      </>
    );
  }

  return (
    <>
      <p className="lead">{t('steps.disk.intro')}</p>
      <div className="toolbar">
        <p className="muted">{t('disk.rescanHint')}</p>
        <button type="button" className="button secondary" onClick={() => void loadDisks()} disabled={loading} data-testid="disk-rescan">
          {loading && <span className="spinner small" aria-hidden="true" />}
          {t('disk.rescan')}
        </button>
      </div>
      {error && (
        <div className="banner banner-error" role="alert">
          <p className="banner-title">{t('disk.errorTitle')}</p>
          <p className="detail">
            <bdi lang="en">{error.message}</bdi>
          </p>
        </div>
      )}
      {list.disks.length === 0 ? (
        <p className="empty">{t('disk.none')}</p>
      ) : (
        <fieldset className="disk-list" aria-busy={loading}>
          <legend className="visually-hidden">{t('disk.listLabel')}</legend>
          {usableFirst(list.disks).map((d) => (
            <DiskCard key={d.path} disk={d} minimumSize={list.minimumSize} selected={d.path === disks.selectedPath} onSelect={selectDisk} />
          ))}
        </fieldset>
      )}
      {/* Options belong to the chosen disk: a partition map only means something for that disk. */}
      {chosen && <StorageOptions key={chosen.path} disk={chosen} />}
    </>
  );
}
