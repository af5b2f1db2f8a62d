/**
 * Processing a Commit someone else sent (RFC 9420 §12.4.2), regular or
 * external (§12.4.3.2). The input is the AuthenticatedContent that
 * `receiveFramed` already authenticated (membership tag or AEAD, and the
 * signature); this module validates what it asks for and moves to the new
 * epoch. On any failure it throws and the caller's state is unchanged.
 *
 * Rule IDs checked here:
 *  - V-CM-1  every proposal reference is known (proposal-validation)
 *  - V-CM-2  not our own Commit (use the state `createCommit` returned)
 *  - V-CM-3  path present when §12.4 requires it (GHSA-gwp3-968w-m7gv)
 *  - V-CM-4  the confirmation tag matches
 *  - V-CM-5  the confirmation tag has the MAC length (GHSA-8x3w-qj7j-gqhf class)
 *  - V-CM-6  only a member or a new member (external Commit) commits
 *  - V-CM-7  an Update of our own leaf that we did not send
 *  - V-EC-5  an external Commit has a path
 *  - V-EC-6  an external Commit removes only the joiner's own earlier leaf
 *  - V-LN-12 the committer's UpdatePath leaf keeps its credential identity
 *  - V-UP-7  the UpdatePath's public keys are keys the KEM can encrypt to
 *  - V-ROLE-* MicroChat roles (role-rules.ts)
 *  - V-PL-*, V-EC-*, V-LN-*, V-KP-*, V-UP-*, V-PH-2, V-PSK-* from the modules they live in
 */
import { encode } from '../codec/codec.ts';
import { bytesEqual } from '../../bytes.ts';
import { CryptoError, UsageError, ValidationError } from '../errors.ts';
import { ContentType, SenderType, type AuthenticatedContent, type Sender } from '../framing/framing.ts';
import { groupContextCodec } from './group-context.ts';
import type { GroupState } from './group-state.ts';
import { withState } from './group-state.ts';
import { computeNextEpoch, memberPskLookup, nextGroupState, provisionalContext, pskSecretFor } from './epoch-transition.ts';
import {
  asCommitSecret,
  deriveExternalKeyPair,
  externalInitReceiver,
  wipeEpochSecrets,
  zeroCommitSecret,
  type InitSecret,
} from '../keys/key-schedule.ts';
import { LeafNodeSource } from '../tree/leaf-node.ts';
import {
  checkIdentityContinuity,
  checkLeafNodeContent,
  checkLeavesAgainstTree,
  checkPublicKeySize,
  checkUsablePublicKey,
  sameIdentity,
  sameMembershipFacts,
  validatedLeafNode,
  verifyLeafNodeSignature,
  type LeafValidationOptions,
} from '../tree/leaf-node-validation.ts';
import { applyProposalList } from './proposal-apply.ts';
import {
  isPathRequired,
  resolveProposals,
  validateExternalProposalList,
  validateRegularProposalList,
  type ResolvedProposal,
} from './proposal-validation.ts';
import { ProposalType } from './proposals.ts';
import { checkRoleRules } from './role-rules.ts';
import type { PskLookup } from '../keys/psk.ts';
import type { RatchetTree, TreeDraft } from '../tree/ratchet-tree.ts';
import { decryptUpdatePath, mergeUpdatePathKeys, type TreeKemPrivate } from '../tree/treekem.ts';
import { toNodeIndex, type LeafIndex, type NodeIndex } from '../tree/tree-math.ts';
import type { UpdatePath } from '../tree/update-path.ts';

export interface ProcessCommitOptions extends LeafValidationOptions {
  readonly pskLookup?: PskLookup;
}

/**
 * Merge the UpdatePath of a new member (external Commit) whose leaf is still
 * blank in `tree`: the same checks as `mergeUpdatePathKeys` except that there
 * is no previous encryption key to differ from. As there, the caller sets the
 * path's leaf into the returned draft once the leaf is checked.
 */
export function mergeNewMemberPath(tree: RatchetTree, sender: LeafIndex, path: UpdatePath): TreeDraft {
  if (tree.leaf(sender) !== undefined) throw new UsageError(`leaf ${sender} of the new member is not blank`);
  // V-UP-6 (§12.4.2): none of the path's public keys appears in the tree, nor twice in the path.
  const fresh = [path.leafNode.encryptionKey, ...path.nodes.map((n) => n.encryptionKey)];
  fresh.forEach((k, i) => {
    for (let j = 0; j < i; j++) if (bytesEqual(k, fresh[j]!)) throw new ValidationError('V-UP-6', 'UpdatePath repeats a public key');
  });
  for (let x = 0; x < tree.nodeCount; x++) {
    const pub = tree.encryptionKey(x as NodeIndex);
    if (pub !== undefined && fresh.some((k) => bytesEqual(k, pub))) {
      throw new ValidationError('V-UP-6', `UpdatePath public key already used by node ${x}`);
    }
  }
  const draft = tree.edit();
  const parentHash = draft.mergePathKeys(
    sender,
    path.nodes.map((n) => n.encryptionKey),
  );
  // V-UP-4 / V-PH-2 (§7.9.2): a commit leaf carrying the recomputed parent hash.
  if (path.leafNode.leafNodeSource !== LeafNodeSource.commit) {
    throw new ValidationError('V-UP-4', 'UpdatePath leaf node source is not commit');
  }
  if (!bytesEqual(path.leafNode.parentHash, parentHash)) {
    throw new ValidationError('V-PH-2', 'UpdatePath leaf parent_hash does not match the tree');
  }
  return draft;
}

/**
 * V-EC-6 (§12.4.3.2): an external Commit may remove only an old version of
 * the joiner itself ("resync"): a leaf with the same credential identity and
 * the same signature key as the joiner's new leaf. Otherwise anyone holding
 * the GroupInfo could remove any member while joining.
 */
function checkResyncRemove(tree: RatchetTree, resolved: readonly ResolvedProposal[], path: UpdatePath | undefined): void {
  for (const { proposal } of resolved) {
    if (proposal.proposalType !== ProposalType.remove) continue;
    const old = proposal.remove.removed < tree.leafCount ? tree.leaf(proposal.remove.removed) : undefined;
    const joiner = path?.leafNode;
    if (old === undefined || joiner === undefined || !sameIdentity(old.credential, joiner.credential) || !bytesEqual(old.signatureKey, joiner.signatureKey)) {
      throw new ValidationError('V-EC-6', `an external Commit may remove only the joiner's own earlier leaf, not leaf ${proposal.remove.removed}`);
    }
  }
}

function isMember(s: Sender): s is { senderType: typeof SenderType.member; leafIndex: LeafIndex } {
  return s.senderType === SenderType.member;
}

/** §12.4.2: apply another member's (or a new member's) authenticated Commit; returns the new state. */
export async function processCommit(
  state: GroupState,
  ac: AuthenticatedContent,
  options: ProcessCommitOptions = {},
): Promise<GroupState> {
  const cs = state.suite;
  const content = ac.content;
  if (content.contentType !== ContentType.commit) throw new UsageError('not a Commit');
  const tag = ac.auth.confirmationTag;
  if (tag === undefined || tag.length !== cs.hash.size) {
    throw new ValidationError('V-CM-5', `confirmation_tag of ${tag?.length ?? 0} bytes, expected ${cs.hash.size}`);
  }
  const sender = content.sender;
  const external = sender.senderType === SenderType.newMemberCommit;
  if (!external && !isMember(sender)) throw new ValidationError('V-CM-6', `sender type ${sender.senderType} cannot commit`);
  if (isMember(sender) && sender.leafIndex === state.ownLeaf) {
    throw new ValidationError('V-CM-2', 'our own Commit: use the state createCommit returned');
  }
  const commit = content.commit;
  const me = state.ownLeaf;

  const resolved = resolveProposals(commit.proposals, sender, state.pendingProposals);
  if (external) validateExternalProposalList(resolved);
  else validateRegularProposalList(resolved, (sender as { leafIndex: LeafIndex }).leafIndex);
  const applied = await applyProposalList(cs, state.context, state.tree, resolved, options);
  // V-ROLE-* (MicroChat roles): judged on the roles and members before this Commit.
  checkRoleRules({
    extensionsBefore: state.context.extensions,
    treeBefore: state.tree,
    resolved,
    extensionsAfter: applied.extensions,
    treeAfter: applied.draft,
    ...(external && commit.path !== undefined ? { joiner: commit.path.leafNode } : {}),
  });
  // V-CM-3 / V-EC-5 (§12.4, §12.4.3.2): the path is there whenever required.
  if (commit.path === undefined) {
    if (external) throw new ValidationError('V-EC-5', 'an external Commit must carry a path');
    if (isPathRequired(resolved)) throw new ValidationError('V-CM-3', 'this Commit requires a path but has none');
  }
  let committer: LeafIndex;
  if (external) {
    // §12.4.2: the new member takes the leftmost blank leaf of the tree after the proposals.
    let blank = applied.draft.leftmostBlankLeaf();
    if (blank === undefined) {
      applied.draft.extend();
      blank = applied.draft.leftmostBlankLeaf()!;
    }
    committer = blank;
  } else {
    committer = (sender as { leafIndex: LeafIndex }).leafIndex;
  }
  const treeAfterProposals = applied.draft.done();
  if (external) checkResyncRemove(state.tree, resolved, commit.path);
  else if (commit.path !== undefined) {
    // V-LN-12 (§5.3.1): the committer's new leaf keeps its credential identity.
    const current = treeAfterProposals.leaf(committer);
    if (current !== undefined) checkIdentityContinuity(current, commit.path.leafNode, committer);
  }

  // Our own leaf: removed, or replaced by an Update of ours that someone committed.
  // (An Add in the same Commit may refill our blanked leaf, so look at the Removes themselves.)
  const removed = resolved.some((p) => p.proposal.proposalType === ProposalType.remove && p.proposal.remove.removed === me);
  let myKeys: TreeKemPrivate = state.treeKeys;
  const updatedMine = resolved.find(
    (p) => p.proposal.proposalType === ProposalType.update && isMember(p.sender) && p.sender.leafIndex === me,
  );
  if (updatedMine !== undefined && !removed) {
    const newPub = treeAfterProposals.leaf(me)!.encryptionKey;
    const key = state.pendingUpdateKeys.find((k) => bytesEqual(k.publicKey, newPub));
    if (key === undefined) throw new ValidationError('V-CM-7', 'committed Update of our leaf that we did not send');
    myKeys = myKeys.with([[toNodeIndex(me), key]]);
  }

  let tree = treeAfterProposals;
  let commitSecret = zeroCommitSecret(cs);
  const path = commit.path;
  if (path !== undefined) {
    // V-UP-7: every key of the path is one the suite's KEM can encrypt to (or no later Commit could).
    checkPublicKeySize(cs, path.leafNode.encryptionKey, 'V-UP-7', 'UpdatePath leaf encryption_key');
    for (const n of path.nodes) checkPublicKeySize(cs, n.encryptionKey, 'V-UP-7', 'UpdatePath node encryption_key');
    await Promise.all([path.leafNode.encryptionKey, ...path.nodes.map((n) => n.encryptionKey)].map((k) => checkUsablePublicKey(cs, k, 'V-UP-7', 'UpdatePath key')));
    checkLeafNodeContent(path.leafNode, { ...options, expectedSource: LeafNodeSource.commit, groupExtensions: applied.extensions });
    const from = treeAfterProposals;
    // The signature check (async) and the merge (sync hashing) run side by side; either failing rejects.
    const [checkedLeaf, merged] = await Promise.all([
      verifyLeafNodeSignature(cs, path.leafNode, state.context.groupId, committer).then(() => validatedLeafNode(path.leafNode)),
      (async () => (external ? mergeNewMemberPath(from, committer, path) : mergeUpdatePathKeys(from, committer, path)))(),
    ]);
    // Only the leaf that passed every check above goes into the tree.
    merged.setLeaf(committer, checkedLeaf);
    tree = merged.done();
  }
  // The committer's path leaf: its encryption key was checked by V-UP-6; the rest only if it changed.
  const pathLeafChecked = path !== undefined && !sameMembershipFacts(treeAfterProposals.leaf(committer), tree.leaf(committer));
  checkLeavesAgainstTree(tree, pathLeafChecked ? [...applied.changedLeaves, committer] : applied.changedLeaves);

  if (removed) {
    // We cannot follow into the next epoch; keep the current one readable (late messages) and stop.
    return withState(state, { active: false, pendingProposals: [], pendingUpdateKeys: [] });
  }

  if (path !== undefined) {
    const provisional = encode(groupContextCodec, provisionalContext(state.context, tree.treeHash(), applied.extensions));
    const decrypted = await decryptUpdatePath({
      suite: cs,
      tree,
      sender: committer,
      updatePath: path,
      newMembers: applied.added.map((a) => a.leaf),
      groupContext: provisional,
      me: myKeys,
    });
    commitSecret = asCommitSecret(decrypted.commitSecret);
    myKeys = decrypted.privateKeys;
  }
  myKeys = myKeys.prune(tree);

  const pskSecret = pskSecretFor(cs, applied.pskIds, memberPskLookup(state, options.pskLookup));
  let initSecret: InitSecret = state.keys.initSecret;
  if (external) {
    const { privateKey } = await deriveExternalKeyPair(cs, state.keys.externalSecret);
    initSecret = await externalInitReceiver(cs, privateKey, applied.externalInit!.kemOutput);
  }
  const next = computeNextEpoch(cs, state, tree, applied.extensions, ac, initSecret, commitSecret, pskSecret);
  commitSecret.fill(0);
  pskSecret.fill(0);
  next.joinerSecret.fill(0);
  next.welcomeSecret.fill(0);
  if (!bytesEqual(next.confirmationTag, tag)) {
    wipeEpochSecrets(next.secrets);
    throw new CryptoError('V-CM-4', '[V-CM-4] confirmation tag does not match');
  }
  return nextGroupState(state, next, {
    tree,
    ownLeaf: me,
    treeKeys: myKeys,
    active: applied.reInit === undefined,
  });
}
