// Members grouped into people: proofs that hold group a person's devices,
// a member whose proof fails is never merged into the person it claims to
// be, our own other devices are "self", and the verified mark follows the
// identity key (changed when it differs or something changed since).
import { ed25519 } from '@noble/curves/ed25519.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { randomBytes, toB64 } from '../../../lib/bytes.ts';
import { OwnIdentity } from '../../../lib/background/identity/own-identity.ts';
import { learnClaim, pruneProofs, type ProofRecord } from '../../../lib/background/identity/member-proofs.ts';
import { groupPeople, personIdOf, verificationOf } from '../../../lib/background/identity/people.ts';
import { signLeafBinding } from '../../../lib/background/identity/leaf-binding.ts';
import { safetyNumber } from '../../../lib/background/identity/safety-number.ts';
import { freshStore } from './support.ts';

const group = randomBytes(32);
const leaf = () => ed25519.getPublicKey(ed25519.utils.randomSecretKey());
const identity = async (name: string, at = 10) => {
  const { db, vault } = await freshStore();
  return OwnIdentity.ensure(db, vault, name, at);
};

describe('people', () => {
  let me: OwnIdentity;
  let alice: OwnIdentity;
  let aliceLaptop: OwnIdentity; // Alice's second device: same identity, its own device key
  let rec: ProofRecord;
  const leaves = { me: leaf(), a1: leaf(), a2: leaf(), rogue: leaf(), mine2: leaf() };
  let meSecond: OwnIdentity;

  beforeAll(async () => {
    me = await identity('Chrome on Linux');
    alice = await identity('Chrome on Windows', 100);
    aliceLaptop = await identity('Firefox on Linux', 200);
    await alice.signRosterWith({ deviceKey: aliceLaptop.deviceKey, name: 'Firefox on Linux', addedAt: 200 });
    await aliceLaptop.importFromLink(alice.exportForLink());
    meSecond = await identity('Firefox on macOS', 300);
    await me.signRosterWith({ deviceKey: meSecond.deviceKey, name: 'Firefox on macOS', addedAt: 300 });
    await meSecond.importFromLink(me.exportForLink());
    const rogue = ed25519.utils.randomSecretKey();
    rec = {};
    rec = learnClaim(rec, 'a1', group, leaves.a1, alice.claimFor(group, leaves.a1));
    rec = learnClaim(rec, 'a2', group, leaves.a2, aliceLaptop.claimFor(group, leaves.a2));
    rec = learnClaim(rec, 'rogue', group, leaves.rogue, { ...alice.claimFor(group, leaves.rogue), deviceKey: toB64(ed25519.getPublicKey(rogue)), leafSig: toB64(signLeafBinding(rogue, group, leaves.rogue)) });
    rec = learnClaim(rec, 'mine2', group, leaves.mine2, meSecond.claimFor(group, leaves.mine2));
  });

  const members = [
    { memberId: 'me', displayName: 'Me', self: true },
    { memberId: 'a1', displayName: 'Alice', self: false },
    { memberId: 'rogue', displayName: 'Alice · 90715', self: false },
    { memberId: 'a2', displayName: 'Alice', self: false },
    { memberId: 'mine2', displayName: 'Me', self: false },
    { memberId: 'old', displayName: 'Member 12345', self: false },
  ];

  it('groups vouched devices under their identity key, and keeps unvouched or unproven members apart', () => {
    const people = groupPeople({ members, proofs: rec, own: me, verified: new Map() });
    expect(people.map((p) => p.personKey)).toEqual([me.identityKey, alice.identityKey, 'leaf:rogue', 'leaf:old']);
    const a = people[1]!;
    expect(a).toMatchObject({ displayName: 'Alice', self: false, verification: 'unverified', safetyNumber: safetyNumber(me.identityPublicKey, alice.identityPublicKey) });
    expect(a.devices).toEqual([
      { memberId: 'a1', name: 'Chrome on Windows', addedAt: 100 },
      { memberId: 'a2', name: 'Firefox on Linux', addedAt: 200 },
    ]);
    expect(people[2]).toEqual({ personKey: 'leaf:rogue', displayName: 'Alice · 90715', self: false, verification: 'unverified', devices: [{ memberId: 'rogue', name: 'Alice · 90715' }] });
  });

  it('shows our own other devices with us, as self, without a safety number', () => {
    const [self] = groupPeople({ members, proofs: rec, own: me, verified: new Map() });
    expect(self).toMatchObject({ self: true, displayName: 'Me', verification: 'unverified' });
    expect(self!.safetyNumber).toBeUndefined();
    expect(self!.devices.map((d) => [d.memberId, d.name])).toEqual([
      ['me', 'Chrome on Linux'],
      ['mine2', 'Firefox on macOS'],
    ]);
  });

  it('marks a person verified for exactly the identity key compared, changed otherwise', () => {
    const verified = new Map([[alice.personId, { identityKey: alice.identityKey }]]);
    expect(groupPeople({ members, proofs: rec, own: me, verified })[1]!.verification).toBe('verified');
    const changed = new Map([[alice.personId, { identityKey: alice.identityKey, changed: true as const }]]);
    expect(groupPeople({ members, proofs: rec, own: me, verified: changed })[1]!.verification).toBe('changed');
    expect(verificationOf({ identityKey: toB64(leaf()) }, alice.identityKey)).toBe('changed');
    expect(verificationOf(undefined, alice.identityKey)).toBe('unverified');
  });

  it('finds the personId behind a person key only through a proof that holds', () => {
    const ids = members.map((m) => m.memberId);
    expect(personIdOf(rec, ids, alice.identityKey)).toBe(alice.personId);
    expect(personIdOf(rec, ['rogue'], alice.identityKey)).toBeUndefined();
    expect(personIdOf(rec, ids, 'leaf:rogue')).toBeUndefined();
  });

  it('without our own identity, every member is a person of their own', () => {
    const people = groupPeople({ members: members.slice(0, 2), proofs: {}, own: undefined, verified: new Map() });
    expect(people.map((p) => p.personKey)).toEqual(['leaf:me', 'leaf:a1']);
    expect(people[0]!.self).toBe(true);
  });

  it('forgets the proofs of members who left, and rosters nobody refers to', () => {
    const pruned = pruneProofs(rec, new Set(['me', 'mine2']));
    expect(Object.keys(pruned.proofs!)).toEqual(['mine2']);
    expect(Object.keys(pruned.rosters!)).toEqual([me.identityKey]);
  });
});
