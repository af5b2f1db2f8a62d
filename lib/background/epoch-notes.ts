/**
 * The wording of the system messages for people leaving, being removed, and
 * the conversation ending, with the actor named right: "You" for our own
 * actions, and the actor being whoever sent the Remove (its proposer), not
 * whoever committed it. A member leaving proposes their own removal and
 * someone else commits it: that reads "Bob left", never "Alice removed Bob".
 */
import type { Sender } from '../mls/framing/framing.ts';
import { SenderType } from '../mls/framing/framing.ts';
import { InvitePolicy, members, rolesOf, type GroupState } from '../mls/group.ts';
import { isAdminIdentity } from '../mls/group/roles.ts';
import { ProposalType } from '../mls/group/proposals.ts';
import { t } from '../platform/i18n.ts';
import { SOMEONE, YOU } from './text.ts';

export interface Person {
  readonly id: string;
  readonly label: string;
}

/** One removal a Commit made: the removed leaf and who sent its Remove (leaf indexes before the Commit). */
export interface Removal {
  readonly removed: number;
  /** The Remove's sender's leaf, or -1 when it was not a member (an external sender or a joiner's resync). */
  readonly by: number;
}

export function removalsOf(list: readonly { readonly removed: number; readonly by: Sender }[]): Removal[] {
  return list.map((r) => ({ removed: r.removed, by: r.by.senderType === SenderType.member ? r.by.leafIndex : -1 }));
}

/**
 * Whoever removed a member in a Commit of ours: a Remove someone proposed
 * (themselves, when they left) and we committed by reference, else us. Read
 * from the proposals we had cached before the Commit, as our own Commit does
 * not come back readable to us.
 */
export function ownCommitRemovals(before: GroupState, removedLeaves: readonly number[]): Removal[] {
  return removedLeaves.map((leaf) => {
    const proposed = before.pendingProposals.find((p) => p.proposal.proposalType === ProposalType.remove && p.proposal.remove.removed === leaf);
    const by = proposed !== undefined && proposed.sender.senderType === SenderType.member ? proposed.sender.leafIndex : before.ownLeaf;
    return { removed: leaf, by };
  });
}

/** A Commit that removed every member but its committer, by the committer's own Removes: the conversation ended. */
export function endsConversation(before: GroupState, committer: number, removals: readonly Removal[]): boolean {
  const others = members(before).filter((m) => m.leafIndex !== committer);
  return others.length > 0 && others.every((m) => removals.some((r) => r.removed === m.leafIndex && r.by === committer));
}

/** Someone is no longer a member: they left, or someone removed them. */
export function removalNote(who: Person, by: Person | undefined, selfId: string): string {
  if (by === undefined) return t('bg_was_removed', who.label);
  if (by.id === who.id) return t('bg_left', who.label);
  // "You" takes its own sentence: other languages conjugate the verb for it (German "Du hast", "Ana hat").
  return by.id === selfId ? t('bg_you_removed', who.label) : t('bg_removed', by.label, who.label);
}

/** We were removed, or the conversation was ended (by us, when the actor's label is our own word for "you"). */
export function removedYouNote(by: Person | undefined, ended: boolean): string {
  if (ended && by?.label === YOU) return ENDED_BY_YOU;
  const actor = by?.label ?? SOMEONE;
  return ended ? t('bg_ended', actor) : t('bg_removed_you', actor);
}

export const ENDED_BY_YOU = t('bg_ended_by_you');

/**
 * What a change of roles says: who made whom an admin, who stepped down, and
 * who may invite now. `by` is the committer (role changes are its own
 * GroupContextExtensions proposal); `person(identity)` names a current member.
 */
export function roleChangeNotes(
  before: GroupState,
  after: GroupState,
  by: Person,
  person: (identity: Uint8Array) => Person | undefined,
  selfId: string,
): string[] {
  const was = rolesOf(before.context.extensions);
  const now = rolesOf(after.context.extensions);
  if (was === undefined || now === undefined) return [];
  const out: string[] = [];
  const mine = by.id === selfId;
  for (const id of now.admins) {
    if (isAdminIdentity(was, id)) continue;
    const who = person(id);
    if (who === undefined) continue;
    if (mine) out.push(t('bg_you_made_admin', who.label));
    else out.push(who.id === selfId ? t('bg_made_you_admin', by.label) : t('bg_made_admin', by.label, who.label));
  }
  for (const id of was.admins) {
    if (isAdminIdentity(now, id)) continue;
    const who = person(id);
    if (who === undefined) continue;
    if (who.id === by.id) out.push(who.id === selfId ? t('bg_you_no_longer_admin') : t('bg_no_longer_admin', who.label));
    else if (mine) out.push(t('bg_you_removed_admin', who.label));
    else out.push(who.id === selfId ? t('bg_removed_you_admin', by.label) : t('bg_removed_admin', by.label, who.label));
  }
  if (was.invitePolicy !== now.invitePolicy) {
    const admins = now.invitePolicy === InvitePolicy.admins;
    if (mine) out.push(admins ? t('bg_you_let_admins_invite') : t('bg_you_let_everyone_invite'));
    else out.push(admins ? t('bg_let_admins_invite', by.label) : t('bg_let_everyone_invite', by.label));
  }
  return out;
}
