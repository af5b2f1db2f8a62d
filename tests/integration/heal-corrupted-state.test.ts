// A device whose stored group state for a conversation no longer opens (damaged on disk) rejoins it by
// resync with its own rejoin ticket, by itself: the next delivery for that conversation finds the state
// unreadable, the healer runs, and afterwards texts flow both ways and the "may be missing" note shows.
import { describe, expect, it } from 'vitest';
import type { SealedRecord } from '../../lib/background/vault.ts';
import { relaySuite } from '../support/relay-suite.ts';
import { startDevice, waitUntil } from './support/device.ts';
import { chatOf, exchange, names, notes, keptPair, restart } from './support/heal-pair.ts';

describe('a damaged group state heals', () => {
  const suite = relaySuite();

  it('rejoins by resync and the conversation goes on both ways', async () => {
    const { alice, bob: bob0, id } = await keptPair(suite);
    const epochBefore = (await alice.app.handlers['conversation.get']({ conversationId: id })).epoch;
    // The worker stops; its stored state for this conversation is damaged (one byte of the ciphertext).
    bob0.app.stop();
    const sealed = (await bob0.db.get('groups', id)) as SealedRecord;
    const ct = Uint8Array.from(sealed.ct);
    ct[ct.length - 1]! ^= 0x01;
    await bob0.db.put('groups', { ...sealed, ct }, id);
    const bob = await restart(suite.relay.url, bob0);
    suite.keep(bob);

    await alice.app.handlers['message.send']({ conversationId: id, text: 'while you were broken' });
    await waitUntil(async () => (await notes(bob, id)).some((n) => /may be missing/.test(n)), 60_000, 'Bob healed');
    expect(chatOf(bob).healing.healer.attempts.map((a) => a.reason)).toContain('state');
    await waitUntil(async () => (await notes(alice, id)).some((n) => /Bob's device rejoined/.test(n)), 30_000, 'Alice told');
    // The same member, not a new one: no "joined", no "removed", the name kept.
    expect(await names(alice, id)).toEqual(expect.arrayContaining(['Bob']));
    expect((await names(alice, id)).filter((n) => n.startsWith('Bob'))).toHaveLength(1);
    expect((await alice.app.handlers['conversation.get']({ conversationId: id })).epoch).toBeGreaterThan(epochBefore);
    await exchange(alice, bob, id, 'after healing');
    await exchange(bob, alice, id, 'and again');
  }, 180_000);

  it('a device without the conversation (restored from a backup) rejoins from the ticket alone', async () => {
    const { alice, bob, id } = await keptPair(suite);
    const ticket = (await chatOf(bob).healing.ticketFor(id))!;
    // The old device is lost; a new one holds only the ticket (what a backup keeps per conversation).
    bob.app.stop();
    const restored = await startDevice(suite.relay.url, 'Bob');
    suite.keep(restored);
    await waitUntil(() => restored.app.snapshot.connection === 'online', 20_000, 'new device online');
    await restored.app.healing!.rejoin(id, ticket);
    expect(restored.app.snapshot.conversations.find((c) => c.id === id)).toMatchObject({ status: 'active', name: 'Mended' });
    // A rejoin from a backup's ticket is a restore, and says so (healing/heal-text.ts resyncNote).
    await waitUntil(async () => (await notes(alice, id)).some((n) => /Bob restored their account on a new device/.test(n)), 30_000, 'Alice told');
    expect((await names(alice, id)).filter((n) => n.startsWith('Bob'))).toHaveLength(1);
    await exchange(alice, restored, id, 'after the restore');
  }, 180_000);
});
