/**
 * What the members dialog and the conversation banner say about roles,
 * leaving, deleting for me and ending for everyone: each says exactly what
 * will happen, to whom, and what stays.
 */
import type { MemberView } from '../protocol/channel.ts';
import { memberLabel } from './member-label.ts';
import { t } from '../platform/i18n.ts';

/** "Bob", "Bob and Carol", "Bob, Carol and Dan", "Bob, Carol and 2 others". */
export function namesList(names: readonly string[]): string {
  const [first = '', second = '', third = ''] = names;
  if (names.length <= 1) return first;
  if (names.length === 2) return t('roles_names_two', first, second);
  if (names.length === 3) return t('roles_names_three', first, second, third);
  return t('roles_names_more', first, second, names.length - 2);
}

/**
 * Who becomes admin when we leave as the only admin: the member longest in
 * the conversation (the background picks the leftmost leaf, the first other
 * member in the list). Undefined when nobody does.
 */
export function heirOf(members: readonly MemberView[], youAreOnlyAdmin: boolean): MemberView | undefined {
  return youAreOnlyAdmin ? members.find((m) => !m.self) : undefined;
}

/** The sentences of one paragraph, those present, joined as one text. */
const paragraph = (...sentences: (string | null)[]): string => sentences.filter((x) => x !== null).join(' ');
const heirSentence = (heir: MemberView | undefined): string | null => (heir === undefined ? null : t('roles_heir', memberLabel(heir)));

export function leaveText(heir: MemberView | undefined): string {
  return paragraph(t('roles_leave'), heirSentence(heir), t('roles_leave_after'));
}

/** Delete for me: what happens depends on whether we are still in it and whether anyone else is. */
export function deleteText(state: 'member' | 'alone' | 'gone', heir: MemberView | undefined): string {
  if (state === 'member') return paragraph(t('roles_leave'), heirSentence(heir), t('roles_delete_member_after'));
  if (state === 'alone') return t('roles_delete_alone');
  return t('roles_delete_member_after');
}

/** End for everyone. */
export function endText(others: readonly MemberView[]): string {
  const removed = others.length === 0 ? t('roles_end_nobody') : t('roles_end_removed', namesList(others.map(memberLabel)));
  return paragraph(removed, t('roles_end_after'));
}

/**
 * The banner of a conversation that is over for us. The background stores who ended it as a name, or as its word for
 * "You" in the language it ran in then (lib/background/text.ts YOU), so that word is what means "you" here.
 */
export function endedBanner(endedBy: string): string {
  return endedBy === t('common_you') ? t('conv_ended_by_you') : t('conv_ended_by', endedBy);
}
