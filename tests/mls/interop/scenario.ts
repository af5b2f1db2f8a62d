/**
 * One group history, written once against `InteropMember`, run with any mix
 * of implementations: create, add by Welcome (with and without the
 * ratchet_tree extension), commits from every member (Private- and
 * PublicMessage), a removal, a join by external commit, leaving by a Remove
 * proposal committed by reference, and application messages (with
 * authenticated_data) from everyone to everyone.
 * After each step every current member must agree on the epoch, the epoch
 * authenticator, an exported secret and the membership.
 */
import { expect } from 'vitest';
import { fromUtf8, leafOf, utf8, type InteropMember } from './member.ts';

export type MemberFactory = (name: string) => Promise<InteropMember>;

function hex(b: Uint8Array): string {
  return Array.from(b, (v) => v.toString(16).padStart(2, '0')).join('');
}

/** All `group` members agree on the epoch state; returns the epoch. */
export async function expectAgreement(group: readonly InteropMember[]): Promise<bigint> {
  const [first, ...rest] = group;
  if (first === undefined) throw new Error('empty group');
  const ctx = utf8('interop');
  const want = {
    epoch: first.epoch(),
    auth: hex(first.epochAuthenticator()),
    exported: hex(await first.exporter('interop check', ctx, 32)),
    members: first.members(),
  };
  for (const m of rest) {
    const got = {
      epoch: m.epoch(),
      auth: hex(m.epochAuthenticator()),
      exported: hex(await m.exporter('interop check', ctx, 32)),
      members: m.members(),
    };
    expect(got, `${m.name} (${m.impl}) vs ${first.name} (${first.impl})`).toEqual(want);
  }
  return want.epoch;
}

/** `sender` commits (result already applied to itself); every other member of `group` processes it. */
async function deliver(commit: Uint8Array, sender: InteropMember, group: readonly InteropMember[]): Promise<void> {
  for (const m of group) {
    if (m === sender) continue;
    const r = await m.process(commit);
    expect(r.kind, `${m.name} (${m.impl}) processing a commit from ${sender.name}`).toBe('commit');
  }
}

/** Every member sends one message with authenticated data; every other member reads it. */
export async function exchangeMessages(group: readonly InteropMember[], tag: string): Promise<void> {
  for (const sender of group) {
    const text = `${tag}: hello from ${sender.name} (${sender.impl})`;
    const ct = await sender.encrypt(utf8(text), utf8(`aad ${tag}`));
    for (const m of group) {
      if (m === sender) continue;
      const r = await m.process(ct);
      expect(r.kind).toBe('application');
      if (r.kind === 'application') expect(fromUtf8(r.data), `${m.name} (${m.impl}) reading ${sender.name}`).toBe(text);
    }
  }
}

/**
 * The history. `make` gives the four members alice, bob, carol, dave in order;
 * pass factories of alternating implementations for a mixed group.
 */
export async function runScenario(make: readonly [MemberFactory, MemberFactory, MemberFactory, MemberFactory]): Promise<void> {
  const [alice, bob, carol, dave] = await Promise.all([make[0]('alice'), make[1]('bob'), make[2]('carol'), make[3]('dave')]);

  // alice creates the group and adds bob (Welcome with the ratchet_tree extension).
  await alice.createGroup(utf8(`interop group ${alice.impl}/${bob.impl}`));
  const add1 = await alice.commit({ adds: [await bob.keyPackage()] });
  expect(add1.welcome).toBeDefined();
  await bob.joinFromWelcome(add1.welcome!);
  let group = [alice, bob];
  expect(await expectAgreement(group)).toBe(1n);
  await exchangeMessages(group, 'epoch 1');

  // bob commits (empty commit with a path, i.e. a full key update).
  const upd = await bob.commit();
  await deliver(upd.commit, bob, group);
  expect(await expectAgreement(group)).toBe(2n);

  // bob adds carol; the Welcome has no ratchet_tree extension, the tree is passed out of band.
  const add2 = await bob.commit({ adds: [await carol.keyPackage()], ratchetTreeInWelcome: false });
  await deliver(add2.commit, bob, group);
  await carol.joinFromWelcome(add2.welcome!, bob.ratchetTree());
  group = [alice, bob, carol];
  expect(await expectAgreement(group)).toBe(3n);
  await exchangeMessages(group, 'epoch 3');

  // alice (as a PublicMessage, with membership tag) and carol (PrivateMessage) commit in turn.
  for (const committer of [alice, carol]) {
    const c = await committer.commit({ publicMessage: committer === alice });
    await deliver(c.commit, committer, group);
    await expectAgreement(group);
  }

  // carol removes bob; bob sees he is out.
  const rm = await carol.commit({ removes: [leafOf(carol, 'bob')] });
  await deliver(rm.commit, carol, group);
  expect(bob.active()).toBe(false);
  group = [alice, carol];
  expect(await expectAgreement(group)).toBe(6n);
  expect(alice.members()).toEqual(['alice', undefined, 'carol']);

  // dave joins by external commit from a GroupInfo that alice publishes.
  const ext = await dave.joinExternal(await alice.groupInfo());
  await deliver(ext, dave, group);
  group = [alice, carol, dave];
  expect(await expectAgreement(group)).toBe(7n);
  expect(leafOf(alice, 'dave')).toBe(1); // the leftmost blank leaf (bob's)
  await exchangeMessages(group, 'epoch 7');

  // dave commits, then everyone talks again.
  const d = await dave.commit();
  await deliver(d.commit, dave, group);
  expect(await expectAgreement(group)).toBe(8n);
  await exchangeMessages(group, 'epoch 8');

  // dave leaves: he proposes his own removal; alice commits it by reference
  // (so both sides must compute the same ProposalRef, §5.2).
  const leave = await dave.proposeRemove(dave.ownLeafIndex());
  for (const m of [alice, carol]) expect((await m.process(leave)).kind, `${m.name} (${m.impl}) reading dave's proposal`).toBe('proposal');
  const byRef = await alice.commit();
  await deliver(byRef.commit, alice, group);
  expect(dave.active()).toBe(false);
  group = [alice, carol];
  expect(await expectAgreement(group)).toBe(9n);
  expect(alice.members()).toEqual(['alice', undefined, 'carol']);
  await exchangeMessages(group, 'epoch 9');
}
