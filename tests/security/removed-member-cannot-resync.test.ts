// Attacker: a member removed from a conversation, who kept everything their device held, including
// their rejoin ticket (or a backup with it). They must not get back in by resync, nor read a slot:
//  - every slot they knew was revoked with their removal: the relay answers 404 for it, so the ticket
//    opens nothing, on their old device or on a fresh one "restored" with it;
//  - even holding a live slot's keys (leaked by a member), their leaf is no longer in the group, so
//    there is nothing of theirs a resync may remove (V-EC-6): refused before anything is posted;
//  - the members' conversation is untouched (same epoch, same members) and goes on.
import { describe, expect, it } from 'vitest';
import { decodeRejoinTicket, encodeRejoinTicket } from '../../lib/background/healing/rejoin-ticket.ts';
import { RelayApi } from '../../lib/background/relay-api.ts';
import { toB64 } from '../../lib/bytes.ts';
import { relaySuite } from '../support/relay-suite.ts';
import { startDevice, waitUntil } from '../integration/support/device.ts';
import { chatOf, names, keptPair, slotStored } from '../integration/support/heal-pair.ts';

describe('a removed member cannot resync', () => {
  const suite = relaySuite();

  it('refuses the old ticket everywhere and leaves the conversation as it was', async () => {
    const { alice, bob, id } = await keptPair(suite);
    const bobTicket = (await chatOf(bob).healing.ticketFor(id))!;
    const old = decodeRejoinTicket(bobTicket);
    const api = new RelayApi(suite.relay.url);
    expect((await api.getInvite(toB64(old.slotId))).length).toBeGreaterThan(0);

    const bobId = (await alice.app.handlers['conversation.get']({ conversationId: id })).members.find((m) => m.displayName === 'Bob')!.memberId;
    await alice.app.handlers['conversation.removeMember']({ conversationId: id, memberId: bobId });
    await waitUntil(() => bob.app.snapshot.conversations.some((c) => c.id === id && c.status === 'removed'), 30_000, 'Bob removed');
    // Alice made a new slot at the removal's epoch, which Bob cannot derive.
    await waitUntil(async () => toB64(decodeRejoinTicket((await chatOf(alice).healing.ticketFor(id))!).slotId) !== toB64(old.slotId), 30_000, 'a new slot');
    await slotStored(suite.relay.url, (await chatOf(alice).healing.ticketFor(id))!);
    const live = decodeRejoinTicket((await chatOf(alice).healing.ticketFor(id))!);
    const before = await alice.app.handlers['conversation.get']({ conversationId: id });

    // The slot Bob knew is revoked at the relay: nothing to read.
    await expect(api.getInvite(toB64(old.slotId))).rejects.toMatchObject({ status: 404 });
    // On his old device: the conversation is not his to heal any more.
    await expect(chatOf(bob).healing.heal(id, bobTicket)).rejects.toMatchObject({ code: 'forbidden' });
    // On a fresh device restored with his ticket: the slot is gone.
    const fresh = await startDevice(suite.relay.url, 'Mallory');
    suite.keep(fresh);
    await waitUntil(() => fresh.app.snapshot.connection === 'online', 20_000, 'fresh device online');
    await expect(chatOf(fresh).healing.rejoin(id, bobTicket)).rejects.toMatchObject({ code: 'not-found' });
    // With a live slot's keys leaked to him: his leaf is not in the group, so there is nothing he may remove.
    const leaked = encodeRejoinTicket({ ...old, slotId: live.slotId, slotKey: live.slotKey, slotVerifyKey: live.slotVerifyKey });
    await expect(chatOf(fresh).healing.rejoin(id, leaked)).rejects.toMatchObject({ code: 'forbidden' });
    expect(fresh.app.snapshot.conversations.some((c) => c.id === id)).toBe(false);

    // The members' conversation is as it was, and goes on.
    await new Promise((r) => setTimeout(r, 500));
    const after = await alice.app.handlers['conversation.get']({ conversationId: id });
    expect(after.epoch).toBe(before.epoch);
    expect(await names(alice, id)).not.toContain('Bob');
    await alice.app.handlers['message.send']({ conversationId: id, text: 'still private' });
    expect(bob.received(id)).not.toContain('still private');
  }, 180_000);
});
