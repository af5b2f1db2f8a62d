// The `person` app message through the pure inbox, on real MLS groups in
// memory: a claim counts only for its MLS sender's leaf, and a claim that
// breaks a verified person warns once and marks them changed.
import { ed25519 } from '@noble/curves/ed25519.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { getCipherSuite } from '../../../lib/crypto/suites.ts';
import { createCommit, createGroup, encodeMessage, generateIdentity, generateKeyPackage, joinFromWelcome, memberLeaf, removeProposal, sendApplicationMessage, type GroupState } from '../../../lib/mls/group.ts';
import { randomId, toB64 } from '../../../lib/bytes.ts';
import { encodeAppMessage, parseAppMessage, type AppMessage } from '../../../lib/background/app-messages.ts';
import type { ConversationMeta } from '../../../lib/background/chat-store.ts';
import { hashOf } from '../../../lib/background/conversations.ts';
import { ownMemberId } from '../../../lib/background/group-members.ts';
import { frame, interpret, ownCommitReturned, type InboxState } from '../../../lib/background/inbox.ts';
import { OwnIdentity } from '../../../lib/background/identity/own-identity.ts';
import { signLeafBinding } from '../../../lib/background/identity/leaf-binding.ts';
import { signRoster } from '../../../lib/background/identity/roster.ts';
import type { Verified } from '../../../lib/background/identity/verified-people.ts';
import type { PersonClaim } from '../../../lib/background/identity/person-proof.ts';
import { newPseudonym } from '../../../lib/background/member-names.ts';
import * as text from '../../../lib/background/text.ts';
import { freshStore } from './support.ts';

const suite = getCipherSuite(1);

async function twoMembers(): Promise<{ alice: GroupState; bob: GroupState }> {
  const creator = await createGroup(suite, await generateIdentity(suite, newPseudonym()));
  const kp = await generateKeyPackage(suite, await generateIdentity(suite, newPseudonym()));
  const add = await createCommit(creator, { proposals: [{ proposalType: 1, add: { keyPackage: kp.keyPackage } }] });
  return { alice: add.state, bob: await joinFromWelcome(add.welcome!, kp.keyPackage, kp.privateKeys) };
}

function metaFor(state: GroupState, over: Partial<ConversationMeta> = {}): ConversationMeta {
  return { v: 1, id: toB64(state.context.groupId), name: 'Plans', status: 'active', queue: toB64(new Uint8Array(32)), unread: 0, lastActivity: 1, nextSeq: 3, memberCount: 2, epoch: Number(state.context.epoch), invites: [], ...over };
}

const person = (claim: PersonClaim): AppMessage => ({ v: 1, t: 'person', id: randomId(), at: 5, ...claim });

describe('person claims in the inbox', () => {
  let alice: GroupState;
  let bob: GroupState;
  let bobId: OwnIdentity;
  let meta: ConversationMeta;
  const state = (m: ConversationMeta, verified?: ReadonlyMap<string, Verified>): InboxState => ({ meta: m, group: alice, pending: undefined, selfName: 'Alice', readReceipts: true, now: 1000, ...(verified === undefined ? {} : { verified }) });

  async function deliver(app: AppMessage, m = meta, verified?: ReadonlyMap<string, Verified>) {
    const sent = await sendApplicationMessage(bob, encodeAppMessage(app));
    bob = sent.state;
    const bytes = encodeMessage(sent.message);
    return interpret(frame(hashOf(bytes), bytes)!, state(m, verified));
  }

  const bobLeafKey = (): Uint8Array => memberLeaf(bob, bob.ownLeaf)!.signatureKey;
  const aliceLeafKey = (): Uint8Array => memberLeaf(alice, alice.ownLeaf)!.signatureKey;

  beforeAll(async () => {
    ({ alice, bob } = await twoMembers());
    const { db, vault } = await freshStore();
    bobId = await OwnIdentity.ensure(db, vault, 'Firefox on Linux', 7);
    meta = metaFor(alice, { names: { [ownMemberId(bob)]: 'Bob' } });
  });

  it("keeps a claim copied from another member's leaf only as the sender's, and unproven", async () => {
    // Bob presents a (valid) claim made for Alice's leaf: it speaks for Bob's leaf, and fails there.
    const out = await deliver(person(bobId.claimFor(alice.context.groupId, aliceLeafKey())));
    const next = out.transition.metas![0]!;
    expect(Object.keys(next.proofs!)).toEqual([ownMemberId(bob)]);
    expect(next.proofs![ownMemberId(bob)]!.signed).toBe(false);
    expect(next.proofs![ownMemberId(alice)]).toBeUndefined();
    expect(out.effects.map((e) => e.do)).toEqual([]);
  });

  it("records a valid claim under the sender's member id, with the roster", async () => {
    const out = await deliver(person(bobId.claimFor(bob.context.groupId, bobLeafKey())));
    const next = out.transition.metas![0]!;
    expect(next.proofs![ownMemberId(bob)]).toEqual({ personId: bobId.personId, identityKey: bobId.identityKey, deviceKey: bobId.deviceKey, signed: true });
    expect(next.rosters![bobId.identityKey]).toEqual(bobId.roster);
    expect(next.lastActivity).toBe(1000);
    expect(out.transition.messages ?? []).toEqual([]);
    expect(meta.proofs).toBeUndefined(); // nothing given in was changed
  });

  it("warns once, and marks the person changed, when a device their identity does not vouch for claims a verified person", async () => {
    const verified = new Map([[bobId.personId, { identityKey: bobId.identityKey }]]);
    const rogue = ed25519.utils.randomSecretKey();
    const claim: PersonClaim = { ...bobId.claimFor(bob.context.groupId, bobLeafKey()), deviceKey: toB64(ed25519.getPublicKey(rogue)), leafSig: toB64(signLeafBinding(rogue, bob.context.groupId, bobLeafKey())) };
    const out = await deliver(person(claim), meta, verified);
    expect(out.transition.messages!.map((m) => m.text)).toEqual([text.unvouchedDevice('Bob')]);
    expect(out.effects).toContainEqual({ do: 'identityChanged', personId: bobId.personId });
    // The same claim again: already warned.
    const again = await deliver(person(claim), out.transition.metas![0]!, verified);
    expect(again.transition.messages ?? []).toEqual([]);
    expect(again.effects.filter((e) => e.do === 'identityChanged')).toEqual([]);
  });

  it("warns when a verified person's identity key changed (same personId, another key that vouches for the device)", async () => {
    const verified = new Map([[bobId.personId, { identityKey: bobId.identityKey }]]);
    const other = ed25519.utils.randomSecretKey();
    const own = bobId.claimFor(bob.context.groupId, bobLeafKey());
    const personId = Uint8Array.from(Buffer.from(bobId.personId, 'base64url'));
    const claim: PersonClaim = { ...own, identityKey: toB64(ed25519.getPublicKey(other)), roster: signRoster(other, personId, 1, bobId.roster.devices) };
    const out = await deliver(person(claim), meta, verified);
    expect(out.transition.metas![0]!.proofs![ownMemberId(bob)]!.signed).toBe(true);
    expect(out.transition.messages!.map((m) => m.text)).toEqual([text.identityChanged('Bob')]);
    expect(out.effects).toContainEqual({ do: 'identityChanged', personId: bobId.personId });
  });

  it('does not warn about people nobody verified', async () => {
    const claim: PersonClaim = { ...bobId.claimFor(bob.context.groupId, bobLeafKey()), leafSig: toB64(new Uint8Array(64)) };
    const out = await deliver(person(claim), meta, new Map());
    expect(out.transition.metas![0]!.proofs![ownMemberId(bob)]!.signed).toBe(false);
    expect(out.transition.messages ?? []).toEqual([]);
  });

  it('forgets the proof (and the roster) of a member who is removed', async () => {
    const learned = (await deliver(person(bobId.claimFor(bob.context.groupId, bobLeafKey())))).transition.metas![0]!;
    expect(learned.proofs![ownMemberId(bob)]).toBeDefined();
    const r = await createCommit(alice, { proposals: [removeProposal(bob.ownLeaf)] });
    const out = ownCommitReturned({ hash: 'rm', baseEpoch: 1, state: r.state }, { meta: learned, group: alice, selfName: 'Alice', now: 2000 });
    const next = out.transition.metas![0]!;
    expect(next.proofs).toEqual({});
    expect(next.rosters).toEqual({});
  });

  it('ignores a malformed person message entirely (no proof recorded, nothing fails)', async () => {
    const bad = { ...person(bobId.claimFor(bob.context.groupId, bobLeafKey())), roster: { version: 0 } } as unknown as AppMessage;
    const out = await deliver(bad);
    expect(out.transition.metas![0]!.proofs).toBeUndefined();
    expect(out.effects).toEqual([]);
  });
});

describe('the person app message (strict parse)', () => {
  it('round-trips, and refuses extra fields or malformed claims', async () => {
    const { db, vault } = await freshStore();
    const me = await OwnIdentity.ensure(db, vault);
    const app = person(me.claimFor(new Uint8Array(32), new Uint8Array(32)));
    expect(parseAppMessage(encodeAppMessage(app))).toEqual(app);
    const bytes = (o: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(o));
    expect(parseAppMessage(bytes({ ...app, name: 'Alice' }))).toBeNull();
    expect(parseAppMessage(bytes({ ...app, personId: 'x' }))).toBeNull();
    expect(parseAppMessage(bytes({ ...app, roster: { ...app.t === 'person' ? app.roster : {}, devices: [] } }))).toBeNull();
    expect(parseAppMessage(bytes({ ...app, leafSig: undefined }))).toBeNull();
  });
});
