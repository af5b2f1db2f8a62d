/**
 * End-to-end group lifecycle over suites: key packages → create → add by
 * Commit + Welcome → join → application messages every way → update and
 * remove Commits processed by all → external join → leave. Every operation
 * is checked not to mutate its input state (serialized before and after).
 */
import { describe, expect, it } from 'vitest';
import { getCipherSuite } from '../../lib/crypto/suites.ts';
import { bytesToHex } from '../../lib/bytes.ts';
import {
  createCommit,
  createGroup,
  decodeGroupState,
  encodeGroupState,
  encodeMessage,
  epochAuthenticator,
  exportGroupInfo,
  exportSecret,
  generateIdentity,
  generateKeyPackage,
  joinByExternalCommit,
  joinFromWelcome,
  leaveGroup,
  members,
  processMessage,
  proposeUpdate,
  sendApplicationMessage,
  type GroupState,
} from '../../lib/mls/group.ts';
import { ProposalType } from '../../lib/mls/group/proposals.ts';
import type { LeafIndex } from '../../lib/mls/tree/tree-math.ts';
import type { MLSMessage } from '../../lib/mls/framing/framing.ts';

const utf8 = new TextEncoder();
const SUITES = [1, 2, 3, 4, 5, 6, 7];

/** Run `op` and check that `input` serializes identically before and after. */
async function pure<T>(input: GroupState, op: () => Promise<T>): Promise<T> {
  const before = bytesToHex(encodeGroupState(input));
  const out = await op();
  expect(bytesToHex(encodeGroupState(input))).toBe(before);
  return out;
}

async function deliver(states: GroupState[], msg: MLSMessage): Promise<GroupState[]> {
  const bytes = encodeMessage(msg);
  const out: GroupState[] = [];
  for (const s of states) {
    const r = await pure(s, () => processMessage(s, bytes));
    out.push(r.state);
  }
  return out;
}

async function expectSameEpoch(states: GroupState[]): Promise<void> {
  const auth = states.map((s) => bytesToHex(epochAuthenticator(s)));
  expect(new Set(auth).size).toBe(1);
  const exp = states.map((s) => bytesToHex(exportSecret(s, 'test', utf8.encode('ctx'), 32)));
  expect(new Set(exp).size).toBe(1);
  const trees = states.map((s) => bytesToHex(s.tree.treeHash()));
  expect(new Set(trees).size).toBe(1);
}

async function sendAndRead(from: GroupState, to: GroupState[], text: string): Promise<{ from: GroupState; to: GroupState[] }> {
  const sent = await pure(from, () => sendApplicationMessage(from, utf8.encode(text), { authenticatedData: utf8.encode('ad') }));
  const bytes = encodeMessage(sent.message);
  const out: GroupState[] = [];
  for (const s of to) {
    const r = await pure(s, () => processMessage(s, bytes));
    expect(r.kind).toBe('application');
    if (r.kind !== 'application') throw new Error('unreachable');
    expect(new TextDecoder().decode(r.data)).toBe(text);
    expect(new TextDecoder().decode(r.authenticatedData)).toBe('ad');
    expect(r.sender).toBe(from.ownLeaf);
    out.push(r.state);
  }
  return { from: sent.state, to: out };
}

describe('group lifecycle', () => {
  for (const suiteId of SUITES) {
    it(`suite ${suiteId}: create, add 2 by Welcome, messages, update, remove, external join, leave`, async () => {
      const cs = getCipherSuite(suiteId);
      const [aliceId, bobId, carolId, daveId] = await Promise.all(
        ['alice', 'bob', 'carol', 'dave'].map((n) => generateIdentity(cs, utf8.encode(n))),
      );
      let alice = await createGroup(cs, aliceId!);
      expect(alice.context.epoch).toBe(0n);

      const bobKp = await generateKeyPackage(cs, bobId!);
      const carolKp = await generateKeyPackage(cs, carolId!);
      const add = await pure(alice, () =>
        createCommit(alice, {
          proposals: [
            { proposalType: ProposalType.add, add: { keyPackage: bobKp.keyPackage } },
            { proposalType: ProposalType.add, add: { keyPackage: carolKp.keyPackage } },
          ],
        }),
      );
      alice = add.state;
      expect(alice.context.epoch).toBe(1n);
      expect(add.welcome).toBeDefined();
      // Bob joins with the tree in the Welcome, Carol with the tree given out of band.
      let bob = await joinFromWelcome(add.welcome!, bobKp.keyPackage, bobKp.privateKeys);
      let carol = await joinFromWelcome(add.welcome!, carolKp.keyPackage, carolKp.privateKeys, {
        ratchetTree: alice.tree.toNodes(),
      });
      expect(bob.ownLeaf).toBe(1);
      expect(carol.ownLeaf).toBe(2);
      await expectSameEpoch([alice, bob, carol]);

      // Application messages both ways.
      let r = await sendAndRead(alice, [bob, carol], 'hello from alice');
      alice = r.from;
      [bob, carol] = r.to as [GroupState, GroupState];
      r = await sendAndRead(bob, [alice, carol], 'hi from bob');
      bob = r.from;
      [alice, carol] = r.to as [GroupState, GroupState];
      r = await sendAndRead(carol, [alice, bob], 'carol here');
      carol = r.from;
      [alice, bob] = r.to as [GroupState, GroupState];

      // Bob commits an empty (path-only) Commit.
      const bobCommit = await pure(bob, () => createCommit(bob));
      bob = bobCommit.state;
      [alice, carol] = (await deliver([alice, carol], bobCommit.commit)) as [GroupState, GroupState];
      await expectSameEpoch([alice, bob, carol]);

      // Carol proposes an Update, Alice commits it.
      const upd = await pure(carol, () => proposeUpdate(carol));
      carol = upd.state;
      [alice, bob] = (await deliver([alice, bob], upd.message)) as [GroupState, GroupState];
      const aliceCommit = await pure(alice, () => createCommit(alice));
      alice = aliceCommit.state;
      [bob, carol] = (await deliver([bob, carol], aliceCommit.commit)) as [GroupState, GroupState];
      await expectSameEpoch([alice, bob, carol]);

      // Alice removes Bob; Bob learns he is out.
      const rm = await pure(alice, () =>
        createCommit(alice, { proposals: [{ proposalType: ProposalType.remove, remove: { removed: 1 as LeafIndex } }] }),
      );
      alice = rm.state;
      const bobOut = await processMessage(bob, encodeMessage(rm.commit));
      expect(bobOut.kind === 'commit' && bobOut.removed).toBe(true);
      expect(bobOut.state.active).toBe(false);
      [carol] = (await deliver([carol], rm.commit)) as [GroupState];
      await expectSameEpoch([alice, carol]);
      expect(members(alice).map((m) => m.leafIndex)).toEqual([0, 2]);

      // Dave joins by external Commit from Carol's GroupInfo.
      const gi = await pure(carol, () => exportGroupInfo(carol));
      const ext = await joinByExternalCommit(gi, daveId!);
      let dave = ext.state;
      expect(dave.ownLeaf).toBe(1);
      [alice, carol] = (await deliver([alice, carol], ext.commit)) as [GroupState, GroupState];
      await expectSameEpoch([alice, carol, dave]);
      r = await sendAndRead(dave, [alice, carol], 'dave says hi');
      dave = r.from;
      [alice, carol] = r.to as [GroupState, GroupState];

      // Carol leaves: proposes her removal, Dave commits it.
      const leave = await pure(carol, () => leaveGroup(carol));
      carol = leave.state;
      [alice, dave] = (await deliver([alice, dave], leave.message)) as [GroupState, GroupState];
      const daveCommit = await pure(dave, () => createCommit(dave));
      dave = daveCommit.state;
      [alice] = (await deliver([alice], daveCommit.commit)) as [GroupState];
      const carolOut = await processMessage(carol, encodeMessage(daveCommit.commit));
      expect(carolOut.kind === 'commit' && carolOut.removed).toBe(true);
      await expectSameEpoch([alice, dave]);

      // State survives persistence byte-identically and keeps working.
      const bytes = encodeGroupState(alice);
      const restored = decodeGroupState(bytes);
      expect(bytesToHex(encodeGroupState(restored))).toBe(bytesToHex(bytes));
      r = await sendAndRead(restored, [dave], 'after restore');
    });
  }
});
