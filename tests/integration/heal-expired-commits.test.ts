// A member offline for longer than the relay keeps messages (a 2 s TTL here) missed Commits that are gone
// for good: its conversation's mailbox expired with them. On reconnect the relay refuses to subscribe that
// mailbox (not_found); the healer rejoins by resync with a new mailbox, the "may be missing" note shows,
// and texts flow both ways again.
import { describe, expect, it } from 'vitest';
import { relaySuite } from '../support/relay-suite.ts';
import { waitUntil } from './support/device.ts';
import { chatOf, exchange, notes, keptPair, restart } from './support/heal-pair.ts';

describe('a member whose commits expired at the relay heals on reconnect', () => {
  const suite = relaySuite({ args: ['--message-ttl-seconds', '2', '--sweep-interval-seconds', '1'] });

  it('rejoins by resync and the conversation goes on', async () => {
    const { alice, bob: bob0, id } = await keptPair(suite);
    bob0.app.stop();
    // While Bob is away: a Commit (new epoch) and a text, both expired by the time he is back.
    const epochBefore = (await alice.app.handlers['conversation.get']({ conversationId: id })).epoch;
    await chatOf(alice).selfUpdate(id);
    await alice.app.handlers['message.send']({ conversationId: id, text: 'said while you were away' });
    expect((await alice.app.handlers['conversation.get']({ conversationId: id })).epoch).toBe(epochBefore + 1);
    await new Promise((r) => setTimeout(r, 6_000));

    const bob = await restart(suite.relay.url, bob0);
    suite.keep(bob);
    await waitUntil(async () => (await notes(bob, id)).some((n) => /may be missing/.test(n)), 60_000, 'Bob healed');
    expect(chatOf(bob).healing.healer.attempts.some((a) => a.id === id && (a.reason === 'mailbox' || a.reason === 'gap'))).toBe(true);
    expect(bob.received(id)).not.toContain('said while you were away');
    await waitUntil(async () => (await notes(alice, id)).some((n) => /Bob's device rejoined/.test(n)), 30_000, 'Alice told');
    await exchange(alice, bob, id, 'after healing');
    await exchange(bob, alice, id, 'and again');
  }, 180_000);
});
