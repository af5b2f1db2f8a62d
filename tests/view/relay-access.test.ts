import { describe, expect, it } from 'vitest';
import { allowRelayHost, relayOriginPattern, type PermissionsLike } from '../../lib/view/relay-access.ts';

function permissions(answer: boolean): PermissionsLike & { asked: string[][] } {
  const asked: string[][] = [];
  return {
    asked,
    contains: () => Promise.resolve(false),
    request: (p) => {
      asked.push(p.origins);
      return Promise.resolve(answer);
    },
  };
}

describe('relay host access (Firefox passkeys)', () => {
  it('names exactly the relay host, and nothing for a relay on this machine', () => {
    expect(relayOriginPattern('https://relay.example.org:8443/path')).toBe('https://relay.example.org/*');
    expect(relayOriginPattern('http://127.0.0.1:8787')).toBeNull();
    expect(relayOriginPattern('http://localhost:9000')).toBeNull();
    expect(relayOriginPattern('http://relay.example.org')).toBeNull(); // refused by the background anyway
    expect(relayOriginPattern('not a url')).toBeNull();
  });

  it('asks once for that host in Firefox and reports a refusal', async () => {
    const yes = permissions(true);
    expect(await allowRelayHost('https://relay.example.org', yes, true)).toBe(true);
    expect(yes.asked).toEqual([['https://relay.example.org/*']]);
    const no = permissions(false);
    expect(await allowRelayHost('https://relay.example.org', no, true)).toBe(false);
  });

  it('asks nothing in Chrome, or for a local relay', async () => {
    const p = permissions(false);
    expect(await allowRelayHost('https://relay.example.org', p, false)).toBe(true);
    expect(await allowRelayHost('http://127.0.0.1:8787', p, true)).toBe(true);
    expect(p.asked).toEqual([]);
  });
});
