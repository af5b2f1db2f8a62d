// Attack: whoever can post to a queue (or send Welcomes to a mailbox) floods
// it with messages nobody acknowledges, or many queues at once, until the
// relay's disk (or Redis memory) is full and it stops for everyone. Tokens
// make each message cost something but do not bound what is kept. The relay
// caps what is pending per queue (--max-pending-messages-per-queue, default
// 5,000; --max-pending-bytes-per-queue, default 32 MiB), per mailbox for
// Welcomes (the same caps), and in total (--max-stored-bytes, default 2 GiB);
// a send over a cap is answered 503 `capacity` and spends no token.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RelayClient, capFor, randomQueue, type Mailbox, type WireToken } from '../relay/support/client.ts';
import { b64u } from '../relay/support/soft-authenticator.ts';
import { STORE_KINDS, startRelayOn, type StoreRelay } from '../relay/support/stores.ts';

const PER_QUEUE = 10;
const SIZE = 1000;
/** Room for 25 messages of SIZE on the whole relay. */
const TOTAL = 25 * SIZE;

describe.each(STORE_KINDS)('a flood cannot fill the relay storage (%s store)', (kind) => {
  let relay: StoreRelay;
  let c: RelayClient;
  let tokens: WireToken[];
  beforeAll(async () => {
    relay = await startRelayOn(kind, {
      args: [
        '--max-pending-messages-per-queue', String(PER_QUEUE),
        '--max-pending-bytes-per-queue', String(100 * SIZE),
        '--max-stored-bytes', String(TOTAL),
      ],
    });
    c = new RelayClient(relay.url);
    const account = await c.register();
    tokens = await c.tokens(account.session, 80);
  }, 60_000);
  afterAll(async () => {
    await relay.stop();
  });

  const group = async (): Promise<{ queue: string; member: Mailbox }> => {
    const queue = randomQueue();
    const member = await c.mailbox(tokens.pop()!);
    await c.ok('/v1/queues/register', { queue, cap: capFor(queue), ...member });
    return { queue, member };
  };
  const send = (queue: string, token: WireToken) => c.post('/v1/queues/send', { queue, cap: capFor(queue), token, payload: b64u(randomBytes(SIZE)) });
  const stored = async (): Promise<number> => ((await relay.dump()).messages ?? []).length;

  it('one queue holds at most its cap; a refused send spends nothing; acking makes room', async () => {
    const { queue, member } = await group();
    for (let i = 0; i < PER_QUEUE; i++) expect((await send(queue, tokens.pop()!)).status).toBe(200);
    const token = tokens.pop()!;
    const over = await send(queue, token);
    expect(over.status).toBe(503);
    expect((over.body.error as { code: string; message: string }).code).toBe('capacity');
    expect((over.body.error as { message: string }).message).toMatch(/storage limit/);
    expect(await stored()).toBe(PER_QUEUE);
    // The refused send spent nothing: the same token pays for a message elsewhere.
    const other = await group();
    expect((await send(other.queue, token)).status).toBe(200);
    const pending = await c.fetchAll(member);
    await c.ok('/v1/mailboxes/ack', { ...member, ids: pending.slice(0, 3).map((m) => m.id) });
    for (let i = 0; i < 3; i++) expect((await send(queue, tokens.pop()!)).status).toBe(200);
    expect((await send(queue, tokens.pop()!)).status).toBe(503);
    await c.fetchAll(member, true);
    await c.fetchAll(other.member, true);
    expect(await stored()).toBe(0);
  }, 60_000);

  it('many queues together stop at the global cap', async () => {
    let accepted = 0;
    let refused = 0;
    const members: Mailbox[] = [];
    for (let g = 0; g < 4; g++) {
      const { queue, member } = await group();
      members.push(member);
      for (let i = 0; i < PER_QUEUE; i++) {
        const r = await send(queue, tokens.pop()!);
        if (r.status === 200) accepted++;
        else {
          expect((r.body.error as { code: string }).code).toBe('capacity');
          refused++;
        }
      }
    }
    expect(accepted).toBe(TOTAL / SIZE);
    expect(refused).toBe(4 * PER_QUEUE - TOTAL / SIZE);
    expect(await stored()).toBe(TOTAL / SIZE);
    // Welcomes count against the total as well.
    const w = await c.post('/v1/mailboxes/welcome', { mailboxId: members[0]!.mailboxId, token: tokens.pop(), payload: b64u(randomBytes(SIZE)) });
    expect(w.status).toBe(503);
    for (const m of members) await c.fetchAll(m, true);
    expect(await stored()).toBe(0);
  }, 60_000);
});
