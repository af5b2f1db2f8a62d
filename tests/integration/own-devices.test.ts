/**
 * Everything shows on every device, over a real relay (docs/identity.md,
 * "Sync between a person's devices"): Alice's second device takes her
 * identity (exportForLink/importFromLink) and is added to her conversations
 * with addDevices, as linking does, starting with the hidden conversation of
 * her own devices. Then a text from one of her devices is hers on the other
 * (no unread, no notification) and Bob's as Alice's; reading on one clears
 * the other's unread count; a rename says "You renamed…"; leaving and
 * deleting act on both. A `sync` from a leaf that is not one of her devices
 * (another member, or a device claiming her identity that her roster does
 * not list) changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomId } from '../../lib/bytes.ts';
import type { AppMessage } from '../../lib/background/app-messages.ts';
import type { ChatService } from '../../lib/background/chat-service.ts';
import type { ConversationMeta } from '../../lib/background/chat-store.ts';
import type { DeviceAddress } from '../../lib/background/device-address.ts';
import * as text from '../../lib/background/text.ts';
import type { MessageView } from '../../lib/protocol/channel.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from './support/device.ts';
import { injectUnvouchedDevice, ownIdentityOf } from './support/identity.ts';

/** Waits are generous: these tests share two cores with the whole suite in CI, and each step is a relay round trip or a Commit. */
const SLOW = 2;

const chatOf = (d: Device): ChatService => (d.app as unknown as { chat: ChatService }).chat;
const metaOf = (d: Device, id: string): ConversationMeta | undefined => (chatOf(d) as unknown as { metas: Map<string, ConversationMeta> }).metas.get(id);
const sendAs = (d: Device, id: string, app: AppMessage): Promise<void> => (chatOf(d) as unknown as { sendApp(id: string, app: AppMessage): Promise<void> }).sendApp(id, app);
const listed = (d: Device, id: string) => d.app.snapshot.conversations.find((c) => c.id === id);
const unread = (d: Device, id: string): number | undefined => listed(d, id)?.unread;
const page = async (d: Device, id: string): Promise<MessageView[]> => (await d.app.handlers['messages.page']({ conversationId: id, beforeSeq: null, limit: 100 })).messages;
const joined = (d: Device, id: string): boolean => metaOf(d, id)?.status === 'active';

describe("a person's own devices over a real relay", () => {
  let relay: RelayProcess;
  let chromium: Device; // Alice's first device
  let firefox: Device; // Alice's second device
  let bob: Device;
  let mallory: Device;
  const addr: Record<string, DeviceAddress> = {};
  let selfId = '';
  let plans = '';

  /** Alice's device adds these devices to a conversation and waits until they joined and everyone knows everyone's identity. */
  async function addTo(id: string, devices: Device[]): Promise<void> {
    await chatOf(chromium).addDevices(
      id,
      devices.map((d) => addr[d.name]!),
    );
    await waitUntil(() => devices.every((d) => joined(d, id)), 20_000 * SLOW, 'joined by Welcome');
    const all = [chromium, ...devices];
    const known = (d: Device): boolean => {
      const m = metaOf(d, id);
      return m !== undefined && Object.keys(m.proofs ?? {}).length === m.memberCount - 1;
    };
    const missing = (): string => all.map((d) => `${d.name}: ${Object.keys(metaOf(d, id)?.proofs ?? {}).length}/${(metaOf(d, id)?.memberCount ?? 0) - 1}`).join(', ');
    await waitUntil(() => all.every(known), 20_000 * SLOW, () => `identities known (${missing()})`);
  }

  beforeAll(async () => {
    relay = await startRelay();
    [chromium, firefox, bob, mallory] = await Promise.all([
      startDevice(relay.url, 'Alice'),
      startDevice(relay.url, 'Firefox'),
      startDevice(relay.url, 'Bob'),
      startDevice(relay.url, 'Mallory'),
    ]);
    await waitUntil(() => [chromium, firefox, bob, mallory].every((d) => d.app.snapshot.connection === 'online'), 15_000 * SLOW, 'all online');
    for (const d of [firefox, bob, mallory]) addr[d.name] = await d.app.handlers['device.address']({});
    // Linking: Chromium signs a roster with both devices (Firefox's address in it), Firefox takes Alice's identity.
    const a = ownIdentityOf(chromium);
    await a.signRosterWith({ deviceKey: ownIdentityOf(firefox).deviceKey, name: 'Firefox on Linux', addedAt: Date.now(), address: addr.Firefox! });
    await ownIdentityOf(firefox).importFromLink(JSON.parse(JSON.stringify(a.exportForLink())) as unknown);
    // Mallory claims to be Alice with Alice's real roster, which does not list Mallory's device key.
    const alice = ownIdentityOf(chromium);
    injectUnvouchedDevice(mallory, { personId: alice.personId, identityKey: alice.identityKey, roster: alice.roster }, 'not-in-roster');
    // The linking job adds Firefox to each conversation; the first such add makes the conversation of
    // Alice's own devices and adds Firefox there first.
    ({ conversationId: plans } = await chromium.app.handlers['conversation.create']({ name: 'Plans' }));
    await addTo(plans, [firefox, bob]);
    selfId = await chatOf(chromium).selfConversation();
    await waitUntil(() => joined(firefox, selfId), 20_000 * SLOW, 'Firefox in the self conversation');
    await waitUntil(() => [chromium, firefox].every((d) => Object.keys(metaOf(d, selfId)?.proofs ?? {}).length === 1), 20_000 * SLOW, 'self conversation identities');
  }, 90_000 * SLOW);

  afterAll(async () => {
    for (const d of [chromium, firefox, bob, mallory]) d?.app.stop();
    await relay?.stop();
  });

  it('keeps the conversation of her own devices (only them) out of both lists', () => {
    expect(metaOf(firefox, selfId)?.selfSync).toBe(true);
    expect(metaOf(chromium, selfId)?.memberCount).toBe(2);
    expect(metaOf(chromium, selfId)?.selfDevices).toEqual([addr.Firefox!.accountId]);
    expect(listed(chromium, selfId)).toBeUndefined();
    expect(listed(firefox, selfId)).toBeUndefined();
    expect(selfId).toBe(metaOf(chromium, selfId)!.id);
  });

  it("shows a text from Firefox as Alice's own on Chromium (no unread, no notification) and as Alice's on Bob's", async () => {
    await firefox.app.handlers['message.send']({ conversationId: plans, text: 'from Firefox' });
    await waitUntil(async () => (await page(chromium, plans)).some((m) => m.text === 'from Firefox'), 15_000 * SLOW, 'Chromium has it');
    await waitUntil(async () => (await page(bob, plans)).some((m) => m.text === 'from Firefox'), 15_000 * SLOW, 'Bob has it');
    const mine = (await page(chromium, plans)).find((m) => m.text === 'from Firefox')!;
    expect(mine.sender.self).toBe(true);
    expect(unread(chromium, plans)).toBe(0);
    expect(listed(chromium, plans)?.lastMessage?.fromSelf).toBe(true);
    // Bob is notified of Alice's text; Chromium, where it is her own, is not.
    await waitUntil(() => bob.notified.some((n) => n.kind === 'show' && n.conversationId === plans), 15_000 * SLOW, 'Bob notified');
    expect(chromium.notified.filter((n) => n.kind === 'show' && n.conversationId === plans)).toEqual([]);
    const bobs = (await page(bob, plans)).find((m) => m.text === 'from Firefox')!;
    expect(bobs.sender.self).toBe(false);
    expect(unread(bob, plans)).toBe(1);
  });

  it("reading on Chromium clears Firefox's unread count", async () => {
    await bob.app.handlers['message.send']({ conversationId: plans, text: 'hi Alice' });
    await waitUntil(() => unread(chromium, plans) === 1 && unread(firefox, plans) === 1, 15_000 * SLOW, 'unread on both');
    await chromium.app.handlers['conversation.markRead']({ conversationId: plans });
    await waitUntil(() => unread(firefox, plans) === 0, 15_000 * SLOW, "Firefox's unread cleared");
    // Its notification goes too, and Firefox owes no read receipt of its own (Chromium sent it).
    await waitUntil(() => firefox.notified.some((n) => n.kind === 'clear' && n.conversationId === plans), 15_000 * SLOW, "Firefox's notification cleared");
    expect(metaOf(firefox, plans)!.receiptsDue?.read ?? []).toEqual([]);
  });

  it('says "You renamed…" on Chromium for a rename on Firefox', async () => {
    await firefox.app.handlers['conversation.rename']({ conversationId: plans, name: 'Trip' });
    await waitUntil(async () => (await page(chromium, plans)).some((m) => m.text === text.youRenamed('Trip')), 15_000 * SLOW, 'renamed on Chromium');
    await waitUntil(async () => (await page(bob, plans)).some((m) => m.kind === 'system' && m.text.endsWith('renamed the conversation to “Trip”.')), 15_000 * SLOW, 'renamed at Bob');
  });

  it('ignores a sync from a member who is not one of her devices: Bob, and Mallory who claims her identity', async () => {
    await addTo(plans, [mallory]);
    await bob.app.handlers['message.send']({ conversationId: plans, text: 'unread for Alice' });
    await waitUntil(() => unread(chromium, plans) === 1 && unread(firefox, plans) === 1, 15_000 * SLOW, 'unread on both');
    const last = (await page(chromium, plans)).filter((m) => m.kind === 'text').at(-1)!;
    const before = { chromium: metaOf(chromium, plans)!, firefox: metaOf(firefox, plans)! };
    for (const attacker of [bob, mallory]) {
      await sendAs(attacker, plans, { v: 1, t: 'sync', id: randomId(), at: Date.now(), action: 'read', conversationId: plans, upTo: last.id });
      await sendAs(attacker, plans, { v: 1, t: 'sync', id: randomId(), at: Date.now(), action: 'delete', conversationId: plans });
      await sendAs(attacker, plans, { v: 1, t: 'sync', id: randomId(), at: Date.now(), action: 'leave', conversationId: plans });
    }
    // A text after them, in the same queue: once it is here, so were the syncs.
    await bob.app.handlers['message.send']({ conversationId: plans, text: 'after the syncs' });
    await waitUntil(() => unread(chromium, plans) === 2 && unread(firefox, plans) === 2, 15_000 * SLOW, 'the next text on both');
    for (const d of [chromium, firefox]) {
      const now = metaOf(d, plans)!;
      expect(now.status).toBe('active');
      expect(now.readSeq).toBe(before[d === chromium ? 'chromium' : 'firefox'].readSeq);
    }
    // Mallory's text is not Alice's on either device.
    await mallory.app.handlers['message.send']({ conversationId: plans, text: 'I am Alice' });
    await waitUntil(async () => (await page(firefox, plans)).some((m) => m.text === 'I am Alice'), 15_000 * SLOW, 'Mallory’s text');
    expect((await page(firefox, plans)).find((m) => m.text === 'I am Alice')!.sender.self).toBe(false);
    expect(unread(firefox, plans)).toBe(3);
  });

  it('leaving on Chromium leaves on Firefox, with the same system text', async () => {
    const { conversationId: party } = await chromium.app.handlers['conversation.create']({ name: 'Party' });
    await addTo(party, [firefox, bob]);
    await chromium.app.handlers['conversation.leave']({ conversationId: party });
    await waitUntil(() => listed(firefox, party)?.status === 'left', 20_000 * SLOW, 'Firefox left');
    expect((await page(firefox, party)).at(-1)!.text).toBe(text.YOU_LEFT);
  });

  it('deleting for me on Firefox deletes on Chromium', async () => {
    const { conversationId: old } = await chromium.app.handlers['conversation.create']({ name: 'Old' });
    await addTo(old, [firefox, bob]);
    await firefox.app.handlers['conversation.delete']({ conversationId: old });
    await waitUntil(() => listed(chromium, old) === undefined && metaOf(chromium, old) === undefined, 20_000 * SLOW, 'Chromium deleted it');
    expect(listed(bob, old)?.status).toBe('active');
  });
});
