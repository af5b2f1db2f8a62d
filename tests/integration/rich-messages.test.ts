/**
 * Rich messages over a real relay, three people (Alice creates, Bob and Carol
 * join by link), each a whole BackgroundApp: a reply with its quote, a
 * reaction and its unlike, an edit, a delete for everyone, seen alike on
 * every device. Then a hostile Carol (our own background, sending what the
 * sending checks would refuse, as a modified client would): her edit and her
 * delete of Alice's message are refused on every device, and a malformed
 * content from her shows as the sentence, not as a crash or an empty bubble.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatService } from '../../lib/background/chat-service.ts';
import type { ChatStore } from '../../lib/background/chat-store.ts';
import { outgoing, type OutgoingContent } from '../../lib/background/mimi-wire.ts';
import * as text from '../../lib/background/text.ts';
import type { MessageView } from '../../lib/protocol/channel.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from './support/device.ts';

const SLOW = Number(process.env.MICROCHAT_TEST_SLOW ?? 1);
const chatOf = (d: Device): ChatService => (d.app as unknown as { chat: ChatService }).chat;
/** Send any content as this member, past the sending-side checks (a modified client). */
const sendRaw = (d: Device, id: string, c: OutgoingContent): Promise<void> => (chatOf(d) as unknown as { sendApp(id: string, c: OutgoingContent): Promise<void> }).sendApp(id, c);

describe('rich messages over a real relay', () => {
  let relay: RelayProcess;
  let a: Device;
  let b: Device;
  let c: Device;
  let conv = '';
  const page = async (d: Device): Promise<MessageView[]> => (await d.app.handlers['messages.page']({ conversationId: conv, beforeSeq: null, limit: 200 })).messages;
  const find = async (d: Device, id: string): Promise<MessageView | undefined> => (await page(d)).find((m) => m.id === id);
  const everyone = async (what: string, cond: (m: MessageView | undefined, d: Device) => boolean, id: string): Promise<void> => {
    for (const d of [a, b, c]) await waitUntil(async () => cond(await find(d, id), d), 20_000 * SLOW, `${d.name}: ${what}`);
  };

  beforeAll(async () => {
    relay = await startRelay();
    [a, b, c] = await Promise.all([startDevice(relay.url, 'Alice'), startDevice(relay.url, 'Bob'), startDevice(relay.url, 'Carol')]);
    await waitUntil(() => [a, b, c].every((d) => d.app.snapshot.connection === 'online'), 15_000 * SLOW, 'all online');
    ({ conversationId: conv } = await a.app.handlers['conversation.create']({ name: 'Club' }));
    const inv = await a.app.handlers['invite.create']({ conversationId: conv, mode: 'expiring', expiresInHours: 1 });
    await b.app.handlers['invite.join']({ link: inv.link });
    await c.app.handlers['invite.join']({ link: inv.link });
    const knowsAll = async (d: Device): Promise<boolean> =>
      (await d.app.handlers['conversation.get']({ conversationId: conv })).members.filter((m) => ['Alice', 'Bob', 'Carol'].includes(m.displayName)).length === 3;
    for (const d of [a, b, c]) await waitUntil(() => knowsAll(d), 20_000 * SLOW, `${d.name} knows everyone`);
  }, 120_000 * SLOW);

  afterAll(async () => {
    for (const d of [a, b, c]) d?.app.stop();
    await relay?.stop();
  });

  it('a text and a reply: every device has both under the same MIMI id, the reply quoting the original', async () => {
    const original = await a.app.handlers['message.send']({ conversationId: conv, text: 'Lunch at noon?' });
    expect(original.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await everyone('the original', (m) => m?.text === 'Lunch at noon?', original.id);
    const reply = await b.app.handlers['message.reply']({ conversationId: conv, messageId: original.id, text: 'Yes!' });
    // The quote's seq is where the original is on the device showing it (each device numbers its own history).
    expect(reply.quote).toMatchObject({ messageId: original.id, seq: (await find(b, original.id))!.seq, senderName: 'Alice', text: 'Lunch at noon?' });
    await everyone('the reply with its quote', (m) => m?.text === 'Yes!' && m.quote?.messageId === original.id && m.quote.text === 'Lunch at noon?', reply.id);
    expect((await find(a, reply.id))!.quote!.senderName).toBe(text.YOU);
  });

  it('reactions: added and taken back, with counts and who reacted, alike on every device', async () => {
    const m = await a.app.handlers['message.send']({ conversationId: conv, text: 'Shipped 2.0' });
    await everyone('the message', (v) => v !== undefined, m.id);
    await b.app.handlers['message.react']({ conversationId: conv, messageId: m.id, emoji: '🎉' });
    await c.app.handlers['message.react']({ conversationId: conv, messageId: m.id, emoji: '🎉' });
    await c.app.handlers['message.react']({ conversationId: conv, messageId: m.id, emoji: '👍' });
    await everyone('three reactions', (v) => v?.reactions?.reduce((n, r) => n + r.count, 0) === 3, m.id);
    // Bob's and Carol's 🎉 may reach the relay in either order: who reacted is compared as a set.
    const onA = (await find(a, m.id))!.reactions!.map((r) => ({ ...r, people: [...r.people].sort() }));
    expect(onA).toEqual([
      { emoji: '🎉', count: 2, people: ['Bob', 'Carol'], mine: false },
      { emoji: '👍', count: 1, people: ['Carol'], mine: false },
    ]);
    // Each device lists who reacted in the order it learnt of it: Carol's own came first on hers.
    const onC = (await find(c, m.id))!.reactions!.find((r) => r.emoji === '🎉')!;
    expect({ ...onC, people: [...onC.people].sort() }).toEqual({ emoji: '🎉', count: 2, people: ['Bob', text.YOU].sort(), mine: true });
    await c.app.handlers['message.unreact']({ conversationId: conv, messageId: m.id, emoji: '🎉' });
    await everyone('Carol’s 🎉 gone', (v) => v?.reactions?.find((r) => r.emoji === '🎉')?.count === 1, m.id);
    expect((await find(b, m.id))!.reactions).toEqual([
      { emoji: '🎉', count: 1, people: [text.YOU], mine: true },
      { emoji: '👍', count: 1, people: ['Carol'], mine: false },
    ]);
  });

  it('an edit by the sender: the new text, "edited", and the earlier version, on every device', async () => {
    const m = await b.app.handlers['message.send']({ conversationId: conv, text: 'See you at the caffe' });
    await everyone('the message', (v) => v !== undefined, m.id);
    await b.app.handlers['message.edit']({ conversationId: conv, messageId: m.id, text: 'See you at the café' });
    await everyone('the edit', (v) => v?.text === 'See you at the café' && v.edited === true, m.id);
    for (const d of [a, b, c]) expect((await find(d, m.id))!.versions!.map((v) => v.text)).toEqual(['See you at the caffe']);
    // Alice may not edit Bob's message: refused before anything is sent.
    await expect(a.app.handlers['message.edit']({ conversationId: conv, messageId: m.id, text: 'mine now' })).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('delete for everyone: the content leaves every device, "Message deleted" shows, and quotes of it say so', async () => {
    const m = await c.app.handlers['message.send']({ conversationId: conv, text: 'my bank PIN is 1234' });
    await everyone('the message', (v) => v !== undefined, m.id);
    const reply = await a.app.handlers['message.reply']({ conversationId: conv, messageId: m.id, text: 'Delete that!' });
    await everyone('the reply', (v) => v !== undefined, reply.id);
    await c.app.handlers['message.deleteForEveryone']({ conversationId: conv, messageId: m.id });
    await everyone('deleted', (v) => v?.deleted === true && v.text === text.MESSAGE_DELETED, m.id);
    for (const d of [a, b, c]) {
      expect(JSON.stringify(await page(d))).not.toContain('PIN is 1234');
      expect((await find(d, reply.id))!.quote).toMatchObject({ messageId: m.id, deleted: true, text: '' });
      // Not hidden but gone: the stored record itself no longer holds it (the vault opens it for us here).
      const rec = (await (chatOf(d) as unknown as { store: ChatStore }).store.message(conv, m.id))!;
      expect(rec).toMatchObject({ text: text.MESSAGE_DELETED, deleted: true });
      expect(JSON.stringify(rec)).not.toContain('PIN is 1234');
    }
  });

  it('a hostile member’s edit and delete of someone else’s message are refused on every device', async () => {
    const m = await a.app.handlers['message.send']({ conversationId: conv, text: 'Meet at 6' });
    await everyone('the message', (v) => v !== undefined, m.id);
    await sendRaw(c, conv, outgoing({ kind: 'edit', original: m.id, text: 'Meet at 9' }));
    await sendRaw(c, conv, outgoing({ kind: 'delete', original: m.id }));
    // A later message from Carol shows that hers before it were handled everywhere.
    const marker = await c.app.handlers['message.send']({ conversationId: conv, text: 'marker' });
    await everyone('the marker', (v) => v !== undefined, marker.id);
    for (const d of [a, b, c]) {
      const v = (await find(d, m.id))!;
      expect(v.text).toBe('Meet at 6');
      expect(v.edited).toBeUndefined();
      expect(v.deleted).toBeUndefined();
    }
  });

  it('a malformed content shows as the sentence, from its sender, and the conversation carries on', async () => {
    await sendRaw(c, conv, { t: 'content', bytes: new Uint8Array([0x87, 0x50, 1, 2]), salt: new Uint8Array(16) });
    const after = await c.app.handlers['message.send']({ conversationId: conv, text: 'still here' });
    for (const d of [a, b]) {
      await waitUntil(async () => (await find(d, after.id)) !== undefined, 20_000 * SLOW, `${d.name}: the text after`);
      const bad = (await page(d)).filter((v) => v.unshowable === true);
      expect(bad).toHaveLength(1);
      expect(bad[0]).toMatchObject({ kind: 'text', text: text.CANT_SHOW, sender: { displayName: 'Carol' } });
    }
  });
});
