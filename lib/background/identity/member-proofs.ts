/**
 * Who each member of one conversation proved to be, kept in the
 * conversation's metadata: memberId → the member's proof (person-proof.ts),
 * and identity key → the newest roster seen here. Pure functions over that
 * record, for the inbox (inbox.ts) and the members view (people.ts).
 *
 * A proof is stored under the member id of the MLS sender's leaf, whatever
 * the claim says: a claim can only ever speak for the leaf that sent it.
 */
import type { Verified } from './verified-people.ts';
import { checkClaim, isVouched, keepRoster, type MemberProof, type PersonClaim } from './person-proof.ts';
import type { Roster } from './roster.ts';

export interface ProofRecord {
  /** memberId → what that member's own `person` message proved (current members only). */
  proofs?: Record<string, MemberProof>;
  /** base64url identity key → the newest valid roster seen in this conversation. */
  rosters?: Record<string, Roster>;
}

/** What a claim changes in the record of the member whose leaf has `leafSignatureKey`. */
export function learnClaim(rec: ProofRecord, memberId: string, groupId: Uint8Array, leafSignatureKey: Uint8Array, claim: PersonClaim): Required<ProofRecord> {
  const { proof, roster } = checkClaim(claim, groupId, leafSignatureKey);
  const proofs = { ...rec.proofs, [memberId]: proof };
  const rosters = roster === undefined ? { ...rec.rosters } : keepRoster(rec.rosters, proof.identityKey, proof.personId, roster);
  return { proofs, rosters: onlyReferenced(rosters, proofs) };
}

/** Forget the proofs of members who are gone, and the rosters no current proof refers to. */
export function pruneProofs(rec: ProofRecord, memberIds: ReadonlySet<string>): ProofRecord {
  if (rec.proofs === undefined) return rec;
  const proofs = Object.fromEntries(Object.entries(rec.proofs).filter(([mid]) => memberIds.has(mid)));
  return { proofs, rosters: onlyReferenced(rec.rosters ?? {}, proofs) };
}

function onlyReferenced(rosters: Record<string, Roster>, proofs: Record<string, MemberProof>): Record<string, Roster> {
  const used = new Set(Object.values(proofs).map((p) => p.identityKey));
  return Object.fromEntries(Object.entries(rosters).filter(([k]) => used.has(k)));
}

export function vouchedProof(rec: ProofRecord, memberId: string): MemberProof | undefined {
  const p = rec.proofs?.[memberId];
  return p !== undefined && isVouched(p, rec.rosters) ? p : undefined;
}

export interface IdentityProblem {
  memberId: string;
  personId: string;
  /** 'changed': vouched by another identity key than the verified one; 'unvouched': not vouched for at all. */
  kind: 'changed' | 'unvouched';
}

/** Members whose claim to be a verified person does not hold (or holds for another identity key). */
export function identityProblems(rec: ProofRecord, verified: ReadonlyMap<string, Verified>): IdentityProblem[] {
  const out: IdentityProblem[] = [];
  for (const [memberId, p] of Object.entries(rec.proofs ?? {})) {
    const v = verified.get(p.personId);
    if (v === undefined) continue;
    if (!isVouched(p, rec.rosters)) out.push({ memberId, personId: p.personId, kind: 'unvouched' });
    else if (p.identityKey !== v.identityKey) out.push({ memberId, personId: p.personId, kind: 'changed' });
  }
  return out;
}

/** Problems in `after` that `before` did not have (each is warned about once). */
export function newProblems(before: ProofRecord, after: ProofRecord, verified: ReadonlyMap<string, Verified>): IdentityProblem[] {
  const seen = new Set(identityProblems(before, verified).map((p) => `${p.memberId}/${p.kind}`));
  return identityProblems(after, verified).filter((p) => !seen.has(`${p.memberId}/${p.kind}`));
}
