/**
 * Attack: a hostile member splits the group with a malformed UpdatePath.
 * Mallory commits normally but, at one node of her path, sends fewer
 * encrypted path secrets than the copath node's resolution has (§7.6: the
 * lengths MUST be equal). A receiver that checked only its own node would
 * accept the Commit when the bad node is not the one it decrypts from, while
 * those below that node reject it: half the group in the new epoch, half in
 * the old one.
 *
 * Defence: V-UP-2 (§7.6, §12.4.2) is checked at every node of the path by
 * every receiver; all reject, keep their state byte for byte, and go on.
 */
import { describe, expect, it, vi } from 'vitest';
import { bytesToHex } from '../../lib/bytes.ts';
import { createCommit, encodeGroupState, encodeMessage, processMessage } from '../../lib/mls/group.ts';
import type * as TreeKem from '../../lib/mls/tree/treekem.ts';
import { expectGroupLive, expectRejected, makeGroup } from '../mls/group-fixture.ts';

/** Which path node loses its last ciphertext in the next UpdatePath created (undefined: none). */
const tamper: { node?: number } = {};

vi.mock('../../lib/mls/tree/treekem.ts', async (importOriginal) => {
  const real = await importOriginal<typeof TreeKem>();
  return {
    ...real,
    createUpdatePath: async (opts: TreeKem.CreateUpdatePathOptions) => {
      const created = await real.createUpdatePath(opts);
      const at = tamper.node;
      if (at === undefined) return created;
      tamper.node = undefined;
      const nodes = created.updatePath.nodes.map((n, i) => (i === at ? { ...n, encryptedPathSecret: n.encryptedPathSecret.slice(0, -1) } : n));
      return { ...created, updatePath: { ...created.updatePath, nodes } };
    },
  };
});

const MALLORY = 0;

for (const suiteId of [1, 2, 3]) {
  describe(`a malformed UpdatePath splits the group (suite ${suiteId})`, () => {
    it('one ciphertext missing at the node above Carol and Dave: Bob rejects it too (V-UP-2)', async () => {
      // Leaves 0..3; Mallory's path is node 1 (copath: Bob, leaf 1) and node 3
      // (copath: node 5, blank, so its resolution is Carol and Dave).
      const g = await makeGroup(suiteId, 4);
      tamper.node = 1;
      const forged = await createCommit(g[MALLORY]!);
      expect(tamper.node).toBeUndefined();
      const bytes = encodeMessage(forged.commit);
      const before = g.map((s) => bytesToHex(encodeGroupState(s)));
      for (const i of [1, 2, 3]) await expectRejected(g[i]!, 'V-UP-2', (s) => processMessage(s, bytes));
      expect(g.map((s) => bytesToHex(encodeGroupState(s)))).toEqual(before);
      // Mallory's own state moved on alone; with her old one, the group goes on.
      await expectGroupLive(g);
    });
  });
}
