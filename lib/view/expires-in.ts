/**
 * How long an invite has left, in words a person reads at a glance:
 * "expires in 6 days", "expires in 5 hours". Rounded to the nearest whole
 * unit, and a unit rounds up into the next one (60 minutes read "1 hour"),
 * so a fresh 7-day invite says 7 days rather than 6.
 */
import { plural } from './format.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export function expiresIn(expiresAt: number, now = Date.now()): string {
  const left = expiresAt - now;
  if (left <= 0) return 'expired';
  if (left < MINUTE) return 'expires in less than a minute';
  const minutes = Math.round(left / MINUTE);
  if (minutes < 60) return `expires in ${plural(minutes, 'minute', 'minutes')}`;
  const hours = Math.round(left / HOUR);
  if (hours < 24) return `expires in ${plural(hours, 'hour', 'hours')}`;
  return `expires in ${plural(Math.round(left / DAY), 'day', 'days')}`;
}
