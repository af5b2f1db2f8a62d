/**
 * Which members of a conversation are our own other devices: a leaf whose
 * `person` proof holds (member-proofs.ts) for OUR identity key, with a device
 * key in our newest roster (ours, or a newer one seen in this conversation).
 * Such a leaf speaks for us: its texts show as ours, are not unread and do not
 * notify, and only it may send the self-messages of docs/identity.md, "Sync
 * between a person's devices". Pure.
 */
import type { ProofRecord } from './member-proofs.ts';
import { vouchedProof } from './member-proofs.ts';
import type { Roster } from './roster.ts';

/** What of our own identity the check needs. */
export interface OwnKeys {
  identityKey: string;
  roster: Roster;
}

/** True when `memberId`'s leaf is vouched for by our identity key, as one of the devices of our newest roster. */
export function isOwnDevice(rec: ProofRecord, memberId: string, own: OwnKeys | undefined): boolean {
  if (own === undefined || memberId === '') return false;
  const proof = vouchedProof(rec, memberId);
  if (proof === undefined || proof.identityKey !== own.identityKey) return false;
  const seen = rec.rosters?.[own.identityKey];
  const roster = seen !== undefined && seen.version > own.roster.version ? seen : own.roster;
  return roster.devices.some((d) => d.deviceKey === proof.deviceKey);
}

/** The member ids among `memberIds` that are our own other devices. */
export function ownDeviceIds(rec: ProofRecord, memberIds: Iterable<string>, own: OwnKeys | undefined): Set<string> {
  const out = new Set<string>();
  for (const mid of memberIds) if (isOwnDevice(rec, mid, own)) out.add(mid);
  return out;
}

/**
 * The name our roster gives the device behind `memberId` when it is one of
 * ours (as `isOwnDevice` judges it); undefined otherwise. Read before its
 * proof is pruned: a removed leaf's proof goes with it.
 */
export function ownDeviceName(rec: ProofRecord, memberId: string, own: OwnKeys | undefined): string | undefined {
  if (own === undefined || !isOwnDevice(rec, memberId, own)) return undefined;
  const deviceKey = vouchedProof(rec, memberId)!.deviceKey;
  const seen = rec.rosters?.[own.identityKey];
  const roster = seen !== undefined && seen.version > own.roster.version ? seen : own.roster;
  return roster.devices.find((d) => d.deviceKey === deviceKey)?.name;
}
