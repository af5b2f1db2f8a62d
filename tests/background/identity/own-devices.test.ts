// Our own other devices in the pure inbox, on real MLS groups in memory: a
// leaf vouched for by OUR identity key speaks as us (its text is ours, not
// unread, no notification, no receipt; its rename is "You renamed…"), and a
// leaf that only claims to be us (another identity, or a device our newest
// roster dropped) does not.
import { beforeEach, describe, expect, it } from 'vitest';
import { getCipherSuite } from '../../../lib/crypto/suites.ts';
import { createCommit, createGroup, encodeMessage, generateIdentity, generateKeyPackage, joinFromWelcome, memberLeaf, sendApplicationMessage, type GroupState } from '../../../lib/mls/group.ts';
import { randomId, toB64 } from '../../../lib/bytes.ts';
import { encodeAppMessage, type AppMessage } from '../../../lib/background/app-messages.ts';
import type { ConversationMeta } from '../../../lib/background/chat-store.ts';
import { hashOf } from '../../../lib/background/conversations.ts';
import { ownMemberId } from '../../../lib/background/group-members.ts';
import { frame, interpret, type InboxState, type Outcome } from '../../../lib/background/inbox.ts';
import { OwnIdentity } from '../../../lib/background/identity/own-identity.ts';
import { isOwnDevice, ownDeviceIds } from '../../../lib/background/identity/own-devices.ts';
import { newPseudonym } from '../../../lib/background/member-names.ts';
import * as text from '../../../lib/background/text.ts';
import { freshStore } from './support.ts';

const suite = getCipherSuite(1);

async function twoLeaves(): Promise<{ a: GroupState; b: GroupState }> {
  const creator = await createGroup(suite, await generateIdentity(suite, newPseudonym()));
  const kp = await generateKeyPackage(suite, await generateIdentity(suite, newPseudonym()));
  const add = await createCommit(creator, { proposals: [{ proposalType: 1, add: { keyPackage: kp.keyPackage } }] });
  return { a: add.state, b: await joinFromWelcome(add.welcome!, kp.keyPackage, kp.privateKeys) };
}

function metaFor(state: GroupState): ConversationMeta {
  return { v: 1, id: toB64(state.context.groupId), name: 'Plans', status: 'active', queue: toB64(new Uint8Array(32)), unread: 0, lastActivity: 1, nextSeq: 3, memberCount: 2, epoch: Number(state.context.epoch), invites: [] };
}

const text1 = (body: string): AppMessage => ({ v: 1, t: 'text', id: randomId(), at: 5, text: body });

describe('our other devices in a conversation', () => {
  let here: GroupState; // this device (Alice on Chromium)
  let there: GroupState; // the other leaf: Alice on Firefox, or someone else
  let aliceHere: OwnIdentity;
  let aliceThere: OwnIdentity;

  beforeEach(async () => {
    ({ a: here, b: there } = await twoLeaves());
    aliceHere = await OwnIdentity.ensure(...(Object.values(await freshStore()) as [never, never]), 'Chromium on Linux', 1);
    aliceThere = await OwnIdentity.ensure(...(Object.values(await freshStore()) as [never, never]), 'Firefox on Linux', 2);
    // Linking: the new device takes the identity, the old one signs a roster with both devices.
    await aliceThere.importFromLink(aliceHere.exportForLink());
    await aliceHere.signRosterWith({ deviceKey: aliceThere.deviceKey, name: 'Firefox on Linux', addedAt: 2 });
    await aliceThere.adoptRoster(aliceHere.roster);
  });

  const state = (meta: ConversationMeta): InboxState => ({ meta, group: here, pending: undefined, selfName: 'Alice', readReceipts: true, now: 1000, own: aliceHere });

  async function deliver(app: AppMessage, meta: ConversationMeta): Promise<Outcome> {
    const sent = await sendApplicationMessage(there, encodeAppMessage(app));
    there = sent.state;
    const bytes = encodeMessage(sent.message);
    const out = await interpret(frame(hashOf(bytes), bytes)!, state(meta));
    here = out.transition.groups![0]!.state!;
    return out;
  }

  /** The other leaf proves `who`'s identity; returns the conversation's metadata after it. */
  async function proven(who: OwnIdentity): Promise<ConversationMeta> {
    const claim = who.claimFor(there.context.groupId, memberLeaf(there, there.ownLeaf)!.signatureKey);
    const out = await deliver({ v: 1, t: 'person', id: randomId(), at: 4, ...claim }, metaFor(here));
    return out.transition.metas![0]!;
  }

  it('shows a text from our other device as ours: not unread, no notification, no receipt', async () => {
    const meta = await proven(aliceThere);
    expect(isOwnDevice(meta, ownMemberId(there), aliceHere)).toBe(true);
    const out = await deliver(text1('from Firefox'), meta);
    const next = out.transition.metas![0]!;
    const msg = out.transition.messages![0]!;
    expect(msg.sender.self).toBe(true);
    expect(msg.sender.displayName).toBe('Alice');
    expect(msg.status).toBe('received');
    expect(next.unread).toBe(0);
    expect(next.receiptsDue).toBeUndefined();
    expect(next.lastMessage).toEqual({ preview: 'from Firefox', senderName: text.YOU, fromSelf: true });
    expect(out.effects.map((e) => e.do)).not.toContain('incoming');
    expect(out.effects.map((e) => e.do)).not.toContain('sendReceipts');
  });

  it('says "You renamed…" for a rename from our other device', async () => {
    const meta = await proven(aliceThere);
    const out = await deliver({ v: 1, t: 'rename', id: randomId(), at: 6, name: 'Trip' }, meta);
    expect(out.transition.messages!.map((m) => m.text)).toEqual([text.youRenamed('Trip')]);
  });

  it("is someone else's text when the leaf proves another identity", async () => {
    const bob = await OwnIdentity.ensure(...(Object.values(await freshStore()) as [never, never]), 'Bob', 3);
    const meta = await proven(bob);
    expect(isOwnDevice(meta, ownMemberId(there), aliceHere)).toBe(false);
    const out = await deliver(text1('hi'), meta);
    expect(out.transition.messages![0]!.sender.self).toBe(false);
    expect(out.transition.metas![0]!.unread).toBe(1);
    expect(out.effects.map((e) => e.do)).toContain('incoming');
  });

  it('is not ours once our newest roster dropped that device, even with the old roster in the conversation', async () => {
    const meta = await proven(aliceThere);
    await aliceHere.removeFromRoster(aliceThere.deviceKey);
    expect(isOwnDevice(meta, ownMemberId(there), aliceHere)).toBe(false);
    const out = await deliver(text1('still here'), meta);
    expect(out.transition.messages![0]!.sender.self).toBe(false);
    expect(out.transition.metas![0]!.unread).toBe(1);
  });

  it('is not ours without a proof, or without our identity loaded', async () => {
    const meta = metaFor(here);
    expect(isOwnDevice(meta, ownMemberId(there), aliceHere)).toBe(false);
    const proved = await proven(aliceThere);
    expect(isOwnDevice(proved, ownMemberId(there), undefined)).toBe(false);
    expect(isOwnDevice(proved, '', aliceHere)).toBe(false);
    expect([...ownDeviceIds(proved, [ownMemberId(there), ownMemberId(here)], aliceHere)]).toEqual([ownMemberId(there)]);
  });
});

describe('a sync in the inbox', () => {
  it("is passed on only from our own device; another member's changes nothing", async () => {
    const { a, b } = await twoLeaves();
    const here = await OwnIdentity.ensure(...(Object.values(await freshStore()) as [never, never]), 'Chromium', 1);
    const other = await OwnIdentity.ensure(...(Object.values(await freshStore()) as [never, never]), 'Firefox', 2);
    await other.importFromLink(here.exportForLink());
    await here.signRosterWith({ deviceKey: other.deviceKey, name: 'Firefox', addedAt: 2 });
    await other.adoptRoster(here.roster);
    const bob = await OwnIdentity.ensure(...(Object.values(await freshStore()) as [never, never]), 'Bob', 3);
    const sync: AppMessage = { v: 1, t: 'sync', id: randomId(), at: 6, action: 'delete', conversationId: 'c1' };
    for (const [who, passed] of [
      [other, true],
      [bob, false],
    ] as const) {
      let there = b;
      let group = a;
      const deliver = async (app: AppMessage, meta: ConversationMeta): Promise<Outcome> => {
        const sent = await sendApplicationMessage(there, encodeAppMessage(app));
        there = sent.state;
        const bytes = encodeMessage(sent.message);
        const out = await interpret(frame(hashOf(bytes), bytes)!, { meta, group, pending: undefined, selfName: 'Alice', readReceipts: true, now: 1000, own: here });
        group = out.transition.groups![0]!.state!;
        return out;
      };
      const claim = who.claimFor(there.context.groupId, memberLeaf(there, there.ownLeaf)!.signatureKey);
      const meta = (await deliver({ v: 1, t: 'person', id: randomId(), at: 4, ...claim }, metaFor(group))).transition.metas![0]!;
      const out = await deliver(sync, meta);
      expect(out.effects).toEqual(passed ? [{ do: 'deviceSync', sync: { action: 'delete', conversationId: 'c1' } }] : []);
      expect(out.transition.messages ?? []).toEqual([]);
      expect(out.transition.metas).toEqual([meta]);
    }
  });
});
