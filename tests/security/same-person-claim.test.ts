/**
 * Attack: a member claims to be another person's device, to edit, delete for
 * everyone, or take back the reactions of that person's messages
 * (identity/same-person.ts, rich-record.ts R-RICH-2/3). Alice has two devices
 * (Chromium and Firefox, linked: her identity key vouches for both leaves).
 * Mallory's client claims to be Alice with Alice's real, validly signed
 * roster, which does not list Mallory's device ('not-in-roster'); Eve's
 * claims Alice's personId and identity key with a roster Eve signed herself
 * ('other-identity'); Bob is simply another person. Past the sending checks
 * (a modified client), each sends edits, deletes and unreacts of Alice's.
 *
 * Defence: a member's person is the identity key whose proof holds for that
 * leaf (signed, and the device in the newest roster seen for that key); a
 * claim naming our identity that our roster does not list is nobody's. Every
 * receiving device refuses: the stored record of Alice's message is byte for
 * byte what it was. Alice's real second device still may, over the same relay.
 * (Moved here from tests/integration/own-devices-rich.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatService } from '../../lib/background/chat-service.ts';
import type { ConversationMeta, MessageRecord } from '../../lib/background/chat-store.ts';
import type { DeviceAddress } from '../../lib/background/device-address.ts';
import { outgoing, type OutgoingContent } from '../../lib/background/mimi-wire.ts';
import * as text from '../../lib/background/text.ts';
import type { MessageView } from '../../lib/protocol/channel.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from '../integration/support/device.ts';
import { injectUnvouchedDevice, ownIdentityOf } from '../integration/support/identity.ts';
import { rawRow } from './support/rich-attack.ts';

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
  let eve: Device; // claims Alice's identity key with a roster of her own
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
    [chromium, firefox, bob, mallory, eve] = await Promise.all([
      startDevice(relay.url, 'Alice'),
      startDevice(relay.url, 'Firefox'),
      startDevice(relay.url, 'Bob'),
      startDevice(relay.url, 'Mallory'),
      startDevice(relay.url, 'Eve'),
    ]);
    all = [chromium, firefox, bob, mallory, eve];
    await waitUntil(() => all.every((d) => d.app.snapshot.connection === 'online'), 15_000 * SLOW, 'all online');
    for (const d of [firefox, bob, mallory, eve]) addr[d.name] = await d.app.handlers['device.address']({});
    // Linking by hand: Chromium signs a roster with Firefox in it, Firefox takes Alice's identity.
    const alice = ownIdentityOf(chromium);
    await alice.signRosterWith({ deviceKey: ownIdentityOf(firefox).deviceKey, name: 'Firefox on Linux', addedAt: Date.now(), address: addr.Firefox! });
    await ownIdentityOf(firefox).importFromLink(JSON.parse(JSON.stringify(alice.exportForLink())) as unknown);
    injectUnvouchedDevice(mallory, { personId: alice.personId, identityKey: alice.identityKey, roster: alice.roster }, 'not-in-roster');
    injectUnvouchedDevice(eve, { personId: alice.personId, identityKey: alice.identityKey, roster: alice.roster }, 'other-identity');

    ({ conversationId: conv } = await chromium.app.handlers['conversation.create']({ name: 'Plans' }));
    await chatOf(chromium).addDevices(conv, [addr.Firefox!, addr.Bob!, addr.Mallory!, addr.Eve!]);
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

  it('another person is refused before sending: Bob, and Mallory and Eve who claim to be Alice', async () => {
    const m = await chromium.app.handlers['message.send']({ conversationId: conv, text: 'Meet at the station' });
    await everyone('the text', (v) => v !== undefined, m.id);
    for (const d of [bob, mallory, eve]) {
      await expect(d.app.handlers['message.edit']({ conversationId: conv, messageId: m.id, text: 'Meet at the pier' })).rejects.toMatchObject({ code: 'forbidden' });
      await expect(d.app.handlers['message.deleteForEveryone']({ conversationId: conv, messageId: m.id })).rejects.toMatchObject({ code: 'forbidden' });
    }
  });

  it("past the sending checks, Bob's, Mallory's and Eve's edit, delete and unreact of Alice's are refused on every device; the records are unchanged", async () => {
    const m = await chromium.app.handlers['message.send']({ conversationId: conv, text: 'Bring the tent' });
    await everyone('the text', (v) => v !== undefined, m.id);
    await firefox.app.handlers['message.react']({ conversationId: conv, messageId: m.id, emoji: '👍' });
    await everyone('Alice’s reaction', (v) => reactionCount(v, '👍') === 1, m.id);
    // The reaction's own id, as every member learns it (a view does not carry it): read from Chromium's store.
    const store = (chatOf(chromium) as unknown as { store: { message(id: string, messageId: string): Promise<MessageRecord | undefined> } }).store;
    const reactionId = (await store.message(conv, m.id))!.reactions![0]!.id;
    // Byte for byte on the devices that are not Alice's (on hers, delivery receipts still update her own record).
    const others = [bob, mallory, eve];
    const before = await Promise.all(others.map((d) => rawRow(d, conv, m.id)));
    for (const d of [bob, mallory, eve]) {
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
    for (const [i, d] of others.entries()) expect(await rawRow(d, conv, m.id), `${d.name}'s stored record`).toEqual(before[i]);
    // Mallory and Eve are listed apart from Alice on Bob's device: their claims never made them Alice's devices.
    const people = (await bob.app.handlers['conversation.get']({ conversationId: conv })).people;
    expect(people.find((p) => p.personKey === ownIdentityOf(chromium).identityKey)?.devices).toHaveLength(2);
    // Alice's real second device still may, after all that.
    await firefox.app.handlers['message.edit']({ conversationId: conv, messageId: m.id, text: 'Bring the big tent' });
    await everyone('Firefox’s edit', (v) => v?.text === 'Bring the big tent' && v.edited === true, m.id);
  });
});
