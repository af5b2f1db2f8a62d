/**
 * How the lock's timeout choices read (settings and the lock screen): the
 * words say what happens, and that the lock also closes with the browser.
 */
import type { LockMethod, LockTimeout } from '../protocol/channel.ts';

export const LOCK_TIMEOUT_LABELS: Record<LockTimeout, string> = {
  '15m': 'After 15 minutes without use',
  '1h': 'After 1 hour without use',
  '8h': 'After 8 hours without use',
  browser: 'When the browser closes',
};

const SPANS: Record<Exclude<LockTimeout, 'browser'>, string> = { '15m': '15 minutes', '1h': '1 hour', '8h': '8 hours' };

export function lockTimeoutSentence(timeout: LockTimeout, method: LockMethod): string {
  const it = method === 'passphrase' ? 'your passphrase' : 'your passkey';
  if (timeout === 'browser') return `MicroChat asks for ${it} again each time the browser starts.`;
  return `MicroChat asks for ${it} again after ${SPANS[timeout]} without use, and each time the browser starts.`;
}
