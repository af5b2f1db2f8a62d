/**
 * Relay URL rules. HTTPS everywhere, except plain HTTP to a loopback host
 * (a relay on the same machine, as `npm start` runs it).
 */
import { ChannelError, ErrorCode } from '../protocol/channel.ts';
import { t } from '../platform/i18n.ts';

export const DEFAULT_RELAY_URL = 'http://127.0.0.1:8787';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Normalise a user-typed relay URL to its origin, or throw an invalid-input error. */
export function normalizeRelayUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new ChannelError(ErrorCode.InvalidInput, t('bg_err_bad_url'));
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new ChannelError(ErrorCode.InvalidInput, t('bg_err_relay_https'));
  }
  if (url.username || url.password) throw new ChannelError(ErrorCode.InvalidInput, t('bg_err_url_credentials'));
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw new ChannelError(ErrorCode.InvalidInput, t('bg_err_relay_origin_only'));
  }
  return url.origin;
}
