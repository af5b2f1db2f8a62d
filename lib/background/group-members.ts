/**
 * The members of a group as the chat knows them: by member id (a fingerprint
 * of the signature key, safety-code.ts) and by the label it shows
 * (member-names.ts). Read through the group façade only.
 */
import { memberLeaf, members, type GroupState } from '../mls/group.ts';
import { labelMembers, labelText, type MemberLabel } from './member-names.ts';
import type { KnownAs } from './mentions.ts';
import { keyFingerprint, memberIdOf } from './safety-code.ts';

/** memberId → label of every member (names from the conversation's profiles; ours is our display name). */
export function memberLabels(state: GroupState, names: Readonly<Record<string, string>> | undefined, selfName: string): Map<string, MemberLabel> {
  const list = members(state).map((m) => ({ memberId: memberIdOf(m.leaf.signatureKey), leaf: m.leaf, self: m.leafIndex === state.ownLeaf }));
  return labelMembers(list, names ?? {}, selfName);
}

/** The member id at a leaf; '' for a blank leaf or a sender that is not a member (index -1). */
export function memberIdAt(state: GroupState, leaf: number): string {
  const l = leaf < 0 ? undefined : memberLeaf(state, leaf);
  return l === undefined ? '' : memberIdOf(l.signatureKey);
}

export function ownMemberId(state: GroupState): string {
  return memberIdAt(state, state.ownLeaf);
}

/**
 * How this device knows each member (`labels`: memberLabels of this state),
 * for reading the labels of mentions (mentions.ts M-5): the name it shows
 * (alone and with its tag), ours and our
 * other devices' (`isOwn`) also by our display name, and the fingerprint group
 * of the placeholder a sender without a name for them would have shown.
 */
export function knownAsOf(state: GroupState, labels: ReadonlyMap<string, MemberLabel>, selfName: string, isOwn: (id: string) => boolean): (id: string) => KnownAs | undefined {
  return (id) => {
    const label = labels.get(id);
    if (label === undefined) return undefined;
    const m = memberById(state, id);
    if (m === undefined) return undefined;
    const shown = [label.displayName, labelText(label), ...(label.tag === undefined ? [] : [`${label.displayName} ${label.tag}`])];
    return { names: isOwn(id) ? [selfName, ...shown] : shown, print: keyFingerprint(m.leaf.signatureKey).slice(0, 5) };
  };
}

export function memberIds(state: GroupState): string[] {
  return members(state).map((m) => memberIdOf(m.leaf.signatureKey));
}

export function memberById(state: GroupState, memberId: string): ReturnType<typeof members>[number] | undefined {
  return members(state).find((m) => memberIdOf(m.leaf.signatureKey) === memberId);
}

/** The leaf index of a message's sender; -1 when it is not a member. */
export function senderIndex(sender: { senderType: number; leafIndex?: number }): number {
  return sender.leafIndex ?? -1;
}
