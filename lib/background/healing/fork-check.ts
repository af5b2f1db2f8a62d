/**
 * Telling a fork: our state and the others' share an epoch number but not
 * its secrets (we applied a Commit nobody else did, or they one we did not
 * see as theirs). Each application message we send carries, in its clear but
 * authenticated authenticated_data, a tag of the epoch as we hold it:
 *
 *   tag = SHA-256("microchat fork check" || epoch_authenticator)[0..8]     RFC 9420 §8.7
 *
 * Members of the same epoch with the same view compute the same tag. A
 * PrivateMessage at our epoch number whose tag is not ours, and that does not
 * decrypt, says the sender holds another epoch than ours. One such message
 * may be forged (the relay can change the tag, which then fails to decrypt
 * because the tag is authenticated): the healer is told only after
 * FORK_CONFIRMATIONS of them in a row, with none from the others decrypting
 * in between. What the relay learns from the tag: nothing it did not know;
 * the tag is the same for every message of an epoch, and the epoch number
 * beside it already groups them (docs/self-healing.md).
 *
 * A message without a tag (a client from before, or another client) is
 * never counted: the check only reads tags, it never requires one.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { epochAuthenticator, type GroupState, type MLSMessage } from '../../mls/group.ts';
import { WireFormat } from '../../mls/framing/framing.ts';
import { bytesEqual } from '../../bytes.ts';

const LABEL = new TextEncoder().encode('microchat fork check');
const PREFIX = new TextEncoder().encode('mcfk1');
export const TAG_BYTES = 8;
export const FORK_CONFIRMATIONS = 2;

/** The authenticated_data our application messages carry: "mcfk1" || tag. */
export function forkTagData(state: GroupState): Uint8Array {
  const h = sha256.create().update(LABEL).update(epochAuthenticator(state)).digest().subarray(0, TAG_BYTES);
  const out = new Uint8Array(PREFIX.length + TAG_BYTES);
  out.set(PREFIX);
  out.set(h, PREFIX.length);
  return out;
}

/** Whether a message claims our epoch number but carries another epoch's tag (undefined: it says nothing). */
export function foreignTag(message: MLSMessage, state: GroupState): boolean {
  if (message.wireFormat !== WireFormat.privateMessage) return false;
  const pm = message.privateMessage;
  if (pm.epoch !== state.context.epoch) return false;
  const ad = pm.authenticatedData;
  if (ad.length !== PREFIX.length + TAG_BYTES || !bytesEqual(ad.subarray(0, PREFIX.length), PREFIX)) return false;
  return !bytesEqual(ad, forkTagData(state));
}

/** Counts foreign-tagged messages that did not decrypt, per conversation; in memory (a restart starts over, which only delays). */
export class ForkCounter {
  private readonly counts = new Map<string, number>();

  /** A delivery at our epoch was judged: true when it confirms a fork. */
  judged(id: string, foreign: boolean, decrypted: boolean): boolean {
    if (decrypted) {
      this.counts.delete(id);
      return false;
    }
    if (!foreign) return false;
    const n = (this.counts.get(id) ?? 0) + 1;
    this.counts.set(id, n);
    if (n < FORK_CONFIRMATIONS) return false;
    this.counts.delete(id);
    return true;
  }
}
