/**
 * Sending and receiving a file as a MIMI external part (issue #20): encrypt
 * it chunk by chunk (attachment-crypto.ts) while uploading it to the relay's
 * blob API (blob-client.ts), and on the other side download, check and
 * decrypt it the same way.
 *
 * Memory: the sender reads one plaintext chunk of the file at a time (a Blob
 * slice) and holds one ciphertext chunk in flight; the recipient holds the
 * plaintext result it is filling and one chunk. Nothing is ever held as
 * several whole copies.
 *
 * The `url` of the external part names the blob on the conversation's own
 * relay. A url that points anywhere else is refused before any request: a
 * hostile member must not make our device contact a server of their choice.
 */

import type { MailboxCredentials } from '../protocol/relay.ts';
import { BLOB_PATH_PREFIX } from '../protocol/relay-blobs.ts';
import { CryptoError, UsageError } from '../crypto/errors.ts';
import { AttachmentDecryptor, AttachmentEncryptor, MAX_ATTACHMENT_BYTES, type AttachmentKeys } from './attachment-crypto.ts';
import type { BlobClient, TransferOptions, UploadTarget } from './blob-client.ts';

export { ENC_ALG_AES_256_GCM, HASH_ALG_SHA_256, MAX_ATTACHMENT_BYTES, type AttachmentKeys } from './attachment-crypto.ts';

/** The file is above MAX_ATTACHMENT_BYTES: say so to the person, nothing was uploaded. */
export class AttachmentTooLargeError extends UsageError {
  constructor(readonly size: number) {
    super(`attachment of ${size} bytes is above ${MAX_ATTACHMENT_BYTES}`);
  }
}

/** What the sender puts in the external part (with contentType, filename, description of its own). */
export interface SentAttachment extends AttachmentKeys {
  url: string;
  /** The file's own size (the part's `size` field is the content at the url: `size`). */
  plainSize: number;
}

const BLOB_ID = /^[A-Za-z0-9_-]{21}[AQgw]$/;

/** The url of a blob on `relayUrl` (the relay's base URL, no trailing slash). */
export function blobUrl(relayUrl: string, blobId: string): string {
  return `${relayUrl}${BLOB_PATH_PREFIX}/${blobId}`;
}

/** The blob id of a url on `relayUrl`; null for anything else (another server, another path, a malformed id). */
export function blobIdOf(relayUrl: string, url: string): string | null {
  const prefix = `${relayUrl}${BLOB_PATH_PREFIX}/`;
  if (!url.startsWith(prefix)) return null;
  const id = url.slice(prefix.length);
  return BLOB_ID.test(id) ? id : null;
}

/**
 * Encrypts `file` under a fresh key and uploads it for the conversation's
 * recipients. The returned fields go into the message; until it is sent the
 * blob is useless to anyone (only the message carries the key).
 */
export async function uploadAttachment(
  file: Blob,
  client: BlobClient,
  target: UploadTarget,
  options: TransferOptions = {},
): Promise<SentAttachment> {
  if (file.size > MAX_ATTACHMENT_BYTES) throw new AttachmentTooLargeError(file.size);
  const enc = new AttachmentEncryptor(file.size);
  try {
    const blobId = await client.upload(
      enc.size,
      async (index) => {
        const { start, end } = enc.range(index);
        return enc.encryptChunk(index, new Uint8Array(await file.slice(start, end).arrayBuffer()));
      },
      target,
      options,
    );
    return { ...enc.finish(), url: blobUrl(client.baseUrl, blobId), plainSize: file.size };
  } catch (err) {
    enc.wipe();
    throw err;
  }
}

/**
 * Downloads, checks and decrypts the attachment at `url` as `mailbox` (a
 * recipient of the conversation). Answers the file only when every chunk
 * authenticated and the ciphertext's hash is the announced one; otherwise a
 * CryptoError (attachment-crypto.ts rule IDs, ATT-URL-1 here) and nothing.
 */
export async function downloadAttachment(
  url: string,
  keys: AttachmentKeys,
  client: BlobClient,
  mailbox: MailboxCredentials,
  options: TransferOptions = {},
): Promise<Uint8Array> {
  const blobId = blobIdOf(client.baseUrl, url);
  // ATT-URL-1: the url came from another member; only a blob on our own relay is fetched.
  if (blobId === null) throw new CryptoError('ATT-URL-1', 'attachment url is not a blob of this relay');
  const dec = new AttachmentDecryptor(keys);
  const out = new Uint8Array(dec.plainSize);
  let filled = 0;
  try {
    await client.download(
      blobId,
      keys.size,
      mailbox,
      async (index, ct) => {
        const plain = await dec.decryptChunk(index, ct);
        out.set(plain, filled);
        filled += plain.length;
      },
      options,
    );
    dec.finish();
    return out;
  } catch (err) {
    out.fill(0);
    throw err;
  }
}
