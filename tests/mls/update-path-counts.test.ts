/**
 * V-UP-2 (RFC 9420 §7.6, §12.4.2): every receiver checks, at every node of
 * the committer's filtered direct path, that encrypted_path_secret has one
 * entry per node of the copath child's resolution (new members excluded),
 * not only at the node it decrypts from. A path with one count wrong, at any
 * node, one too few or one too many, is rejected by every member alike.
 */
import { describe, expect, it, vi } from 'vitest';
import { createCommit, encodeMessage, generateIdentity, generateKeyPackage, processMessage, type GroupState } from '../../lib/mls/group.ts';
import { ProposalType } from '../../lib/mls/group/proposals.ts';
import type * as TreeKem from '../../lib/mls/tree/treekem.ts';
import { getCipherSuite } from '../../lib/crypto/suites.ts';
import { expectRejected, makeGroup, utf8 } from './group-fixture.ts';

/** How the next UpdatePath created is bent: at path node `node`, drop or repeat one ciphertext, or cut its public key. */
const tamper: { node?: number; kind?: 'drop' | 'extra' | 'short-key' | 'zero-key' } = {};

vi.mock('../../lib/mls/tree/treekem.ts', async (importOriginal) => {
  const real = await importOriginal<typeof TreeKem>();
  return {
    ...real,
    createUpdatePath: async (opts: TreeKem.CreateUpdatePathOptions) => {
      const created = await real.createUpdatePath(opts);
      const { node, kind } = tamper;
      if (node === undefined) return created;
      tamper.node = undefined;
      const nodes = created.updatePath.nodes.map((n, i) => {
        if (i !== node) return n;
        const cts = n.encryptedPathSecret;
        if (kind === 'short-key') return { ...n, encryptionKey: n.encryptionKey.slice(1) };
        if (kind === 'zero-key') return { ...n, encryptionKey: new Uint8Array(n.encryptionKey.length) };
        return { ...n, encryptedPathSecret: kind === 'drop' ? cts.slice(0, -1) : [...cts, cts[0]!] };
      });
      return { ...created, updatePath: { ...created.updatePath, nodes } };
    },
  };
});

for (const suiteId of [1, 2, 3]) {
  describe(`UpdatePath ciphertext counts at every node (suite ${suiteId})`, () => {
    it(`suite ${suiteId} V-UP-2: 6 members, each path node bent in turn, one too few or one too many: all receivers reject`, async () => {
      const g = await makeGroup(suiteId, 6);
      // Leaf 5 commits; every node of its filtered direct path is bent in turn, so for each
      // receiver some bent node is not the one it decrypts from.
      const committer = 5;
      const pathLength = g[committer]!.tree.filteredDirectPath(g[committer]!.ownLeaf).length;
      expect(pathLength).toBeGreaterThan(1);
      for (let node = 0; node < pathLength; node++) {
        for (const kind of ['drop', 'extra'] as const) {
          tamper.node = node;
          tamper.kind = kind;
          const forged = await createCommit(g[committer]!);
          const bytes = encodeMessage(forged.commit);
          for (let i = 0; i < 5; i++) await expectRejected(g[i]!, 'V-UP-2', (s: GroupState) => processMessage(s, bytes));
        }
      }
    });

    it(`suite ${suiteId} V-UP-7: a path key of the wrong length, or no key at all (all zero), is rejected by every receiver`, async () => {
      const g = await makeGroup(suiteId, 4);
      for (const kind of ['short-key', 'zero-key'] as const) {
        tamper.node = 1;
        tamper.kind = kind;
        const forged = await createCommit(g[0]!);
        for (const i of [1, 2, 3]) await expectRejected(g[i]!, 'V-UP-7', (s: GroupState) => processMessage(s, encodeMessage(forged.commit)));
      }
    });

    it(`suite ${suiteId} V-UP-2: new members are left out of the counts (an Add in the same Commit)`, async () => {
      const cs = getCipherSuite(suiteId);
      const g = await makeGroup(suiteId, 3);
      const kp = await generateKeyPackage(cs, await generateIdentity(cs, utf8.encode('new')));
      const ok = await createCommit(g[0]!, { proposals: [{ proposalType: ProposalType.add, add: { keyPackage: kp.keyPackage } }] });
      for (const i of [1, 2]) expect((await processMessage(g[i]!, encodeMessage(ok.commit))).kind).toBe('commit');
      tamper.node = 1;
      tamper.kind = 'extra';
      const forged = await createCommit(g[0]!, { proposals: [{ proposalType: ProposalType.add, add: { keyPackage: kp.keyPackage } }] });
      for (const i of [1, 2]) await expectRejected(g[i]!, 'V-UP-2', (s: GroupState) => processMessage(s, encodeMessage(forged.commit)));
    });
  });
}
