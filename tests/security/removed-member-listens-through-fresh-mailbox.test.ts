// Attack: Mallory is removed from a conversation, then registers a fresh
// mailbox to its queue with everything her client ever held (the queue id and
// every queue capability she presented), hoping to keep receiving the
// group's ciphertext. The capability rotated with the Commit that removed
// her, so the relay refuses, and her mailbox gets nothing the group sends.
import { describe, expect, it } from 'vitest';
import { withScenario } from './support/with-scenario.ts';

describe('a removed member listens through a fresh mailbox', () => {
  const s = withScenario();

  it('registering with the queue id and any capability she held is refused; she reads nothing sent after', async () => {
    await s.removeMallory();
    const { client, tokens } = await s.attacker();
    const fresh = await client.mailbox(tokens.pop()!);
    expect(s.loot.queue).not.toBe('');
    // Every capability she held, and the queue id alone (the API before capabilities).
    for (const cap of [...s.loot.caps, undefined]) {
      const r = await client.post('/v1/queues/register', { queue: s.loot.queue, ...(cap === undefined ? {} : { cap }), ...fresh });
      expect(r.status, `registered with ${cap ?? 'the queue id alone'}: ${JSON.stringify(r.body)}`).not.toBe(200);
    }
    await s.aliceSays('plans for after Mallory');
    expect(await client.fetchAll(fresh)).toEqual([]);
    expect(s.loot.caps.length, 'her client presented capabilities').toBeGreaterThan(0);
  });
});
