/**
 * How the lock's timeout choices read (settings and the lock screen): the
 * words say what happens, and that the lock also closes with the browser.
 */
import type { LockMethod, LockTimeout } from '../protocol/channel.ts';
import { t, type MessageKey } from '../platform/i18n.ts';

const LABELS: Record<LockTimeout, MessageKey> = {
  '15m': 'lock_timeout_15m',
  '1h': 'lock_timeout_1h',
  '8h': 'lock_timeout_8h',
  browser: 'lock_timeout_browser',
};

const SPANS: Record<Exclude<LockTimeout, 'browser'>, MessageKey> = { '15m': 'lock_span_15m', '1h': 'lock_span_1h', '8h': 'lock_span_8h' };

export function lockTimeoutLabel(timeout: LockTimeout): string {
  return t(LABELS[timeout]);
}

export function lockTimeoutSentence(timeout: LockTimeout, method: LockMethod): string {
  const passphrase = method === 'passphrase';
  if (timeout === 'browser') return t(passphrase ? 'lock_asks_passphrase_browser' : 'lock_asks_passkey_browser');
  return t(passphrase ? 'lock_asks_passphrase_after' : 'lock_asks_passkey_after', t(SPANS[timeout]));
}
