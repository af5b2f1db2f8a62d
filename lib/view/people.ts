/**
 * The people of a conversation as the members dialog lists them. The
 * background groups members into people (ConversationDetail.people); a
 * member it left out (an older background) is shown as a person of their
 * own, so nobody in the group is ever hidden from the list.
 */
import type { ConversationDetail, MemberView, PersonView } from '../protocol/channel.ts';

export interface ListedPerson extends PersonView {
  /** The members (leaves) of this person, in the order of `devices`. */
  members: MemberView[];
}

export function peopleOf(detail: Pick<ConversationDetail, 'members' | 'people'>): ListedPerson[] {
  const byId = new Map(detail.members.map((m) => [m.memberId, m]));
  const covered = new Set<string>();
  const out: ListedPerson[] = [];
  for (const p of detail.people) {
    const members = p.devices.map((d) => byId.get(d.memberId)).filter((m): m is MemberView => m !== undefined);
    if (members.length === 0) continue;
    for (const m of members) covered.add(m.memberId);
    out.push({ ...p, devices: p.devices.filter((d) => byId.has(d.memberId)), members });
  }
  for (const m of detail.members) {
    if (covered.has(m.memberId)) continue;
    out.push({ personKey: `leaf:${m.memberId}`, displayName: m.displayName, self: m.self, verification: 'unverified', devices: [{ memberId: m.memberId, name: m.displayName }], members: [m] });
  }
  return out;
}

/** A person's name as one line: a single device keeps its member's tag (two people called the same). */
export function personLabel(p: ListedPerson): string {
  const only = p.members.length === 1 ? p.members[0] : undefined;
  return only?.tag === undefined ? p.displayName : `${p.displayName} · ${only.tag}`;
}
