/**
 * The group façade: the few calls an application needs, each taking a
 * `GroupState` and returning a new one (inputs are never mutated).
 *
 *   generateIdentity / generateKeyPackage     → publish a KeyPackage
 *   createGroup                               → a one-member group
 *   proposeAdd/Remove/Update, leaveGroup      → standalone proposals
 *   createCommit                              → Commit (+ Welcome, GroupInfo)
 *   joinFromWelcome / joinByExternalCommit    → become a member
 *   sendApplicationMessage                    → encrypted application data
 *   processMessage                            → any received framed message
 *   exportSecret / epochAuthenticator         → values derived from the epoch
 *   encodeGroupState / decodeGroupState       → persistence (versioned bytes)
 *
 * Receipt validation rule IDs (each written at its check and in its test):
 *   V-RCV-*  which epoch/group a message may come from; membership-tag length
 *   V-PROT-* message protection (message-protection.ts)
 *   V-SND-*, V-PRP-*  who may send which proposal; replayed proposals; cache bound;
 *            every proposal validated on receipt (proposal-receipt.ts)
 *   V-CM-*   Commit: references, own Commit, path required, confirmation tag
 *   V-PL-*   §12.2 proposal lists of regular Commits; V-EC-* of external ones
 *            (V-EC-6: an external Commit removes only the joiner's own old leaf)
 *   V-LN-*   §7.3 LeafNodes (V-LN-12: a member's credential identity never changes);
 *            V-KP-* §10.1 KeyPackages; V-GCE-* new extensions
 *   V-UP-*, V-PH-*, V-TREE-*, V-RT-*  UpdatePaths and received trees (treekem.ts, tree-validation.ts)
 *   V-WEL-*, V-JOIN-*, V-EJ-*  joining by Welcome or external Commit
 *   V-ST-*   secret tree: replay, forward-skip bound (secret-tree.ts)
 *   V-APP-1  no application data while proposals are pending
 *   V-ROLE-* MicroChat roles: who may remove, end, change roles, invite (role-rules.ts)
 */
import { decode, encode, type DecodeOptions } from './codec/codec.ts';
import { bytesEqual } from '../bytes.ts';
import { makeProposalRef, signWithLabel } from './keys/crypto-ops.ts';
import { InternalError, UsageError, ValidationError } from './errors.ts';
import {
  authenticatedContentCodec,
  ContentType,
  mlsMessageCodec,
  SenderType,
  WireFormat,
  type FramedWireFormat,
  type MLSMessage,
  type Sender,
} from './framing/framing.ts';
import { createApplicationMessage, type ApplicationOptions } from './framing/application.ts';
import { processCommit, type ProcessCommitOptions } from './group/commit-process.ts';
import { createProposal } from './group/commit-create.ts';
import type { GroupState, PendingProposal } from './group/group-state.ts';
import { withState } from './group/group-state.ts';
import type { KeyPackageIn } from './join/key-package.ts';
import { LeafNodeSource, encodeLeafNodeTbs, type LeafNode, type LeafNodeContent } from './tree/leaf-node.ts';
import { receiveFramed } from './framing/message-receive.ts';
import { validateReceivedProposal, type ProposalReceiptOptions } from './group/proposal-receipt.ts';
import { resolveProposals } from './group/proposal-validation.ts';
import { ProposalType, type Proposal } from './group/proposals.ts';
import type { LeafIndex } from './tree/tree-math.ts';

export { createGroup, type CreateGroupOptions } from './group/group-create.ts';
export { generateIdentity, generateKeyPackage, validateKeyPackage, defaultCapabilities } from './join/key-package-gen.ts';
export type { GeneratedKeyPackage, KeyPackagePrivate, SigningIdentity } from './join/key-package-gen.ts';
export { createCommit, createProposal, type CommitOptions, type CommitResult } from './group/commit-create.ts';
export { joinFromWelcome, type JoinOptions } from './join/group-join.ts';
export { exportGroupInfo, joinByExternalCommit, type ExternalJoinOptions } from './join/external-join.ts';
export { createApplicationMessage, epochAuthenticator, exportSecret } from './framing/application.ts';
export { decodeGroupState, encodeGroupState, DEFAULT_GROUP_CONFIG, type GroupConfig, type GroupState } from './group/group-state.ts';
export { InvitePolicy, ROLES_EXTENSION_TYPE, isAdminLeaf, rolesExtension, rolesOf, withAdmin, withoutAdmin, type Roles } from './group/roles.ts';

/** What `processMessage` found in a message. */
export type Processed =
  | {
      readonly kind: 'application';
      readonly state: GroupState;
      readonly data: Uint8Array;
      readonly sender: LeafIndex;
      readonly authenticatedData: Uint8Array;
      readonly epoch: bigint;
    }
  | { readonly kind: 'proposal'; readonly state: GroupState; readonly proposal: Proposal; readonly sender: Sender; readonly ref: Uint8Array }
  | {
      readonly kind: 'commit';
      readonly state: GroupState;
      readonly sender: Sender;
      /** True when this Commit removed us: `state` is then inactive. */
      readonly removed: boolean;
      /** Each leaf (index before the Commit) the Commit removed, with the sender of its Remove. */
      readonly removals: readonly { readonly removed: LeafIndex; readonly by: Sender }[];
    };

export type ProcessOptions = ProcessCommitOptions & ProposalReceiptOptions & DecodeOptions;

/** Most proposals cached in one epoch (a Commit of them all would be huge anyway). */
export const MAX_PENDING_PROPOSALS = 1024;

/** Decode an MLSMessage from the wire (strict). */
export function decodeMessage(bytes: Uint8Array, options?: DecodeOptions): MLSMessage {
  return decode(mlsMessageCodec, bytes, options);
}

export function encodeMessage(message: MLSMessage): Uint8Array {
  return encode(mlsMessageCodec, message);
}

/**
 * Process a received Public- or PrivateMessage: application data, a proposal
 * (cached for a later Commit) or a Commit (moving to the next epoch). Any
 * failure throws a typed error and leaves `state` as it was.
 */
export async function processMessage(
  state: GroupState,
  message: MLSMessage | Uint8Array,
  options: ProcessOptions = {},
): Promise<Processed> {
  const msg = message instanceof Uint8Array ? decodeMessage(message, options) : message;
  const received = await receiveFramed(state, msg);
  const ac = received.content;
  const content = ac.content;
  switch (content.contentType) {
    case ContentType.application: {
      // receiveFramed only yields application data from a member's PrivateMessage (V-PROT-1, V-PROT-4).
      if (content.sender.senderType !== SenderType.member) throw new InternalError('application data from a non-member');
      return {
        kind: 'application',
        state: received.state,
        data: content.applicationData,
        sender: content.sender.leafIndex,
        authenticatedData: content.authenticatedData,
        epoch: received.epoch,
      };
    }
    case ContentType.proposal: {
      const ref = makeProposalRef(state.suite, encode(authenticatedContentCodec, ac));
      // V-PRP-4: a bounded cache, so a hostile member cannot grow our state without limit.
      if (received.state.pendingProposals.length >= MAX_PENDING_PROPOSALS) {
        throw new ValidationError('V-PRP-4', `more than ${MAX_PENDING_PROPOSALS} proposals pending in this epoch`);
      }
      // V-PRP-3: the same proposal (a replayed PublicMessage) is cached once.
      if (received.state.pendingProposals.some((p) => bytesEqual(p.ref, ref))) {
        throw new ValidationError('V-PRP-3', 'proposal already received in this epoch');
      }
      // §12.1: validated now, so that a proposal no Commit can carry is never cached (V-APP-1 would
      // then stop every member from sending).
      await validateReceivedProposal(state, content.proposal, content.sender, options);
      const cached: PendingProposal = { ref, proposal: content.proposal, sender: content.sender };
      return {
        kind: 'proposal',
        state: withState(received.state, { pendingProposals: [...received.state.pendingProposals, cached] }),
        proposal: content.proposal,
        sender: content.sender,
        ref,
      };
    }
    case ContentType.commit: {
      const next = await processCommit(received.state, ac, options);
      // Who removed whom: a Remove's sender is its proposer (the leaf itself when it left), not always the committer.
      const removals = resolveProposals(content.commit.proposals, content.sender, received.state.pendingProposals).flatMap((p) =>
        p.proposal.proposalType === ProposalType.remove ? [{ removed: p.proposal.remove.removed, by: p.sender }] : [],
      );
      return { kind: 'commit', state: next, sender: content.sender, removed: !next.active && next.context.epoch === state.context.epoch, removals };
    }
  }
}

/** Send application data (always a PrivateMessage). */
export function sendApplicationMessage(
  state: GroupState,
  data: Uint8Array,
  options: ApplicationOptions = {},
): Promise<{ state: GroupState; message: MLSMessage }> {
  return createApplicationMessage(state, data, options);
}

type ProposalSendOptions = { readonly wireFormat?: FramedWireFormat; readonly authenticatedData?: Uint8Array };

export function proposeAdd(state: GroupState, keyPackage: KeyPackageIn, options?: ProposalSendOptions) {
  return createProposal(state, { proposalType: ProposalType.add, add: { keyPackage } }, options);
}

export function proposeRemove(state: GroupState, removed: LeafIndex, options?: ProposalSendOptions) {
  return createProposal(state, { proposalType: ProposalType.remove, remove: { removed } }, options);
}

/**
 * Leaving (§12.1.3): a member cannot commit its own removal, so it proposes
 * it; once another member commits it, processing that Commit marks our state
 * inactive.
 */
export function leaveGroup(state: GroupState, options?: ProposalSendOptions) {
  return proposeRemove(state, state.ownLeaf, options);
}

/** §12.1.2: propose a fresh leaf (new encryption key) for ourselves; its private key is kept pending. */
export async function proposeUpdate(state: GroupState, options?: ProposalSendOptions) {
  const current = state.tree.leaf(state.ownLeaf);
  if (current === undefined) throw new UsageError('our leaf is blank');
  const kp = await state.suite.hpke.generateKeyPair();
  const content: LeafNodeContent = {
    encryptionKey: kp.publicKey,
    signatureKey: current.signatureKey,
    credential: current.credential,
    capabilities: current.capabilities,
    extensions: current.extensions,
    leafNodeSource: LeafNodeSource.update,
  };
  const tbs = encodeLeafNodeTbs(content, { groupId: state.context.groupId, leafIndex: state.ownLeaf });
  // Ours, signed just now: trusted without a check.
  const leafNode = { ...content, signature: await signWithLabel(state.suite, state.signaturePrivateKey, 'LeafNodeTBS', tbs) } as LeafNode;
  const sent = await createProposal(state, { proposalType: ProposalType.update, update: { leafNode } }, options);
  return {
    ...sent,
    state: withState(sent.state, { pendingUpdateKeys: [...sent.state.pendingUpdateKeys, { privateKey: kp.privateKey, publicKey: kp.publicKey }] }),
  };
}

/** Leaf indices and leaves of the current members. */
export function members(state: GroupState): { leafIndex: LeafIndex; leaf: LeafNode }[] {
  return [...state.tree.memberIndices()].map((leafIndex) => ({ leafIndex, leaf: state.tree.leaf(leafIndex)! }));
}

export { WireFormat };

// ---------------------------------------------------------------------------
// Small reads for applications, so they need not reach into the tree or the framing.

export type { MLSMessage };
export { credentialIdentity } from './tree/leaf-node-validation.ts';

/** The member's leaf at `index`; undefined when that leaf is blank or outside the tree (an index from the network). */
export function memberLeaf(state: GroupState, index: number): LeafNode | undefined {
  if (!Number.isInteger(index) || index < 0 || index >= state.tree.leafCount) return undefined;
  return state.tree.leaf(index as LeafIndex);
}

/** A Remove proposal for a Commit's `proposals` (§12.1.3). */
export function removeProposal(removed: LeafIndex): Proposal {
  return { proposalType: ProposalType.remove, remove: { removed } };
}

/** The clear header of a Public- or PrivateMessage (before any check): which group and epoch, and whether it is a Commit. */
export function framedHeader(message: MLSMessage): { groupId: Uint8Array; epoch: bigint; isCommit: boolean } | null {
  const h =
    message.wireFormat === WireFormat.privateMessage ? message.privateMessage : message.wireFormat === WireFormat.publicMessage ? message.publicMessage.content : null;
  return h === null ? null : { groupId: h.groupId, epoch: h.epoch, isCommit: h.contentType === ContentType.commit };
}
export { APP_DATA_DICTIONARY_EXTENSION_TYPE, isLastResort, lastResortExtension } from './join/last-resort.ts';
