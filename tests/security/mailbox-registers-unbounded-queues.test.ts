// Attack: one mailbox (one token) registers itself to any number of queues,
// so a single anonymous capability listens to as many groups as it knows
// queue ids for, and every message of each is stored once more for it. The
// relay must cap the queues one mailbox is registered to (default 64,
// --max-queues-per-mailbox), atomically in either store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../relay/config.ts';
import { RelayClient, capFor, randomQueue, type Mailbox } from '../relay/support/client.ts';
import { STORE_KINDS, startRelayOn, type StoreRelay } from '../relay/support/stores.ts';

const queueWithCap = (queue: string): { queue: string; cap: string } => ({ queue, cap: capFor(queue) });

const CAP = DEFAULT_CONFIG.maxQueuesPerMailbox;

describe.each(STORE_KINDS)('one mailbox cannot register to unbounded queues (%s store)', (kind) => {
  let relay: StoreRelay;
  let c: RelayClient;
  let mailbox: Mailbox;
  beforeAll(async () => {
    relay = await startRelayOn(kind);
    c = new RelayClient(relay.url);
    const account = await c.register();
    const [token] = await c.tokens(account.session, 1);
    mailbox = await c.mailbox(token!);
  }, 60_000);
  afterAll(async () => {
    await relay.stop();
  });

  it(`registers to ${CAP} queues, then is refused with capacity; leaving one makes room`, async () => {
    const queues: string[] = [];
    const refused: number[] = [];
    for (let i = 0; i < CAP + 10; i++) {
      const queue = randomQueue();
      const r = await c.post('/v1/queues/register', { queue, cap: capFor(queue), ...mailbox });
      if (r.status === 200) queues.push(queue);
      else {
        expect(r.status).toBe(503);
        expect((r.body.error as { code: string }).code).toBe('capacity');
        refused.push(i);
      }
    }
    expect(queues.length).toBe(CAP);
    expect(refused[0]).toBe(CAP);
    // Registering again to a queue it is on already costs nothing.
    expect((await c.post('/v1/queues/register', { ...queueWithCap(queues[0]!), ...mailbox })).status).toBe(200);
    const db = await relay.dump();
    const rows = db.registrations ?? [];
    expect(rows.filter((r) => r.mailbox_id === mailbox.mailboxId).length).toBe(CAP);
    await c.ok('/v1/queues/unregister', { ...queueWithCap(queues[1]!), mailboxId: mailbox.mailboxId });
    expect((await c.post('/v1/queues/register', { ...queueWithCap(randomQueue()), ...mailbox })).status).toBe(200);
    expect((await c.post('/v1/queues/register', { ...queueWithCap(randomQueue()), ...mailbox })).status).toBe(503);
  }, 60_000);
});
