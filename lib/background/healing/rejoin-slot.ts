/**
 * A rejoin slot: an invite blob at the relay (invite.ts format, relay
 * /v1/invites) that no invite code points to. Its id and keys are derived
 * from the epoch in which the membership last changed:
 *
 *   seed      = MLS-Exporter("microchat rejoin slot", group_id, 32)      RFC 9420 §8.5
 *   slot id   = HKDF-SHA256(seed, info "microchat rejoin slot id")[0..16]
 *   read key  = HKDF-SHA256(seed, info "… read")        decrypts the blob
 *   write key = HKDF-SHA256(seed, info "… write")       replaces or deletes it
 *   signing   = HKDF-SHA256(seed, info "… sign")        Ed25519 seed; the blob is signed with it
 *
 * Every member of that epoch computes the same slot without any message, so
 * members keep its GroupInfo current like any invite's (invites.ts `publish`)
 * and a Commit that removes someone revokes it (invite-revocation.ts). A
 * removed member knew the slots of the epochs it was in (all revoked by its
 * removal) and never learns a later epoch's exporter secret, so it can name
 * no live slot. See docs/self-healing.md.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { exportSecret, type GroupState } from '../../mls/group.ts';
import { toB64 } from '../../bytes.ts';
import type { InviteRecord } from '../chat-store.ts';

const EXPORTER_LABEL = 'microchat rejoin slot';
const enc = new TextEncoder();

/** A minute short of the relay's longest invite life (30 days), like invites.ts. */
export const SLOT_LIFETIME_S = 30 * 86_400 - 60;
/** Members make a fresh slot when the newest one has less than this left. */
export const SLOT_RENEW_BEFORE_S = 7 * 86_400;
/** Slots kept live per conversation (each counts against the relay's daily invite cap). */
export const MAX_LIVE_SLOTS = 3;

export interface SlotKeys {
  slotId: Uint8Array;
  readKey: Uint8Array;
  writeKey: Uint8Array;
  signingKey: Uint8Array;
  verifyKey: Uint8Array;
}

function expand(seed: Uint8Array, what: string, length: number): Uint8Array {
  return hkdf(sha256, seed, undefined, enc.encode(`microchat rejoin slot ${what}`), length);
}

/** The slot of this epoch (only a member of it can compute it). */
export function deriveSlot(state: GroupState): SlotKeys {
  const seed = exportSecret(state, EXPORTER_LABEL, state.context.groupId, 32);
  return slotFromSeed(seed);
}

/** The keys from an exporter seed (split out so a test can check the derivation against its spec). */
export function slotFromSeed(seed: Uint8Array): SlotKeys {
  const signingKey = expand(seed, 'sign', 32);
  return {
    slotId: expand(seed, 'id', 16),
    readKey: expand(seed, 'read', 32),
    writeKey: expand(seed, 'write', 32),
    signingKey,
    verifyKey: ed25519.getPublicKey(signingKey),
  };
}

/** The slot as a conversation keeps it among its invites (republished every epoch, revoked on removal). */
export function slotRecord(keys: SlotKeys, expiresAt: number, epoch: number): InviteRecord {
  return {
    inviteId: toB64(keys.slotId),
    key: toB64(keys.readKey),
    writeKey: toB64(keys.writeKey),
    signingKey: toB64(keys.signingKey),
    expiresAt,
    oneTime: false,
    slot: epoch,
  };
}

/** Whether an invite record is a rejoin slot (never shown, never a code). */
export function isSlot(i: InviteRecord): boolean {
  return i.slot !== undefined;
}
