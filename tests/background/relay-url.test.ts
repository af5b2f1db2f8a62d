import { describe, expect, it } from 'vitest';
import { normalizeRelayUrl } from '../../lib/background/relay-url.ts';
import { ChannelError } from '../../lib/protocol/channel.ts';

describe('relay URL', () => {
  it.each([
    ['https://relay.example.org', 'https://relay.example.org'],
    ['https://relay.example.org/', 'https://relay.example.org'],
    ['  https://relay.example.org:8443 ', 'https://relay.example.org:8443'],
    ['http://127.0.0.1:8787', 'http://127.0.0.1:8787'],
    ['http://localhost:8787/', 'http://localhost:8787'],
    ['http://[::1]:8787', 'http://[::1]:8787'],
  ])('accepts %s', (input, origin) => {
    expect(normalizeRelayUrl(input)).toBe(origin);
  });

  it.each(['http://relay.example.org', 'ftp://127.0.0.1', 'not a url', 'https://u:p@relay.example.org', 'https://relay.example.org/path', 'https://relay.example.org/?q=1', 'javascript:alert(1)'])(
    'rejects %s with an invalid-input error',
    (input) => {
      try {
        normalizeRelayUrl(input);
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(ChannelError);
        expect((err as ChannelError).code).toBe('invalid-input');
      }
    },
  );
});
