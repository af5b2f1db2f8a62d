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
import { tsMlsRejectsTree } from './peer.ts';

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
    const aad = `aad ${tag} ${sender.name}`;
    const ct = await sender.encrypt(utf8(text), utf8(aad));
    for (const m of group) {
      if (m === sender) continue;
      const r = await m.process(ct);
      expect(r.kind).toBe('application');
      if (r.kind !== 'application') continue;
      expect(fromUtf8(r.data), `${m.name} (${m.impl}) reading ${sender.name}`).toBe(text);
      if (r.authenticatedData !== undefined) expect(fromUtf8(r.authenticatedData)).toBe(aad);
    }
  }
}

/** Every member sends three messages; every other member reads them newest first (skipped generations, §9.2). */
export async function exchangeOutOfOrder(group: readonly InteropMember[], tag: string): Promise<void> {
  for (const sender of group) {
    const texts = [0, 1, 2].map((i) => `${tag}: message ${i} from ${sender.name} (${sender.impl})`);
    const cts: Uint8Array[] = [];
    for (const t of texts) cts.push(await sender.encrypt(utf8(t)));
    for (const m of group) {
      if (m === sender) continue;
      for (let i = 2; i >= 0; i--) {
        const r = await m.process(cts[i]!);
        expect(r.kind === 'application' ? fromUtf8(r.data) : r.kind, `${m.name} (${m.impl}) reading ${sender.name} #${i}`).toBe(texts[i]);
      }
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
  await exchangeOutOfOrder(group, 'epoch 9');
}

/** A small deterministic PRNG (mulberry32), so a failing history can be replayed from its seed. */
export function prng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

/**
 * True when, after removing `removed`, the root would not be on `committer`'s
 * filtered direct path (RFC 9420 §4.1.2): the committer sits in the right half
 * of the tree and every leaf of the left half is blank (so is every parent
 * there: removing a leaf blanks its direct path). ts-mls 1.6.4 then derives
 * commit_secret one step too far (see ts-mls-quirks.test.ts), so mixed groups
 * cannot agree on such a commit.
 */
export function rootOffFilteredPath(committer: InteropMember, removed: readonly number[] = []): boolean {
  const leaves = committer.members().map((m, i) => (removed.includes(i) ? undefined : m));
  while (leaves.length > 0 && leaves[leaves.length - 1] === undefined) leaves.pop();
  let width = 1;
  while (width < leaves.length) width *= 2;
  const half = width / 2;
  return width > 1 && committer.ownLeafIndex() >= half && leaves.slice(0, half).every((m) => m === undefined);
}

/**
 * A random history over a mixed group, replayable from `seed`: each step is a
 * commit with a path (Private- or PublicMessage), an add of one or two members
 * (Welcome with or without the ratchet_tree extension), a removal, an external
 * join or a round of messages, by a random member. Trees get blanks, unmerged
 * leaves and truncation; after every step all members must agree (epoch
 * authenticator, exporter, membership).
 * New members alternate between the implementations. Two ts-mls bugs no
 * adapter can bridge are steered around (see ts-mls-quirks.test.ts):
 *  - a commit that would hit its commit_secret bug (`rootOffFilteredPath`)
 *    also adds a new member, which lands in the left half and avoids it;
 *  - a joiner is made one of ours when ts-mls would refuse the (valid) tree
 *    (`tsMlsRejectsTree`); the log counts these.
 */
export async function runRandomHistory(
  make: { readonly ours: MemberFactory; readonly peer: MemberFactory },
  seed: number,
  steps: number,
): Promise<{ readonly log: readonly string[] }> {
  const rnd = prng(seed);
  let created = 0;
  const fresh = (impl?: 'ours' | 'ts-mls'): Promise<InteropMember> => {
    const i = created++;
    return ((impl ?? (i % 2 === 0 ? 'ours' : 'ts-mls')) === 'ours' ? make.ours : make.peer)(`m${i}`);
  };
  const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)]!;
  const creator = await fresh();
  await creator.createGroup(utf8(`random history ${seed}`));
  let group: InteropMember[] = [creator];
  const log: string[] = [];
  const addBy = async (committer: InteropMember, count: number, removes: readonly number[] = []): Promise<void> => {
    let joiners = await Promise.all(Array.from({ length: count }, () => fresh()));
    const withTree = rnd(2) === 0;
    let trial = committer.fork();
    let out = await trial.commit({ adds: await Promise.all(joiners.map((j) => j.keyPackage())), removes, ratchetTreeInWelcome: withTree });
    if (joiners.some((j) => j.impl === 'ts-mls') && tsMlsRejectsTree(trial.ratchetTree())) {
      log.push('(joiners made ours: ts-mls would refuse the tree)');
      joiners = await Promise.all(joiners.map(() => fresh('ours')));
      trial = committer.fork();
      out = await trial.commit({ adds: await Promise.all(joiners.map((j) => j.keyPackage())), removes, ratchetTreeInWelcome: withTree });
    }
    group = group.map((m) => (m === committer ? trial : m));
    committer = trial;
    await deliver(out.commit, committer, group);
    for (const j of joiners) await j.joinFromWelcome(out.welcome!, withTree ? undefined : committer.ratchetTree());
    group = [...group.filter((m) => m.active()), ...joiners];
  };
  await addBy(creator, 3);
  await expectAgreement(group);
  for (let step = 0; step < steps; step++) {
    const actor = pick(group);
    const action = pick(['commit', 'add', 'remove', 'external', 'messages'] as const);
    log.push(`${action} by ${actor.name}`);
    try {
      if (action === 'commit') {
        if (rootOffFilteredPath(actor)) {
          log.push('(with an add: ts-mls commit_secret bug)');
          await addBy(actor, 1);
        } else {
          const out = await actor.commit({ publicMessage: rnd(2) === 0 });
          await deliver(out.commit, actor, group);
        }
      } else if (action === 'add') {
        await addBy(actor, 1 + rnd(2));
      } else if (action === 'remove' && group.length > 2) {
        const victim = pick(group.filter((m) => m !== actor));
        const removes = [victim.ownLeafIndex()];
        if (rootOffFilteredPath(actor, removes)) {
          log.push('(with an add: ts-mls commit_secret bug)');
          await addBy(actor, 1, removes);
        } else {
          const out = await actor.commit({ removes });
          await deliver(out.commit, actor, group);
          group = group.filter((m) => m !== victim);
        }
        expect(victim.active(), `${victim.name} removed`).toBe(false);
      } else if (action === 'external') {
        let joiner = await fresh();
        if (joiner.impl === 'ts-mls' && tsMlsRejectsTree(actor.ratchetTree())) {
          log.push('(joiner made ours: ts-mls would refuse the tree)');
          joiner = await fresh('ours');
        }
        const commit = await joiner.joinExternal(await actor.groupInfo());
        await deliver(commit, joiner, group);
        group = [...group, joiner];
      } else {
        await exchangeMessages(group, `step ${step}`);
      }
      await expectAgreement(group);
    } catch (err) {
      throw new Error(`random history seed ${seed} failed at step ${step}: ${log.join(', ')}`, { cause: err });
    }
  }
  await exchangeMessages(group, 'final');
  return { log };
}
