/**
 * Attack: a hostile member wedges the conversation with a Remove of a leaf
 * that does not exist (past the end of the tree) or is blank. Were it cached
 * on receipt, every Commit carrying it would fail (V-REM-1) and, since
 * members must commit what they have seen before sending (V-APP-1), no one
 * could send or commit again.
 *
 * Defence: V-REM-1 (§12.1.3) is checked on receipt: the Remove is rejected,
 * never cached, the state is byte-identical, and everyone still sends and commits.
 */
import { describe, expect, it } from 'vitest';
import { createCommit, encodeMessage, processMessage, proposeRemove } from '../../lib/mls/group.ts';
import { ProposalType } from '../../lib/mls/group/proposals.ts';
import type { LeafIndex } from '../../lib/mls/tree/tree-math.ts';
import { deliverAll, expectGroupLive, expectRejected, makeGroup } from '../mls/group-fixture.ts';

const MALLORY = 1;

for (const suiteId of [1, 2, 3]) {
  describe(`a Remove of a missing leaf wedges the group (suite ${suiteId})`, () => {
    it('a Remove of a leaf past the end of the tree is rejected by every member (V-REM-1)', async () => {
      const g = await makeGroup(suiteId, 3);
      const p = await proposeRemove(g[MALLORY]!, 9 as LeafIndex);
      for (const i of [0, 2]) await expectRejected(g[i]!, 'V-REM-1', (s) => processMessage(s, encodeMessage(p.message)));
      g[MALLORY] = p.state;
      await expectGroupLive(g);
    });

    it('a Remove of a blank leaf is rejected by every member (V-REM-1)', async () => {
      let g = await makeGroup(suiteId, 4);
      // Alice removes Carol: leaf 2 is now a blank leaf in the middle of the tree.
      const r = await createCommit(g[0]!, { proposals: [{ proposalType: ProposalType.remove, remove: { removed: 2 as LeafIndex } }] });
      g = [r.state, ...(await deliverAll([g[1]!, g[3]!], r.commit))];
      const blank = await proposeRemove(g[MALLORY]!, 2 as LeafIndex);
      for (const i of [0, 2]) await expectRejected(g[i]!, 'V-REM-1', (s) => processMessage(s, encodeMessage(blank.message)));
      g[MALLORY] = blank.state;
      const after = await expectGroupLive(g);
      for (const s of after) expect([...s.tree.memberIndices()]).toEqual([0, 1, 3]);
    });
  });
}
