/**
 * Attack: a hostile member deletes someone else's message for everyone.
 * Mallory's modified client sends MIMI deletes (`replaces` = the id of a
 * message, a null part) of Alice's message, of Bob's message that has
 * reactions and a reply, and, to get around "only the sender", an unlike of
 * Bob's reaction (a reaction may be taken back only by who made it).
 *
 * Defence: the sender of a delete is its MLS sender, and only the original
 * sender's delete counts (R-RICH-2, rich-record.ts; draft §9); only who
 * reacted takes a reaction back (R-RICH-3). Every receiving device refuses
 * them and writes nothing: the stored records are byte for byte what they
 * were, the quote of the reply still shows the original, and the senders can
 * still delete their own.
 */
import { describe, expect, it } from 'vitest';
import { outgoing } from '../../lib/background/mimi-wire.ts';
import * as text from '../../lib/background/text.ts';
import { waitUntil } from '../integration/support/device.ts';
import type { Scenario } from './support/removed-member-scenario.ts';
import { withScenario } from './support/with-scenario.ts';
import { SLOW, find, marker, rawRow, sendRaw, receiptsSettled } from './support/rich-attack.ts';

describe('a member deletes someone else’s message for everyone', () => {
  const s = withScenario();

  it('every device refuses the delete and the unlike, keeps the records unchanged; the senders can still delete', async () => {
    const devices = [s.alice, s.bob, s.mallory];
    const alices = await marker(s.alice, devices, s.conv, 'The meeting is on Friday');
    const bobs = await marker(s.bob, devices, s.conv, 'I will bring the slides');
    await s.bob.app.handlers['message.react']({ conversationId: s.conv, messageId: bobs.id, emoji: '👍' });
    const reply = await s.alice.app.handlers['message.reply']({ conversationId: s.conv, messageId: bobs.id, text: 'Thanks' });
    await Promise.all(devices.map((d) => waitUntil(async () => (await find(d, s.conv, bobs.id))?.reactions?.length === 1, 20_000 * SLOW, `${d.name} sees the reaction`)));
    await Promise.all(devices.map((d) => waitUntil(async () => (await find(d, s.conv, reply.id)) !== undefined, 20_000 * SLOW, `${d.name} has the reply`)));
    const bobsReaction = (await s.bob.app.handlers['messages.page']({ conversationId: s.conv, beforeSeq: null, limit: 50 })).messages.find((m) => m.id === bobs.id)!;
    expect(bobsReaction.reactions).toEqual([{ emoji: '👍', count: 1, people: [text.YOU], mine: true }]);
    const targets = [alices.id, bobs.id];
    await receiptsSettled(devices, s.conv);
    const before = await Promise.all(devices.map((d) => Promise.all(targets.map((id) => rawRow(d, s.conv, id)))));

    // Mallory's delete of each, and an unlike naming Bob's reaction (its id is the reaction message's id, known to every member).
    const reactionId = await reactionIdAt(s, bobs.id);
    await sendRaw(s.mallory, s.conv, outgoing({ kind: 'delete', original: alices.id }));
    await sendRaw(s.mallory, s.conv, outgoing({ kind: 'delete', original: bobs.id }));
    await sendRaw(s.mallory, s.conv, outgoing({ kind: 'unreact', reaction: reactionId, target: bobs.id }));
    await marker(s.mallory, devices, s.conv, 'after the deletes');

    for (const [i, d] of devices.entries()) {
      for (const [j, id] of targets.entries()) {
        const v = (await find(d, s.conv, id))!;
        expect(v.deleted, `${d.name}: ${id}`).toBeUndefined();
        expect(await rawRow(d, s.conv, id), `${d.name}'s stored record of ${id}`).toEqual(before[i]![j]);
      }
      expect((await find(d, s.conv, alices.id))!.text).toBe('The meeting is on Friday');
      expect((await find(d, s.conv, bobs.id))!.reactions?.[0]).toMatchObject({ emoji: '👍', count: 1 });
      expect((await find(d, s.conv, reply.id))!.quote).toMatchObject({ messageId: bobs.id, text: 'I will bring the slides' });
    }

    // Nothing is stuck: each sender's own delete still applies everywhere.
    await s.alice.app.handlers['message.deleteForEveryone']({ conversationId: s.conv, messageId: alices.id });
    await s.bob.app.handlers['message.deleteForEveryone']({ conversationId: s.conv, messageId: bobs.id });
    for (const d of devices) {
      for (const id of targets) await waitUntil(async () => (await find(d, s.conv, id))?.deleted === true, 20_000 * SLOW, `${d.name}: ${id} deleted by its sender`);
    }
  });
});

/** The id of the only reaction on a message, as Alice's store holds it (reactions are not in the view). */
async function reactionIdAt(s: Scenario, messageId: string): Promise<string> {
  const store = (s.alice.app as unknown as { chat: { store: { message(c: string, id: string): Promise<{ reactions?: { id: string }[] } | undefined> } } }).chat.store;
  const rec = await store.message(s.conv, messageId);
  const id = rec?.reactions?.[0]?.id;
  if (id === undefined) throw new Error('no reaction stored');
  return id;
}
