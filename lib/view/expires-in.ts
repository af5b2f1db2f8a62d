/**
 * How long an invite has left, in words a person reads at a glance:
 * "expires in 6 days", "expires in 5 hours". Rounded to the nearest whole
 * unit, and a unit rounds up into the next one (60 minutes read "1 hour"),
 * so a fresh 7-day invite says 7 days rather than 6.
 */
import { plural } from './format.ts';
import { t } from '../platform/i18n.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export function expiresIn(expiresAt: number, now = Date.now()): string {
  const left = expiresAt - now;
  if (left <= 0) return t('expires_expired');
  if (left < MINUTE) return t('expires_under_minute');
  const minutes = Math.round(left / MINUTE);
  if (minutes < 60) return plural(minutes, 'expires_minutes_one', 'expires_minutes_other');
  const hours = Math.round(left / HOUR);
  if (hours < 24) return plural(hours, 'expires_hours_one', 'expires_hours_other');
  return plural(Math.round(left / DAY), 'expires_days_one', 'expires_days_other');
}
