/**
 * Property: random group histories (adds and removes by value and by
 * reference, updates by Commit and by proposal, external joins, application
 * messages in and out of order) over at least 5 simulated
 * members. After every step all current members share the epoch
 * authenticator and the tree hash, and every application message is read by
 * exactly the current members: each of them decrypts it, no former member can.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getCipherSuite } from '../../lib/crypto/suites.ts';
import { bytesToHex } from '../../lib/bytes.ts';
import { WireFormat, type MLSMessage } from '../../lib/mls/framing/framing.ts';
import {
  createCommit,
  encodeMessage,
  epochAuthenticator,
  exportGroupInfo,
  generateIdentity,
  generateKeyPackage,
  joinByExternalCommit,
  joinFromWelcome,
  processMessage,
  proposeAdd,
  proposeRemove,
  proposeUpdate,
  sendApplicationMessage,
  type GroupState,
} from '../../lib/mls/group.ts';
import { ProposalType } from '../../lib/mls/group/proposals.ts';
import { makeGroup, utf8 } from './group-fixture.ts';

type Op = {
  kind: 'add' | 'remove' | 'commit' | 'update' | 'external' | 'message' | 'refAdd' | 'refRemove' | 'reorder';
  a: number;
  b: number;
  priv: boolean;
};

const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom('add', 'remove', 'commit', 'update', 'external', 'message', 'message', 'refAdd', 'refRemove', 'reorder'),
  a: fc.nat(1000),
  b: fc.nat(1000),
  priv: fc.boolean(),
});

async function runHistory(suiteId: number, ops: Op[]): Promise<void> {
  const cs = getCipherSuite(suiteId);
  let members: GroupState[] = await makeGroup(suiteId, 5);
  const former: GroupState[] = [];
  let counter = 0;
  const wf = (o: Op) => (o.priv ? WireFormat.privateMessage : WireFormat.publicMessage);

  const deliver = async (msg: MLSMessage, except: number): Promise<void> => {
    const bytes = encodeMessage(msg);
    const next: GroupState[] = [];
    for (const [i, s] of members.entries()) {
      if (i === except) {
        next.push(s);
        continue;
      }
      const r = await processMessage(s, bytes);
      if (r.kind === 'commit' && r.removed) former.push(r.state);
      else next.push(r.state);
    }
    members = next;
  };

  const check = (): void => {
    const auths = new Set(members.map((s) => bytesToHex(epochAuthenticator(s))));
    const trees = new Set(members.map((s) => bytesToHex(s.tree.treeHash())));
    expect(auths.size).toBe(1);
    expect(trees.size).toBe(1);
    expect(members.map((s) => s.ownLeaf).sort((x, y) => x - y)).toEqual([...members[0]!.tree.memberIndices()]);
  };

  for (const op of ops) {
    const n = members.length;
    const c = op.a % n;
    switch (op.kind) {
      case 'add': {
        const kp = await generateKeyPackage(cs, await generateIdentity(cs, utf8.encode(`new-${counter++}`)));
        const r = await createCommit(members[c]!, {
          proposals: [{ proposalType: ProposalType.add, add: { keyPackage: kp.keyPackage } }],
          wireFormat: wf(op),
          path: op.b % 2 === 0,
          groupInfo: { ratchetTree: op.b % 3 !== 0 },
        });
        members[c] = r.state;
        await deliver(r.commit, c);
        const joined = await joinFromWelcome(r.welcome!, kp.keyPackage, kp.privateKeys, {
          ...(op.b % 3 === 0 ? { ratchetTree: r.state.tree } : {}),
        });
        members.push(joined);
        break;
      }
      case 'remove': {
        if (n <= 4) break;
        const victim = (c + 1 + (op.b % (n - 1))) % n;
        const r = await createCommit(members[c]!, {
          proposals: [{ proposalType: ProposalType.remove, remove: { removed: members[victim]!.ownLeaf } }],
          wireFormat: wf(op),
        });
        members[c] = r.state;
        await deliver(r.commit, c);
        expect(former.length > 0 && !former[former.length - 1]!.active).toBe(true);
        break;
      }
      case 'commit': {
        const r = await createCommit(members[c]!, { wireFormat: wf(op) });
        members[c] = r.state;
        await deliver(r.commit, c);
        break;
      }
      case 'update': {
        const proposer = (c + 1 + (op.b % (n - 1))) % n;
        const p = await proposeUpdate(members[proposer]!, { wireFormat: wf(op) });
        members[proposer] = p.state;
        await deliver(p.message, proposer);
        const r = await createCommit(members[c]!, { wireFormat: wf(op) });
        members[c] = r.state;
        await deliver(r.commit, c);
        break;
      }
      case 'external': {
        const gi = await exportGroupInfo(members[c]!);
        const ext = await joinByExternalCommit(gi, await generateIdentity(cs, utf8.encode(`ext-${counter++}`)));
        await deliver(ext.commit, -1);
        members.push(ext.state);
        break;
      }
      case 'refAdd': {
        // One member proposes an Add, another commits it by reference.
        const proposer = (c + 1 + (op.b % (n - 1))) % n;
        const kp = await generateKeyPackage(cs, await generateIdentity(cs, utf8.encode(`ref-${counter++}`)));
        const p = await proposeAdd(members[proposer]!, kp.keyPackage, { wireFormat: wf(op) });
        members[proposer] = p.state;
        await deliver(p.message, proposer);
        const r = await createCommit(members[c]!, { wireFormat: wf(op) });
        members[c] = r.state;
        await deliver(r.commit, c);
        members.push(await joinFromWelcome(r.welcome!, kp.keyPackage, kp.privateKeys));
        break;
      }
      case 'refRemove': {
        if (n <= 4) break;
        const proposer = (c + 1 + (op.b % (n - 1))) % n;
        const victim = (proposer + 1 + (op.a % (n - 1))) % n;
        if (victim === c) break;
        const p = await proposeRemove(members[proposer]!, members[victim]!.ownLeaf, { wireFormat: wf(op) });
        members[proposer] = p.state;
        await deliver(p.message, proposer);
        const r = await createCommit(members[c]!, { wireFormat: wf(op) });
        members[c] = r.state;
        await deliver(r.commit, c);
        break;
      }
      case 'reorder': {
        // Three messages from one sender, read by each member in its own order.
        const sent: { text: string; bytes: Uint8Array }[] = [];
        for (let k = 0; k < 3; k++) {
          const text = `burst ${counter++}`;
          const r = await sendApplicationMessage(members[c]!, utf8.encode(text));
          members[c] = r.state;
          sent.push({ text, bytes: encodeMessage(r.message) });
        }
        for (const [i, s0] of members.entries()) {
          if (i === c) continue;
          let s = s0;
          const order = [[0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]][(op.b + i) % 4]!;
          for (const k of order) {
            const r = await processMessage(s, sent[k]!.bytes);
            if (r.kind !== 'application') throw new Error('expected application data');
            expect(new TextDecoder().decode(r.data)).toBe(sent[k]!.text);
            s = r.state;
          }
          members[i] = s;
        }
        break;
      }
      case 'message': {
        const text = `msg ${counter++}`;
        const sent = await sendApplicationMessage(members[c]!, utf8.encode(text));
        members[c] = sent.state;
        const bytes = encodeMessage(sent.message);
        for (const [i, s] of members.entries()) {
          if (i === c) continue;
          const r = await processMessage(s, bytes);
          if (r.kind !== 'application') throw new Error('expected application data');
          expect(new TextDecoder().decode(r.data)).toBe(text);
          members[i] = r.state;
        }
        for (const f of former) await expect(processMessage(f, bytes)).rejects.toThrow();
        break;
      }
    }
    check();
  }
}

describe('random group histories', () => {
  for (const [suiteId, runs] of [
    [1, 20],
    [2, 8],
    [3, 8],
  ] as const) {
    it(`suite ${suiteId}: members agree on every epoch and read exactly the current members' messages`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 4, maxLength: 16 }), (ops) => runHistory(suiteId, ops)),
        { numRuns: runs },
      );
    });
  }
});
