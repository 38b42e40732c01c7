import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { SaveTarget } from '../../../shared/system';
import { diskModel } from '../format';
import { omittedSecret } from '../summary/describe';
import { useApp } from '../store/react';
import { useSizeFormatter } from './useSizeFormatter';

/** Offers a file to the person: a Blob behind a temporary <a download>. */
function download(fileName: string, base64: string): void {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  // Give the browser a moment to start the download before the URL goes away.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** "Save answer file…": export (secrets left out, and said so), then a USB stick or a download. */
export function SaveAnswerFile() {
  const { t } = useTranslation();
  const formatSize = useSizeFormatter();
  const summary = useApp((s) => s.summary);
  const prepare = useApp((s) => s.prepareExport);
  const save = useApp((s) => s.saveAnswerFile);
  const [status, setStatus] = useState('');
  const sep = t('app.listSeparator');

  const targetName = (target: SaveTarget): string =>
    [target.label, diskModel({ vendor: null, model: target.model }), formatSize(target.size)].filter(Boolean).join(sep) || target.path;

  const saveTo = async (target: SaveTarget | null) => {
    setStatus('');
    const r = await save(target ? { type: 'device', path: target.path } : { type: 'download' });
    if (!r) {
      setStatus(t('summary.save.failed'));
      return;
    }
    if (target) setStatus(t('summary.save.saved', { file: r.writtenTo ?? r.fileName, target: targetName(target) }));
    else {
      if (r.contentBase64 !== undefined) download(r.fileName, r.contentBase64);
      setStatus(t('summary.save.downloaded', { file: r.fileName }));
    }
  };

  const { exported, targets, exporting, saving, saveError } = summary;
  return (
    <section className="form-card" aria-labelledby="save-title">
      <h2 id="save-title" className="form-card-title">
        {t('summary.save.title')}
      </h2>
      <p className="field-hint">{t('summary.save.intro')}</p>
      <div className="save-actions">
        <button type="button" className="button secondary" onClick={() => void prepare()} disabled={exporting} data-testid="summary-save">
          {exporting && <span className="spinner small" aria-hidden="true" />}
          {t('summary.save.button')}
        </button>
      </div>
      {exported && (
        <>
          <p className="save-omitted" data-testid="summary-save-omitted">
            {exported.omitted.length > 0
              ? t('summary.save.omitted', { secrets: [...new Set(exported.omitted.map((p) => omittedSecret(t, p)))].join(sep) })
              : t('summary.save.omittedNone')}
          </p>
          <div className="save-actions">
            {(targets ?? []).map((target) => (
              <button
                key={target.path}
                type="button"
                className="button secondary"
                disabled={saving}
                onClick={() => void saveTo(target)}
                data-testid={`summary-save-device-${target.path.replace(/^\/dev\//, '')}`}
              >
                {t('summary.save.toDevice', { target: targetName(target) })}
              </button>
            ))}
            <button type="button" className="button secondary" disabled={saving} onClick={() => void saveTo(null)} data-testid="summary-save-download">
              {t('summary.save.download')}
            </button>
          </div>
        </>
      )}
      {saveError && (
        <div className="banner banner-error" data-testid="summary-save-error">
          <p className="banner-title">{t('summary.save.failed')}</p>
          <p className="detail">
            <bdi lang="en">{saveError.message}</bdi>
          </p>
        </div>
      )}
      {/* Results are announced; the region exists before its first message so it is heard. */}
      <p className="save-status" role="status" aria-live="polite" data-testid="summary-save-status">
        {exporting ? t('summary.save.preparing') : status}
      </p>
    </section>
  );
}
