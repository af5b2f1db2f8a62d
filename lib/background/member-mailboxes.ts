/**
 * Which mailbox each other member listens on, learnt inside the group.
 *
 * Every member announces its own mailbox id for a conversation in an MLS
 * application message (app message 'mailbox'): on joining, and again when
 * someone new joins (a newcomer cannot read what was sent before it came).
 * MLS authenticates the sender, so an entry is only ever what that leaf said
 * about itself. When a member is removed or leaves, the member whose Commit
 * removed them unregisters their mailbox from the queue (with the new
 * epoch's capability), so the relay keeps nothing addressed to it.
 *
 * A hostile member could announce another member's mailbox id to get it
 * unregistered when they themselves leave: an id another leaf already
 * claims is ignored, and a removed leaf's id that a remaining leaf claims is
 * never unregistered.
 */
import { members, type GroupState } from '../mls/group.ts';
import { memberIdOf } from './safety-code.ts';

export type MemberMailboxes = Record<string, string>;

function leavesOf(state: GroupState): Map<number, string> {
  const out = new Map<number, string>();
  for (const m of members(state)) out.set(m.leafIndex, memberIdOf(m.leaf.signatureKey));
  return out;
}

/** Leaves of `before` that are gone from `after` (removed, or replaced by someone else at that index). */
export function removedLeaves(before: GroupState, after: GroupState): number[] {
  const now = leavesOf(after);
  return [...leavesOf(before)].filter(([leaf, key]) => now.get(leaf) !== key).map(([leaf]) => leaf);
}

/** Whether `after` has a member that `before` did not (someone joined). */
export function someoneJoined(before: GroupState, after: GroupState): boolean {
  const old = new Set(leavesOf(before).values());
  return [...leavesOf(after).values()].some((k) => !old.has(k));
}

/** The map after an epoch change: entries of leaves that left go. */
export function pruneMailboxes(map: MemberMailboxes | undefined, removed: number[]): MemberMailboxes {
  const out: MemberMailboxes = { ...map };
  for (const leaf of removed) delete out[String(leaf)];
  return out;
}

/** Leaf `sender` says it listens on `mailboxId`; null when another leaf already claims that id. */
export function recordAnnouncement(map: MemberMailboxes | undefined, sender: number, mailboxId: string): MemberMailboxes | null {
  const current = map ?? {};
  for (const [leaf, mb] of Object.entries(current)) if (mb === mailboxId && leaf !== String(sender)) return null;
  return { ...current, [String(sender)]: mailboxId };
}

/** The mailboxes to unregister for these removed leaves: theirs, unless a remaining leaf claims the same id. */
export function mailboxesOfRemoved(map: MemberMailboxes | undefined, removed: number[]): string[] {
  if (map === undefined) return [];
  const gone = new Set(removed.map(String));
  const kept = new Set(Object.entries(map).filter(([leaf]) => !gone.has(leaf)).map(([, mb]) => mb));
  return removed.map((l) => map[String(l)]).filter((mb): mb is string => mb !== undefined && !kept.has(mb));
}
