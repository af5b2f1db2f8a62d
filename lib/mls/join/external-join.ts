/**
 * External joins (RFC 9420 §12.4.3.2): a member exports a GroupInfo with the
 * external public key (and usually the ratchet tree); an outsider verifies it
 * and joins by sending a Commit of its own, signed as `new_member_commit`,
 * carrying an ExternalInit (and optionally a Remove of its old self, "resync")
 * and a path from the leftmost blank leaf.
 *
 *   external_pub (GroupInfo) --SetupBaseS + Export--> kem_output, init_secret
 *   init_secret + commit_secret(path) + psk_secret --> key schedule of the new epoch
 */
import type { CipherSuite } from '../../crypto/provider.ts';
import { getCipherSuite } from '../../crypto/suites.ts';
import { decode, encode } from '../codec/codec.ts';
import { CryptoError, UsageError, ValidationError } from '../errors.ts';
import { ExtensionType, externalPubCodec, findExtension } from '../group/extensions.ts';
import { ContentType, SenderType, WireFormat, type FramedContent, type MLSMessage } from '../framing/framing.ts';
import { groupContextCodec } from '../group/group-context.ts';
import type { GroupInfo } from './group-info.ts';
import { DEFAULT_GROUP_CONFIG, startEpoch, type GroupConfig, type GroupState } from '../group/group-state.ts';
import { checkConfig } from '../group/group-create.ts';
import { checkWeSupportExtensions, treeFromGroupInfo, type JoinOptions } from './group-join.ts';
import { computeNextEpoch, provisionalContext, pskSecretFor } from '../group/epoch-transition.ts';
import { defaultCapabilities, type SigningIdentity } from './key-package-gen.ts';
import { asCommitSecret, externalInitSender } from '../keys/key-schedule.ts';
import { LeafNodeSource, type Capabilities } from '../tree/leaf-node.ts';
import { checkLeafNodeContent, checkLeavesAgainstTree } from '../tree/leaf-node-validation.ts';
import { protectPublicMessage, signFramedContent } from '../framing/message-protection.ts';
import { applyProposalList } from '../group/proposal-apply.ts';
import { validateExternalProposalList, type ResolvedProposal } from '../group/proposal-validation.ts';
import { ProposalOrRefType, ProposalType, type Proposal } from '../group/proposals.ts';
import { ProtocolVersion } from '../framing/protocol-version.ts';
import type { PreSharedKeyId, PskLookup } from '../keys/psk.ts';
import { computeInterimTranscriptHash } from '../keys/transcript-hash.ts';
import { validateTree } from '../tree/tree-validation.ts';
import { createUpdatePath, signCommitLeafNode } from '../tree/treekem.ts';
import type { LeafIndex } from '../tree/tree-math.ts';
import { verifyGroupInfoSignature } from './welcome-join.ts';
import { createGroupInfo, type GroupInfoOptions } from './welcome-create.ts';

/** §12.4.3.2: a GroupInfo for the current epoch that lets outsiders join (tree and external_pub by default). */
export async function exportGroupInfo(state: GroupState, options: GroupInfoOptions = {}): Promise<MLSMessage> {
  const groupInfo = await createGroupInfo(state, options);
  return { version: ProtocolVersion.mls10, wireFormat: WireFormat.groupInfo, groupInfo };
}

export interface ExternalJoinOptions extends JoinOptions {
  readonly capabilities?: Capabilities;
  /** Resync: remove this leaf (our old appearance) in the same Commit. */
  readonly removeLeaf?: LeafIndex;
  /** External PSKs to inject (each must resolve through `pskLookup`). */
  readonly psks?: readonly PreSharedKeyId[];
  readonly authenticatedData?: Uint8Array;
  readonly groupInfo?: GroupInfoOptions;
}

/**
 * §12.4.3.2: join the group described by `groupInfoMessage` by external
 * Commit. Returns our state in the new epoch and the Commit to send.
 *  - V-EJ-1: the GroupInfo carries external_pub;
 *  - V-EJ-2: its signature verifies under the signer's leaf;
 *  - V-EJ-3: its confirmation tag has the MAC length;
 *  - plus the tree checks of a Welcome join (`validateTree`: V-TREE-*, V-PH-1, V-LN-*).
 */
export async function joinByExternalCommit(
  groupInfoMessage: MLSMessage | GroupInfo,
  identity: SigningIdentity,
  options: ExternalJoinOptions = {},
): Promise<{ state: GroupState; commit: MLSMessage; groupInfo: GroupInfo }> {
  const groupInfo = 'wireFormat' in groupInfoMessage ? unwrapGroupInfo(groupInfoMessage) : groupInfoMessage;
  const context = groupInfo.groupContext;
  const suite: CipherSuite = getCipherSuite(context.cipherSuite);
  const config: GroupConfig = { ...DEFAULT_GROUP_CONFIG, ...options.config };
  checkConfig(config);

  // V-EJ-3 (GHSA-8x3w-qj7j-gqhf class): the confirmation tag has the MAC length.
  if (groupInfo.confirmationTag.length !== suite.hash.size) {
    throw new ValidationError('V-EJ-3', `GroupInfo confirmation_tag of ${groupInfo.confirmationTag.length} bytes, expected ${suite.hash.size}`);
  }
  const pubExt = findExtension(groupInfo.extensions, ExtensionType.externalPub);
  if (pubExt === undefined) throw new ValidationError('V-EJ-1', 'GroupInfo has no external_pub extension');
  const { externalPub } = decode(externalPubCodec, pubExt.extensionData);
  const received = treeFromGroupInfo(suite, groupInfo, options.ratchetTree);
  const signerKey = groupInfo.signer < received.leafCount ? received.leaf(groupInfo.signer)?.signatureKey : undefined;
  if (signerKey === undefined || !(await verifyGroupInfoSignature(suite, groupInfo, signerKey))) {
    throw new CryptoError('V-EJ-2', '[V-EJ-2] GroupInfo signature does not verify');
  }
  const tree = await validateTree(received, context, options);

  const { kemOutput, initSecret } = await externalInitSender(suite, externalPub);
  const proposals: Proposal[] = [{ proposalType: ProposalType.externalInit, externalInit: { kemOutput } }];
  if (options.removeLeaf !== undefined) proposals.push({ proposalType: ProposalType.remove, remove: { removed: options.removeLeaf } });
  for (const psk of options.psks ?? []) proposals.push({ proposalType: ProposalType.psk, psk: { psk } });
  const sender = { senderType: SenderType.newMemberCommit } as const;
  const resolved: ResolvedProposal[] = proposals.map((proposal) => ({ proposal, sender, byValue: true }));
  validateExternalProposalList(resolved);
  const applied = await applyProposalList(suite, context, tree, resolved, options);
  let me = applied.draft.leftmostBlankLeaf();
  if (me === undefined) {
    applied.draft.extend();
    me = applied.draft.leftmostBlankLeaf()!;
  }
  const treeAfterProposals = applied.draft.done();

  const capabilities = options.capabilities ?? defaultCapabilities(suite);
  checkWeSupportExtensions(context, capabilities.extensions, groupInfo);
  const joiner = me;
  const created = await createUpdatePath({
    suite,
    tree: treeAfterProposals,
    sender: joiner,
    signLeaf: (encryptionKey, parentHash) =>
      signCommitLeafNode(
        suite,
        { encryptionKey, signatureKey: identity.signaturePublicKey, credential: identity.credential, capabilities, extensions: [], leafNodeSource: LeafNodeSource.update },
        encryptionKey,
        parentHash,
        identity.signaturePrivateKey,
        context.groupId,
        joiner,
      ),
    groupContext: (treeHash) => encode(groupContextCodec, provisionalContext(context, treeHash, applied.extensions)),
  });
  // What the members will check of our leaf (§7.3), checked before we send it.
  checkLeafNodeContent(created.updatePath.leafNode, { ...options, expectedSource: LeafNodeSource.commit, groupExtensions: applied.extensions });
  checkLeavesAgainstTree(created.tree, [...applied.changedLeaves, joiner]);

  const interimTranscriptHash = computeInterimTranscriptHash(suite, context.confirmedTranscriptHash, groupInfo.confirmationTag);
  const pskLookup: PskLookup = options.pskLookup ?? (() => undefined);
  const pskSecret = pskSecretFor(suite, applied.pskIds, pskLookup);

  const content: FramedContent = {
    groupId: context.groupId,
    epoch: context.epoch,
    sender,
    authenticatedData: options.authenticatedData ?? new Uint8Array(0),
    contentType: ContentType.commit,
    commit: {
      proposals: proposals.map((proposal) => ({ type: ProposalOrRefType.proposal, proposal })),
      path: created.updatePath,
    },
  };
  const ac = await signFramedContent(suite, {
    wireFormat: WireFormat.publicMessage,
    content,
    groupContext: context,
    signaturePrivateKey: identity.signaturePrivateKey,
  });
  const next = computeNextEpoch(
    suite,
    { context, interimTranscriptHash },
    created.tree,
    applied.extensions,
    ac,
    initSecret,
    asCommitSecret(created.commitSecret),
    pskSecret,
  );
  initSecret.fill(0);
  created.commitSecret.fill(0);
  pskSecret.fill(0);
  next.joinerSecret.fill(0);
  next.welcomeSecret.fill(0);
  const tagged = { ...ac, auth: { ...ac.auth, confirmationTag: next.confirmationTag } };
  const publicMessage = protectPublicMessage(suite, tagged, { groupContext: context });

  // We were never in the previous epoch: the state starts fresh in the new one.
  const state = startEpoch({
    suite,
    config,
    context: next.context,
    contextBytes: next.contextBytes,
    tree: created.tree,
    ownLeaf: joiner,
    treeKeys: created.privateKeys,
    signaturePrivateKey: identity.signaturePrivateKey,
    secrets: next.secrets,
    interimTranscriptHash: next.interimTranscriptHash,
    confirmationTag: next.confirmationTag,
  });
  const newGroupInfo = await createGroupInfo(state, options.groupInfo);
  return {
    state,
    commit: { version: ProtocolVersion.mls10, wireFormat: WireFormat.publicMessage, publicMessage },
    groupInfo: newGroupInfo,
  };
}

function unwrapGroupInfo(m: MLSMessage): GroupInfo {
  if (m.wireFormat !== WireFormat.groupInfo) throw new UsageError('not a GroupInfo message');
  return m.groupInfo;
}
