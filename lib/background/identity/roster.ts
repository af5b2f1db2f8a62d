/**
 * A person's roster: the list of their current devices, signed by their
 * identity key. Whoever holds the identity key (each of the person's
 * devices, see docs/identity.md) signs a new version on every add or remove.
 *
 *   sig = Ed25519(identity key, "MicroChat roster v1" || 0x00 || personId (16 bytes)
 *                 || version || n || device_1 || ... || device_n)
 *   device = deviceKey (32 bytes) || name || addedAt || flag || [accountId || welcomeMailboxId]
 *
 * The personId is inside the signature, so a roster cannot be moved to
 * another person. Receivers keep the highest valid version per identity key
 * and ignore older ones: a removed device replaying the roster that still
 * listed it gains nothing once the newer one was seen.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { fromB64, toB64 } from '../../bytes.ts';
import type { DeviceAddress } from '../device-address.ts';
import { Canonical } from './canonical.ts';

export const ROSTER_LABEL = 'MicroChat roster v1';
/** More devices than anyone links; bounds what a hostile member can make us verify. */
export const MAX_ROSTER_DEVICES = 32;
export const MAX_DEVICE_NAME = 64;

export interface RosterDevice {
  /** base64url of the device's 32-byte Ed25519 public key. */
  deviceKey: string;
  /** A name for people: "Firefox on Linux". */
  name: string;
  /** When it was added, ms since the epoch. */
  addedAt: number;
  address?: DeviceAddress;
}

export interface Roster {
  version: number;
  devices: RosterDevice[];
  /** base64url of the identity key's 64-byte signature. */
  sig: string;
}

export function rosterBytes(personId: Uint8Array, version: number, devices: readonly RosterDevice[]): Uint8Array {
  const c = new Canonical(ROSTER_LABEL).bytes(personId).int(version).int(devices.length);
  for (const d of devices) {
    const key = fromB64(d.deviceKey);
    if (key === null || key.length !== 32) throw new RangeError('roster device key must be 32 bytes');
    c.bytes(key).text(d.name).int(d.addedAt).flag(d.address !== undefined);
    if (d.address !== undefined) c.text(d.address.accountId).text(d.address.welcomeMailboxId);
  }
  return c.done();
}

export function signRoster(identitySecret: Uint8Array, personId: Uint8Array, version: number, devices: readonly RosterDevice[]): Roster {
  const sig = ed25519.sign(rosterBytes(personId, version, devices), identitySecret);
  return { version, devices: devices.map(copyDevice), sig: toB64(sig) };
}

/** Whether `roster` is signed by `identityKey` for `personId`; false (never a throw) for anything malformed. */
export function verifyRoster(identityKey: Uint8Array, personId: Uint8Array, roster: Roster): boolean {
  try {
    const sig = fromB64(roster.sig);
    if (sig === null || sig.length !== 64 || identityKey.length !== 32) return false;
    if (roster.devices.length === 0 || roster.devices.length > MAX_ROSTER_DEVICES) return false;
    if (new Set(roster.devices.map((d) => d.deviceKey)).size !== roster.devices.length) return false;
    return ed25519.verify(sig, rosterBytes(personId, roster.version, roster.devices), identityKey);
  } catch {
    return false;
  }
}

/**
 * Of a roster we keep and one that arrives (already verified), the one to
 * keep: the higher version. Two different rosters of the same version (two
 * of the person's devices signed at once) are ordered by a hash of their
 * content, so every receiver keeps the same one.
 */
export function newerRoster(kept: Roster | undefined, incoming: Roster, personId: Uint8Array): Roster {
  if (kept === undefined || incoming.version > kept.version) return incoming;
  if (incoming.version < kept.version) return kept;
  const a = sha256(rosterBytes(personId, kept.version, kept.devices));
  const b = sha256(rosterBytes(personId, incoming.version, incoming.devices));
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return b[i]! > a[i]! ? incoming : kept;
  return kept;
}

export function rosterHas(roster: Roster, deviceKey: string): boolean {
  return roster.devices.some((d) => d.deviceKey === deviceKey);
}

function copyDevice(d: RosterDevice): RosterDevice {
  return { deviceKey: d.deviceKey, name: d.name, addedAt: d.addedAt, ...(d.address === undefined ? {} : { address: { ...d.address } }) };
}
