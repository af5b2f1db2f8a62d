/**
 * Validating a standalone proposal when it arrives (RFC 9420 §12.1, §10.1,
 * §12.1.8), before it is cached for a later Commit.
 *
 * A proposal that is cached is committed by reference, and a member that has
 * seen proposals must commit them before it sends (§12.4, V-APP-1). So a
 * proposal that no Commit can carry, cached once, would stop every member
 * from sending and committing. Each proposal is therefore checked on receipt
 * the way a Commit carrying it alone would check it (`applyProposalList`,
 * signatures included, and the tree-wide leaf rules), and rejected, never
 * cached, when it fails.
 *
 * Rule IDs checked here (besides those of the modules called):
 *  - V-SND-1..3 who may send which proposal (proposal-validation)
 *  - V-SND-4    a new_member_proposal sender is accepted only when the
 *               application asks for it (§12.1.8: the group's policy)
 *  - V-PRP-1    no standalone ExternalInit
 *  - V-PRP-5    a PreSharedKey proposal names a PSK we hold (else no Commit of it could be processed here)
 *  - V-KP-*, V-LN-* (Add, Update), V-LN-12 (Update keeps the identity),
 *    V-REM-1 (Remove of a non-blank leaf), V-PSK-*, V-RI-1, V-GCE-*, V-ROLE-* (role-rules)
 */
import { ValidationError } from '../errors.ts';
import { memberPskLookup } from './epoch-transition.ts';
import { SenderType, type Sender } from '../framing/framing.ts';
import type { GroupState } from './group-state.ts';
import { checkLeavesAgainstTree, type LeafValidationOptions } from '../tree/leaf-node-validation.ts';
import { applyProposalList } from './proposal-apply.ts';
import { checkProposalSender } from './proposal-validation.ts';
import { checkRoleRules } from './role-rules.ts';
import { ProposalType, type Proposal } from './proposals.ts';
import type { PskLookup } from '../keys/psk.ts';

export interface ProposalReceiptOptions extends LeafValidationOptions {
  readonly pskLookup?: PskLookup;
  /**
   * §12.1.8: accept an Add proposed by the new member itself
   * (`new_member_proposal`). Off by default: an outsider needs only the
   * group id and the epoch to send one, and whether the group lets people
   * ask to join this way is the application's choice.
   */
  readonly acceptNewMemberProposals?: boolean;
}

/** Seconds since the Unix epoch, as leaf lifetimes count them. */
export function nowSeconds(): bigint {
  return BigInt(Math.floor(Date.now() / 1000));
}

/**
 * Throw a typed error unless `proposal` from `sender` is one a Commit in the
 * current epoch could carry. Reads `state` only.
 */
export async function validateReceivedProposal(
  state: GroupState,
  proposal: Proposal,
  sender: Sender,
  options: ProposalReceiptOptions = {},
): Promise<void> {
  checkProposalSender(proposal, sender);
  if (sender.senderType === SenderType.newMemberProposal && options.acceptNewMemberProposals !== true) {
    throw new ValidationError('V-SND-4', 'this group does not accept proposals from new members');
  }
  // V-PRP-1 (§12.1.6): ExternalInit only ever appears inside an external Commit.
  if (proposal.proposalType === ProposalType.externalInit) {
    throw new ValidationError('V-PRP-1', 'a standalone ExternalInit proposal');
  }
  // §12.1: the same checks a Commit of this proposal alone would run. A KeyPackage
  // leaf's lifetime is checked against now, as the committer will (V-LN-5).
  const validation = { ...options, now: options.now ?? nowSeconds() };
  const resolved = [{ proposal, sender, byValue: false }];
  const applied = await applyProposalList(state.suite, state.context, state.tree, resolved, validation);
  // V-ROLE-* : a proposal only an admin may send is never cached from anyone else.
  checkRoleRules({ extensionsBefore: state.context.extensions, treeBefore: state.tree, resolved, extensionsAfter: applied.extensions, treeAfter: applied.draft });
  // §7.3: a new or replaced leaf's keys are unique among the members (V-LN-8/9).
  checkLeavesAgainstTree(applied.draft, applied.changedLeaves);
  if (proposal.proposalType === ProposalType.psk) {
    if (memberPskLookup(state, options.pskLookup)(proposal.psk.psk) === undefined) {
      throw new ValidationError('V-PRP-5', 'PreSharedKey proposal for a PSK this member does not hold');
    }
  }
}
