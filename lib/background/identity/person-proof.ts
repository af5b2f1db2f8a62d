/**
 * A member's claim to be one of a person's devices (the `person` app
 * message), read strictly, and what it proves.
 *
 * A claim proves its MLS sender's leaf belongs to the person when
 *   1. the roster is signed by the claimed identity key for the claimed personId,
 *   2. the leaf binding is signed by the claimed device key for this group and
 *      the sender's own leaf signature key, and
 *   3. the device key is in the newest roster we have seen for that identity key.
 * 1 and 2 are checked once, when the claim arrives (`checkClaim`); 3 is judged
 * whenever it is read (`isVouched`), because a newer roster may drop the device.
 * A claim that fails is kept as "unvouched" so the person can be warned; it
 * never makes anything fail.
 */
import { fromB64 } from '../../bytes.ts';
import { verifyLeafBinding } from './leaf-binding.ts';
import { MAX_DEVICE_NAME, MAX_ROSTER_DEVICES, newerRoster, rosterHas, verifyRoster, type Roster, type RosterDevice } from './roster.ts';

export interface PersonClaim {
  personId: string;
  identityKey: string;
  deviceKey: string;
  leafSig: string;
  roster: Roster;
}

/** What one member's claim established (kept per member id in the conversation's metadata). */
export interface MemberProof {
  personId: string;
  identityKey: string;
  deviceKey: string;
  /** Checks 1 and 2 passed for this member's own leaf. */
  signed: boolean;
}

const B64 = /^[A-Za-z0-9_-]+$/;
const ADDRESS_ID = /^[A-Za-z0-9_-]{1,128}$/;

function b64Of(v: unknown, bytes: number): string | null {
  if (typeof v !== 'string' || !B64.test(v)) return null;
  const raw = fromB64(v);
  return raw !== null && raw.length === bytes ? v : null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyKeys(r: Record<string, unknown>, allowed: readonly string[]): boolean {
  return Object.keys(r).every((k) => allowed.includes(k));
}

const safeInt = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;

function parseDevice(v: unknown): RosterDevice | null {
  if (!isRecord(v) || !onlyKeys(v, ['deviceKey', 'name', 'addedAt', 'address'])) return null;
  const deviceKey = b64Of(v.deviceKey, 32);
  if (deviceKey === null || typeof v.name !== 'string' || v.name.trim() === '' || v.name.length > MAX_DEVICE_NAME || !safeInt(v.addedAt, 0)) return null;
  const device: RosterDevice = { deviceKey, name: v.name, addedAt: v.addedAt };
  if (v.address === undefined) return device;
  const a = v.address;
  if (!isRecord(a) || !onlyKeys(a, ['accountId', 'welcomeMailboxId'])) return null;
  if (typeof a.accountId !== 'string' || !ADDRESS_ID.test(a.accountId) || typeof a.welcomeMailboxId !== 'string' || !ADDRESS_ID.test(a.welcomeMailboxId)) return null;
  return { ...device, address: { accountId: a.accountId, welcomeMailboxId: a.welcomeMailboxId } };
}

export function parseRoster(v: unknown): Roster | null {
  if (!isRecord(v) || !onlyKeys(v, ['version', 'devices', 'sig'])) return null;
  const sig = b64Of(v.sig, 64);
  if (sig === null || !safeInt(v.version, 1) || !Array.isArray(v.devices)) return null;
  if (v.devices.length === 0 || v.devices.length > MAX_ROSTER_DEVICES) return null;
  const devices: RosterDevice[] = [];
  for (const d of v.devices) {
    const parsed = parseDevice(d);
    if (parsed === null) return null;
    devices.push(parsed);
  }
  if (new Set(devices.map((d) => d.deviceKey)).size !== devices.length) return null;
  return { version: v.version, devices, sig };
}

/** The claim's fields of a `person` app message; null when any is malformed (the message is then not ours). */
export function parsePersonClaim(r: Record<string, unknown>): PersonClaim | null {
  const personId = b64Of(r.personId, 16);
  const identityKey = b64Of(r.identityKey, 32);
  const deviceKey = b64Of(r.deviceKey, 32);
  const leafSig = b64Of(r.leafSig, 64);
  const roster = parseRoster(r.roster);
  if (personId === null || identityKey === null || deviceKey === null || leafSig === null || roster === null) return null;
  return { personId, identityKey, deviceKey, leafSig, roster };
}

/**
 * Checks 1 and 2 for the claim of the member whose leaf has
 * `leafSignatureKey` in group `groupId`. `roster` is set only when its
 * signature holds (then it may replace the one kept for the identity key).
 */
export function checkClaim(claim: PersonClaim, groupId: Uint8Array, leafSignatureKey: Uint8Array): { proof: MemberProof; roster?: Roster } {
  const personId = fromB64(claim.personId)!;
  const identityKey = fromB64(claim.identityKey)!;
  const rosterOk = verifyRoster(identityKey, personId, claim.roster);
  const bindingOk = verifyLeafBinding(fromB64(claim.deviceKey)!, groupId, leafSignatureKey, fromB64(claim.leafSig)!);
  const proof: MemberProof = { personId: claim.personId, identityKey: claim.identityKey, deviceKey: claim.deviceKey, signed: rosterOk && bindingOk };
  return rosterOk ? { proof, roster: claim.roster } : { proof };
}

/** Check 3: a signed proof whose device is in the newest roster we hold for its identity key. */
export function isVouched(proof: MemberProof, rosters: Readonly<Record<string, Roster>> | undefined): boolean {
  const roster = rosters?.[proof.identityKey];
  return proof.signed && roster !== undefined && rosterHas(roster, proof.deviceKey);
}

/** Keep the newest valid roster per identity key (roster.ts `newerRoster`). */
export function keepRoster(rosters: Readonly<Record<string, Roster>> | undefined, identityKey: string, personId: string, incoming: Roster): Record<string, Roster> {
  const kept = rosters?.[identityKey];
  return { ...rosters, [identityKey]: newerRoster(kept, incoming, fromB64(personId)!) };
}
