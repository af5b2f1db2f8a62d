/**
 * Identity helpers for integration and e2e tests: reach a device's own
 * identity, link a second device's identity by hand (what the linking part
 * does over the relay), and turn a device into one that claims to be
 * someone else's without that person's identity vouching for it.
 */
import type { ChatService } from '../../../lib/background/chat-service.ts';
import type { OwnIdentity } from '../../../lib/background/identity/own-identity.ts';
import type { PersonClaim } from '../../../lib/background/identity/person-proof.ts';
import type { ConversationMeta } from '../../../lib/background/chat-store.ts';
import type { Roster } from '../../../lib/background/identity/roster.ts';
import type { Device } from './device.ts';

export function ownIdentityOf(d: Device): OwnIdentity {
  const people = (d.app as unknown as { chat: ChatService }).chat.people;
  if (people === undefined) throw new Error(`${d.name} has no identity loaded`);
  return people.own;
}

/** `to` becomes one of `from`'s person's devices: `from` signs a roster with it, `to` takes the identity. */
export async function linkIdentity(from: Device, to: Device, deviceName: string): Promise<void> {
  const a = ownIdentityOf(from);
  const b = ownIdentityOf(to);
  await a.signRosterWith({ deviceKey: b.deviceKey, name: deviceName, addedAt: Date.now() });
  await b.importFromLink(JSON.parse(JSON.stringify(a.exportForLink())) as unknown);
}

/** Whom an impostor pretends to be: what anyone in a conversation with them sees of their identity. */
export interface Victim {
  personId: string;
  identityKey: string;
  roster: Roster;
}

/**
 * The identity a member proved in a conversation, as device `d` stored it.
 * For e2e tests, where the victim's keys live in a browser: a Node device in
 * a conversation with them learns what it needs from their `person` message.
 */
export function personSeenBy(d: Device, conversationId: string, memberId: string): Victim {
  const meta = (d.app as unknown as { chat: { metas: Map<string, ConversationMeta> } }).chat.metas.get(conversationId);
  const proof = meta?.proofs?.[memberId];
  const roster = proof === undefined ? undefined : meta?.rosters?.[proof.identityKey];
  if (proof === undefined || roster === undefined) throw new Error(`${d.name} has seen no identity for ${memberId}`);
  return { personId: proof.personId, identityKey: proof.identityKey, roster };
}

/** Make `d` say who it is again in every conversation (after injecting, for conversations it is already in). */
export function announceAgain(d: Device): void {
  (d.app as unknown as { chat: ChatService }).chat.announcePersonEverywhere();
}

/**
 * From now on `impostor` claims to be `victim`'s person in every group it is in:
 *   'not-in-roster'   a correct leaf binding by its own device key, with the victim's real
 *                     (validly signed) roster, which does not list that key;
 *   'other-identity'  the victim's personId and identity key, with a roster signed by the
 *                     impostor's own identity key.
 * Neither is vouched for by the victim's identity: receivers who verified the victim are warned.
 */
export function injectUnvouchedDevice(impostor: Device, victim: Victim, how: 'not-in-roster' | 'other-identity'): void {
  const own = ownIdentityOf(impostor);
  const honest = own.claimFor.bind(own);
  own.claimFor = (groupId: Uint8Array, leafSignatureKey: Uint8Array): PersonClaim => {
    const claim = honest(groupId, leafSignatureKey);
    const stolen = { personId: victim.personId, identityKey: victim.identityKey };
    return how === 'not-in-roster' ? { ...claim, ...stolen, roster: victim.roster } : { ...claim, ...stolen };
  };
}
