/**
 * Relay URL rules. HTTPS everywhere, except plain HTTP to a loopback host
 * (a relay on the same machine, as `npm start` runs it).
 */
import { ChannelError, ErrorCode } from '../protocol/channel.ts';

export const DEFAULT_RELAY_URL = 'http://127.0.0.1:8787';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Normalise a user-typed relay URL to its origin, or throw an invalid-input error. */
export function normalizeRelayUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new ChannelError(ErrorCode.InvalidInput, 'That is not a valid URL.');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new ChannelError(ErrorCode.InvalidInput, 'The relay must use https:// (http:// is allowed only for 127.0.0.1 or localhost).');
  }
  if (url.username || url.password) throw new ChannelError(ErrorCode.InvalidInput, 'The relay URL must not contain credentials.');
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw new ChannelError(ErrorCode.InvalidInput, 'Give only the relay origin, e.g. https://relay.example.org');
  }
  return url.origin;
}
