// A member's `person` claim: what proves a leaf belongs to a person, and
// every way a hostile member or a removed device could try to borrow it.
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { randomBytes, toB64 } from '../../../lib/bytes.ts';
import { OwnIdentity } from '../../../lib/background/identity/own-identity.ts';
import { checkClaim, isVouched, keepRoster, parsePersonClaim, type PersonClaim } from '../../../lib/background/identity/person-proof.ts';
import { signRoster } from '../../../lib/background/identity/roster.ts';
import { signLeafBinding } from '../../../lib/background/identity/leaf-binding.ts';
import { freshStore } from './support.ts';

const group = randomBytes(32);
const leafKey = () => ed25519.getPublicKey(ed25519.utils.randomSecretKey());

async function alice(): Promise<OwnIdentity> {
  const { db, vault } = await freshStore();
  return OwnIdentity.ensure(db, vault, 'Chrome on Linux', 1000);
}

const asJson = (c: PersonClaim): Record<string, unknown> => JSON.parse(JSON.stringify(c)) as Record<string, unknown>;

describe('person claims (attacker first)', () => {
  it("does not prove anything for a member who copies Alice's claim into their own leaf", async () => {
    const a = await alice();
    const aliceLeaf = leafKey();
    const claim = a.claimFor(group, aliceLeaf);
    const mallorysLeaf = leafKey();
    const { proof, roster } = checkClaim(claim, group, mallorysLeaf);
    expect(proof.signed).toBe(false);
    expect(proof.personId).toBe(a.personId); // the claim is kept, so whoever verified Alice is warned
    // The roster itself is Alice's and valid: keeping it is harmless.
    expect(isVouched(proof, keepRoster(undefined, proof.identityKey, proof.personId, roster!))).toBe(false);
  });

  it("does not carry over from another conversation (Alice's binding for another group)", async () => {
    const a = await alice();
    const leaf = leafKey();
    const claim = a.claimFor(randomBytes(32), leaf);
    expect(checkClaim(claim, group, leaf).proof.signed).toBe(false);
  });

  it("rejects a device Alice's identity does not vouch for: a roster signed by another identity", async () => {
    const a = await alice();
    const mallory = ed25519.utils.randomSecretKey();
    const device = ed25519.utils.randomSecretKey();
    const leaf = leafKey();
    const roster = signRoster(mallory, randomBytes(16), 9, [{ deviceKey: toB64(ed25519.getPublicKey(device)), name: 'Evil', addedAt: 1 }]);
    const claim: PersonClaim = {
      personId: a.personId,
      identityKey: a.identityKey,
      deviceKey: toB64(ed25519.getPublicKey(device)),
      leafSig: toB64(signLeafBinding(device, group, leaf)),
      roster,
    };
    const { proof, roster: kept } = checkClaim(claim, group, leaf);
    expect(proof.signed).toBe(false);
    expect(kept).toBeUndefined();
  });

  it("rejects a device not in Alice's roster, even with a valid binding of its own", async () => {
    const a = await alice();
    const device = ed25519.utils.randomSecretKey();
    const leaf = leafKey();
    const claim: PersonClaim = { ...a.claimFor(group, leaf), deviceKey: toB64(ed25519.getPublicKey(device)), leafSig: toB64(signLeafBinding(device, group, leaf)) };
    const { proof, roster } = checkClaim(claim, group, leaf);
    expect(proof.signed).toBe(true);
    expect(isVouched(proof, keepRoster(undefined, proof.identityKey, proof.personId, roster!))).toBe(false);
  });

  it('stops vouching for a removed device once the newer roster is seen, whatever it replays', async () => {
    const { db, vault } = await freshStore();
    const a = await OwnIdentity.ensure(db, vault, 'Laptop', 1);
    const phoneSecret = ed25519.utils.randomSecretKey();
    const phoneKey = toB64(ed25519.getPublicKey(phoneSecret));
    const withPhone = await a.signRosterWith({ deviceKey: phoneKey, name: 'Phone', addedAt: 2 });
    const phoneLeaf = leafKey();
    // The phone's claim, made while it was listed.
    const phoneClaim: PersonClaim = { ...a.claimFor(group, phoneLeaf), deviceKey: phoneKey, leafSig: toB64(signLeafBinding(phoneSecret, group, phoneLeaf)), roster: withPhone };
    let rosters = {};
    const first = checkClaim(phoneClaim, group, phoneLeaf);
    rosters = keepRoster(rosters, a.identityKey, a.personId, first.roster!);
    expect(isVouched(first.proof, rosters)).toBe(true);
    // Alice removes the phone; her laptop's next claim carries the newer roster.
    await a.removeFromRoster(phoneKey);
    const laptopLeaf = leafKey();
    const laptop = checkClaim(a.claimFor(group, laptopLeaf), group, laptopLeaf);
    rosters = keepRoster(rosters, a.identityKey, a.personId, laptop.roster!);
    expect(isVouched(first.proof, rosters)).toBe(false);
    expect(isVouched(laptop.proof, rosters)).toBe(true);
    // The removed phone replays its old claim: the older roster is ignored.
    const replay = checkClaim(phoneClaim, group, phoneLeaf);
    rosters = keepRoster(rosters, a.identityKey, a.personId, replay.roster!);
    expect(isVouched(replay.proof, rosters)).toBe(false);
  });

  it('proves our own leaf with our own claim', async () => {
    const a = await alice();
    const leaf = leafKey();
    const { proof, roster } = checkClaim(a.claimFor(group, leaf), group, leaf);
    expect(proof).toEqual({ personId: a.personId, identityKey: a.identityKey, deviceKey: a.deviceKey, signed: true });
    expect(isVouched(proof, keepRoster(undefined, a.identityKey, a.personId, roster!))).toBe(true);
  });
});

describe('parsePersonClaim (strict)', () => {
  it.each([
    ['a 15-byte personId', (c: Record<string, unknown>) => ({ ...c, personId: toB64(randomBytes(15)) })],
    ['a 31-byte identity key', (c: Record<string, unknown>) => ({ ...c, identityKey: toB64(randomBytes(31)) })],
    ['a device key that is not base64url', (c: Record<string, unknown>) => ({ ...c, deviceKey: '+'.repeat(43) })],
    ['a 63-byte leaf signature', (c: Record<string, unknown>) => ({ ...c, leafSig: toB64(randomBytes(63)) })],
    ['a number for a key', (c: Record<string, unknown>) => ({ ...c, identityKey: 7 })],
    ['no roster', (c: Record<string, unknown>) => ({ ...c, roster: undefined })],
    ['a roster with a bad field', (c: Record<string, unknown>) => ({ ...c, roster: { ...(c.roster as object), version: -1 } })],
  ])('rejects %s', async (_, change) => {
    const a = await alice();
    const good = asJson(a.claimFor(group, leafKey()));
    expect(parsePersonClaim(good)).not.toBeNull();
    expect(parsePersonClaim(change(good))).toBeNull();
  });
});
