// Deletion proof: once the last mailbox acknowledges a message, and once an
// unacknowledged message passes its TTL and a sweep, its ciphertext is gone
// from the database files on disk, WAL included (searched byte for byte).
// On Redis: gone from every live key, and from the AOF once scrub() has had
// it rewritten (BGREWRITEAOF; the old AOF files are removed).
import { webcrypto } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS, startRelayOn, type StoreRelay } from './support/stores.ts';
import { RelayClient, capFor, randomQueue, type Mailbox, type WireToken } from './support/client.ts';
import { b64u } from './support/soft-authenticator.ts';
import { filesContaining, reachesDisk, until } from './support/store-files.ts';

function canary(label: string, size: number): Uint8Array {
  const tag = new TextEncoder().encode(`CANARY-${label}-`);
  const out = new Uint8Array(size);
  out.set(webcrypto.getRandomValues(new Uint8Array(size)));
  out.set(tag);
  return out;
}

describe.each(STORE_KINDS)('relay deletion proof (%s store)', (kind) => {
  let relay: StoreRelay;
  let c: RelayClient;
  let tokens: WireToken[];
  beforeAll(async () => {
    relay = await startRelayOn(kind, {
      args: ['--message-ttl-seconds', '2', '--sweep-interval-seconds', '1', '--scrub-interval-ms', '200'],
      redisArgs: ['--redis-aof-rewrite-interval-seconds', '0'],
    });
    c = new RelayClient(relay.url);
    const a = await c.register();
    tokens = await c.tokens(a.session, 20);
  });
  afterAll(async () => {
    await relay.stop();
  });

  const group = async (n: number): Promise<{ queue: string; members: Mailbox[] }> => {
    const queue = randomQueue();
    const members: Mailbox[] = [];
    for (let i = 0; i < n; i++) {
      const m = await c.mailbox(tokens.pop()!);
      await c.ok('/v1/queues/register', { queue, cap: capFor(queue), ...m });
      members.push(m);
    }
    return { queue, members };
  };

  for (const size of [200, 9000]) {
    it(`after the last ACK the ciphertext (${size} bytes) is gone from the store (relay.db and WAL, or Redis keys and AOF)`, async () => {
      const { queue, members } = await group(2);
      const secret = canary(`ack${size}`, size);
      const sent = await c.ok('/v1/queues/send', { queue, cap: capFor(queue), token: tokens.pop(), payload: b64u(secret) });
      // The search works: the canary is on disk while the message is pending.
      expect(await reachesDisk(relay, secret)).toBe(true);
      if (kind === 'redis') expect(await relay.inMemory(secret)).toBe(true);
      await c.ok('/v1/mailboxes/ack', { ...members[0], ids: [sent.id] });
      await new Promise((r) => setTimeout(r, 600));
      // One mailbox still waits: the message must still be there.
      expect((await c.fetchAll(members[1]!)).map((m) => m.id)).toEqual([sent.id]);
      await c.ok('/v1/mailboxes/ack', { ...members[1], ids: [sent.id] });
      if (kind === 'redis') expect(await relay.inMemory(secret)).toBe(false);
      expect(await until(() => filesContaining(relay, secret).length === 0, 5000)).toBe(true);
    });
  }

  it('after the TTL and a sweep an unacknowledged ciphertext is gone from the files', async () => {
    const { queue, members } = await group(1);
    const secret = canary('ttl', 3000);
    await c.ok('/v1/queues/send', { queue, cap: capFor(queue), token: tokens.pop(), payload: b64u(secret) });
    expect(await reachesDisk(relay, secret)).toBe(true);
    expect(await until(() => filesContaining(relay, secret).length === 0, 8000)).toBe(true);
    if (kind === 'redis') expect(await relay.inMemory(secret)).toBe(false);
    // Nothing is served; the mailbox itself, never read during the TTL, may already be dropped as idle.
    const left = await c.post('/v1/mailboxes/fetch', { ...members[0]! });
    if (left.status === 200) expect(left.body.messages).toEqual([]);
    else expect(left.status).toBe(404);
  });

  it('deleting the group removes its ciphertext from the files', async () => {
    const { queue } = await group(2);
    const secret = canary('group', 1500);
    await c.ok('/v1/queues/send', { queue, cap: capFor(queue), token: tokens.pop(), payload: b64u(secret) });
    expect(await reachesDisk(relay, secret)).toBe(true);
    await c.ok('/v1/queues/delete', { queue, cap: capFor(queue) });
    if (kind === 'redis') expect(await relay.inMemory(secret)).toBe(false);
    expect(await until(() => filesContaining(relay, secret).length === 0, 5000)).toBe(true);
  });
});
