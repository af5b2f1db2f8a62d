/**
 * Attack: Bob, an ordinary member, ends the conversation for everyone. On
 * main, "delete" sent an application message any member could send, and
 * every receiver dropped the group. Ending is now a Commit that removes
 * every other member (then the queue goes), and only an admin may send it.
 *
 * Defence: every member's engine refuses Bob's Commit removing all others,
 * V-ROLE-1 (MicroChat roles), and a ReInit from him, V-ROLE-4. Each
 * receiver keeps its state byte for byte and the group carries on.
 */
import { describe, expect, it, vi } from 'vitest';
import { createCommit, encodeMessage, processMessage } from '../../lib/mls/group.ts';
import { ProposalType, type Proposal } from '../../lib/mls/group/proposals.ts';
import type { LeafIndex } from '../../lib/mls/tree/tree-math.ts';
import { expectGroupLive, expectRejected } from '../mls/group-fixture.ts';
import { makeRolesGroup } from '../mls/roles-fixture.ts';
import { asHostile } from './support/hostile-roles.ts';

const hostile = vi.hoisted(() => ({ on: false }));
vi.mock('../../lib/mls/group/role-rules.ts', async (orig) => (await import('./support/hostile-roles.ts')).withHostileSwitch(orig, hostile));

const BOB = 1;
const removeLeaf = (i: number): Proposal => ({ proposalType: ProposalType.remove, remove: { removed: i as LeafIndex } });

for (const suiteId of [1, 2, 3]) {
  describe(`a non-admin ends the conversation (suite ${suiteId})`, () => {
    it('Bob\'s Commit removing everyone else is rejected by every other member (V-ROLE-1), and the group carries on', async () => {
      const g = await makeRolesGroup(suiteId, 4);
      const c = await asHostile(hostile, () => createCommit(g[BOB]!, { proposals: [removeLeaf(0), removeLeaf(2), removeLeaf(3)] }));
      const bytes = encodeMessage(c.commit);
      for (const i of [0, 2, 3]) await expectRejected(g[i]!, 'V-ROLE-1', (s) => processMessage(s, bytes));
      const after = await expectGroupLive(g);
      for (const s of after) expect([...s.tree.memberIndices()]).toEqual([0, 1, 2, 3]);
    });

    it('Bob\'s ReInit (which would close the group for everyone) is rejected (V-ROLE-4)', async () => {
      const g = await makeRolesGroup(suiteId, 3);
      const ctx = g[BOB]!.context;
      const reinit: Proposal = {
        proposalType: ProposalType.reinit,
        reInit: { groupId: new Uint8Array(32).fill(7), version: ctx.version, cipherSuite: ctx.cipherSuite, extensions: [] },
      };
      const c = await asHostile(hostile, () => createCommit(g[BOB]!, { proposals: [reinit] }));
      const bytes = encodeMessage(c.commit);
      for (const i of [0, 2]) await expectRejected(g[i]!, 'V-ROLE-4', (s) => processMessage(s, bytes));
      await expectGroupLive(g);
    });

    it('the creator (an admin) can end it: every other member follows and is removed', async () => {
      const g = await makeRolesGroup(suiteId, 3);
      const c = await createCommit(g[0]!, { proposals: [removeLeaf(1), removeLeaf(2)] });
      for (const i of [1, 2]) {
        const r = await processMessage(g[i]!, encodeMessage(c.commit));
        expect(r.kind === 'commit' && r.removed).toBe(true);
      }
      expect([...c.state.tree.memberIndices()]).toEqual([0]);
    });
  });
}
