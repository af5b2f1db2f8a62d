/**
 * Attack: a hostile member takes another member's name. Mallory keeps her
 * seat and her signature key but replaces her leaf's credential identity
 * with Alice's, by an Update proposal or by the leaf of her own Commit's
 * UpdatePath. Members are told apart by signature key, so no one would see
 * a change, and her messages would show under Alice's name.
 *
 * Defence: V-LN-12 (§5.3.1), a member's credential identity cannot change;
 * every member rejects both forms, keeps its state byte for byte, and the
 * group goes on sending and committing.
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../lib/bytes.ts';
import { CredentialType } from '../../lib/mls/tree/credential.ts';
import { encodeGroupState, encodeMessage, processMessage, createCommit, type GroupState } from '../../lib/mls/group.ts';
import { LeafNodeSource, encodeLeafNodeTbs, type LeafNodeIn, type LeafNodeContent } from '../../lib/mls/tree/leaf-node.ts';
import { signWithLabel } from '../../lib/mls/keys/crypto-ops.ts';
import { createProposal } from '../../lib/mls/group/commit-create.ts';
import { withState } from '../../lib/mls/group/group-state.ts';
import { ProposalType } from '../../lib/mls/group/proposals.ts';
import { WireFormat } from '../../lib/mls/framing/framing.ts';
import { expectGroupLive, expectRejected, makeGroup, utf8 } from '../mls/group-fixture.ts';

const ALICE = 0;
const MALLORY = 2;

async function leafNamed(state: GroupState, name: Uint8Array): Promise<LeafNodeIn> {
  const cur = state.tree.leaf(state.ownLeaf)!;
  const kp = await state.suite.hpke.generateKeyPair();
  const content: LeafNodeContent = {
    encryptionKey: kp.publicKey,
    signatureKey: cur.signatureKey,
    credential: { credentialType: CredentialType.basic, identity: name },
    capabilities: cur.capabilities,
    extensions: cur.extensions,
    leafNodeSource: LeafNodeSource.update,
  };
  const tbs = encodeLeafNodeTbs(content, { groupId: state.context.groupId, leafIndex: state.ownLeaf });
  return { ...content, signature: await signWithLabel(state.suite, state.signaturePrivateKey, 'LeafNodeTBS', tbs) };
}

function identityOf(state: GroupState, leaf: number): string {
  const c = state.tree.leaf(leaf as never)!.credential;
  return c.credentialType === CredentialType.basic ? new TextDecoder().decode(c.identity) : '';
}

for (const suiteId of [1, 2, 3]) {
  describe(`a member silently renames to another member (suite ${suiteId})`, () => {
    it('an Update proposal carrying Alice\'s identity is rejected by every member (V-LN-12)', async () => {
      const g = await makeGroup(suiteId, 4);
      const aliceName = utf8.encode(identityOf(g[ALICE]!, ALICE));
      const leafNode = await leafNamed(g[MALLORY]!, aliceName);
      const p = await createProposal(g[MALLORY]!, { proposalType: ProposalType.update, update: { leafNode } }, { wireFormat: WireFormat.publicMessage });
      for (const i of [0, 1, 3]) await expectRejected(g[i]!, 'V-LN-12', (s) => processMessage(s, encodeMessage(p.message)));
      const after = await expectGroupLive(g);
      for (const s of after) expect(identityOf(s, MALLORY)).toBe('member-2');
    });

    it('a Commit whose UpdatePath leaf carries Alice\'s identity is rejected by every member (V-LN-12)', async () => {
      const g = await makeGroup(suiteId, 4);
      const mallory = g[MALLORY]!;
      // Mallory's own copy of her leaf says "member-0"; her Commit re-signs it into the UpdatePath.
      const cur = mallory.tree.leaf(mallory.ownLeaf)!;
      const draft = mallory.tree.edit();
      draft.setLeaf(mallory.ownLeaf, { ...cur, credential: { credentialType: CredentialType.basic, identity: utf8.encode('member-0') } });
      const forged = await createCommit(withState(mallory, { tree: draft.done() }));
      const before = g.map((s) => bytesToHex(encodeGroupState(s)));
      for (const i of [0, 1, 3]) await expectRejected(g[i]!, 'V-LN-12', (s) => processMessage(s, encodeMessage(forged.commit)));
      expect(g.map((s) => bytesToHex(encodeGroupState(s)))).toEqual(before);
      const after = await expectGroupLive(g);
      for (const s of after) expect(identityOf(s, MALLORY)).toBe('member-2');
    });
  });
}
