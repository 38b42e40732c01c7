import { useTranslation } from 'react-i18next';
import type { Disk, Partition } from '../../../shared/disk';
import { computeSegments, type Segment } from '../partitions';
import { useSizeFormatter } from './useSizeFormatter';

/** A colour per kind of partition; the text beside the bar says the same, colour is only a hint. */
export function partitionTone(p: Pick<Partition, 'fsType' | 'typeName'>): string {
  const fs = (p.fsType ?? '').toLowerCase();
  const type = (p.typeName ?? '').toLowerCase();
  if (type.includes('efi') || fs === 'vfat') return 'efi';
  if (fs === 'swap' || type.includes('swap')) return 'swap';
  if (fs === 'ntfs' || fs === 'bitlocker' || type.includes('microsoft')) return 'windows';
  if (fs === 'crypto_luks') return 'crypt';
  return 'linux';
}

export function PartitionBar({ disk }: { disk: Disk }) {
  const { t } = useTranslation();
  const formatSize = useSizeFormatter();
  const segments = computeSegments(disk.size, disk.partitions);
  const sep = t('app.listSeparator');

  const describe = (s: Segment): string => {
    if (s.kind === 'free') return [t('disk.freeSpace'), formatSize(s.bytes)].join(sep);
    const p = s.partition;
    const name = p.typeName ?? p.partLabel ?? (p.number !== null ? t('disk.partitionFallback', { number: p.number }) : t('disk.partitionUnnamed'));
    return [name, p.fsType, p.label && p.label !== name ? `“${p.label}”` : null, formatSize(s.bytes)].filter(Boolean).join(sep);
  };

  const label = t('disk.partitionsLabel', { disk: disk.path });
  // A filesystem straight on the disk (no partition table), or a disk mounted whole, fills it: not free space.
  if (disk.partitions.length === 0 && (disk.fsType || disk.mountpoints.length > 0)) {
    const text = [t('disk.wholeDisk'), disk.fsType, formatSize(disk.size)].filter(Boolean).join(sep);
    const tone = partitionTone({ fsType: disk.fsType, typeName: null });
    return (
      <div className="partitions">
        <ol className="pbar" aria-label={label}>
          <li className={`pseg pseg-${tone}`} style={{ flexBasis: '100%' }} title={text}>
            <span className="visually-hidden">{text}</span>
          </li>
        </ol>
        <ul className="plegend" aria-hidden="true">
          <li>
            <span className={`swatch pseg-${tone}`} />
            {text}
          </li>
        </ul>
      </div>
    );
  }
  return (
    <div className="partitions">
      <ol className="pbar" aria-label={label}>
        {segments.map((s, i) => {
          const text = describe(s);
          return (
            <li
              key={s.kind === 'partition' ? s.partition.path : `free-${i}`}
              className={`pseg ${s.kind === 'free' ? 'pseg-free' : `pseg-${partitionTone(s.partition)}`}`}
              style={{ flexBasis: `${(s.fraction * 100).toFixed(3)}%` }}
              title={text}
            >
              <span className="visually-hidden">{text}</span>
            </li>
          );
        })}
      </ol>
      {/* The list above already speaks to screen readers; this legend is its visible twin. */}
      <ul className="plegend" aria-hidden="true">
        {disk.partitions.length === 0 ? (
          <li>
            <span className="swatch pseg-free" />
            {t('disk.noPartitions')}
          </li>
        ) : (
          segments.map((s, i) =>
            s.kind === 'partition' ? (
              <li key={s.partition.path}>
                <span className={`swatch pseg-${partitionTone(s.partition)}`} />
                <span className="plegend-path" dir="ltr">
                  {s.partition.name}
                </span>
                {describe(s)}
              </li>
            ) : (
              <li key={`free-${i}`}>
                <span className="swatch pseg-free" />
                {describe(s)}
              </li>
            ),
          )
        )}
      </ul>
    </div>
  );
}
