import { useTranslation } from 'react-i18next';
import { REFUSAL_CODES, type Disk, type ReasonCode, type VerdictReason } from '../../../shared/disk';
import { busName, diskModel } from '../format';
import { PartitionBar } from './PartitionBar';
import { useSizeFormatter } from './useSizeFormatter';

interface Props {
  readonly disk: Disk;
  readonly minimumSize: number;
  readonly selected: boolean;
  readonly onSelect: (path: string) => void;
}

const isRefusal = (code: ReasonCode): boolean => (REFUSAL_CODES as readonly string[]).includes(code);

interface ReasonsProps {
  readonly kind: 'warn' | 'refused';
  readonly title: string;
  readonly reasons: readonly VerdictReason[];
  readonly minimum: string;
  /** A closing line, for the warnings of the disk that is chosen. */
  readonly footer?: string;
}

/** Reasons in the person's language, each with the engine's English finding as detail. */
function Reasons({ kind, title, reasons, minimum, footer }: ReasonsProps) {
  const { t } = useTranslation();
  if (reasons.length === 0) return null;
  return (
    <div className={`reasons reasons-${kind}${footer ? ' reasons-emphasis' : ''}`}>
      <p className="reasons-title">{title}</p>
      <ul className="reason-list">
        {reasons.map((r, i) => (
          <li key={`${r.code}-${i}`}>
            {t(`disk.reason.${r.code}`, { minimum })}
            <span className="detail">
              <bdi lang="en">{r.message}</bdi>
            </span>
          </li>
        ))}
      </ul>
      {footer && <p className="reasons-footer">{footer}</p>}
    </div>
  );
}

const BADGE_ICON = { ok: '✓', warn: '!', refused: '✕' } as const;

/** One disk as a radio choice. Refused disks stay visible, disabled, with the reasons why. */
export function DiskCard({ disk, minimumSize, selected, onSelect }: Props) {
  const { t } = useTranslation();
  const formatSize = useSizeFormatter();
  const refused = disk.verdict === 'refused';
  const id = `disk-${disk.name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const model = diskModel(disk) ?? t(disk.type === 'loop' ? 'disk.virtualDisk' : 'disk.unknownModel');
  const minimum = formatSize(minimumSize);
  const blocking = disk.reasons.filter((r) => isRefusal(r.code));
  const notes = disk.reasons.filter((r) => !isRefusal(r.code));
  const bus = disk.transport ? busName(disk.transport) : disk.type === 'loop' ? t('disk.virtualBus') : t('disk.unknownBus');

  return (
    <div
      className={`disk-card verdict-${disk.verdict}${selected ? ' selected' : ''}`}
      data-testid={`disk-card-${disk.name}`}
      data-state={disk.verdict}
      // A convenience for pointer users: the whole card selects; keyboards use the radio itself.
      onClick={() => !refused && onSelect(disk.path)}
    >
      <div className="disk-head">
        <input
          type="radio"
          name="disk"
          id={`${id}-radio`}
          value={disk.path}
          checked={selected}
          disabled={refused}
          onChange={() => onSelect(disk.path)}
          aria-describedby={`${id}-facts ${id}-verdict ${id}-reasons`}
          data-testid={`disk-option-${disk.name}`}
        />
        <label htmlFor={`${id}-radio`} className="disk-title">
          <span className="disk-model">{model}</span>
          <span className="disk-path" dir="ltr">
            {disk.path}
          </span>
        </label>
        <span id={`${id}-verdict`} className={`badge badge-${disk.verdict}`}>
          <span aria-hidden="true">{BADGE_ICON[disk.verdict]}</span> {t(`disk.verdict.${disk.verdict}`)}
        </span>
      </div>
      <dl id={`${id}-facts`} className="disk-facts">
        <div>
          <dt>{t('disk.size')}</dt>
          <dd>{formatSize(disk.size)}</dd>
        </div>
        <div>
          <dt>{t('disk.bus')}</dt>
          <dd>{bus}</dd>
        </div>
      </dl>
      <PartitionBar disk={disk} />
      <div id={`${id}-reasons`}>
        {refused ? (
          <>
            <Reasons kind="refused" title={t('disk.reasonsRefused')} reasons={blocking} minimum={minimum} />
            {/* Warnings on a refused disk only help recognise it ("Windows is on it"), so the engine's words suffice. */}
            {notes.length > 0 && (
              <div className="also-found">
                <p className="reasons-title">{t('disk.alsoFound')}</p>
                <ul className="reason-list">
                  {notes.map((r, i) => (
                    <li key={`${r.code}-${i}`}>
                      <bdi lang="en">
                        {r.message}
                      </bdi>
                    </li>
                  ))}
                </ul>
              </div>
            )}
          </>
        ) : (
          // Once chosen, the warnings turn into what will happen, right where the choice was made.
          <Reasons
            kind="warn"
            title={selected ? t('disk.selectedWarnTitle', { disk: disk.path }) : t('disk.reasonsWarn')}
            reasons={disk.reasons}
            minimum={minimum}
            footer={selected ? t('disk.selectedWarnBody') : undefined}
          />
        )}
      </div>
    </div>
  );
}
