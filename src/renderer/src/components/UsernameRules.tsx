import { useTranslation } from 'react-i18next';
import { usernameRules } from '../users/validate';

/** The username rule, part by part, updated as the person types; met or not is said in words too. */
export function UsernameRules({ id, username }: { readonly id: string; readonly username: string }) {
  const { t } = useTranslation();
  return (
    <div id={id} className="rules">
      <p className="rules-title">{t('users.rulesTitle')}</p>
      <ul className="rule-list" aria-live="polite">
        {usernameRules(username).map((rule) => (
          <li key={rule.key} className={rule.met ? 'rule rule-met' : 'rule rule-unmet'} data-testid={`users-rule-${rule.key}`} data-state={rule.met ? 'met' : 'unmet'}>
            <span className="rule-icon" aria-hidden="true">
              {rule.met ? '✓' : '○'}
            </span>
            <span>
              {t(`users.rules.${rule.key}`)}
              <span className="rule-state">
                {' ('}
                {rule.met ? t('users.ruleMet') : t('users.ruleUnmet')}
                {')'}
              </span>
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}
