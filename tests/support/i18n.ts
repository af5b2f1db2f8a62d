/**
 * The tests' stand-in for `browser.i18n.getMessage`: the same messages.json
 * files the extension ships, with the browsers' rules: `$NAME$` is a named
 * placeholder whose content is `$1`…`$9` (or literal text), `$1`… may also
 * stand in the message itself, `$$` is a dollar sign, and a key missing in a
 * language falls back to the default language (English). Unlike a browser,
 * an unknown key throws, so a typo fails the test that meets it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { setMessageLookup } from '../../lib/platform/i18n.ts';

export const LOCALES_DIR = path.resolve(import.meta.dirname, '../../public/_locales');
export const DEFAULT_LOCALE = 'en';

export interface MessageEntry {
  message: string;
  description?: string;
  placeholders?: Record<string, { content: string; example?: string }>;
}
export type Messages = Record<string, MessageEntry>;

export function locales(): string[] {
  return readdirSync(LOCALES_DIR).sort();
}

export function readMessages(locale: string): Messages {
  return JSON.parse(readFileSync(path.join(LOCALES_DIR, locale, 'messages.json'), 'utf8')) as Messages;
}

export function formatMessage(entry: MessageEntry, subs: readonly string[]): string {
  const named = new Map(Object.entries(entry.placeholders ?? {}).map(([k, v]) => [k.toLowerCase(), v.content]));
  const numbered = (text: string): string => text.replace(/\$([1-9])/g, (_, n: string) => subs[Number(n) - 1] ?? '');
  // One pass, so a substituted value is never read again: $$, $1...$9, or a named $PLACEHOLDER$.
  return entry.message.replace(/\$(\$|[1-9]|[A-Za-z0-9_@]+\$)/g, (whole, token: string) => {
    if (token === '$') return '$';
    if (/^[1-9]$/.test(token)) return subs[Number(token) - 1] ?? '';
    const content = named.get(token.slice(0, -1).toLowerCase());
    return content === undefined ? whole : numbered(content);
  });
}

/** Answer `t` from `locale`'s messages (English by default), as the browser would for a user of that language. */
export function useLocale(locale: string = DEFAULT_LOCALE): void {
  const chosen = readMessages(locale);
  const fallback = locale === DEFAULT_LOCALE ? chosen : readMessages(DEFAULT_LOCALE);
  setMessageLookup((key, subs) => {
    const entry = chosen[key] ?? fallback[key];
    if (entry === undefined) throw new Error(`No message "${key}" in _locales/${locale} or _locales/${DEFAULT_LOCALE}`);
    return formatMessage(entry, subs);
  });
}
