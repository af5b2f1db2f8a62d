// Two people open the same invite link one right after the other. The second
// reads the GroupInfo from before the first one's join: the relay refuses it
// as stale until a member has processed that join and republished the invite.
// The second join must wait for that and get in, not tell the person to open
// the link again (join-retry.ts). Here Carol's device is served the older
// GroupInfo for 1.5 s, which is how long a busy member may take; a single
// quick retry, as before, failed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from './support/device.ts';

describe('a second join right after another, by the same link', () => {
  let relay: RelayProcess;
  let a: Device;
  let b: Device;
  let c: Device;
  let staleUntil = 0;
  let inviteId = '';
  let staleBody = '';
  const invitePath = (): string => `/v1/invites/${inviteId}`;

  beforeAll(async () => {
    relay = await startRelay();
    const lagging: typeof fetch = async (input, init) => {
      const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      if ((init?.method ?? 'GET') === 'GET' && inviteId !== '' && url.pathname === invitePath() && Date.now() < staleUntil) {
        return new Response(staleBody, { status: 200, headers: { 'content-type': 'application/json' } });
      }
      return fetch(input, init);
    };
    [a, b, c] = await Promise.all([startDevice(relay.url, 'Alice'), startDevice(relay.url, 'Bob'), startDevice(relay.url, 'Carol', { fetch: lagging })]);
    await waitUntil(() => [a, b, c].every((d) => d.app.snapshot.connection === 'online'), 15_000, 'all online');
  });

  afterAll(async () => {
    for (const d of [a, b, c]) d?.app.stop();
    await relay?.stop();
  });

  it('waits for the members to republish the invite, then joins', async () => {
    const { conversationId } = await a.app.handlers['conversation.create']({ name: 'Door' });
    const invite = await a.app.handlers['invite.create']({ conversationId, mode: 'expiring', expiresInHours: 1 });
    inviteId = invite.inviteId;
    const read = async (): Promise<string> => (await fetch(`${relay.url}${invitePath()}`)).text();
    staleBody = await read();

    await b.app.handlers['invite.join']({ link: invite.link });
    // Alice has seen Bob's join and republished: the relay now refuses the older GroupInfo.
    await waitUntil(async () => (await read()) !== staleBody, 15_000, 'the invite republished after Bob joined');

    staleUntil = Date.now() + 1_500;
    const joined = await c.app.handlers['invite.join']({ link: invite.link });
    expect(joined.conversationId).toBe(conversationId);
    expect(Date.now()).toBeGreaterThanOrEqual(staleUntil);

    const three = async (d: Device): Promise<boolean> => (await d.app.handlers['conversation.get']({ conversationId })).members.length === 3;
    for (const d of [a, b, c]) await waitUntil(() => three(d), 15_000, `${d.name} sees three members`);
    await c.app.handlers['message.send']({ conversationId, text: 'made it in' });
    await waitUntil(() => a.received(conversationId).includes('made it in'), 15_000, 'Alice reads Carol');
  }, 60_000);
});
