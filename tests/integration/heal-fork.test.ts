// A forked member: Bob's state took a Commit nobody else has (made here and never posted), so Bob and
// Alice hold the same epoch number with different secrets. Alice's texts at that epoch carry her epoch's
// fork-check tag, which is not Bob's, and do not decrypt for him: after two of them in a row the healer
// rejoins by resync; the note shows and texts flow both ways again.
import { describe, expect, it } from 'vitest';
import type { Conversations } from '../../lib/background/conversations.ts';
import { createCommit } from '../../lib/mls/group.ts';
import { relaySuite } from '../support/relay-suite.ts';
import { waitUntil, type Device } from './support/device.ts';
import { chatOf, exchange, notes, keptPair } from './support/heal-pair.ts';

const convs = (d: Device): Conversations => (chatOf(d) as unknown as { c: Conversations }).c;

describe('a forked member is detected and heals', () => {
  const suite = relaySuite();

  it('tells the fork from the tags, rejoins, and the conversation goes on', async () => {
    const { alice, bob, id } = await keptPair(suite);
    // Bob forks: a Commit of his own applied here only.
    const c = convs(bob);
    const forked = await createCommit(await c.group(id), { proposals: [] });
    await c.serial(() => c.apply({ groups: [{ id, state: forked.state }] }));
    // Alice moves to the same epoch number by a Commit of hers, then writes in it.
    await chatOf(alice).selfUpdate(id);
    expect((await alice.app.handlers['conversation.get']({ conversationId: id })).epoch).toBe(Number(forked.state.context.epoch));
    await alice.app.handlers['message.send']({ conversationId: id, text: 'one' });
    await alice.app.handlers['message.send']({ conversationId: id, text: 'two' });

    await waitUntil(async () => (await notes(bob, id)).some((n) => /may be missing/.test(n)), 60_000, 'Bob healed');
    expect(chatOf(bob).healing.healer.attempts.map((a) => a.reason)).toEqual(['fork']);
    expect(bob.received(id)).not.toContain('one');
    await waitUntil(async () => (await notes(alice, id)).some((n) => /Bob's device rejoined/.test(n)), 30_000, 'Alice told');
    await exchange(alice, bob, id, 'after healing');
    await exchange(bob, alice, id, 'and again');
  }, 180_000);
});
