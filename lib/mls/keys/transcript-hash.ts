/**
 * Transcript hashes (RFC 9420 §8.2): the running hash over every Commit that
 * shaped the group. Each Commit's AuthenticatedContent is split in two:
 *
 *   AuthenticatedContent = wire_format | content | signature | confirmation_tag
 *                          \_____ ConfirmedTranscriptHashInput _____/ \_ Interim.._/
 *
 *   interim[n-1] --+
 *                  +--> Hash(interim[n-1] || ConfirmedTranscriptHashInput[n]) = confirmed[n]
 *                                     |
 *   confirmation_tag[n] = MAC(confirmation_key[n], confirmed[n])
 *                                     |
 *                  Hash(confirmed[n] || InterimTranscriptHashInput[n]) = interim[n]
 *
 * Both start as the empty string in epoch 0. A joiner takes `confirmed` from
 * the GroupInfo and computes `interim` from it and the GroupInfo's
 * confirmation tag.
 */
import type { CipherSuite } from '../../crypto/provider.ts';
import { Writer } from '../codec/codec.ts';
import { concatBytes } from '../../bytes.ts';
import { ValidationError } from '../errors.ts';
import { ContentType, framedContentCodec, type AuthenticatedContent, type FramedContent, type FramedWireFormat } from '../framing/framing.ts';

/** §8.2 ConfirmedTranscriptHashInput, encoded. */
export function encodeConfirmedTranscriptHashInput(
  wireFormat: FramedWireFormat,
  content: FramedContent,
  signature: Uint8Array,
): Uint8Array {
  // V-TH-1: only a Commit's content enters the confirmed transcript (§8.2).
  if (content.contentType !== ContentType.commit) {
    throw new ValidationError('V-TH-1', 'transcript hash input must carry a Commit');
  }
  const w = new Writer(256);
  w.u16(wireFormat);
  framedContentCodec.encode(w, content);
  w.opaque(signature);
  return w.finish();
}

/** §8.2 InterimTranscriptHashInput, encoded: `MAC confirmation_tag` is `opaque<V>`. */
export function encodeInterimTranscriptHashInput(confirmationTag: Uint8Array): Uint8Array {
  return new Writer(confirmationTag.length + 4).opaque(confirmationTag).finish();
}

/** confirmed[n] = Hash(interim[n-1] || ConfirmedTranscriptHashInput[n]). */
export function computeConfirmedTranscriptHash(
  cs: CipherSuite,
  interimTranscriptHashBefore: Uint8Array,
  authenticatedContent: AuthenticatedContent,
): Uint8Array {
  const input = encodeConfirmedTranscriptHashInput(
    authenticatedContent.wireFormat,
    authenticatedContent.content,
    authenticatedContent.auth.signature,
  );
  return cs.hash.digest(concatBytes(interimTranscriptHashBefore, input));
}

/** interim[n] = Hash(confirmed[n] || InterimTranscriptHashInput[n]). */
export function computeInterimTranscriptHash(
  cs: CipherSuite,
  confirmedTranscriptHash: Uint8Array,
  confirmationTag: Uint8Array,
): Uint8Array {
  return cs.hash.digest(concatBytes(confirmedTranscriptHash, encodeInterimTranscriptHashInput(confirmationTag)));
}

export interface TranscriptHashes {
  readonly confirmedTranscriptHash: Uint8Array;
  readonly interimTranscriptHash: Uint8Array;
}

/**
 * Both hashes after a Commit. The Commit's AuthenticatedContent must carry its
 * confirmation tag (§6.1: present exactly when content_type is commit).
 */
export function updateTranscriptHashes(
  cs: CipherSuite,
  interimTranscriptHashBefore: Uint8Array,
  authenticatedContent: AuthenticatedContent,
): TranscriptHashes {
  const tag = authenticatedContent.auth.confirmationTag;
  // V-TH-2: a Commit's FramedContentAuthData carries a confirmation_tag (§6.1).
  if (tag === undefined) throw new ValidationError('V-TH-2', 'Commit without a confirmation_tag');
  const confirmedTranscriptHash = computeConfirmedTranscriptHash(cs, interimTranscriptHashBefore, authenticatedContent);
  return {
    confirmedTranscriptHash,
    interimTranscriptHash: computeInterimTranscriptHash(cs, confirmedTranscriptHash, tag),
  };
}
