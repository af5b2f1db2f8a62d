/**
 * Proposals are validated when they are received (RFC 9420 §12.1, §10.1,
 * §12.1.8) and an invalid one is never cached: each rule below rejects the
 * proposal with its rule ID and leaves the receiver's state byte-identical.
 * Then the committer's side (§12.4): from proposals valid one by one, a
 * Commit carries those that fit together and leaves out the rest.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { getCipherSuite } from '../../lib/crypto/suites.ts';
import { encode } from '../../lib/mls/codec/codec.ts';
import { bytesEqual, bytesToHex } from '../../lib/bytes.ts';
import { keyPackageTbsCodec } from '../../lib/mls/join/key-package.ts';
import { CredentialType } from '../../lib/mls/tree/credential.ts';
import { signWithLabel } from '../../lib/mls/keys/crypto-ops.ts';
import { SenderType, WireFormat } from '../../lib/mls/framing/framing.ts';
import {
  createCommit,
  createProposal,
  encodeMessage,
  epochAuthenticator,
  generateIdentity,
  generateKeyPackage,
  joinFromWelcome,
  processMessage,
  proposeAdd,
  proposeRemove,
  type GroupState,
} from '../../lib/mls/group.ts';
import { LeafNodeSource, encodeLeafNodeTbs, type LeafNodeIn, type LeafNodeContent } from '../../lib/mls/tree/leaf-node.ts';
import { ProposalOrRefType, ProposalType, type Proposal } from '../../lib/mls/group/proposals.ts';
import { PskType, ResumptionPskUsage } from '../../lib/mls/keys/psk.ts';
import type { LeafIndex } from '../../lib/mls/tree/tree-math.ts';
import { deliverAll, expectRejected, forgeCommit, keyPackageWithInitKeyReused, makeGroup, outsiderProposal, utf8 } from './group-fixture.ts';

const same = (states: GroupState[]) => expect(new Set(states.map((s) => bytesToHex(epochAuthenticator(s)))).size).toBe(1);

/** An `update` leaf for `state`'s own leaf with `change` applied, signed by its member. */
async function updateLeaf(state: GroupState, change: Partial<LeafNodeContent> = {}): Promise<LeafNodeIn> {
  const cur = state.tree.leaf(state.ownLeaf)!;
  const kp = await state.suite.hpke.generateKeyPair();
  const content = {
    encryptionKey: kp.publicKey,
    signatureKey: cur.signatureKey,
    credential: cur.credential,
    capabilities: cur.capabilities,
    extensions: cur.extensions,
    leafNodeSource: LeafNodeSource.update,
    ...change,
  } as LeafNodeContent;
  const tbs = encodeLeafNodeTbs(content, { groupId: state.context.groupId, leafIndex: state.ownLeaf });
  return { ...content, signature: await signWithLabel(state.suite, state.signaturePrivateKey, 'LeafNodeTBS', tbs) };
}

for (const suiteId of [1, 2, 3]) {
  const cs = getCipherSuite(suiteId);
  describe(`proposals validated on receipt (suite ${suiteId})`, () => {
    let g: GroupState[];
    beforeAll(async () => {
      g = await makeGroup(suiteId, 3);
    });
    /** Bob sends `proposal`; Alice must reject it with `rule`, state unchanged. */
    const rejectedFromBob = async (proposal: Proposal, rule: string): Promise<void> => {
      const p = await createProposal(g[1]!, proposal, { wireFormat: WireFormat.publicMessage });
      await expectRejected(g[0]!, rule, (s) => processMessage(s, encodeMessage(p.message)));
    };

    it(`suite ${suiteId} Add: V-KP-4 init key = leaf key; V-KP-3 bad signature; V-LN-8 a member's signature key`, async () => {
      const bad = await keyPackageWithInitKeyReused(suiteId, 'x');
      await rejectedFromBob({ proposalType: ProposalType.add, add: { keyPackage: bad.keyPackage } }, 'V-KP-4');
      const kp = await generateKeyPackage(cs, await generateIdentity(cs, utf8.encode('y')));
      await rejectedFromBob({ proposalType: ProposalType.add, add: { keyPackage: { ...kp.keyPackage, signature: new Uint8Array(kp.keyPackage.signature.length) } } }, 'V-KP-3');
      // A KeyPackage of Carol's own identity key: not unique among the members.
      const carolKey = { credential: g[2]!.tree.leaf(g[2]!.ownLeaf)!.credential, signaturePublicKey: g[2]!.tree.leaf(g[2]!.ownLeaf)!.signatureKey, signaturePrivateKey: g[2]!.signaturePrivateKey };
      const twin = await generateKeyPackage(cs, carolKey);
      await rejectedFromBob({ proposalType: ProposalType.add, add: { keyPackage: twin.keyPackage } }, 'V-LN-8');
    });

    it(`suite ${suiteId} Add: V-KP-7 an init key or leaf key no one can encrypt to; Update: V-LN-13`, async () => {
      const id = await generateIdentity(cs, utf8.encode('short'));
      const kp = await generateKeyPackage(cs, id);
      const resign = async (tbs: typeof kp.keyPackage) => ({
        ...tbs,
        signature: await signWithLabel(cs, id.signaturePrivateKey, 'KeyPackageTBS', encode(keyPackageTbsCodec, tbs)),
      });
      const shortInit = await resign({ ...kp.keyPackage, initKey: new Uint8Array(5) });
      await rejectedFromBob({ proposalType: ProposalType.add, add: { keyPackage: shortInit } }, 'V-KP-7');
      const leafContent = { ...kp.keyPackage.leafNode, encryptionKey: new Uint8Array(cs.hpke.publicKeySize + 1) };
      const leafNode = { ...leafContent, signature: await signWithLabel(cs, id.signaturePrivateKey, 'LeafNodeTBS', encodeLeafNodeTbs(leafContent)) };
      const shortLeaf = await resign({ ...kp.keyPackage, leafNode });
      await rejectedFromBob({ proposalType: ProposalType.add, add: { keyPackage: shortLeaf } }, 'V-KP-7');
      // A Commit carrying it by value is rejected by its receivers too (before any key is used).
      const forged = await forgeCommit(g[1]!, { proposals: [{ type: ProposalOrRefType.proposal, proposal: { proposalType: ProposalType.add, add: { keyPackage: shortLeaf } } }] });
      await expectRejected(g[0]!, 'V-KP-7', (s) => processMessage(s, encodeMessage(forged)));
      const update = await updateLeaf(g[1]!, { encryptionKey: new Uint8Array(7) });
      await rejectedFromBob({ proposalType: ProposalType.update, update: { leafNode: update } }, 'V-LN-13');
      // The right length but no key anyone can encrypt to (X25519: small order; NIST curves: not a point).
      const zero = new Uint8Array(cs.hpke.publicKeySize);
      await rejectedFromBob({ proposalType: ProposalType.add, add: { keyPackage: await resign({ ...kp.keyPackage, initKey: zero }) } }, 'V-KP-7');
      const zeroLeafContent = { ...kp.keyPackage.leafNode, encryptionKey: zero };
      const zeroLeaf = { ...zeroLeafContent, signature: await signWithLabel(cs, id.signaturePrivateKey, 'LeafNodeTBS', encodeLeafNodeTbs(zeroLeafContent)) };
      await rejectedFromBob({ proposalType: ProposalType.add, add: { keyPackage: await resign({ ...kp.keyPackage, leafNode: zeroLeaf }) } }, 'V-KP-7');
      await rejectedFromBob({ proposalType: ProposalType.update, update: { leafNode: await updateLeaf(g[1]!, { encryptionKey: zero }) } }, 'V-LN-13');
    });

    it(`suite ${suiteId} Add: V-LN-5 a KeyPackage not yet valid`, async () => {
      const now = BigInt(Math.floor(Date.now() / 1000));
      const kp = await generateKeyPackage(cs, await generateIdentity(cs, utf8.encode('later')), { lifetime: { notBefore: now + 86400n, notAfter: now + 2n * 86400n } });
      await rejectedFromBob({ proposalType: ProposalType.add, add: { keyPackage: kp.keyPackage } }, 'V-LN-5');
    });

    it(`suite ${suiteId} Remove: V-REM-1 of a leaf past the tree`, async () => {
      await rejectedFromBob({ proposalType: ProposalType.remove, remove: { removed: 3 as LeafIndex } }, 'V-REM-1');
      await rejectedFromBob({ proposalType: ProposalType.remove, remove: { removed: 0xffff as LeafIndex } }, 'V-REM-1');
    });

    it(`suite ${suiteId} Update: V-LN-12 new identity; V-LN-1 bad signature; V-LN-8 another member's encryption key; V-LN-6 wrong source`, async () => {
      const renamed = await updateLeaf(g[1]!, { credential: { credentialType: CredentialType.basic, identity: utf8.encode('member-0') } });
      await rejectedFromBob({ proposalType: ProposalType.update, update: { leafNode: renamed } }, 'V-LN-12');
      const fine = await updateLeaf(g[1]!);
      await rejectedFromBob({ proposalType: ProposalType.update, update: { leafNode: { ...fine, signature: new Uint8Array(fine.signature.length) } } }, 'V-LN-1');
      const stolen = await updateLeaf(g[1]!, { encryptionKey: g[0]!.tree.leaf(0 as LeafIndex)!.encryptionKey });
      await rejectedFromBob({ proposalType: ProposalType.update, update: { leafNode: stolen } }, 'V-LN-8');
      const wrongSource = { ...g[1]!.tree.leaf(g[1]!.ownLeaf)!, encryptionKey: (await cs.hpke.generateKeyPair()).publicKey };
      await rejectedFromBob({ proposalType: ProposalType.update, update: { leafNode: wrongSource } }, 'V-LN-6');
    });

    it(`suite ${suiteId} PreSharedKey: V-PSK-3 nonce length; V-PSK-1 reinit usage; V-PRP-5 a PSK we do not hold`, async () => {
      const ext = (nonce: Uint8Array): Proposal => ({ proposalType: ProposalType.psk, psk: { psk: { psktype: PskType.external, pskId: utf8.encode('k'), pskNonce: nonce } } });
      await rejectedFromBob(ext(new Uint8Array(3)), 'V-PSK-3');
      await rejectedFromBob(ext(cs.randomBytes(cs.kdf.size)), 'V-PRP-5');
      const reinitPsk: Proposal = {
        proposalType: ProposalType.psk,
        psk: { psk: { psktype: PskType.resumption, usage: ResumptionPskUsage.reinit, pskGroupId: g[0]!.context.groupId, pskEpoch: g[0]!.context.epoch, pskNonce: cs.randomBytes(cs.kdf.size) } },
      };
      await rejectedFromBob(reinitPsk, 'V-PSK-1');
    });

    it(`suite ${suiteId} ReInit: V-RI-1 lower version; GroupContextExtensions: V-GCE-2 unsupported extension`, async () => {
      await rejectedFromBob({ proposalType: ProposalType.reinit, reInit: { groupId: new Uint8Array(4), version: 0, cipherSuite: suiteId, extensions: [] } }, 'V-RI-1');
      await rejectedFromBob(
        { proposalType: ProposalType.groupContextExtensions, groupContextExtensions: { extensions: [{ extensionType: 0xabcd, extensionData: new Uint8Array(0) }] } },
        'V-GCE-2',
      );
    });

    it(`suite ${suiteId} new members: V-SND-4 unless accepted; V-SND-2 only Add`, async () => {
      const kp = await generateKeyPackage(cs, await generateIdentity(cs, utf8.encode('newcomer')));
      const key = kp.privateKeys.signaturePrivateKey;
      const add = encodeMessage(await outsiderProposal(g[0]!, { proposalType: ProposalType.add, add: { keyPackage: kp.keyPackage } }, { senderType: SenderType.newMemberProposal }, key));
      await expectRejected(g[0]!, 'V-SND-4', (s) => processMessage(s, add));
      const accepted = await processMessage(g[0]!, add, { acceptNewMemberProposals: true });
      expect(accepted.kind).toBe('proposal');
    });

    it(`suite ${suiteId}: valid proposals are still cached`, async () => {
      const kp = await generateKeyPackage(cs, await generateIdentity(cs, utf8.encode('ok')));
      const p = await proposeAdd(g[1]!, kp.keyPackage);
      const r = await processMessage(g[0]!, encodeMessage(p.message));
      expect(r.state.pendingProposals).toHaveLength(1);
    });
  });

  describe(`a committer leaves out cached proposals that do not fit its Commit (suite ${suiteId}, §12.4)`, () => {
    it(`suite ${suiteId}: the same KeyPackage added by two members is added once`, async () => {
      let g = await makeGroup(suiteId, 3);
      const kp = await generateKeyPackage(cs, await generateIdentity(cs, utf8.encode('twice')));
      for (const from of [1, 2]) {
        const p = await proposeAdd(g[from]!, kp.keyPackage);
        g = await deliverAll(g, p.message, from);
        g[from] = p.state;
      }
      expect(g[0]!.pendingProposals).toHaveLength(2);
      const c = await createCommit(g[0]!);
      const others = await deliverAll([g[1]!, g[2]!], c.commit);
      const joined = await joinFromWelcome(c.welcome!, kp.keyPackage, kp.privateKeys);
      same([c.state, ...others, joined]);
      expect([...c.state.tree.memberIndices()]).toEqual([0, 1, 2, 3]);
    });

    it(`suite ${suiteId}: a KeyPackage that expired after it was received is left out`, async () => {
      let g = await makeGroup(suiteId, 3);
      const now = BigInt(Math.floor(Date.now() / 1000));
      const kp = await generateKeyPackage(cs, await generateIdentity(cs, utf8.encode('short')), { lifetime: { notBefore: now - 60n, notAfter: now + 60n } });
      const p = await proposeAdd(g[1]!, kp.keyPackage);
      g = await deliverAll(g, p.message, 1);
      g[1] = p.state;
      const c = await createCommit(g[0]!, { now: now + 3600n });
      expect(c.welcome).toBeUndefined();
      same([c.state, ...(await deliverAll([g[1]!, g[2]!], c.commit))]);
      expect([...c.state.tree.memberIndices()]).toEqual([0, 1, 2]);
    });

    it(`suite ${suiteId}: a cached Remove conflicting with the committer's own Remove is left out; two Removes of one leaf count once`, async () => {
      let g = await makeGroup(suiteId, 4);
      for (const from of [1, 2]) {
        const p = await proposeRemove(g[from]!, 3 as LeafIndex);
        g = await deliverAll(g, p.message, from);
        g[from] = p.state;
      }
      const own = await createCommit(g[0]!, { proposals: [{ proposalType: ProposalType.remove, remove: { removed: 3 as LeafIndex } }] });
      expect([...own.state.tree.memberIndices()]).toEqual([0, 1, 2]);
      same([own.state, ...(await deliverAll([g[1]!, g[2]!], own.commit))]);
      const byRef = await createCommit(g[1]!);
      expect([...byRef.state.tree.memberIndices()]).toEqual([0, 1, 2]);
      same([byRef.state, ...(await deliverAll([g[0]!, g[2]!], byRef.commit))]);
    });

    it(`suite ${suiteId}: our own cached Add with a bad KeyPackage signature (never received, so never checked) is left out`, async () => {
      const g = await makeGroup(suiteId, 2);
      const kp = await generateKeyPackage(cs, await generateIdentity(cs, utf8.encode('unsigned')));
      const p = await proposeAdd(g[1]!, { ...kp.keyPackage, signature: new Uint8Array(kp.keyPackage.signature.length) });
      const c = await createCommit(p.state);
      expect(c.welcome).toBeUndefined();
      same([c.state, ...(await deliverAll([g[0]!], c.commit))]);
    });

    it(`suite ${suiteId}: a proposal its own sender cached but others rejected does not stop the sender`, async () => {
      const g = await makeGroup(suiteId, 2);
      const bad = await keyPackageWithInitKeyReused(suiteId, 'z');
      const p = await proposeAdd(g[1]!, bad.keyPackage);
      const c = await createCommit(p.state);
      const [a] = await deliverAll([g[0]!], c.commit);
      same([a!, c.state]);
      expect(bytesEqual(c.state.tree.leaf(1 as LeafIndex)!.signatureKey, g[1]!.tree.leaf(1 as LeafIndex)!.signatureKey)).toBe(true);
    });
  });
}
