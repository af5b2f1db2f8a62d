// Attack: an outsider learns a conversation's queue id (it leaked; here it is
// taken from a member's requests) and registers a mailbox to the queue to
// receive the group's ciphertext, or posts to it, or deletes it. Without the
// current queue capability, which only members can derive from the epoch,
// every one of these is answered exactly like a queue that does not exist.
import { describe, expect, it } from 'vitest';
import { randomQueue } from '../relay/support/client.ts';
import { b64u } from '../relay/support/soft-authenticator.ts';
import { withScenario } from './support/with-scenario.ts';

describe('an outsider with the queue id registers a mailbox', () => {
  const s = withScenario();

  it('register, post and delete without the capability look like an unknown queue and change nothing', async () => {
    const { client, tokens } = await s.attacker();
    const mine = await client.mailbox(tokens.pop()!);
    const queue = s.loot.queue;
    expect(queue).not.toBe('');
    const guess = b64u(crypto.getRandomValues(new Uint8Array(32)));
    const unknown = await client.post('/v1/queues/delete', { queue: randomQueue(), cap: guess });
    expect(unknown.status).toBe(404);
    expect(await client.post('/v1/queues/register', { queue, cap: guess, ...mine })).toEqual(unknown);
    expect((await client.post('/v1/queues/register', { queue, ...mine })).status).not.toBe(200);
    expect(await client.post('/v1/queues/send', { queue, cap: guess, token: tokens.pop()!, payload: b64u(new Uint8Array(64)) })).toEqual(unknown);
    expect(await client.post('/v1/queues/delete', { queue, cap: guess })).toEqual(unknown);
    await s.aliceSays('only for members');
    expect(await client.fetchAll(mine)).toEqual([]);
  });
});
