/**
 * Attack: Bob, an ordinary member (he joined by link), removes Alice, who
 * created the conversation. On main any member could: the others saw
 * "Bob removed Alice" and Alice was told "You were removed".
 *
 * Defence: MicroChat roles in the GroupContext (lib/mls/group/roles.ts); every
 * member's engine refuses a Remove of another member's leaf from a
 * non-admin, V-ROLE-1 (MicroChat roles), whether Bob commits it himself or
 * proposes it for someone else to commit. Each receiver keeps its state
 * byte for byte and the group carries on, Bob included.
 */
import { describe, expect, it, vi } from 'vitest';
import { createCommit, encodeMessage, processMessage, proposeRemove } from '../../lib/mls/group.ts';
import { ProposalType } from '../../lib/mls/group/proposals.ts';
import type { LeafIndex } from '../../lib/mls/tree/tree-math.ts';
import { expectGroupLive, expectRejected } from '../mls/group-fixture.ts';
import { makeRolesGroup } from '../mls/roles-fixture.ts';
import { asHostile } from './support/hostile-roles.ts';

const hostile = vi.hoisted(() => ({ on: false }));
vi.mock('../../lib/mls/group/role-rules.ts', async (orig) => (await import('./support/hostile-roles.ts')).withHostileSwitch(orig, hostile));

const ALICE = 0 as LeafIndex;
const BOB = 1;
const CAROL = 2;
const removeAlice = { proposalType: ProposalType.remove, remove: { removed: ALICE } } as const;

for (const suiteId of [1, 2, 3]) {
  describe(`a non-admin removes the creator (suite ${suiteId})`, () => {
    it('Bob\'s Commit removing Alice is rejected by Alice and Carol (V-ROLE-1), and the group carries on', async () => {
      const g = await makeRolesGroup(suiteId, 3);
      const c = await asHostile(hostile, () => createCommit(g[BOB]!, { proposals: [removeAlice] }));
      const bytes = encodeMessage(c.commit);
      for (const i of [ALICE, CAROL]) await expectRejected(g[i]!, 'V-ROLE-1', (s) => processMessage(s, bytes));
      const after = await expectGroupLive(g);
      for (const s of after) expect([...s.tree.memberIndices()]).toEqual([0, 1, 2]);
    });

    it('the Commit is otherwise valid: an engine without the role rules would follow it', async () => {
      const g = await makeRolesGroup(suiteId, 3);
      const c = await asHostile(hostile, () => createCommit(g[BOB]!, { proposals: [removeAlice] }));
      const carol = await asHostile(hostile, () => processMessage(g[CAROL]!, encodeMessage(c.commit)));
      expect(carol.kind === 'commit' && [...carol.state.tree.memberIndices()]).toEqual([1, 2]);
    });

    it('Bob\'s proposal to remove Alice is refused on receipt, so no one can commit it (V-ROLE-1)', async () => {
      const g = await makeRolesGroup(suiteId, 3);
      const p = await asHostile(hostile, () => proposeRemove(g[BOB]!, ALICE));
      const bytes = encodeMessage(p.message);
      for (const i of [ALICE, CAROL]) await expectRejected(g[i]!, 'V-ROLE-1', (s) => processMessage(s, bytes));
      await expectGroupLive(g);
    });

    it('an honest client refuses to build the Commit at all', async () => {
      const g = await makeRolesGroup(suiteId, 3);
      await expectRejected(g[BOB]!, 'V-ROLE-1', (s) => createCommit(s, { proposals: [removeAlice] }));
    });
  });
}
