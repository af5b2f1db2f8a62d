/**
 * Attack: a hostile member wedges the conversation with one invalid
 * standalone Add. The KeyPackage is signed correctly but reuses its leaf
 * encryption key as init key (§10.1). Were it cached on receipt, every
 * member would have to commit it before sending (§12.4, V-APP-1), and every
 * such Commit would fail (V-KP-4): no one could send or commit again.
 *
 * Defence: every proposal is validated on receipt (§12.1.1, §10.1): the Add is
 * rejected with V-KP-4 and never cached, the state is byte-identical, and
 * everyone, the proposer included, still sends and commits (the proposer's
 * own Commit leaves out the proposal it cached itself).
 */
import { describe, expect, it } from 'vitest';
import { encodeMessage, processMessage, proposeAdd } from '../../lib/mls/group.ts';
import { WireFormat } from '../../lib/mls/framing/framing.ts';
import { expectGroupLive, expectRejected, keyPackageWithInitKeyReused, makeGroup } from '../mls/group-fixture.ts';

const MALLORY = 1;

for (const suiteId of [1, 2, 3]) {
  describe(`an invalid Add proposal wedges the group (suite ${suiteId})`, () => {
    for (const wireFormat of [WireFormat.privateMessage, WireFormat.publicMessage]) {
      it(`as a ${wireFormat === WireFormat.privateMessage ? 'Private' : 'Public'}Message: rejected by every member (V-KP-4), nobody is stopped`, async () => {
        const g = await makeGroup(suiteId, 3);
        const bad = await keyPackageWithInitKeyReused(suiteId, 'ghost');
        const p = await proposeAdd(g[MALLORY]!, bad.keyPackage, { wireFormat });
        const bytes = encodeMessage(p.message);
        for (const i of [0, 2]) await expectRejected(g[i]!, 'V-KP-4', (s) => processMessage(s, bytes));
        // Mallory cached her own proposal; her next Commit leaves it out.
        g[MALLORY] = p.state;
        expect(g[MALLORY].pendingProposals).toHaveLength(1);
        const after = await expectGroupLive(g);
        for (const s of after) expect([...s.tree.memberIndices()]).toEqual([0, 1, 2]);
      });
    }
  });
}
