/**
 * The members of a conversation as people: each leaf whose proof holds is
 * grouped under its identity key with the person's other devices here; a
 * leaf without a valid proof is a person of its own ('leaf:' + memberId),
 * never merged into someone it claims to be. Our own other devices are
 * grouped with us (same identity key as ours). Pure: the caller passes the
 * members, the proofs kept in the conversation and what we verified.
 */
import type { PersonDeviceView, PersonView, VerificationView } from '../../protocol/channel.ts';
import { fromB64 } from '../../bytes.ts';
import { vouchedProof, type ProofRecord } from './member-proofs.ts';
import { safetyNumber } from './safety-number.ts';
import type { Roster } from './roster.ts';
import type { Verified } from './verified-people.ts';

export interface PeopleInput {
  /** Every member in leaf order, with the label the members list shows. */
  members: readonly { memberId: string; displayName: string; self: boolean }[];
  proofs: ProofRecord;
  /** Our own identity; undefined when this device has none loaded (every member is then a person of their own). */
  own: { identityKey: string; personId: string; deviceKey: string; roster: Roster } | undefined;
  verified: ReadonlyMap<string, Verified>;
}

export const LEAF_PREFIX = 'leaf:';

export function groupPeople(input: PeopleInput): PersonView[] {
  const { own, proofs, verified } = input;
  const people = new Map<string, PersonView & { personId?: string }>();
  for (const m of input.members) {
    const proof = m.self ? undefined : vouchedProof(proofs, m.memberId);
    const identityKey = m.self ? own?.identityKey : proof?.identityKey;
    const key = identityKey ?? LEAF_PREFIX + m.memberId;
    const deviceKey = m.self ? own?.deviceKey : proof?.deviceKey;
    const roster = identityKey === undefined ? undefined : identityKey === own?.identityKey ? newest(own.roster, proofs.rosters?.[identityKey]) : proofs.rosters?.[identityKey];
    const entry = roster?.devices.find((d) => d.deviceKey === deviceKey);
    const device: PersonDeviceView = {
      memberId: m.memberId,
      name: entry?.name ?? m.displayName,
      ...(entry === undefined ? {} : { addedAt: entry.addedAt }),
      ...(entry?.address === undefined ? {} : { address: { ...entry.address } }),
    };
    const known = people.get(key);
    if (known !== undefined) {
      known.devices.push(device);
      // Our own name wins over what our other devices last announced.
      if (m.self) known.displayName = m.displayName;
      continue;
    }
    const self = identityKey !== undefined && identityKey === own?.identityKey;
    const personId = self ? own?.personId : proof?.personId;
    people.set(key, {
      personKey: key,
      displayName: m.displayName,
      self: self || m.self,
      verification: self || identityKey === undefined || personId === undefined ? 'unverified' : verificationOf(verified.get(personId), identityKey),
      ...(self || identityKey === undefined || own === undefined ? {} : { safetyNumber: safetyNumber(fromB64(own.identityKey)!, fromB64(identityKey)!) }),
      devices: [device],
      ...(personId === undefined ? {} : { personId }),
    });
  }
  return [...people.values()].map(({ personId: _, ...p }) => p);
}

/** What we marked: verified for exactly this identity key and nothing changed since, else "changed". */
export function verificationOf(v: Verified | undefined, identityKey: string): VerificationView {
  if (v === undefined) return 'unverified';
  return v.changed === true || v.identityKey !== identityKey ? 'changed' : 'verified';
}

function newest(ours: Roster, seen: Roster | undefined): Roster {
  return seen !== undefined && seen.version > ours.version ? seen : ours;
}

/** The personId behind a person key in a conversation: from a member whose proof holds for that identity key. */
export function personIdOf(proofs: ProofRecord, memberIds: readonly string[], personKey: string): string | undefined {
  if (personKey.startsWith(LEAF_PREFIX)) return undefined;
  for (const mid of memberIds) {
    const p = vouchedProof(proofs, mid);
    if (p?.identityKey === personKey) return p.personId;
  }
  return undefined;
}
