/**
 * Whether two members of a conversation are the same person: the rule that
 * lets a person's other device edit, delete for everyone or take back the
 * reactions of what one of their devices sent (rich-record.ts R-RICH-2/3),
 * and refuses everyone else. Pure, over the proofs kept in the conversation.
 *
 * A member's person is the identity key that vouches for its leaf:
 *   - this device: our own identity key;
 *   - one of our other devices: our identity key, when its proof holds and
 *     our newest roster lists it (own-devices.ts `isOwnDevice`);
 *   - anyone else: the identity key of its proof, only while the proof holds
 *     (signed, and its device in the newest roster seen for that key).
 * A member without a proof that holds is a person of its own (its member id
 * only), as the members list shows it (people.ts). A proof that names OUR
 * identity key but that our roster does not list is nobody's: a member
 * replaying our roster cannot act for us.
 */
import { vouchedProof, type ProofRecord } from './member-proofs.ts';
import { isOwnDevice, type OwnKeys } from './own-devices.ts';

export interface PersonContext {
  proofs: ProofRecord;
  /** Our identity; undefined when this device has none loaded (each member is then only itself). */
  own: OwnKeys | undefined;
  /** This device's member id in the conversation. */
  ownMemberId: string;
}

/** The identity key a member's leaf is vouched for by, or undefined when none holds. */
export function personOf(ctx: PersonContext, memberId: string): string | undefined {
  const { own } = ctx;
  if (memberId === '') return undefined;
  if (memberId === ctx.ownMemberId) return own?.identityKey;
  if (isOwnDevice(ctx.proofs, memberId, own)) return own!.identityKey;
  const proof = vouchedProof(ctx.proofs, memberId);
  if (proof === undefined || proof.identityKey === own?.identityKey) return undefined;
  return proof.identityKey;
}

/** The same member, or two members vouched for by the same identity key. */
export function samePerson(ctx: PersonContext, a: string, b: string): boolean {
  if (a === b) return a !== '';
  const pa = personOf(ctx, a);
  return pa !== undefined && pa === personOf(ctx, b);
}
