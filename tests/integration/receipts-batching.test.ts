// Receipts are batched (lib/background/receipts.ts): a burst of 50 messages
// costs the reader a handful of receipt posts, not one per message, and the
// sender sees every one of them delivered. Real relay, real background.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from './support/device.ts';

const BURST = 50;

describe('receipts for a burst', () => {
  let relay: RelayProcess;
  let a: Device;
  let b: Device;
  let conv = '';
  let bobPosts = 0;
  let counting = false;

  beforeAll(async () => {
    relay = await startRelay();
    // Every post of Bob's to a queue (texts, receipts, announcements) goes through here.
    const bobFetch: typeof fetch = (input, init) => {
      if (counting && String(input instanceof Request ? input.url : input).endsWith('/v1/queues/send')) bobPosts++;
      return fetch(input, init);
    };
    [a, b] = await Promise.all([startDevice(relay.url, 'Alice'), startDevice(relay.url, 'Bob', { fetch: bobFetch })]);
    await waitUntil(() => [a, b].every((d) => d.app.snapshot.connection === 'online'), 15_000, 'online');
    ({ conversationId: conv } = await a.app.handlers['conversation.create']({ name: 'Burst' }));
    const invite = await a.app.handlers['invite.create']({ conversationId: conv, mode: 'one-time' });
    await b.app.handlers['invite.join']({ link: invite.link });
    await waitUntil(async () => (await a.app.handlers['conversation.get']({ conversationId: conv })).members.length === 2, 15_000, 'Alice sees Bob');
    // Bob's own announcements (name, mailbox, token key) go out before the count starts.
    await new Promise((r) => setTimeout(r, 3000));
  });

  afterAll(async () => {
    for (const d of [a, b]) d?.app.stop();
    await relay?.stop();
  });

  it('50 messages: every one delivered at Alice, for a few receipts from Bob', async () => {
    counting = true;
    const sent = [];
    for (let i = 0; i < BURST; i++) sent.push(await a.app.handlers['message.send']({ conversationId: conv, text: `burst ${i}` }));
    const ids = new Set(sent.map((m) => m.id));
    const delivered = async (): Promise<number> =>
      (await a.app.handlers['messages.page']({ conversationId: conv, beforeSeq: null, limit: 200 })).messages.filter((m) => ids.has(m.id) && m.delivery === 'delivered').length;
    await waitUntil(async () => (await delivered()) === BURST, 60_000, 'all delivered');
    // Receipts are not receipted: after a quiet moment nothing more is posted.
    await new Promise((r) => setTimeout(r, 4000));
    counting = false;
    expect(bobPosts).toBeGreaterThan(0);
    expect(bobPosts).toBeLessThanOrEqual(10);
    expect(b.received(conv)).toHaveLength(BURST);
  });
});
