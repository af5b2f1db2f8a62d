/**
 * Attack: whoever holds a GroupInfo (an invite) joins by external Commit and
 * removes another member in the same Commit; the others would then see
 * "Someone removed Bob". §12.4.3.2 allows an external Commit to remove only
 * an old version of the joiner itself (a resync).
 *
 * Defence: V-EC-6, the removed leaf must have the joiner's credential
 * identity and signature key. Every member rejects the Commit, keeps its
 * state byte for byte, and the group goes on; a true resync still works.
 */
import { describe, expect, it } from 'vitest';
import { getCipherSuite } from '../../lib/crypto/suites.ts';
import { encodeMessage, exportGroupInfo, generateIdentity, joinByExternalCommit, processMessage } from '../../lib/mls/group.ts';
import { deliverAll, expectGroupLive, expectRejected, makeGroup, utf8 } from '../mls/group-fixture.ts';

const BOB = 1;

for (const suiteId of [1, 2, 3]) {
  const cs = getCipherSuite(suiteId);
  describe(`an external Commit removes another member (suite ${suiteId})`, () => {
    it('a joiner removing Bob is rejected by every member (V-EC-6)', async () => {
      const g = await makeGroup(suiteId, 3);
      const joiner = await generateIdentity(cs, utf8.encode('joiner'));
      const ext = await joinByExternalCommit(await exportGroupInfo(g[0]!), joiner, { removeLeaf: g[BOB]!.ownLeaf });
      const bytes = encodeMessage(ext.commit);
      for (const s of g) await expectRejected(s, 'V-EC-6', (x) => processMessage(x, bytes));
      const after = await expectGroupLive(g);
      for (const s of after) expect([...s.tree.memberIndices()]).toEqual([0, 1, 2]);
    });

    it('a joiner claiming Bob\'s identity with another signature key is rejected too (V-EC-6)', async () => {
      const g = await makeGroup(suiteId, 3);
      const impostor = await generateIdentity(cs, utf8.encode('member-1'));
      const ext = await joinByExternalCommit(await exportGroupInfo(g[0]!), impostor, { removeLeaf: g[BOB]!.ownLeaf });
      const bytes = encodeMessage(ext.commit);
      for (const s of g) await expectRejected(s, 'V-EC-6', (x) => processMessage(x, bytes));
      await expectGroupLive(g);
    });

    it('Bob resyncing (same identity, same signature key) still replaces his own leaf', async () => {
      const g = await makeGroup(suiteId, 3);
      const bob = g[BOB]!.tree.leaf(g[BOB]!.ownLeaf)!;
      const ext = await joinByExternalCommit(await exportGroupInfo(g[0]!), { credential: bob.credential, signaturePublicKey: bob.signatureKey, signaturePrivateKey: g[BOB]!.signaturePrivateKey }, { removeLeaf: g[BOB]!.ownLeaf });
      const [a, c] = await deliverAll([g[0]!, g[2]!], ext.commit);
      await expectGroupLive([a!, ext.state, c!]);
    });
  });
}
