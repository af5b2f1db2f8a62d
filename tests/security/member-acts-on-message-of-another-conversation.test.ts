/**
 * Attack: a hostile member's reply, reaction, unlike, edit or delete names a
 * message of ANOTHER conversation, or an id nobody has. Mallory shares two
 * conversations with Alice and Bob; in the second she sends, naming messages
 * of the first (Alice's, and her own there, which she may edit in the first
 * but not from elsewhere) and a made-up id: a reaction, an edit, a delete, an
 * unlike and a reply to each. She hopes for a change in the first
 * conversation, a crash, or a claim parked forever waiting for its target.
 *
 * Defence: a message id is bound to its room (the MIMI id hashes the room
 * URI, draft §2.3), and every device looks a claim's target up in the
 * conversation the claim arrived in only (chat-store.ts `message`, keyed by
 * conversation and id); a target it does not have changes nothing and is
 * not kept (R-RICH-1); a reply to it shows a "missing" quote. The first
 * conversation's stored rows stay byte for byte the same, and both
 * conversations carry on.
 */
import { describe, expect, it } from 'vitest';
import { toB64 } from '../../lib/bytes.ts';
import { outgoing } from '../../lib/background/mimi-wire.ts';
import { waitUntil, type Device } from '../integration/support/device.ts';
import { withScenario } from './support/with-scenario.ts';
import { SLOW, find, marker, page, rawRows, sendRaw, receiptsSettled } from './support/rich-attack.ts';

describe('a member acts on a message of another conversation', () => {
  let other = '';
  const s = withScenario({
    timeout: 180_000 * SLOW,
    setup: async () => {
      ({ conversationId: other } = await s.alice.app.handlers['conversation.create']({ name: 'Second' }));
      const invite = await s.alice.app.handlers['invite.create']({ conversationId: other, mode: 'expiring', expiresInHours: 1 });
      await s.bob.app.handlers['invite.join']({ link: invite.link });
      await s.mallory.app.handlers['invite.join']({ link: invite.link });
      const knowsAll = async (d: Device): Promise<boolean> => (await d.app.handlers['conversation.get']({ conversationId: other })).members.length === 3;
      for (const d of [s.alice, s.bob, s.mallory]) await waitUntil(() => knowsAll(d), 30_000 * SLOW, `${d.name} sees three in the second conversation`);
    },
  });

  it('changes nothing in the other conversation, parks nothing, and both conversations carry on', async () => {
    const devices = [s.alice, s.bob, s.mallory];
    const alices = await marker(s.alice, devices, s.conv, 'First conversation, Alice');
    const mallorysOwn = (await page(s.alice, s.conv)).find((m) => m.text === 'hi, Mallory here')!;
    await marker(s.alice, devices, other, 'Second conversation, Alice');
    await receiptsSettled(devices, s.conv);
    const before = await Promise.all(devices.map((d) => rawRows(d, s.conv)));

    const unknown = toB64(Uint8Array.from([0x01, ...crypto.getRandomValues(new Uint8Array(31))]));
    const replies: string[] = [];
    for (const target of [alices.id, mallorysOwn.id, unknown]) {
      await sendRaw(s.mallory, other, outgoing({ kind: 'reaction', target, emoji: '😈' }));
      await sendRaw(s.mallory, other, outgoing({ kind: 'edit', original: target, text: 'rewritten from elsewhere' }));
      await sendRaw(s.mallory, other, outgoing({ kind: 'unreact', reaction: target, target }));
      await sendRaw(s.mallory, other, outgoing({ kind: 'delete', original: target }));
      const reply = `a reply to ${target.slice(0, 8)}`;
      await sendRaw(s.mallory, other, outgoing({ kind: 'text', text: reply, inReplyTo: target }));
      replies.push(reply);
    }
    await marker(s.mallory, devices, other, 'after the foreign claims');

    for (const [i, d] of devices.entries()) {
      // The first conversation: not one stored byte changed.
      expect(await rawRows(d, s.conv), `${d.name}: first conversation`).toEqual(before[i]);
      expect((await find(d, s.conv, mallorysOwn.id))!.text).toBe('hi, Mallory here');
      // The second: the replies show, quoting nothing (this conversation has no such message); the claims left no trace.
      // (Mallory's own device never stored what her modified client sent past it.)
      const msgs = await page(d, other);
      for (const r of d === s.mallory ? [] : replies) {
        const v = msgs.find((m) => m.text === r);
        expect(v, `${d.name}: ${r}`).toBeDefined();
        expect(v!.quote).toMatchObject({ missing: true, text: '' });
      }
      expect(msgs.some((m) => m.reactions !== undefined || m.edited === true || m.deleted === true)).toBe(false);
      expect(JSON.stringify(msgs)).not.toContain('rewritten from elsewhere');
    }

    // Both conversations carry on: texts, and a real reaction in each.
    const first = await marker(s.bob, devices, s.conv, 'still talking here');
    const second = await marker(s.bob, devices, other, 'and here');
    await s.alice.app.handlers['message.react']({ conversationId: s.conv, messageId: first.id, emoji: '👍' });
    await s.alice.app.handlers['message.react']({ conversationId: other, messageId: second.id, emoji: '👍' });
    for (const d of devices) {
      for (const [conv, id] of [[s.conv, first.id], [other, second.id]] as const) {
        await waitUntil(async () => (await find(d, conv, id))?.reactions?.[0]?.count === 1, 20_000 * SLOW, `${d.name}: the reaction`);
      }
    }
  });
});
