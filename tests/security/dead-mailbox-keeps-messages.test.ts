// Attack (on privacy and storage): a mailbox nobody reads any more (a removed
// member's, an uninstalled extension's) stays registered to its queue, so
// every later message waits for it the whole message TTL (30 days), kept
// although everyone alive read it. The relay keeps a coarse idle expiry per
// mailbox (rounded like message expiries), pushed forward by every fetch,
// subscription or ack; the sweep drops a mailbox idle past it, with its
// registrations and everything that waited only for it. Run with the short
// TTL flags the deletion tests use (a 4 s TTL here, so a dump of the store
// takes well under one; 1 s sweep).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RelayClient, capFor, randomQueue, type Mailbox, type WireToken } from '../relay/support/client.ts';
import { b64u } from '../relay/support/soft-authenticator.ts';
import { STORE_KINDS, startRelayOn, type StoreRelay } from '../relay/support/stores.ts';

const TTL = 4;

describe.each(STORE_KINDS)('a dead mailbox is dropped (%s store)', (kind) => {
  let relay: StoreRelay;
  let c: RelayClient;
  let tokens: WireToken[];
  beforeAll(async () => {
    relay = await startRelayOn(kind, { args: ['--message-ttl-seconds', String(TTL), '--sweep-interval-seconds', '1'] });
    c = new RelayClient(relay.url);
    const account = await c.register();
    tokens = await c.tokens(account.session, 10);
  }, 60_000);
  afterAll(async () => {
    await relay.stop();
  });

  it('a mailbox that read nothing for the TTL is gone, and later messages wait only for the living', async () => {
    const queue = randomQueue();
    const live: Mailbox = await c.mailbox(tokens.pop()!);
    const dead: Mailbox = await c.mailbox(tokens.pop()!);
    await c.ok('/v1/queues/register', { queue, cap: capFor(queue), ...live });
    await c.ok('/v1/queues/register', { queue, cap: capFor(queue), ...dead });
    // The live member keeps reading (all along); the dead one never does again.
    let reading = true;
    const reader = (async (): Promise<void> => {
      while (reading) {
        await c.fetchAll(live);
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    await new Promise((r) => setTimeout(r, (2 * TTL + 3) * 1000));
    const db = await relay.dump();
    const mailboxes = (db.mailboxes ?? []).map((r) => r.mailbox_id);
    expect(mailboxes).toContain(live.mailboxId);
    expect(mailboxes).not.toContain(dead.mailboxId);
    expect((db.registrations ?? []).map((r) => r.mailbox_id)).not.toContain(dead.mailboxId);
    expect((await c.post('/v1/mailboxes/fetch', { ...dead })).status).toBe(404);

    // A message sent now waits for the live mailbox only: once it acks, nothing is kept.
    const secret = randomBytes(600);
    const sent = await c.ok('/v1/queues/send', { queue, cap: capFor(queue), token: tokens.pop(), payload: b64u(secret) });
    expect(JSON.stringify(await relay.dump())).toContain(secret.toString('hex'));
    await c.ok('/v1/mailboxes/ack', { ...live, ids: [sent.id] });
    expect(JSON.stringify(await relay.dump())).not.toContain(secret.toString('hex'));
    reading = false;
    await reader;
  }, 60_000);
});
