/**
 * Message ids (draft-ietf-mimi-content-08 §2.3):
 *
 *   hash_output = SHA-256( senderUriLength || senderUri ||
 *                          roomUriLength   || roomUri   ||
 *                          message         || salt )
 *   messageId   = 0x01 || hash_output[0..30]
 *
 * lengths are big-endian uint16 octet counts of the UTF-8 URIs; `message` is
 * the content's bytes exactly as sent or received (never re-encoded). The
 * salt is hashed twice on purpose (against SHA-256 length extension).
 *
 * Who the sender is comes from MLS, not from the content: the caller passes
 * the URIs it derived from the authenticated sender and the group (MicroChat's
 * are made in lib/background/mimi-wire.ts), so a member cannot mint an id
 * that belongs to someone else's message.
 */
import { concatBytes } from '../bytes.ts';
import { sha256 } from '../crypto/sha256.ts';
import { ContentError, ContentErrorReason } from './errors.ts';
import { MESSAGE_ID_SHA256 } from './decode.ts';
import type { MessageId } from './types.ts';

function lengthPrefixed(uri: string): Uint8Array {
  const b = new TextEncoder().encode(uri);
  if (b.length > 0xffff) throw new ContentError(ContentErrorReason.Unencodable, 'a URI over 65535 octets has no message id');
  return concatBytes(new Uint8Array([b.length >> 8, b.length & 0xff]), b);
}

export function messageIdOf(senderUri: string, roomUri: string, message: Uint8Array, salt: Uint8Array): MessageId {
  const out = sha256(concatBytes(lengthPrefixed(senderUri), lengthPrefixed(roomUri), message, salt));
  const id = new Uint8Array(32);
  id[0] = MESSAGE_ID_SHA256;
  id.set(out.subarray(0, 31), 1);
  return id as MessageId;
}
