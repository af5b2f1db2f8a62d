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

const name = (p: Person, selfId: string): string => (p.id === selfId ? 'You' : p.label);

/** Someone is no longer a member: they left, or someone removed them. */
export function removalNote(who: Person, by: Person | undefined, selfId: string): string {
  if (by === undefined) return `${who.label} was removed.`;
  if (by.id === who.id) return `${who.label} left.`;
  return `${name(by, selfId)} removed ${who.label}.`;
}

/** We were removed, or the conversation was ended. */
export function removedYouNote(by: Person | undefined, ended: boolean): string {
  const actor = by?.label ?? 'Someone';
  return ended ? `${actor} ended the conversation.` : `${actor} removed you from this conversation.`;
}

export const ENDED_BY_YOU = 'You ended the conversation.';

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
  const actor = name(by, selfId);
  for (const id of now.admins) {
    if (isAdminIdentity(was, id)) continue;
    const who = person(id);
    if (who !== undefined) out.push(`${actor} made ${who.id === selfId ? 'you' : who.label} an admin.`);
  }
  for (const id of was.admins) {
    if (isAdminIdentity(now, id)) continue;
    const who = person(id);
    if (who === undefined) continue;
    if (who.id === by.id) out.push(who.id === selfId ? 'You are no longer an admin.' : `${who.label} is no longer an admin.`);
    else out.push(`${actor} removed ${who.id === selfId ? 'you' : who.label} as admin.`);
  }
  if (was.invitePolicy !== now.invitePolicy) {
    out.push(now.invitePolicy === InvitePolicy.admins ? `${actor} let only admins invite people.` : `${actor} let every member invite people.`);
  }
  return out;
}
