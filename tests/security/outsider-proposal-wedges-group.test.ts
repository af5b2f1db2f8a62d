/**
 * Attack: an outsider wedges the conversation. A `new_member_proposal`
 * needs only the group id and the epoch (it is signed by the KeyPackage's own
 * key), and an `external` sender needs only its key in external_senders. An
 * invalid proposal from either, cached on receipt, would stop every member
 * from sending (V-APP-1) and committing (V-KP-4 / V-REM-1); a valid self-Add
 * would put a stranger in the tree at the next Commit.
 *
 * Defence (§12.1.8, §12.1): proposals from new members are refused unless
 * the application accepts them (V-SND-4; MicroChat does not), and when it
 * does they are validated like any other (V-KP-4); an external sender's
 * proposals are validated on receipt (V-REM-1) and its index must name an
 * entry of external_senders. Nothing is cached; everyone still sends and commits.
 */
import { describe, expect, it } from 'vitest';
import { getCipherSuite } from '../../lib/crypto/suites.ts';
import { encode } from '../../lib/mls/codec/codec.ts';
import { ExtensionType, externalSendersCodec } from '../../lib/mls/group/extensions.ts';
import { SenderType } from '../../lib/mls/framing/framing.ts';
import { createCommit, encodeMessage, generateIdentity, generateKeyPackage, processMessage, type GroupState } from '../../lib/mls/group.ts';
import { ProposalType } from '../../lib/mls/group/proposals.ts';
import type { LeafIndex } from '../../lib/mls/tree/tree-math.ts';
import { deliverAll, expectGroupLive, expectRejected, keyPackageWithInitKeyReused, makeGroup, outsiderProposal, utf8 } from '../mls/group-fixture.ts';

for (const suiteId of [1, 2, 3]) {
  const cs = getCipherSuite(suiteId);
  describe(`an outsider's proposal wedges the group (suite ${suiteId})`, () => {
    it('new_member_proposal: an invalid Add (V-SND-4, and V-KP-4 where new members are accepted) and a valid self-Add (V-SND-4)', async () => {
      const g = await makeGroup(suiteId, 3);
      const bad = await keyPackageWithInitKeyReused(suiteId, 'outsider');
      const invalid = encodeMessage(
        await outsiderProposal(g[0]!, { proposalType: ProposalType.add, add: { keyPackage: bad.keyPackage } }, { senderType: SenderType.newMemberProposal }, bad.signaturePrivateKey),
      );
      for (const s of g) await expectRejected(s, 'V-SND-4', (x) => processMessage(x, invalid));
      for (const s of g) await expectRejected(s, 'V-KP-4', (x) => processMessage(x, invalid, { acceptNewMemberProposals: true }));

      const stranger = await generateKeyPackage(cs, await generateIdentity(cs, utf8.encode('stranger')));
      const selfAdd = encodeMessage(
        await outsiderProposal(g[0]!, { proposalType: ProposalType.add, add: { keyPackage: stranger.keyPackage } }, { senderType: SenderType.newMemberProposal }, stranger.privateKeys.signaturePrivateKey),
      );
      for (const s of g) await expectRejected(s, 'V-SND-4', (x) => processMessage(x, selfAdd));
      const after = await expectGroupLive(g);
      for (const s of after) expect([...s.tree.memberIndices()]).toEqual([0, 1, 2]);
    });

    it('external sender: no external_senders extension (V-RCV-4), an unknown sender index (V-PROT-3), a Remove of a missing leaf (V-REM-1)', async () => {
      let g = await makeGroup(suiteId, 3);
      const ds = await generateIdentity(cs, utf8.encode('delivery-service'));
      const removeGhost = { proposalType: ProposalType.remove, remove: { removed: 7 as LeafIndex } } as const;
      const before = encodeMessage(await outsiderProposal(g[0]!, removeGhost, { senderType: SenderType.external, senderIndex: 0 }, ds.signaturePrivateKey));
      for (const s of g) await expectRejected(s, 'V-RCV-4', (x) => processMessage(x, before));

      const senders = { extensionType: ExtensionType.externalSenders, extensionData: encode(externalSendersCodec, [{ signatureKey: ds.signaturePublicKey, credential: ds.credential }]) };
      const r = await createCommit(g[0]!, { proposals: [{ proposalType: ProposalType.groupContextExtensions, groupContextExtensions: { extensions: [senders] } }] });
      g = [r.state, ...(await deliverAll(g.slice(1), r.commit))] as GroupState[];

      const unknownIndex = encodeMessage(await outsiderProposal(g[0]!, removeGhost, { senderType: SenderType.external, senderIndex: 3 }, ds.signaturePrivateKey));
      for (const s of g) await expectRejected(s, 'V-PROT-3', (x) => processMessage(x, unknownIndex));
      const missing = encodeMessage(await outsiderProposal(g[0]!, removeGhost, { senderType: SenderType.external, senderIndex: 0 }, ds.signaturePrivateKey));
      for (const s of g) await expectRejected(s, 'V-REM-1', (x) => processMessage(x, missing));
      await expectGroupLive(g);
    });
  });
}
