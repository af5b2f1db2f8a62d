/**
 * The safety number of two people: a fingerprint of both identity keys, for
 * them to compare in person or by scanning a QR code. It depends on the two
 * identity keys only, so it stays the same when either adds or removes a
 * device and when a conversation's epoch changes (unlike the per-epoch group
 * code of safety-code.ts), and both see the same number.
 *
 *   half(key) = 30 digits of H^5200(label || 0x00 || key), H = SHA-512 over (previous || key)
 *   number    = half(lower key) || half(higher key)      (keys ordered bytewise)
 *
 * 60 digits in groups of five. The iterations make grinding a key whose
 * half matches someone else's (about 100 bits) cost that much more, as in
 * Signal's numeric fingerprints; the order makes it the same for both sides.
 */
import { sha512 } from '@noble/hashes/sha2.js';
import { concatBytes, toB64 } from '../../bytes.ts';
import { digitGroups } from '../safety-code.ts';
import { Canonical } from './canonical.ts';
import { SAFETY_QR_PREFIX, safetyNumberQrPayload } from '../../protocol/channel.ts';

export const SAFETY_NUMBER_LABEL = 'MicroChat safety number v1';
const ITERATIONS = 5200;

/** Halves already worked out, by key: the members dialog asks for every person each time it loads. */
const halves = new Map<string, string>();
const MAX_CACHED = 512;

function half(identityKey: Uint8Array): string {
  const k = toB64(identityKey);
  const known = halves.get(k);
  if (known !== undefined) return known;
  const out = work(identityKey);
  if (halves.size >= MAX_CACHED) halves.clear();
  halves.set(k, out);
  return out;
}

function work(identityKey: Uint8Array): string {
  let h = sha512(new Canonical(SAFETY_NUMBER_LABEL).bytes(identityKey).done());
  for (let i = 1; i < ITERATIONS; i++) h = sha512(concatBytes(h, identityKey));
  return digitGroups(h, 6);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** "12345 67890 …" (12 groups of five digits), the same whichever of the two asks. */
export function safetyNumber(ours: Uint8Array, theirs: Uint8Array): string {
  const [first, second] = compareBytes(ours, theirs) <= 0 ? [ours, theirs] : [theirs, ours];
  return `${half(first)} ${half(second)}`;
}

/** What the QR code of a safety number holds (the format is the views' too: lib/protocol/channel.ts). */
export const safetyNumberQr = safetyNumberQrPayload;

/** The digits a scanned QR code holds, or null when it is not a safety number of ours. */
export function readSafetyNumberQr(payload: string): string | null {
  if (!payload.startsWith(SAFETY_QR_PREFIX)) return null;
  const digits = payload.slice(SAFETY_QR_PREFIX.length);
  return /^\d{60}$/.test(digits) ? digits.replace(/(\d{5})(?=\d)/g, '$1 ') : null;
}
