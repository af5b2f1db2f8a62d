// Attack: Mallory, removed from a conversation, deletes its relay queue with
// the queue id and the queue capabilities her client held, so the others'
// sends fail and everything waiting is lost. The capability rotated with the
// Commit that removed her: the relay refuses, and the others keep talking.
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../integration/support/device.ts';
import { withScenario } from './support/with-scenario.ts';

describe('a removed member deletes the queue', () => {
  const s = withScenario();

  it('deleting with any capability she held is refused; Alice and Bob still talk afterwards', async () => {
    await s.removeMallory();
    const { client } = await s.attacker(1);
    // Every capability she held, and the queue id alone (the API before capabilities).
    for (const cap of [...s.loot.caps, undefined]) {
      const r = await client.post('/v1/queues/delete', { queue: s.loot.queue, ...(cap === undefined ? {} : { cap }) });
      expect(r.status, `deleted with ${cap ?? 'the queue id alone'}: ${JSON.stringify(r.body)}`).not.toBe(200);
    }
    expect(s.loot.caps.length, 'her client presented capabilities').toBeGreaterThan(0);
    await s.aliceSays('still here?');
    await s.bob.app.handlers['message.send']({ conversationId: s.conv, text: 'still here.' });
    await waitUntil(() => s.alice.received(s.conv).includes('still here.'), 15_000, 'Alice reads Bob');
    const page = await s.alice.app.handlers['messages.page']({ conversationId: s.conv, beforeSeq: null, limit: 50 });
    expect(page.messages.filter((m) => m.status === 'failed')).toEqual([]);
  });
});
