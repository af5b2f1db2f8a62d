/**
 * Safety codes and member fingerprints, for people to compare out of band.
 *
 *   safety code = digits(SHA-512("microchat/safety/v1" || epoch_authenticator
 *                                || tree_hash || sig_key_1 || ... || sig_key_n))
 *                 with the members' signature keys in leaf order.
 *
 * The epoch authenticator (RFC 9420 §8.7) and the tree hash are the same for
 * every member who has the same view of the epoch, so all members of one
 * epoch see the same code, and any difference in the group (a member someone
 * else does not see, a swapped key) changes it. Digits in groups of five are
 * easy to read aloud.
 */
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { concatBytes } from '../bytes.ts';
import { toB64 } from '../bytes.ts';

const LABEL = new TextEncoder().encode('microchat/safety/v1');

/** `groups` groups of five digits, each from 5 bytes of `hash` (40 bits mod 10^5: bias < 10^-7). */
export function digitGroups(hash: Uint8Array, groups: number): string {
  const out: string[] = [];
  for (let g = 0; g < groups; g++) {
    let n = 0;
    for (let i = 0; i < 5; i++) n = n * 256 + (hash[g * 5 + i] ?? 0);
    out.push(String(n % 100_000).padStart(5, '0'));
  }
  return out.join(' ');
}

export function safetyCode(epochAuthenticator: Uint8Array, treeHash: Uint8Array, signatureKeys: readonly Uint8Array[]): string {
  return digitGroups(sha512(concatBytes(LABEL, epochAuthenticator, treeHash, ...signatureKeys)), 12);
}

/** A member's fingerprint: six digit groups of SHA-256 of their signature key. */
export function keyFingerprint(signatureKey: Uint8Array): string {
  return digitGroups(sha256(signatureKey), 6);
}

/** A stable id for a member: the first 16 bytes of SHA-256 of their signature key. */
export function memberIdOf(signatureKey: Uint8Array): string {
  return toB64(sha256(signatureKey).subarray(0, 16));
}
