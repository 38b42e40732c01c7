import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { SaveResult, SaveTarget } from '../../../shared/system';
import { formatSize, type SizeUnit } from '../format';
import { useApp } from '../store/react';

type Status =
  | { readonly kind: 'idle' }
  | { readonly kind: 'saving' }
  | { readonly kind: 'saved'; readonly text: string }
  | { readonly kind: 'failed'; readonly message: string };

/** Hands base64 content to the browser as a file download (Electron turns it into a save dialog). */
export function offerDownload(result: SaveResult, doc: Document = document): void {
  const bytes = Uint8Array.from(atob(result.contentBase64 ?? ''), (c) => c.charCodeAt(0));
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/gzip' }));
  const a = doc.createElement('a');
  a.href = url;
  a.download = result.fileName;
  a.hidden = true;
  doc.body.append(a);
  a.click();
  a.remove();
  // The click starts the download synchronously; the URL may go once the event loop turns.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

function targetName(target: SaveTarget): string {
  return target.label ?? target.model ?? target.path;
}

/**
 * "Save the log bundle", on the Done and Failure pages: onto a USB stick when the engine finds one,
 * and always as a download. The outcome is announced in a status region.
 */
export function SaveLogBundle() {
  const { t } = useTranslation();
  const listSaveTargets = useApp((s) => s.listSaveTargets);
  const saveLogBundle = useApp((s) => s.saveLogBundle);
  const locale = useApp((s) => s.locale);
  const [targets, setTargets] = useState<readonly SaveTarget[]>([]);
  const [status, setStatus] = useState<Status>({ kind: 'idle' });

  useEffect(() => {
    let live = true;
    void listSaveTargets().then((r) => {
      // An engine without save targets (or without the method yet) still offers the download.
      if (live && r.ok) setTargets(r.value.targets);
    });
    return () => {
      live = false;
    };
  }, [listSaveTargets]);

  const size = (bytes: number) => formatSize(bytes, locale, (u: SizeUnit) => t(`units.${u}`));

  async function save(target: SaveTarget | null) {
    setStatus({ kind: 'saving' });
    const r = await saveLogBundle(target ? { type: 'device', path: target.path } : { type: 'download' });
    if (!r.ok) return setStatus({ kind: 'failed', message: r.error.message });
    if (target) {
      setStatus({ kind: 'saved', text: t('install.save.savedDevice', { device: targetName(target), file: r.value.writtenTo ?? r.value.fileName }) });
    } else {
      offerDownload(r.value);
      setStatus({ kind: 'saved', text: t('install.save.saved', { file: r.value.fileName, size: size(r.value.bytes) }) });
    }
  }

  const busy = status.kind === 'saving';
  return (
    <section className="save-bundle" aria-labelledby="save-bundle-title">
      <h2 id="save-bundle-title" className="section-title">
        {t('install.save.title')}
      </h2>
      <p className="muted">{t('install.save.intro')}</p>
      <div className="actions">
        {targets.map((target) => (
          <button
            key={target.path}
            type="button"
            className="button secondary"
            disabled={busy}
            onClick={() => void save(target)}
            data-testid={`log-bundle-device-${target.path.replace(/^\/dev\//, '')}`}
          >
            {t('install.save.toDevice', { device: targetName(target) })}
          </button>
        ))}
        <button type="button" className="button secondary" disabled={busy} onClick={() => void save(null)} data-testid="log-bundle-download">
          {t('install.save.download')}
        </button>
      </div>
      <div role="status" className="save-status" data-testid="log-bundle-status">
        {status.kind === 'saving' && t('install.save.saving')}
        {status.kind === 'saved' && <span className="status-ok">{status.text}</span>}
        {status.kind === 'failed' && (
          <span className="status-bad">
            {t('install.save.failed')}{' '}
            <bdi lang="en" className="detail">
              {status.message}
            </bdi>
          </span>
        )}
      </div>
    </section>
  );
}
