/**
 * The queue capability: what a member presents to the relay, next to the
 * queue id, for every queue operation (register, unregister, post, delete).
 *
 *   C(epoch) = MLS-Exporter("microchat queue capability", "", 32)   RFC 9420 §8.5
 *
 * Only members of that epoch can compute it, and it changes with every
 * Commit: a Commit is posted with C of its base epoch and
 * rotateTo = H(Q, C') of the epoch it starts, and the relay swaps the hash
 * in the same step that stores the Commit. A removed member never learns the
 * new epoch's exporter secret, so the queue id they still know opens nothing.
 *
 * Every member presents the same C, so presenting it does not say who sends
 * (sealed sender stays intact). H must match the relay's
 * (relay/delivery.ts, hashCapability); a unit test checks both agree.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { exportSecret, type GroupState } from '../mls/group.ts';
import { toB64 } from '../bytes.ts';

const EXPORTER_LABEL = 'microchat queue capability';
const HASH_LABEL = new TextEncoder().encode('microchat queue capability v1');
export const CAPABILITY_BYTES = 32;

/** C for the group's current epoch. */
export function queueCapability(state: GroupState): Uint8Array {
  return exportSecret(state, EXPORTER_LABEL, new Uint8Array(0), CAPABILITY_BYTES);
}

/** H(Q, C) as the relay keeps it: the `rotateTo` of a Commit that starts the epoch of C. */
export function capabilityHash(queue: Uint8Array, capability: Uint8Array): string {
  const buf = new Uint8Array(HASH_LABEL.length + queue.length + capability.length);
  buf.set(HASH_LABEL);
  buf.set(queue, HASH_LABEL.length);
  buf.set(capability, HASH_LABEL.length + queue.length);
  return toB64(sha256(buf));
}
