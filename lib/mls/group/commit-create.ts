/**
 * Creating a Commit (RFC 9420 §12.4.1) and the Welcome and GroupInfo that go
 * with it (§12.4.3). The committer's new state is returned at once; the old
 * state is untouched, so if the Delivery Service refuses the Commit the
 * caller simply keeps using the old one.
 *
 *   proposals (pending by reference + new by value)
 *     → validate (§12.2) → apply (§12.3) → [UpdatePath (§7.5)]
 *     → sign FramedContent with the OLD context → transcript + key schedule
 *     → confirmation tag → protect with OLD keys → GroupInfo → Welcome
 */
import { encode } from '../codec/codec.ts';
import { makeProposalRef } from '../keys/crypto-ops.ts';
import { UsageError } from '../errors.ts';
import { authenticatedContentCodec, ContentType, WireFormat, type FramedWireFormat, type MLSMessage } from '../framing/framing.ts';
import { groupContextCodec } from './group-context.ts';
import type { GroupInfo } from '../join/group-info.ts';
import type { GroupState, PendingProposal } from './group-state.ts';
import { withState } from './group-state.ts';
import { computeNextEpoch, memberPskLookup, nextGroupState, provisionalContext, pskSecretFor } from './epoch-transition.ts';
import { zeroCommitSecret, asCommitSecret } from '../keys/key-schedule.ts';
import { checkLeavesAgainstTree, sameMembershipFacts, type LeafValidationOptions } from '../tree/leaf-node-validation.ts';
import { protectAsMember, signAsMember } from '../framing/message-send.ts';
import { applyProposalList } from './proposal-apply.ts';
import { chooseCommittablePending } from './commit-pending.ts';
import { isPathRequired, resolveProposals, validateRegularProposalList } from './proposal-validation.ts';
import { checkRoleRules } from './role-rules.ts';
import { ProposalOrRefType, type Proposal, type ProposalOrRef } from './proposals.ts';
import { ProtocolVersion } from '../framing/protocol-version.ts';
import type { PskLookup } from '../keys/psk.ts';
import { SenderType } from '../framing/framing.ts';
import { createUpdatePath, signCommitLeafNode, type TreeKemPrivate } from '../tree/treekem.ts';
import type { NodeIndex } from '../tree/tree-math.ts';
import type { UpdatePath } from '../tree/update-path.ts';
import { createGroupInfo, createWelcome, type GroupInfoOptions } from '../join/welcome-create.ts';

export interface CommitOptions extends LeafValidationOptions {
  /** New proposals of ours, carried by value. */
  readonly proposals?: readonly Proposal[];
  /**
   * Which cached proposals to commit by reference: 'all' (default, §12.4
   * "SHOULD include all valid proposals"; see `chooseCommittablePending` for
   * what is left out), or 'none'.
   */
  readonly pending?: 'all' | 'none';
  /**
   * Add an UpdatePath even when §12.4 does not require one (default true:
   * "by default the path field MUST be populated"). A required path is always added.
   */
  readonly path?: boolean;
  readonly wireFormat?: FramedWireFormat;
  readonly authenticatedData?: Uint8Array;
  /** Resolves external PSKs named by PreSharedKey proposals. */
  readonly pskLookup?: PskLookup;
  /** What the GroupInfo (and so the Welcome) carries. */
  readonly groupInfo?: GroupInfoOptions;
}

export interface CommitResult {
  /** Our state in the new epoch. */
  readonly state: GroupState;
  readonly commit: MLSMessage;
  /** For the members the Commit adds, if any. */
  readonly welcome?: MLSMessage;
  /**
   * The new epoch's GroupInfo, when a Welcome was made or `options.groupInfo`
   * asked for one (publish it to allow external joins). Otherwise use
   * `exportGroupInfo` when needed: building it encodes the whole tree.
   */
  readonly groupInfo?: GroupInfo;
}

/** §12.4.1: commit pending and new proposals; returns our new state, the Commit and a Welcome. */
export async function createCommit(state: GroupState, options: CommitOptions = {}): Promise<CommitResult> {
  if (!state.active) throw new UsageError('this member can no longer commit in the group');
  const cs = state.suite;
  const me = state.ownLeaf;
  const sender = { senderType: SenderType.member, leafIndex: me } as const;

  // §7.3: a LeafNode we send (here: in the KeyPackages we add) MUST be within its lifetime now.
  const validation = { ...options, now: options.now ?? BigInt(Math.floor(Date.now() / 1000)) };
  const pending: PendingProposal[] =
    (options.pending ?? 'all') === 'all' ? await chooseCommittablePending(state, options.proposals ?? [], validation) : [];
  const list: ProposalOrRef[] = [
    ...pending.map((p): ProposalOrRef => ({ type: ProposalOrRefType.reference, reference: p.ref })),
    ...(options.proposals ?? []).map((proposal): ProposalOrRef => ({ type: ProposalOrRefType.proposal, proposal })),
  ];
  const resolved = resolveProposals(list, sender, state.pendingProposals);
  validateRegularProposalList(resolved, me);
  const applied = await applyProposalList(cs, state.context, state.tree, resolved, validation);
  const treeAfterProposals = applied.draft.done();
  // V-ROLE-* : never send a Commit every other member would reject.
  checkRoleRules({ extensionsBefore: state.context.extensions, treeBefore: state.tree, resolved, extensionsAfter: applied.extensions, treeAfter: treeAfterProposals });

  const usePath = isPathRequired(resolved) || (options.path ?? true);
  let tree = treeAfterProposals;
  let commitSecret = zeroCommitSecret(cs);
  let treeKeys: TreeKemPrivate = state.treeKeys.prune(treeAfterProposals);
  let pathSecrets: ReadonlyMap<NodeIndex, Uint8Array> | undefined;
  let path: UpdatePath | undefined;
  if (usePath) {
    const ownLeafNode = state.tree.leaf(me);
    if (ownLeafNode === undefined) throw new UsageError('our leaf is blank');
    const created = await createUpdatePath({
      suite: cs,
      tree: treeAfterProposals,
      sender: me,
      newMembers: applied.added.map((a) => a.leaf),
      signLeaf: (encryptionKey, parentHash) =>
        signCommitLeafNode(cs, ownLeafNode, encryptionKey, parentHash, state.signaturePrivateKey, state.context.groupId, me),
      groupContext: (treeHash) => encode(groupContextCodec, provisionalContext(state.context, treeHash, applied.extensions)),
    });
    tree = created.tree;
    commitSecret = asCommitSecret(created.commitSecret);
    treeKeys = created.privateKeys;
    pathSecrets = created.pathSecrets;
    path = created.updatePath;
  }
  const pathLeafChecked = usePath && !sameMembershipFacts(treeAfterProposals.leaf(me), tree.leaf(me));
  checkLeavesAgainstTree(tree, pathLeafChecked ? [...applied.changedLeaves, me] : applied.changedLeaves);

  const pskSecret = pskSecretFor(cs, applied.pskIds, memberPskLookup(state, options.pskLookup));
  const wireFormat = options.wireFormat ?? WireFormat.privateMessage;
  const commit = path === undefined ? { proposals: list } : { proposals: list, path };
  const ac = await signAsMember(state, { contentType: ContentType.commit, commit }, wireFormat, options.authenticatedData);
  const next = computeNextEpoch(cs, state, tree, applied.extensions, ac, state.keys.initSecret, commitSecret, pskSecret);
  commitSecret.fill(0);
  pskSecret.fill(0);
  const tagged = { ...ac, auth: { ...ac.auth, confirmationTag: next.confirmationTag } };
  const sent = await protectAsMember(state, tagged);

  const newState = nextGroupState(sent.state, next, {
    tree,
    ownLeaf: me,
    treeKeys,
    active: applied.reInit === undefined,
  });
  const groupInfo =
    applied.added.length > 0 || options.groupInfo !== undefined ? await createGroupInfo(newState, options.groupInfo) : undefined;
  let welcome: MLSMessage | undefined;
  if (groupInfo !== undefined && applied.added.length > 0) {
    const w = await createWelcome(
      cs,
      groupInfo,
      next.joinerSecret,
      next.welcomeSecret,
      applied.added.map((a) => ({ keyPackage: a.keyPackage, leaf: a.leaf })),
      pathSecrets,
      applied.pskIds,
    );
    welcome = { version: ProtocolVersion.mls10, wireFormat: WireFormat.welcome, welcome: w };
  }
  next.joinerSecret.fill(0);
  next.welcomeSecret.fill(0);
  return {
    state: newState,
    commit: sent.message,
    ...(welcome === undefined ? {} : { welcome }),
    ...(groupInfo === undefined ? {} : { groupInfo }),
  };
}

/**
 * §12.1: send a standalone proposal. It is cached in our own state too (a
 * Commit, ours or another member's, may then include it by reference).
 */
export async function createProposal(
  state: GroupState,
  proposal: Proposal,
  options: { readonly wireFormat?: FramedWireFormat; readonly authenticatedData?: Uint8Array } = {},
): Promise<{ state: GroupState; message: MLSMessage; ref: Uint8Array }> {
  const wireFormat = options.wireFormat ?? WireFormat.privateMessage;
  const ac = await signAsMember(state, { contentType: ContentType.proposal, proposal }, wireFormat, options.authenticatedData);
  const ref = makeProposalRef(state.suite, encode(authenticatedContentCodec, ac));
  const sent = await protectAsMember(state, ac);
  const cached: PendingProposal = { ref, proposal, sender: ac.content.sender };
  return {
    state: withState(sent.state, { pendingProposals: [...sent.state.pendingProposals, cached] }),
    message: sent.message,
    ref,
  };
}
