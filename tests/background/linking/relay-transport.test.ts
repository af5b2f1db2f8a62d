// The link transport over a real relay process: the handshake runs through the rendezvous slot;
// an expired code, a second claimer and a typo'd slot all fail with LinkError `expired` before any
// key exchange; the slot is gone after both close.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex, toB64 } from '../../../lib/bytes.ts';
import { RelayApi } from '../../../lib/background/relay-api.ts';
import { formatLinkCode, newLinkCode, parseLinkCode } from '../../../lib/background/linking/code.ts';
import { openAsExisting, openAsNew } from '../../../lib/background/linking/handshake.ts';
import { RelayLinkTransport } from '../../../lib/background/linking/transport.ts';
import { startRelay, type RelayProcess } from '../../support/relay-process.ts';
import { RelayClient } from '../../relay/support/client.ts';

describe('link transport over the relay', () => {
  let relay: RelayProcess;
  let api: RelayApi;
  let sessions: string[];
  beforeAll(async () => {
    relay = await startRelay({ args: ['--link-code-ttl-seconds', '3'] });
    const c = new RelayClient(relay.url);
    sessions = [];
    for (let i = 0; i < 4; i++) sessions.push((await c.register()).session);
    api = new RelayApi(relay.url);
  }, 60_000);
  afterAll(async () => {
    await relay.stop();
  });

  it('runs the handshake and the channel through the slot, then deletes it', async () => {
    const opened = await RelayLinkTransport.open(api, sessions[0]!);
    const text = formatLinkCode(newLinkCode(opened.slot));
    const code = parseLinkCode(text);
    const newSide = openAsNew(opened.transport, code, 5_000);
    const joined = await RelayLinkTransport.join(api, sessions[1]!, code.slot);
    const [x, y] = await Promise.all([openAsExisting(joined, code, 5_000), newSide]);
    expect(x.confirmation).toBe(y.confirmation);
    const payload = crypto.getRandomValues(new Uint8Array(50_000));
    const big = new Uint8Array(300_000);
    for (let i = 0; i < 6; i++) big.set(payload, i * 50_000);
    await x.channel.send(big);
    expect(await y.channel.receive(5_000)).toEqual(big);
    await x.channel.close();
    await y.channel.close();
    await expect(api.fetchLink(joined.access, 0, 0)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('nothing the relay receives carries the code, its secret or the digits', async () => {
    const seen: string[] = [];
    const tapped = new RelayApi(relay.url, {
      fetch: async (input, init) => {
        seen.push(String(input), typeof init?.body === 'string' ? init.body : '', JSON.stringify(init?.headers ?? {}));
        return fetch(input, init);
      },
    });
    const opened = await RelayLinkTransport.open(tapped, sessions[0]!);
    const code = newLinkCode(opened.slot);
    const text = formatLinkCode(code);
    const newSide = openAsNew(opened.transport, code, 5_000);
    const joined = await RelayLinkTransport.join(tapped, sessions[1]!, code.slot);
    const [x, y] = await Promise.all([openAsExisting(joined, code, 5_000), newSide]);
    await x.channel.send(new TextEncoder().encode('hello'));
    await y.channel.receive(5_000);
    await x.channel.close();
    await y.channel.close();
    const wire = seen.join('\n');
    expect(seen.length).toBeGreaterThan(6);
    for (const secret of [text, text.replace(/-/g, ''), toB64(code.secret), bytesToHex(code.secret), x.confirmation, x.confirmation.replace(' ', '')]) {
      expect(wire).not.toContain(secret);
    }
  });

  it('a second claimer is refused as expired, and so is a code after its TTL', async () => {
    const opened = await RelayLinkTransport.open(api, sessions[2]!);
    await RelayLinkTransport.join(api, sessions[1]!, opened.slot);
    await expect(RelayLinkTransport.join(api, sessions[3]!, opened.slot)).rejects.toMatchObject({ name: 'LinkError', code: 'expired' });

    const late = await RelayLinkTransport.open(api, sessions[2]!);
    await new Promise((r) => setTimeout(r, 3_300));
    await expect(RelayLinkTransport.join(api, sessions[1]!, late.slot)).rejects.toMatchObject({ name: 'LinkError', code: 'expired' });
    // The new device waiting on the expired slot hears the same.
    await expect(late.transport.receive(1_000)).rejects.toMatchObject({ code: 'expired' });
  });
});
