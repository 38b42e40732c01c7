import { useEffect, useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { SaveAnswerFile } from '../components/SaveAnswerFile';
import { useSizeFormatter } from '../components/useSizeFormatter';
import { diskModel } from '../format';
import { LOCALES } from '../i18n/locales';
import { buildRequest } from '../request';
import { describePlan, planProblems, type PlanProblem } from '../summary/describe';
import { useApp } from '../store/react';
import { STEP_ORDER } from '../wizard/step-order';
import '../styles/forms.css';
import '../styles/storage-summary.css';

function PlanError({ problems, code, message }: { readonly problems: readonly PlanProblem[]; readonly code: string; readonly message: string }) {
  const { t } = useTranslation();
  const goTo = useApp((s) => s.goTo);
  const retry = useApp((s) => s.planSummary);
  const steps = [...new Set(problems.map((p) => p.step).filter((s): s is NonNullable<typeof s> => s !== null))];
  const diskProblem = code === 'disk-refused' || code === 'disk-not-found' || code === 'disk-changed';
  return (
    <section className="banner banner-error" role="alert" aria-labelledby="plan-error-title" data-testid="summary-plan-error">
      <h2 id="plan-error-title" className="banner-title">
        {t('summary.planFailed')}
      </h2>
      <p>{diskProblem ? t('summary.problemDisk') : t('summary.planFailedBody')}</p>
      <ul className="problem-list">
        {problems.map((p, i) => (
          <li key={i}>
            {p.field && (
              <code dir="ltr" className="problem-field">
                {p.field}
              </code>
            )}{' '}
            <bdi lang="en">{p.message}</bdi>
          </li>
        ))}
      </ul>
      {problems.length === 0 && (
        <p className="detail">
          <bdi lang="en">{message}</bdi>
        </p>
      )}
      <div className="actions">
        {steps.map((id) => {
          const index = STEP_ORDER.findIndex((s) => s.id === id);
          if (index < 0) return null;
          return (
            <button key={id} type="button" className="button secondary" onClick={() => goTo(index)} data-testid={`summary-goto-${id}`}>
              {t('summary.goTo', { step: t(STEP_ORDER[index]!.titleKey) })}
            </button>
          );
        })}
        <button type="button" className="button secondary" onClick={() => void retry()} data-testid="summary-retry">
          {t('summary.retry')}
        </button>
      </div>
    </section>
  );
}

export function SummaryPage() {
  const { t } = useTranslation();
  const formatSize = useSizeFormatter();
  const state = useApp((s) => s);
  const { plan, planning, planError, image, imageLoading, imageError } = state.summary;
  const planSummary = state.planSummary;

  useEffect(() => {
    // Every arrival plans again: whatever changed on the earlier pages is in the plan shown.
    void planSummary();
  }, [planSummary]);

  // The request the plan was made from; built from the same store, it matches what was planned.
  const request = useMemo(() => buildRequest(state), [state]);
  const disk = plan ? state.disks.list?.disks.find((d) => d.path === plan.disk.path) : undefined;
  const description = plan ? describePlan({ plan, request, diskModel: disk ? diskModel(disk) : null, t, formatSize }) : null;
  const fields = state.users.fields;
  const layoutName = state.keyboard.list?.layouts.find((l) => l.name === state.keyboard.choice.layout);
  const variantName = layoutName?.variants.find((v) => v.name === state.keyboard.choice.variant);
  const keyboard = [layoutName?.description ?? state.keyboard.choice.layout, variantName?.description ?? state.keyboard.choice.variant].filter(Boolean).join(' — ');
  const sep = t('app.listSeparator');
  const userTags = [fields.admin ? t('summary.choices.admin') : null, fields.autologin ? t('summary.choices.autologin') : null].filter(Boolean);

  return (
    <>
      {planning && (
        <div className="loading" role="status" aria-busy="true">
          <span className="spinner" aria-hidden="true" />
          {t('summary.planning')}
        </div>
      )}
      {planError && <PlanError problems={planProblems(planError)} code={planError.code} message={planError.message} />}

      {description && plan && (
        <section className="form-card summary-what" aria-labelledby="what-title">
          <h2 id="what-title" className="form-card-title">
            {t('summary.whatTitle')}
          </h2>
          <p className={`plan-headline plan-${description.tone}`} data-testid="summary-headline">
            <span aria-hidden="true" className="plan-icon">
              {description.tone === 'danger' ? '!' : 'i'}
            </span>
            <strong>{description.headline}</strong>
          </p>
          <ul className="plan-details" data-testid="summary-details">
            {description.details.map((d) => (
              <li key={d}>{d}</li>
            ))}
          </ul>
          {description.rows.length > 0 && (
            <div className="table-scroll">
              <table className="partition-table" data-testid="summary-partitions">
                <caption>{t('summary.table.caption')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('summary.table.number')}</th>
                    <th scope="col">{t('summary.table.device')}</th>
                    <th scope="col">{t('summary.table.size')}</th>
                    <th scope="col">{t('summary.table.content')}</th>
                    <th scope="col">{t('summary.table.mountpoint')}</th>
                    <th scope="col">{t('summary.table.encrypted')}</th>
                  </tr>
                </thead>
                <tbody>
                  {description.rows.map((r) => (
                    <tr key={r.number}>
                      <td>{new Intl.NumberFormat(state.locale).format(r.number)}</td>
                      <td dir="ltr" className="mono">
                        {r.path.replace(/^\/dev\//, '')}
                      </td>
                      <td>{r.size}</td>
                      <td>{r.content}</td>
                      <td>{r.mountpoint ?? t('summary.table.none')}</td>
                      <td>{t(r.encrypted ? 'summary.table.yes' : 'summary.table.no')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      )}

      {description && description.warnings.length > 0 && (
        <section className="banner banner-warn" aria-labelledby="plan-warning-title" data-testid="summary-warnings">
          <h2 id="plan-warning-title" className="banner-title">
            {t('summary.warning.title')}
          </h2>
          {description.warnings.map((w) => (
            <p key={w}>{w}</p>
          ))}
        </section>
      )}

      <section className="form-card" aria-labelledby="choices-title">
        <h2 id="choices-title" className="form-card-title">
          {t('summary.choices.title')}
        </h2>
        <dl className="choices" data-testid="summary-choices">
          <div>
            <dt>{t('summary.choices.language')}</dt>
            <dd>{LOCALES.find((l) => l.code === state.locale)?.nativeName}</dd>
          </div>
          <div>
            <dt>{t('summary.choices.keyboard')}</dt>
            <dd>
              <bdi>{keyboard}</bdi>
            </dd>
          </div>
          <div>
            <dt>{t('summary.choices.timezone')}</dt>
            <dd dir="ltr">{state.timezone.selected.replace(/_/g, ' ')}</dd>
          </div>
          <div>
            <dt>{t('summary.choices.user')}</dt>
            <dd>
              {fields.fullName.trim() !== '' && <bdi>{fields.fullName.trim()} </bdi>}
              <bdi dir="ltr" className="mono">
                {fields.fullName.trim() !== '' ? `(${fields.username})` : fields.username}
              </bdi>
              {userTags.length > 0 && <span className="muted">{`${sep}${userTags.join(sep)}`}</span>}
            </dd>
          </div>
          <div>
            <dt>{t('summary.choices.hostname')}</dt>
            <dd dir="ltr" className="mono">
              {fields.hostname}
            </dd>
          </div>
          {state.requirements.machine?.name && (
            <div>
              <dt>{t('summary.choices.computer')}</dt>
              <dd data-testid="summary-computer">
                <bdi dir="ltr">{state.requirements.machine.name}</bdi>
              </dd>
            </div>
          )}
          {state.requirements.machine && (state.requirements.machine.graphics.length > 0 || state.requirements.machine.safeGraphics.length > 0) && (
            <div>
              <dt>{t('summary.choices.graphics')}</dt>
              <dd data-testid="summary-graphics">
                {state.requirements.machine.graphics.map((card) => (
                  <bdi key={card} dir="ltr" className="line">
                    {card}
                  </bdi>
                ))}
                {state.requirements.machine.safeGraphics.length > 0 && (
                  <span className="muted line" data-testid="summary-safe-graphics">
                    {t('summary.safeGraphics', { args: state.requirements.machine.safeGraphics.join(' ') })}
                  </span>
                )}
              </dd>
            </div>
          )}
        </dl>
      </section>

      <section className="form-card" aria-labelledby="image-title" aria-busy={imageLoading}>
        <h2 id="image-title" className="form-card-title">
          {t('summary.image.title')}
        </h2>
        <dl className="choices" data-testid="summary-image">
          <div>
            <dt>{t('summary.image.reference')}</dt>
            <dd dir="ltr" className="mono wrap">
              {request.image.reference}
            </dd>
          </div>
          {image && (
            <>
              <div>
                <dt>{t('summary.image.digest')}</dt>
                <dd dir={image.digest ? 'ltr' : undefined} className={image.digest ? 'mono wrap' : undefined}>
                  {image.digest ?? t('summary.image.digestUnknown')}
                </dd>
              </div>
              <div>
                <dt>{t('summary.image.signature')}</dt>
                <dd className={`signature signature-${image.signature}`} data-testid="summary-signature">{t(`summary.image.${image.signature}`)}</dd>
              </div>
            </>
          )}
        </dl>
        {imageLoading && <p className="muted">{t('summary.image.loading')}</p>}
        {imageError && (
          <div className="banner banner-warn" data-testid="summary-image-error">
            <p className="banner-title">{t('summary.image.failed')}</p>
            <p className="detail">
              <bdi lang="en">{imageError.message}</bdi>
            </p>
          </div>
        )}
      </section>

      <SaveAnswerFile />
    </>
  );
}
