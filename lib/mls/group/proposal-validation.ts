/**
 * Proposal and proposal-list validation (RFC 9420 §12.1, §12.2, §12.4): which
 * proposals a sender may send, which lists a Commit may carry (regular and
 * external), and when a Commit must carry an UpdatePath.
 *
 * A Commit names its proposals by value or by reference (`ProposalOrRef`);
 * `resolveProposals` turns that list into proposals with their senders,
 * looking references up among the proposals cached this epoch. Everything
 * here only reads; applying a valid list is `proposal-apply.ts`.
 */
import { bytesEqual } from '../../bytes.ts';
import { InternalError, ValidationError } from '../errors.ts';
import { SenderType, type Sender } from '../framing/framing.ts';
import type { PendingProposal } from './group-state.ts';
import { ProposalOrRefType, ProposalType, type Proposal, type ProposalOrRef } from './proposals.ts';
import { validateDistinctPskIds } from '../keys/psk.ts';
import type { LeafIndex } from '../tree/tree-math.ts';

/** A proposal of a Commit with who sent it (the committer for by-value ones). */
export interface ResolvedProposal {
  readonly proposal: Proposal;
  readonly sender: Sender;
  /** True when the Commit carried it inline. */
  readonly byValue: boolean;
}

/** §12.1.8: the proposal types an `external` sender may send. */
const EXTERNAL_SENDER_TYPES: ReadonlySet<number> = new Set([
  ProposalType.add,
  ProposalType.remove,
  ProposalType.psk,
  ProposalType.reinit,
  ProposalType.groupContextExtensions,
]);

/** §12.4: the proposal types that require an UpdatePath. */
const PATH_REQUIRED_TYPES: ReadonlySet<number> = new Set([
  ProposalType.update,
  ProposalType.remove,
  ProposalType.externalInit,
  ProposalType.groupContextExtensions,
]);

/**
 * §12.4 "path required": an empty Commit, or one covering any Update,
 * Remove, ExternalInit or GroupContextExtensions proposal, MUST carry a path.
 * (A Commit with exactly one Remove or Update and no path is the
 * GHSA-gwp3-968w-m7gv case.)
 */
export function isPathRequired(proposals: readonly { readonly proposal: Proposal }[]): boolean {
  return proposals.length === 0 || proposals.some((p) => PATH_REQUIRED_TYPES.has(p.proposal.proposalType));
}

/**
 * V-SND-* (§6.1, §12.1.8): who may send which proposal.
 *  - V-SND-1: an `external` sender only add/remove/psk/reinit/gce;
 *  - V-SND-2: a `new_member_proposal` sender only add;
 *  - V-SND-3: a `new_member_commit` sender never sends a standalone proposal.
 */
export function checkProposalSender(proposal: Proposal, sender: Sender): void {
  switch (sender.senderType) {
    case SenderType.external:
      if (!EXTERNAL_SENDER_TYPES.has(proposal.proposalType)) {
        throw new ValidationError('V-SND-1', `external senders may not send proposal type ${proposal.proposalType}`);
      }
      return;
    case SenderType.newMemberProposal:
      if (proposal.proposalType !== ProposalType.add) {
        throw new ValidationError('V-SND-2', 'a new_member_proposal sender may only send Add');
      }
      return;
    case SenderType.newMemberCommit:
      throw new ValidationError('V-SND-3', 'a new_member_commit sender cannot send proposals');
    case SenderType.member:
      return;
  }
}

/**
 * Resolve a Commit's ProposalOrRef list (§12.4). V-CM-1: every reference
 * names a proposal cached in this epoch. By-value proposals are the committer's.
 */
export function resolveProposals(
  list: readonly ProposalOrRef[],
  committer: Sender,
  pending: readonly PendingProposal[],
): ResolvedProposal[] {
  return list.map((p): ResolvedProposal => {
    if (p.type === ProposalOrRefType.proposal) return { proposal: p.proposal, sender: committer, byValue: true };
    const found = pending.find((c) => bytesEqual(c.ref, p.reference));
    if (found === undefined) throw new ValidationError('V-CM-1', 'Commit references an unknown proposal');
    return { proposal: found.proposal, sender: found.sender, byValue: false };
  });
}

function senderLeaf(s: Sender): LeafIndex | undefined {
  return s.senderType === SenderType.member ? s.leafIndex : undefined;
}

/**
 * §12.2 list rules for a regular Commit by member `committer`. Checks that
 * need the tree or keys (individual validity of Adds/Updates, duplicate
 * clients) are in `proposal-apply.ts`, which has them at hand.
 *  - V-PL-1: no Update from the committer;
 *  - V-PL-2: no Remove of the committer;
 *  - V-PL-3: at most one Update/Remove per leaf;
 *  - V-PL-4: PSK ids distinct (V-PSK-4);
 *  - V-PL-5: at most one GroupContextExtensions;
 *  - V-PL-6: a ReInit comes alone;
 *  - V-PL-7: no ExternalInit.
 * (Updates come only from members: `checkProposalSender`, V-SND-1..3.)
 */
export function validateRegularProposalList(list: readonly ResolvedProposal[], committer: LeafIndex): void {
  const touched = new Set<number>();
  let gce = 0;
  for (const { proposal, sender } of list) {
    checkProposalSender(proposal, sender);
    switch (proposal.proposalType) {
      case ProposalType.update: {
        const leaf = senderLeaf(sender);
        // checkProposalSender above lets only members send an Update (V-SND-1..3).
        if (leaf === undefined) throw new InternalError('an Update from a non-member passed checkProposalSender');
        if (leaf === committer) throw new ValidationError('V-PL-1', 'the committer cannot commit its own Update');
        if (touched.has(leaf)) throw new ValidationError('V-PL-3', `several Update/Remove for leaf ${leaf}`);
        touched.add(leaf);
        break;
      }
      case ProposalType.remove: {
        const leaf = proposal.remove.removed;
        if (leaf === committer) throw new ValidationError('V-PL-2', 'the committer cannot remove itself');
        if (touched.has(leaf)) throw new ValidationError('V-PL-3', `several Update/Remove for leaf ${leaf}`);
        touched.add(leaf);
        break;
      }
      case ProposalType.groupContextExtensions:
        if (++gce > 1) throw new ValidationError('V-PL-5', 'several GroupContextExtensions proposals');
        break;
      case ProposalType.reinit:
        if (list.length !== 1) throw new ValidationError('V-PL-6', 'a ReInit must be the only proposal');
        break;
      case ProposalType.externalInit:
        throw new ValidationError('V-PL-7', 'ExternalInit in a regular Commit');
      default:
        break;
    }
  }
  try {
    validateDistinctPskIds(list.flatMap((p) => (p.proposal.proposalType === ProposalType.psk ? [p.proposal.psk.psk] : [])));
  } catch (err) {
    if (err instanceof ValidationError) throw new ValidationError('V-PL-4', err.message, { cause: err });
    throw err;
  }
}

/**
 * §12.2 / §12.4.3.2 list rules for an external Commit:
 *  - V-EC-1: no proposal by reference;
 *  - V-EC-2: exactly one ExternalInit;
 *  - V-EC-3: at most one Remove;
 *  - V-EC-4: nothing but ExternalInit, Remove and PreSharedKey.
 */
export function validateExternalProposalList(list: readonly ResolvedProposal[]): void {
  let inits = 0;
  let removes = 0;
  for (const { proposal, byValue } of list) {
    if (!byValue) throw new ValidationError('V-EC-1', 'an external Commit cannot reference proposals');
    switch (proposal.proposalType) {
      case ProposalType.externalInit:
        inits++;
        break;
      case ProposalType.remove:
        if (++removes > 1) throw new ValidationError('V-EC-3', 'an external Commit removes at most one leaf');
        break;
      case ProposalType.psk:
        break;
      default:
        throw new ValidationError('V-EC-4', `proposal type ${proposal.proposalType} not allowed in an external Commit`);
    }
  }
  if (inits !== 1) throw new ValidationError('V-EC-2', `an external Commit needs exactly one ExternalInit, has ${inits}`);
  try {
    validateDistinctPskIds(list.flatMap((p) => (p.proposal.proposalType === ProposalType.psk ? [p.proposal.psk.psk] : [])));
  } catch (err) {
    if (err instanceof ValidationError) throw new ValidationError('V-PL-4', err.message, { cause: err });
    throw err;
  }
}

/**
 * §12.2 / §12.4: which cached proposals a committer includes by reference.
 * Drops those it may not commit (its own Updates, Removes of itself,
 * standalone ExternalInits) and resolves conflicts the way §12.2 suggests:
 * a Remove wins over Updates of the same leaf, otherwise the latest Update
 * wins; only the first Remove of a leaf and the last GroupContextExtensions
 * are kept; a ReInit is kept only when nothing else is pending.
 */
export function selectPendingProposals(pending: readonly PendingProposal[], committer: LeafIndex): PendingProposal[] {
  const removed = new Set<number>();
  for (const p of pending) if (p.proposal.proposalType === ProposalType.remove) removed.add(p.proposal.remove.removed);
  const lastUpdate = new Map<number, PendingProposal>();
  let lastGce: PendingProposal | undefined;
  for (const p of pending) {
    const leaf = senderLeaf(p.sender);
    if (p.proposal.proposalType === ProposalType.update && leaf !== undefined) lastUpdate.set(leaf, p);
    if (p.proposal.proposalType === ProposalType.groupContextExtensions) lastGce = p;
  }
  const seenRemoves = new Set<number>();
  const out = pending.filter((p) => {
    switch (p.proposal.proposalType) {
      case ProposalType.update: {
        const leaf = senderLeaf(p.sender);
        return leaf !== undefined && leaf !== committer && !removed.has(leaf) && lastUpdate.get(leaf) === p;
      }
      case ProposalType.remove: {
        const leaf = p.proposal.remove.removed;
        if (leaf === committer || seenRemoves.has(leaf)) return false;
        seenRemoves.add(leaf);
        return true;
      }
      case ProposalType.groupContextExtensions:
        return p === lastGce;
      case ProposalType.externalInit:
        return false;
      default:
        return true;
    }
  });
  const others = out.filter((p) => p.proposal.proposalType !== ProposalType.reinit);
  return others.length > 0 ? others : out.slice(0, 1);
}
