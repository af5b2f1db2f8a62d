// Crash safety: kill -9 the relay in the middle of a 1,000-message fan-out to
// groups of 2 to 50 members, restart it on the same data directory, and check
// that every message whose send the relay acknowledged reaches every mailbox.
// On both stores; on Redis, Redis itself (AOF on) is killed -9 and restarted too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS, startRelayOn, type StoreRelay } from './support/stores.ts';
import { RelayClient, WsClient, capFor, randomQueue, type Mailbox, type WireToken } from './support/client.ts';
import { b64u } from './support/soft-authenticator.ts';

const GROUP_SIZES = [2, 7, 20, 35, 50];
const MESSAGES = 1000;
const SENDERS = 4;

describe.each(STORE_KINDS)('relay crash safety (%s store)', (kind) => {
  let relay: StoreRelay;
  beforeAll(async () => {
    relay = await startRelayOn(kind, {
      args: ['--token-issue-requests-per-minute', '1000', '--max-messages-per-second', '100000'],
    });
  });
  afterAll(async () => {
    await relay.stop();
  });

  it('kill -9 during a 1,000-message fan-out loses nothing that was acknowledged', async () => {
    const c = new RelayClient(relay.url);
    const account = await c.register();
    const mailboxCount = GROUP_SIZES.reduce((a, b) => a + b, 0);
    const tokens: WireToken[] = await c.tokens(account.session, MESSAGES + mailboxCount);
    const groups: { queue: string; members: Mailbox[] }[] = [];
    for (const size of GROUP_SIZES) {
      const queue = randomQueue();
      const members: Mailbox[] = [];
      for (let i = 0; i < size; i++) {
        const m = await c.mailbox(tokens.pop()!);
        await c.ok('/v1/queues/register', { queue, cap: capFor(queue), ...m });
        members.push(m);
      }
      groups.push({ queue, members });
    }

    const acked = new Map<string, Set<string>>(groups.map((g) => [g.queue, new Set()]));
    const senders = await Promise.all(Array.from({ length: SENDERS }, () => WsClient.open(relay.url)));
    let next = 0;
    let killed = false;
    const work = senders.map(async (ws) => {
      while (!killed && next < MESSAGES) {
        const i = next++;
        const g = groups[i % groups.length]!;
        const answer = await Promise.race([
          ws.request({ t: 'send', queue: g.queue, cap: capFor(g.queue), token: tokens.pop(), payload: b64u(new TextEncoder().encode(`msg ${i}`)) }),
          ws.closed.then((): Record<string, unknown> => ({ t: 'closed' })),
        ]);
        if (answer.t === 'sent') acked.get(g.queue)!.add(String(answer.id));
        else if (answer.t !== 'closed') throw new Error(`unexpected answer ${JSON.stringify(answer)}`);
      }
    });
    // Kill somewhere in the middle of the fan-out.
    const total = (): number => [...acked.values()].reduce((n, s) => n + s.size, 0);
    while (total() < MESSAGES * 0.4) await new Promise((r) => setTimeout(r, 5));
    relay.kill9();
    killed = true;
    await Promise.all(work);
    const ackedCount = total();
    expect(ackedCount).toBeGreaterThanOrEqual(MESSAGES * 0.4);
    expect(ackedCount).toBeLessThan(MESSAGES);

    if (relay.redis !== undefined) {
      // Everything acknowledged was appended to the AOF before the answer left: a Redis crash keeps it.
      await relay.redis.kill9();
      await relay.redis.restart();
    }
    await relay.restart();
    const c2 = new RelayClient(relay.url);
    for (const g of groups) {
      const want = acked.get(g.queue)!;
      for (const m of g.members) {
        const got = new Set((await c2.fetchAll(m, true)).map((x) => x.id));
        const missing = [...want].filter((id) => !got.has(id));
        expect(missing, `mailbox of a ${g.members.length}-member group`).toEqual([]);
      }
    }
  });
});
