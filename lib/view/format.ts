/** Small formatting helpers for the views: times, counts, relay host names. */
import { t, type MessageKey } from '../platform/i18n.ts';

// 'numeric' hours: the locale decides the clock and the padding ("3:47 AM" in en-US); '2-digit' forced "03:47 AM".
const timeFmt = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const dayFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function formatTime(ms: number): string {
  return timeFmt.format(ms);
}

/** Time today, otherwise the day: for the conversation list. */
export function formatActivity(ms: number, now = Date.now()): string {
  if (ms <= 0) return '';
  const d = new Date(ms);
  const n = new Date(now);
  const sameDay = d.getFullYear() === n.getFullYear() && d.getMonth() === n.getMonth() && d.getDate() === n.getDate();
  return sameDay ? timeFmt.format(ms) : dayFmt.format(ms);
}

export function formatDateTime(ms: number): string {
  return fullFmt.format(ms);
}

/**
 * A count in words: `one` for exactly 1, `other` otherwise; each message takes the number as $1. The i18n format has
 * no plural rules, so languages with more forms than two (Arabic) word `other` so it reads right with any number.
 */
export function plural(n: number, one: MessageKey, other: MessageKey): string {
  return t(n === 1 ? one : other, n);
}

export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

const dayLongFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric', year: 'numeric' });

export function sameDay(a: number, b: number): boolean {
  const x = new Date(a);
  const y = new Date(b);
  return x.getFullYear() === y.getFullYear() && x.getMonth() === y.getMonth() && x.getDate() === y.getDate();
}

/** "Today", "Yesterday", or the full date: for day separators in the history. */
export function formatDay(ms: number, now = Date.now()): string {
  if (sameDay(ms, now)) return t('day_today');
  if (sameDay(ms, now - 86_400_000)) return t('day_yesterday');
  return dayLongFmt.format(ms);
}
