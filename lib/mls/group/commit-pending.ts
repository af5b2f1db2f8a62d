/**
 * Which cached proposals a committer carries by reference (RFC 9420 §12.4:
 * the committer "SHOULD include all valid proposals", and only valid ones).
 *
 * Every cached proposal was valid on its own when it arrived
 * (proposal-receipt.ts), but several together may not be: two Removes of one
 * leaf, an Update from a leaf another proposal removes, two Adds of the same
 * client, a KeyPackage whose lifetime has run out since, a new extension a
 * new member does not support. `selectPendingProposals` resolves the
 * conflicts §12.2 names; what is left is tried as the Commit would apply it,
 * and if that fails, one proposal at a time, keeping each that still fits.
 * A proposal that fits nowhere is left out, so no cached proposal can stop
 * a member from committing (and so from sending, V-APP-1).
 *
 * Signatures were verified on receipt and are not verified again here
 * (the Commit's own apply verifies them once more), except for our own
 * cached proposals, which were never received and are validated here in
 * full. The bound on cached proposals (V-PRP-4) bounds the one-at-a-time fallback.
 */
import { ValidationError } from '../errors.ts';
import { memberPskLookup, pskSecretFor } from './epoch-transition.ts';
import { SenderType } from '../framing/framing.ts';
import type { GroupState, PendingProposal } from './group-state.ts';
import { checkLeavesAgainstTree, type LeafValidationOptions } from '../tree/leaf-node-validation.ts';
import { applyProposalList } from './proposal-apply.ts';
import { validateReceivedProposal } from './proposal-receipt.ts';
import { selectPendingProposals, validateRegularProposalList, type ResolvedProposal } from './proposal-validation.ts';
import type { Proposal } from './proposals.ts';
import type { PskLookup } from '../keys/psk.ts';

export interface PendingChoiceOptions extends LeafValidationOptions {
  readonly pskLookup?: PskLookup;
}

/** The cached proposals `state`'s member can commit, in cache order, alongside its own `byValue` ones. */
export async function chooseCommittablePending(
  state: GroupState,
  byValue: readonly Proposal[],
  options: PendingChoiceOptions,
): Promise<PendingProposal[]> {
  const me = state.ownLeaf;
  const isOwn = (p: PendingProposal): boolean => p.sender.senderType === SenderType.member && p.sender.leafIndex === me;
  const selected = selectPendingProposals(state.pendingProposals, me);
  if (selected.length === 0) return selected;
  // Our own cached proposals were never received, so never validated: check them (signatures too) once.
  const ownValid = new Set<PendingProposal>();
  for (const p of selected.filter(isOwn)) {
    try {
      await validateReceivedProposal(state, p.proposal, p.sender, options);
      ownValid.add(p);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
    }
  }
  const candidates = selected.filter((p) => !isOwn(p) || ownValid.has(p));
  const committer = { senderType: SenderType.member, leafIndex: me } as const;
  const own: ResolvedProposal[] = byValue.map((proposal) => ({ proposal, sender: committer, byValue: true }));

  const fits = async (list: readonly PendingProposal[]): Promise<boolean> => {
    const resolved: ResolvedProposal[] = [...list.map((p) => ({ proposal: p.proposal, sender: p.sender, byValue: false })), ...own];
    try {
      validateRegularProposalList(resolved, me);
      const applied = await applyProposalList(state.suite, state.context, state.tree, resolved, options, 'already-verified');
      checkLeavesAgainstTree(applied.draft, applied.changedLeaves);
      pskSecretFor(state.suite, applied.pskIds, memberPskLookup(state, options.pskLookup)).fill(0);
      return true;
    } catch (err) {
      if (err instanceof ValidationError) return false;
      throw err;
    }
  };

  if (await fits(candidates)) return candidates;
  const chosen: PendingProposal[] = [];
  for (const c of candidates) if (await fits([...chosen, c])) chosen.push(c);
  return chosen;
}
