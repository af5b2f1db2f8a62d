/**
 * What the members dialog and the conversation banner say about roles,
 * leaving, deleting for me and ending for everyone: each says exactly what
 * will happen, to whom, and what stays.
 */
import type { MemberView } from '../protocol/channel.ts';
import { memberLabel } from './member-label.ts';

/** "Bob", "Bob and Carol", "Bob, Carol and Dan", "Bob, Carol and 2 others". */
export function namesList(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  if (names.length === 2) return `${names[0]} and ${names[1]}`;
  if (names.length === 3) return `${names[0]}, ${names[1]} and ${names[2]}`;
  return `${names[0]}, ${names[1]} and ${names.length - 2} others`;
}

/**
 * Who becomes admin when we leave as the only admin: the member longest in
 * the conversation (the background picks the leftmost leaf, the first other
 * member in the list). Undefined when nobody does.
 */
export function heirOf(members: readonly MemberView[], youAreOnlyAdmin: boolean): MemberView | undefined {
  return youAreOnlyAdmin ? members.find((m) => !m.self) : undefined;
}

const heirSentence = (heir: MemberView | undefined): string => (heir === undefined ? '' : ` ${memberLabel(heir)} becomes an admin, as you are the only one.`);

export function leaveText(heir: MemberView | undefined): string {
  return `You leave the conversation; the others keep it.${heirSentence(heir)} To come back, someone has to invite you again. Your history stays on this device until you delete the conversation.`;
}

/** Delete for me: what happens depends on whether we are still in it and whether anyone else is. */
export function deleteText(state: 'member' | 'alone' | 'gone', heir: MemberView | undefined): string {
  if (state === 'member') {
    return `You leave the conversation; the others keep it.${heirSentence(heir)} The conversation and its history are removed from this device. This cannot be undone.`;
  }
  if (state === 'alone') return 'You are the only member: the conversation, its history and its messages on the relay are deleted. This cannot be undone.';
  return 'The conversation and its history are removed from this device. This cannot be undone.';
}

/** End for everyone. */
export function endText(others: readonly MemberView[]): string {
  const who = namesList(others.map(memberLabel));
  const removed = others.length === 0 ? 'Nobody else is in it:' : `${who} will be removed and`;
  return `${removed} the conversation ends for everyone. Its messages still waiting on the relay are deleted, so anyone who has not received them yet never will. Your history stays on this device until you delete it. This cannot be undone.`;
}

/** The banner of a conversation that is over for us. */
export function endedBanner(endedBy: string): string {
  return endedBy === 'You' ? 'You ended this conversation for everyone.' : `${endedBy} ended this conversation.`;
}
