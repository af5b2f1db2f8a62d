/**
 * Rejection tests for the remaining group-layer rule IDs: LeafNode validation
 * (§7.3, V-LN-*), KeyPackage validation (§10.1, V-KP-*), proposal senders
 * (V-SND-*, V-PRP-*), Commit senders and list rules (V-CM-6/7,
 * V-RI-1, V-GCE-2, V-EC-1), external senders (V-RCV-4), external joins
 * (V-EJ-*), joining (V-JOIN-3, V-JOIN-4) and sending with pending proposals (V-APP-1).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { getCipherSuite } from '../../lib/crypto/suites.ts';
import { decode, encode } from '../../lib/mls/codec/codec.ts';
import { keyPackageCodec, type KeyPackage } from '../../lib/mls/join/key-package.ts';
import { signWithLabel } from '../../lib/mls/keys/crypto-ops.ts';
import type { Commit } from '../../lib/mls/group/commit.ts';
import { CredentialType } from '../../lib/mls/tree/credential.ts';
import { ExtensionType, requiredCapabilitiesCodec } from '../../lib/mls/group/extensions.ts';
import { ContentType, SenderType, WireFormat, type FramedContent, type MLSMessage } from '../../lib/mls/framing/framing.ts';
import {
  createCommit,
  createProposal,
  defaultCapabilities,
  encodeMessage,
  exportGroupInfo,
  generateIdentity,
  generateKeyPackage,
  joinByExternalCommit,
  joinFromWelcome,
  processMessage,
  proposeRemove,
  sendApplicationMessage,
  validateKeyPackage,
  type GroupState,
} from '../../lib/mls/group.ts';
import { LeafNodeSource, encodeLeafNodeTbs, leafNodeCodec, type LeafNode, type LeafNodeContent, type LeafNodeIn } from '../../lib/mls/tree/leaf-node.ts';
import { RatchetTree } from '../../lib/mls/tree/ratchet-tree.ts';
import { checkLeafNodeContent, checkLeavesAgainstTree, verifyLeafNodeSignature } from '../../lib/mls/tree/leaf-node-validation.ts';
import { protectPublicMessage, signFramedContent } from '../../lib/mls/framing/message-protection.ts';
import { ProposalOrRefType, ProposalType, type Proposal } from '../../lib/mls/group/proposals.ts';
import { ProtocolVersion } from '../../lib/mls/framing/protocol-version.ts';
import type { LeafIndex } from '../../lib/mls/tree/tree-math.ts';
import { expectRejected, forgeCommit, makeGroup, utf8 } from './group-fixture.ts';
import { checkProposalSender } from '../../lib/mls/group/proposal-validation.ts';
import { findOwnLeaf } from '../../lib/mls/join/group-join.ts';
import { applyProposalList } from '../../lib/mls/group/proposal-apply.ts';
import { mergeNewMemberPath } from '../../lib/mls/group/commit-process.ts';

const cs = getCipherSuite(1);

async function signedLeaf(content: LeafNodeContent, key: Uint8Array, groupId: Uint8Array, leafIndex: number): Promise<LeafNodeIn> {
  const tbs = encodeLeafNodeTbs(content, { groupId, leafIndex: leafIndex as LeafIndex });
  return { ...content, signature: await signWithLabel(cs, key, 'LeafNodeTBS', tbs) };
}

describe('LeafNode and KeyPackage rules (suite 1)', () => {
  let kp: Awaited<ReturnType<typeof generateKeyPackage>>;
  const ctx = { expectedSource: LeafNodeSource.keyPackage, groupExtensions: [] } as const;
  beforeAll(async () => {
    kp = await generateKeyPackage(cs, await generateIdentity(cs, utf8.encode('leaf')));
  });

  it('suite 1 V-LN-2: the application rejects the credential', () => {
    expect(() => checkLeafNodeContent(kp.keyPackage.leafNode, { ...ctx, validateCredential: () => false })).toThrow('V-LN-2');
  });
  it('suite 1 V-LN-3: a leaf lacking a required capability', () => {
    const required = {
      extensionType: ExtensionType.requiredCapabilities,
      extensionData: encode(requiredCapabilitiesCodec, { extensionTypes: [0xff01], proposalTypes: [], credentialTypes: [] }),
    };
    expect(() => checkLeafNodeContent(kp.keyPackage.leafNode, { ...ctx, groupExtensions: [required] })).toThrow('V-LN-3');
  });
  it('suite 1 V-LN-4: the leaf credential type missing from its capabilities', () => {
    const leaf = { ...kp.keyPackage.leafNode, capabilities: { ...kp.keyPackage.leafNode.capabilities, credentials: [CredentialType.x509] } };
    expect(() => checkLeafNodeContent(leaf, ctx)).toThrow('V-LN-4');
  });
  it('suite 1 V-LN-5: a lifetime not covering now, or longer than allowed', () => {
    expect(() => checkLeafNodeContent(kp.keyPackage.leafNode, { ...ctx, now: 1n })).toThrow('V-LN-5');
    expect(() => checkLeafNodeContent(kp.keyPackage.leafNode, { ...ctx, maxLifetime: 60n })).toThrow('V-LN-5');
    expect(() => checkLeafNodeContent(kp.keyPackage.leafNode, { ...ctx, now: BigInt(Math.floor(Date.now() / 1000)) })).not.toThrow();
  });
  it('suite 1 V-LN-6: a leaf of the wrong source', () => {
    expect(() => checkLeafNodeContent(kp.keyPackage.leafNode, { ...ctx, expectedSource: LeafNodeSource.commit })).toThrow('V-LN-6');
  });
  it('suite 1 V-LN-7: a non-default leaf extension not listed in capabilities', () => {
    const leaf = { ...kp.keyPackage.leafNode, extensions: [{ extensionType: 0xbeef, extensionData: new Uint8Array(1) }] };
    expect(() => checkLeafNodeContent(leaf, ctx)).toThrow('V-LN-7');
  });
  it('suite 1 V-LN-1: a bad leaf signature', async () => {
    const leaf = { ...kp.keyPackage.leafNode, signature: new Uint8Array(64) };
    await expect(verifyLeafNodeSignature(cs, leaf, new Uint8Array(0), 0 as LeafIndex)).rejects.toThrow('V-LN-1');
  });
  it('suite 1 V-LN-9: a credential type some member does not support', async () => {
    const g = await makeGroup(1, 2);
    const leaf0 = g[0]!.tree.leaf(0 as LeafIndex)!;
    const draft = g[0]!.tree.edit();
    draft.setLeaf(1 as LeafIndex, { ...leaf0, signatureKey: new Uint8Array(32).fill(7), encryptionKey: new Uint8Array(32).fill(8), credential: { credentialType: CredentialType.x509, certificates: [] }, capabilities: { ...leaf0.capabilities, credentials: [1, 2] } });
    expect(() => checkLeavesAgainstTree(draft, [1 as LeafIndex])).toThrow('V-LN-9');
  });
  it('suite 1 V-KP-1..4: KeyPackage validation', async () => {
    const base = { suite: cs, version: ProtocolVersion.mls10, groupExtensions: [] };
    await expect(validateKeyPackage(kp.keyPackage, base)).resolves.toBeUndefined();
    await expect(validateKeyPackage(kp.keyPackage, { ...base, suite: getCipherSuite(3) })).rejects.toThrow('V-KP-1');
    const noSuite = { ...kp.keyPackage, leafNode: { ...kp.keyPackage.leafNode, capabilities: { ...kp.keyPackage.leafNode.capabilities, cipherSuites: [2] } } };
    await expect(validateKeyPackage(noSuite, base)).rejects.toThrow('V-KP-2');
    await expect(validateKeyPackage({ ...kp.keyPackage, signature: new Uint8Array(64) }, base)).rejects.toThrow('V-KP-3');
  });
  it('a decoded KeyPackage is a KeyPackage only once an Add of it is validated', async () => {
    const received = decode(keyPackageCodec, encode(keyPackageCodec, kp.keyPackage));
    // @ts-expect-error a KeyPackageIn cannot stand where a validated KeyPackage is needed
    const unchecked: KeyPackage = received;
    expect(unchecked).toEqual(kp.keyPackage);
    // The Add carries the untrusted one; the Commit validates it (V-KP-*) before it welcomes its owner.
    const [alice] = await makeGroup(1, 1);
    const sent = await createCommit(alice!, { proposals: [{ proposalType: ProposalType.add, add: { keyPackage: received } }] });
    const bob = await joinFromWelcome(sent.welcome!, received, kp.privateKeys);
    expect(bob.context.epoch).toBe(1n);
  });
  it('a decoded LeafNode is a LeafNode only once it is validated', () => {
    const received = decode(leafNodeCodec, encode(leafNodeCodec, kp.keyPackage.leafNode));
    // @ts-expect-error a LeafNodeIn cannot stand where a validated LeafNode is needed
    const unchecked: LeafNode = received;
    expect(unchecked).toEqual(kp.keyPackage.leafNode);
    // The §7.3 checks read it as it is; a tree takes only the LeafNode a validation point hands back.
    expect(() => checkLeafNodeContent(received, ctx)).not.toThrow();
    const draft = RatchetTree.create(cs, kp.keyPackage.leafNode).edit();
    // @ts-expect-error only a validated LeafNode goes into a tree
    draft.setLeaf(0 as LeafIndex, received);
    expect(draft.done().leaf(0 as LeafIndex)).toEqual(kp.keyPackage.leafNode);
  });
});

describe('message rules (suite 1)', () => {
  let g: GroupState[];
  beforeAll(async () => {
    g = await makeGroup(1, 3);
  });

  type Body = { readonly sender: FramedContent['sender'] } & (
    | { readonly contentType: typeof ContentType.proposal; readonly proposal: Proposal }
    | { readonly contentType: typeof ContentType.commit; readonly commit: Commit }
  );
  async function outsider(content: Body, key: Uint8Array): Promise<MLSMessage> {
    const ctx = g[0]!.context;
    const full = { groupId: ctx.groupId, epoch: ctx.epoch, authenticatedData: new Uint8Array(0), ...content } as FramedContent;
    const ac = await signFramedContent(cs, {
      wireFormat: WireFormat.publicMessage,
      content: full,
      groupContext: ctx,
      signaturePrivateKey: key,
      ...(full.contentType === ContentType.commit ? { confirmationTag: new Uint8Array(cs.hash.size) } : {}),
    });
    return { version: ProtocolVersion.mls10, wireFormat: WireFormat.publicMessage, publicMessage: protectPublicMessage(cs, ac, { groupContext: ctx }) };
  }

  it('suite 1 V-RCV-4: an external sender without an external_senders extension', async () => {
    const id = await generateIdentity(cs, utf8.encode('ext'));
    const msg = await outsider({ sender: { senderType: SenderType.external, senderIndex: 0 }, contentType: ContentType.proposal, proposal: { proposalType: ProposalType.remove, remove: { removed: 1 as LeafIndex } } }, id.signaturePrivateKey);
    await expectRejected(g[1]!, 'V-RCV-4', (s) => processMessage(s, encodeMessage(msg)));
  });

  it('suite 1 V-PRP-1: a standalone ExternalInit proposal; V-SND-2 via V-PROT-9: a new member proposing a Remove', async () => {
    const p = await createProposal(g[0]!, { proposalType: ProposalType.externalInit, externalInit: { kemOutput: new Uint8Array(32) } }, { wireFormat: WireFormat.publicMessage });
    await expectRejected(g[1]!, 'V-PRP-1', (s) => processMessage(s, encodeMessage(p.message)));
    const id = await generateIdentity(cs, utf8.encode('nm'));
    const msg = await outsider({ sender: { senderType: SenderType.newMemberProposal }, contentType: ContentType.proposal, proposal: { proposalType: ProposalType.remove, remove: { removed: 1 as LeafIndex } } }, id.signaturePrivateKey);
    await expect(processMessage(g[1]!, encodeMessage(msg))).rejects.toThrow(/V-SND-2|V-PROT-9|V-PROT-3/);
  });

  it('suite 1 V-CM-7: a committed Update of our own leaf that we never sent', async () => {
    // Member 1 signs an Update without keeping its private key (as after losing state), then sees it committed.
    const kpair = await cs.hpke.generateKeyPair();
    const cur = g[1]!.tree.leaf(1 as LeafIndex)!;
    const leafNode = await signedLeaf(
      { encryptionKey: kpair.publicKey, signatureKey: cur.signatureKey, credential: cur.credential, capabilities: cur.capabilities, extensions: [], leafNodeSource: LeafNodeSource.update },
      g[1]!.signaturePrivateKey,
      g[1]!.context.groupId,
      1,
    );
    const p = await createProposal(g[1]!, { proposalType: ProposalType.update, update: { leafNode } }, { wireFormat: WireFormat.publicMessage });
    const a = (await processMessage(g[0]!, encodeMessage(p.message))).state;
    const c = await createCommit(a);
    // p.state cached the proposal but holds no private key for it (created without proposeUpdate).
    await expectRejected(p.state, 'V-CM-7', (s) => processMessage(s, encodeMessage(c.commit)));
  });

  it('suite 1 V-LN-10: an Update that keeps the encryption key', async () => {
    const cur = g[1]!.tree.leaf(1 as LeafIndex)!;
    const leafNode = await signedLeaf(
      { encryptionKey: cur.encryptionKey, signatureKey: cur.signatureKey, credential: cur.credential, capabilities: cur.capabilities, extensions: [], leafNodeSource: LeafNodeSource.update },
      g[1]!.signaturePrivateKey,
      g[1]!.context.groupId,
      1,
    );
    const p = await createProposal(g[1]!, { proposalType: ProposalType.update, update: { leafNode } }, { wireFormat: WireFormat.publicMessage });
    // Checked on receipt (§12.1.2), so it is never cached.
    await expectRejected(g[0]!, 'V-LN-10', (s) => processMessage(s, encodeMessage(p.message)));
  });

  it('suite 1 V-RI-1: a ReInit lowering the version; V-GCE-2: an unsupported group extension', async () => {
    const reinit: Proposal = { proposalType: ProposalType.reinit, reInit: { groupId: new Uint8Array(4), version: 0, cipherSuite: 1, extensions: [] } };
    const msg = await forgeCommit(g[0]!, { proposals: [{ type: ProposalOrRefType.proposal, proposal: reinit }] });
    await expectRejected(g[1]!, 'V-RI-1', (s) => processMessage(s, encodeMessage(msg)));
    await expectRejected(g[0]!, 'V-GCE-2', (s) =>
      createCommit(s, { proposals: [{ proposalType: ProposalType.groupContextExtensions, groupContextExtensions: { extensions: [{ extensionType: 0xabcd, extensionData: new Uint8Array(0) }] } }] }),
    );
  });

  it('suite 1 V-EC-1: an external Commit referencing a proposal; V-CM-6 / V-PROT-9: a commit from an external sender', async () => {
    const gi = await exportGroupInfo(g[0]!);
    const id = await generateIdentity(cs, utf8.encode('joiner'));
    const ext = await joinByExternalCommit(gi, id);
    if (ext.commit.wireFormat !== WireFormat.publicMessage || ext.commit.publicMessage.content.contentType !== ContentType.commit) throw new Error('bad');
    const commit = ext.commit.publicMessage.content.commit;
    const p = await proposeRemove(g[2]!, 0 as LeafIndex, { wireFormat: WireFormat.publicMessage });
    const b = (await processMessage(g[1]!, encodeMessage(p.message))).state;
    const withRef = await outsider(
      { sender: { senderType: SenderType.newMemberCommit }, contentType: ContentType.commit, commit: { ...commit, proposals: [...commit.proposals, { type: ProposalOrRefType.reference, reference: p.ref }] } },
      id.signaturePrivateKey,
    );
    await expectRejected(b, 'V-EC-1', (s) => processMessage(s, encodeMessage(withRef)));
    const fromExternal = await outsider({ sender: { senderType: SenderType.external, senderIndex: 0 }, contentType: ContentType.commit, commit }, id.signaturePrivateKey);
    await expect(processMessage(g[1]!, encodeMessage(fromExternal))).rejects.toThrow(/V-CM-6|V-PROT-9/);
  });

  it('suite 1 V-EJ-1: a GroupInfo without external_pub; V-EJ-2: a bad signature; V-EJ-3: a confirmation tag of the wrong length', async () => {
    const id = await generateIdentity(cs, utf8.encode('joiner2'));
    const noPub = await exportGroupInfo(g[0]!, { externalPub: false });
    await expect(joinByExternalCommit(noPub, id)).rejects.toThrow('V-EJ-1');
    const gi = await exportGroupInfo(g[0]!);
    if (gi.wireFormat !== WireFormat.groupInfo) throw new Error('bad');
    const forged: MLSMessage = { ...gi, groupInfo: { ...gi.groupInfo, signature: gi.groupInfo.signature.map((x, i) => (i === 0 ? x ^ 1 : x)) } };
    await expect(joinByExternalCommit(forged, id)).rejects.toThrow('V-EJ-2');
    for (const len of [0, cs.hash.size - 1, cs.hash.size + 1]) {
      const badTag: MLSMessage = { ...gi, groupInfo: { ...gi.groupInfo, confirmationTag: new Uint8Array(len) } };
      await expect(joinByExternalCommit(badTag, id)).rejects.toThrow('V-EJ-3');
    }
  });

  it('suite 1 V-JOIN-4 / V-KP-5: joining a group whose extension we do not support; adding a member who does not', async () => {
    const caps = defaultCapabilities(cs, { extensions: [0xabcd] });
    const kpOk = await generateKeyPackage(cs, await generateIdentity(cs, utf8.encode('supporting')), { capabilities: caps });
    const kpNo = await generateKeyPackage(cs, await generateIdentity(cs, utf8.encode('picky')));
    const { createGroup } = await import('../../lib/mls/group.ts');
    const creator = await createGroup(cs, await generateIdentity(cs, utf8.encode('creator')), {
      capabilities: caps,
      groupExtensions: [{ extensionType: 0xabcd, extensionData: new Uint8Array(0) }],
    });
    await expectRejected(creator, 'V-KP-5', (s) => createCommit(s, { proposals: [{ proposalType: ProposalType.add, add: { keyPackage: kpNo.keyPackage } }] }));
    const add = await createCommit(creator, { proposals: [{ proposalType: ProposalType.add, add: { keyPackage: kpOk.keyPackage } }] });
    await expect(joinFromWelcome(add.welcome!, kpOk.keyPackage, kpOk.privateKeys)).resolves.toBeDefined();
    // A client whose implementation lacks the extension (whatever it advertised) refuses to join.
    await expect(joinFromWelcome(add.welcome!, kpOk.keyPackage, kpOk.privateKeys, { supportedExtensions: [] })).rejects.toThrow('V-JOIN-4');
  });

  it('suite 1 V-LN-11 / V-KP-6 / V-GCE-3 / V-JOIN-6: an extension type twice in one list', async () => {
    const dup = [
      { extensionType: ExtensionType.applicationId, extensionData: new Uint8Array([1, 0x61]) },
      { extensionType: ExtensionType.applicationId, extensionData: new Uint8Array([1, 0x62]) },
    ];
    const id = await generateIdentity(cs, utf8.encode('dup'));
    const leafDup = await generateKeyPackage(cs, id, { leafExtensions: dup });
    expect(() => checkLeafNodeContent(leafDup.keyPackage.leafNode, { expectedSource: LeafNodeSource.keyPackage, groupExtensions: [] })).toThrow('V-LN-11');
    const kpDup = await generateKeyPackage(cs, id, { extensions: dup });
    await expect(validateKeyPackage(kpDup.keyPackage, { suite: cs, version: ProtocolVersion.mls10, groupExtensions: [] })).rejects.toThrow('V-KP-6');
    await expectRejected(g[0]!, 'V-GCE-3', (s) =>
      createCommit(s, { proposals: [{ proposalType: ProposalType.groupContextExtensions, groupContextExtensions: { extensions: dup } }] }),
    );
    const kp = await generateKeyPackage(cs, await generateIdentity(cs, utf8.encode('gi-dup')));
    const add = await createCommit(g[0]!, {
      proposals: [{ proposalType: ProposalType.add, add: { keyPackage: kp.keyPackage } }],
      groupInfo: { extensions: [{ extensionType: 0xf0f0, extensionData: new Uint8Array(0) }, { extensionType: 0xf0f0, extensionData: new Uint8Array(0) }] },
    });
    await expect(joinFromWelcome(add.welcome!, kp.keyPackage, kp.privateKeys)).rejects.toThrow('V-JOIN-6');
  });

  it('suite 1 V-PRP-3: a replayed PublicMessage proposal is not cached twice', async () => {
    const p = await proposeRemove(g[2]!, 1 as LeafIndex, { wireFormat: WireFormat.publicMessage });
    const once = (await processMessage(g[0]!, encodeMessage(p.message))).state;
    await expectRejected(once, 'V-PRP-3', (s) => processMessage(s, encodeMessage(p.message)));
  });

  it('suite 1 V-LN-5: we refuse to add a KeyPackage outside its lifetime', async () => {
    const expired = await generateKeyPackage(cs, await generateIdentity(cs, utf8.encode('old')), { lifetime: { notBefore: 0n, notAfter: 1000n } });
    await expectRejected(g[0]!, 'V-LN-5', (s) => createCommit(s, { proposals: [{ proposalType: ProposalType.add, add: { keyPackage: expired.keyPackage } }] }));
  });

  it('suite 1 V-PRP-4: the proposal cache is bounded', async () => {
    const { withState } = await import('../../lib/mls/group/group-state.ts');
    const { MAX_PENDING_PROPOSALS } = await import('../../lib/mls/group.ts');
    const p = await proposeRemove(g[2]!, 1 as LeafIndex, { wireFormat: WireFormat.publicMessage });
    const filler = Array.from({ length: MAX_PENDING_PROPOSALS }, (_, i) => ({
      ref: new Uint8Array([i >> 8, i & 0xff]),
      proposal: { proposalType: ProposalType.remove, remove: { removed: 2 as LeafIndex } } as Proposal,
      sender: { senderType: SenderType.member, leafIndex: 2 as LeafIndex } as const,
    }));
    const full = withState(g[0]!, { pendingProposals: filler });
    await expectRejected(full, 'V-PRP-4', (s) => processMessage(s, encodeMessage(p.message)));
  });

  it('suite 1 V-APP-1: no application data while proposals are pending', async () => {
    const p = await proposeRemove(g[2]!, 1 as LeafIndex);
    await expect(sendApplicationMessage(p.state, utf8.encode('x'))).rejects.toThrow('V-APP-1');
  });
});

describe('rules only reachable below the message layer (suite 1)', () => {
  it('suite 1 V-SND-3: a new_member_commit sender cannot send a standalone proposal; V-SND-1/2 likewise', () => {
    const remove: Proposal = { proposalType: ProposalType.remove, remove: { removed: 0 as LeafIndex } };
    expect(() => checkProposalSender(remove, { senderType: SenderType.newMemberCommit })).toThrow('V-SND-3');
    expect(() => checkProposalSender(remove, { senderType: SenderType.newMemberProposal })).toThrow('V-SND-2');
    expect(() =>
      checkProposalSender({ proposalType: ProposalType.externalInit, externalInit: { kemOutput: new Uint8Array(0) } }, { senderType: SenderType.external, senderIndex: 0 }),
    ).toThrow('V-SND-1');
  });

  it('suite 1 V-JOIN-3: our KeyPackage leaf is not in the tree we join', async () => {
    const g = await makeGroup(1, 2);
    const stranger = await generateKeyPackage(cs, await generateIdentity(cs, utf8.encode('stranger')));
    expect(() => findOwnLeaf(g[0]!.tree, stranger.keyPackage)).toThrow('V-JOIN-3');
  });

  it('suite 1 V-UPD-1: an Update whose sender leaf is blank', async () => {
    const g = await makeGroup(1, 2);
    const leaf = g[1]!.tree.leaf(1 as LeafIndex)!;
    const update: Proposal = { proposalType: ProposalType.update, update: { leafNode: leaf } };
    await expect(
      applyProposalList(cs, g[0]!.context, g[0]!.tree, [{ proposal: update, sender: { senderType: SenderType.member, leafIndex: 5 as LeafIndex }, byValue: false }]),
    ).rejects.toThrow(/V-UPD-1|outside/);
    await expect(
      applyProposalList(cs, g[0]!.context, g[0]!.tree.withRemovedLeaf(1 as LeafIndex), [{ proposal: update, sender: { senderType: SenderType.member, leafIndex: 1 as LeafIndex }, byValue: false }]),
    ).rejects.toThrow(/V-UPD-1|outside/);
  });

  it('suite 1 V-UP-4 / V-UP-6: a new member path with a non-commit leaf or a key already in the tree', async () => {
    const g = await makeGroup(1, 3);
    const ext = await joinByExternalCommit(await exportGroupInfo(g[0]!), await generateIdentity(cs, utf8.encode('pathy')));
    if (ext.commit.wireFormat !== WireFormat.publicMessage || ext.commit.publicMessage.content.contentType !== ContentType.commit) throw new Error('bad');
    const path = ext.commit.publicMessage.content.commit.path!;
    const tree = g[0]!.tree;
    const draft = tree.edit();
    const at = draft.leftmostBlankLeaf()!;
    const base = draft.done();
    expect(at).toBe(3); // 3 members in a 4-leaf tree
    const reused = { ...path, nodes: path.nodes.map((n, i) => (i === 0 ? { ...n, encryptionKey: base.leaf(0 as LeafIndex)!.encryptionKey } : n)) };
    expect(() => mergeNewMemberPath(base, at, reused)).toThrow('V-UP-6');
    const { leafNodeSource: _drop, parentHash: _ph, ...rest } = path.leafNode as LeafNode & { parentHash: Uint8Array };
    const notCommit = { ...path, leafNode: { ...rest, leafNodeSource: LeafNodeSource.update } as LeafNode };
    expect(() => mergeNewMemberPath(base, at, notCommit)).toThrow('V-UP-4');
    expect(() => mergeNewMemberPath(base, at, path)).not.toThrow();
  });
});
