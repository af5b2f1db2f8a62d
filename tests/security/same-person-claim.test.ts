/**
 * A person's rich messages from any of their devices, over a real relay
 * (rich-record.ts R-RICH-2/3, identity/same-person.ts): Alice's Firefox edits,
 * deletes for everyone and takes back the reaction of what her Chromium sent,
 * and every device (hers, Bob's, Mallory's) applies it, because her identity
 * vouches for both leaves. Another person is still refused, on the sending
 * side and, past it (a modified client), on every receiving device: Bob, and
 * Mallory, who claims to be Alice with her real roster, which does not list
 * Mallory's device.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatService } from '../../lib/background/chat-service.ts';
import type { ConversationMeta, MessageRecord } from '../../lib/background/chat-store.ts';
import type { DeviceAddress } from '../../lib/background/device-address.ts';
import { outgoing, type OutgoingContent } from '../../lib/background/mimi-wire.ts';
import * as text from '../../lib/background/text.ts';
import type { MessageView } from '../../lib/protocol/channel.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from './support/device.ts';
import { injectUnvouchedDevice, ownIdentityOf } from './support/identity.ts';

/** Waits are generous: these tests share two cores with the whole suite in CI, and each step is a relay round trip or a Commit. */
const SLOW = 2;

const chatOf = (d: Device): ChatService => (d.app as unknown as { chat: ChatService }).chat;
const metaOf = (d: Device, id: string): ConversationMeta | undefined => (chatOf(d) as unknown as { metas: Map<string, ConversationMeta> }).metas.get(id);
/** Send any content as this member, past the sending-side checks (a modified client). */
const sendRaw = (d: Device, id: string, c: OutgoingContent): Promise<void> => (chatOf(d) as unknown as { sendApp(id: string, c: OutgoingContent): Promise<void> }).sendApp(id, c);

describe("a person's rich messages from any of their devices, over a real relay", () => {
  let relay: RelayProcess;
  let chromium: Device; // Alice's first device
  let firefox: Device; // Alice's second device
  let bob: Device;
  let mallory: Device; // claims to be Alice; her roster does not list this device
  let all: Device[] = [];
  const addr: Record<string, DeviceAddress> = {};
  let conv = '';
  const page = async (d: Device): Promise<MessageView[]> => (await d.app.handlers['messages.page']({ conversationId: conv, beforeSeq: null, limit: 200 })).messages;
  const find = async (d: Device, id: string): Promise<MessageView | undefined> => (await page(d)).find((m) => m.id === id);
  const everyone = async (what: string, cond: (m: MessageView | undefined) => boolean, id: string): Promise<void> => {
    for (const d of all) await waitUntil(async () => cond(await find(d, id)), 20_000 * SLOW, `${d.name}: ${what}`);
  };
  /** A text from `d` seen everywhere: everything `d` sent before it was handled on every device. */
  const marker = async (d: Device): Promise<void> => {
    const m = await d.app.handlers['message.send']({ conversationId: conv, text: `marker from ${d.name}` });
    await everyone('the marker', (v) => v !== undefined, m.id);
  };
  const reactionCount = (v: MessageView | undefined, emoji: string): number => v?.reactions?.find((r) => r.emoji === emoji)?.count ?? 0;

  beforeAll(async () => {
    relay = await startRelay();
    [chromium, firefox, bob, mallory] = await Promise.all([
      startDevice(relay.url, 'Alice'),
      startDevice(relay.url, 'Firefox'),
      startDevice(relay.url, 'Bob'),
      startDevice(relay.url, 'Mallory'),
    ]);
    all = [chromium, firefox, bob, mallory];
    await waitUntil(() => all.every((d) => d.app.snapshot.connection === 'online'), 15_000 * SLOW, 'all online');
    for (const d of [firefox, bob, mallory]) addr[d.name] = await d.app.handlers['device.address']({});
    // Linking by hand: Chromium signs a roster with Firefox in it, Firefox takes Alice's identity.
    const alice = ownIdentityOf(chromium);
    await alice.signRosterWith({ deviceKey: ownIdentityOf(firefox).deviceKey, name: 'Firefox on Linux', addedAt: Date.now(), address: addr.Firefox! });
    await ownIdentityOf(firefox).importFromLink(JSON.parse(JSON.stringify(alice.exportForLink())) as unknown);
    injectUnvouchedDevice(mallory, { personId: alice.personId, identityKey: alice.identityKey, roster: alice.roster }, 'not-in-roster');

    ({ conversationId: conv } = await chromium.app.handlers['conversation.create']({ name: 'Plans' }));
    await chatOf(chromium).addDevices(conv, [addr.Firefox!, addr.Bob!, addr.Mallory!]);
    await waitUntil(() => all.every((d) => metaOf(d, conv)?.status === 'active'), 20_000 * SLOW, 'joined by Welcome');
    // Everyone has every other member's `person` message (Mallory's included: it is kept, unvouched).
    const known = (d: Device): boolean => Object.keys(metaOf(d, conv)?.proofs ?? {}).length === all.length - 1;
    await waitUntil(() => all.every(known), 20_000 * SLOW, 'identities known');
  }, 120_000 * SLOW);

  afterAll(async () => {
    for (const d of all) d?.app.stop();
    await relay?.stop();
  });

  it("Firefox edits Chromium's text: the new text, edited, on every device; Chromium and Firefox show it as Alice's own", async () => {
    const m = await chromium.app.handlers['message.send']({ conversationId: conv, text: 'Dinner at 7' });
    await everyone('the text', (v) => v !== undefined, m.id);
    expect((await find(firefox, m.id))!.sender.self).toBe(true);
    await firefox.app.handlers['message.edit']({ conversationId: conv, messageId: m.id, text: 'Dinner at 8' });
    await everyone('the edit', (v) => v?.text === 'Dinner at 8' && v.edited === true, m.id);
    expect((await find(bob, m.id))!.versions).toEqual([expect.objectContaining({ text: 'Dinner at 7' })]);
  });

  it("Firefox deletes Chromium's text for everyone: gone on every device", async () => {
    const m = await chromium.app.handlers['message.send']({ conversationId: conv, text: 'My door code is 4711' });
    await everyone('the text', (v) => v !== undefined, m.id);
    await firefox.app.handlers['message.deleteForEveryone']({ conversationId: conv, messageId: m.id });
    await everyone('deleted', (v) => v?.deleted === true && v.text === text.MESSAGE_DELETED, m.id);
  });

  it("Firefox takes back the reaction Chromium made, and adds none of its own twice (one per person and emoji)", async () => {
    const m = await bob.app.handlers['message.send']({ conversationId: conv, text: 'Tickets booked' });
    await everyone('the text', (v) => v !== undefined, m.id);
    await chromium.app.handlers['message.react']({ conversationId: conv, messageId: m.id, emoji: '🎉' });
    await everyone('the reaction', (v) => reactionCount(v, '🎉') === 1, m.id);
    expect((await find(firefox, m.id))!.reactions).toEqual([{ emoji: '🎉', count: 1, people: [text.YOU], mine: true }]);
    // Already Alice's reaction: Firefox sends nothing, so nobody counts two.
    await firefox.app.handlers['message.react']({ conversationId: conv, messageId: m.id, emoji: '🎉' });
    await firefox.app.handlers['message.unreact']({ conversationId: conv, messageId: m.id, emoji: '🎉' });
    await everyone('the reaction gone', (v) => v !== undefined && reactionCount(v, '🎉') === 0, m.id);
  });

  it('another person is refused before sending: Bob, and Mallory who claims to be Alice', async () => {
    const m = await chromium.app.handlers['message.send']({ conversationId: conv, text: 'Meet at the station' });
    await everyone('the text', (v) => v !== undefined, m.id);
    for (const d of [bob, mallory]) {
      await expect(d.app.handlers['message.edit']({ conversationId: conv, messageId: m.id, text: 'Meet at the pier' })).rejects.toMatchObject({ code: 'forbidden' });
      await expect(d.app.handlers['message.deleteForEveryone']({ conversationId: conv, messageId: m.id })).rejects.toMatchObject({ code: 'forbidden' });
    }
  });

  it("past the sending checks, Bob's and Mallory's edit, delete and unreact of Alice's are refused on every device", async () => {
    const m = await chromium.app.handlers['message.send']({ conversationId: conv, text: 'Bring the tent' });
    await everyone('the text', (v) => v !== undefined, m.id);
    await firefox.app.handlers['message.react']({ conversationId: conv, messageId: m.id, emoji: '👍' });
    await everyone('Alice’s reaction', (v) => reactionCount(v, '👍') === 1, m.id);
    // The reaction's own id, as every member learns it (a view does not carry it): read from Chromium's store.
    const store = (chatOf(chromium) as unknown as { store: { message(id: string, messageId: string): Promise<MessageRecord | undefined> } }).store;
    const reactionId = (await store.message(conv, m.id))!.reactions![0]!.id;
    for (const d of [bob, mallory]) {
      await sendRaw(d, conv, outgoing({ kind: 'edit', original: m.id, text: `Bring nothing (${d.name})` }));
      await sendRaw(d, conv, outgoing({ kind: 'unreact', reaction: reactionId, target: m.id }));
      await sendRaw(d, conv, outgoing({ kind: 'delete', original: m.id }));
      await marker(d);
    }
    for (const d of all) {
      const v = (await find(d, m.id))!;
      expect(v.text).toBe('Bring the tent');
      expect(v.edited).toBeUndefined();
      expect(v.deleted).toBeUndefined();
      expect(reactionCount(v, '👍')).toBe(1);
    }
    // Mallory is listed apart from Alice on Bob's device: her claim never made her one of Alice's devices.
    const people = (await bob.app.handlers['conversation.get']({ conversationId: conv })).people;
    expect(people.find((p) => p.personKey === ownIdentityOf(chromium).identityKey)?.devices).toHaveLength(2);
  });
});
