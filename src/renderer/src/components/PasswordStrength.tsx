import { useTranslation } from 'react-i18next';
import { estimateStrength, STRENGTH_LEVELS } from '../users/strength';

/**
 * The strength meter under the password: a <meter> whose aria-valuetext names the level, plus the
 * level in words and a warning for weak passwords (allowed, but the person should know).
 */
export function PasswordStrength({ id, password }: { readonly id: string; readonly password: string }) {
  const { t } = useTranslation();
  if (password === '') return null;
  const level = estimateStrength(password);
  const text = t(`users.strength.${level}`);
  const weak = level === 'very-weak' || level === 'weak';
  return (
    <div id={id} className={`strength strength-${level}`}>
      <div className="strength-row">
        <span id={`${id}-label`}>{t('users.strengthLabel')}</span>
        <meter
          className="strength-meter"
          min={0}
          max={STRENGTH_LEVELS.length}
          // Levels 1-2 fall below low (red), 3 between (amber), 4 above high (green).
          low={2.5}
          high={3.5}
          optimum={STRENGTH_LEVELS.length}
          value={STRENGTH_LEVELS.indexOf(level) + 1}
          aria-labelledby={`${id}-label`}
          aria-valuetext={text}
        />
        <strong className="strength-text">{text}</strong>
      </div>
      {weak && <p className="strength-warning">{t('users.weakWarning')}</p>}
    </div>
  );
}
