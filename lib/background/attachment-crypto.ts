/**
 * Encryption of an attachment for the MIMI external part
 * (draft-ietf-mimi-content §"External content"): a fresh key and nonce per
 * file, AEAD over the content, and the hash of the ciphertext (the content
 * at the url) that recipients check before they use anything.
 *
 * The content is encrypted in chunks so neither side ever holds more than
 * the result plus one chunk: a 25 MiB file never exists as several whole
 * copies. Chunk i (of n) is AES-256-GCM (encAlg 2, RFC 5116 AEAD_AES_256_GCM)
 * under the file's key with
 *
 *   nonce_i = nonce XOR (0^64 ‖ uint32(i))
 *   aad_i   = aad ‖ uint32(i) ‖ uint8(i == n-1)
 *
 * so a chunk cannot be moved, dropped or the file cut short without failing
 * authentication (the last flag marks the end, as in the STREAM construction).
 * A plaintext chunk is BLOB_CHUNK_BYTES - 16 bytes, so each ciphertext chunk
 * is exactly one relay chunk. An empty file is one chunk of just the tag.
 *
 * contentHash = SHA-256 (hashAlg 1, RFC 6920 registry) of the whole
 * ciphertext, computed incrementally. Rule IDs: ATT-AEAD-1 a chunk fails
 * authentication, ATT-HASH-1 the ciphertext's hash is not contentHash,
 * ATT-SIZE-1 the content is not the announced size (or that size is not one a
 * file of at most MAX_ATTACHMENT_BYTES encrypts to), ATT-KEY-1 the announced
 * key is not 32 bytes. Each is a CryptoError (failure.ts: hostile input).
 */

import { sha256 } from '@noble/hashes/sha2.js';
import { bytesEqual } from '../bytes.ts';
import { CryptoError, UsageError } from '../crypto/errors.ts';
import { buf } from '../crypto/subtle.ts';
import { BLOB_CHUNK_BYTES } from '../protocol/relay-blobs.ts';

/** IANA AEAD Algorithms: AEAD_AES_256_GCM. */
export const ENC_ALG_AES_256_GCM = 2;
/** IANA Named Information Hash Algorithm Registry: sha-256. */
export const HASH_ALG_SHA_256 = 1;
export const ATTACHMENT_KEY_BYTES = 32;
export const ATTACHMENT_NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Plaintext bytes per chunk: one ciphertext chunk is exactly one relay chunk. */
export const PLAIN_CHUNK_BYTES = BLOB_CHUNK_BYTES - TAG_BYTES;
/** The largest file a person may send (issue #20: 25 MiB). */
export const MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024;

/** What a recipient needs to fetch, check and decrypt: the external part's crypto fields. */
export interface AttachmentKeys {
  key: Uint8Array;
  nonce: Uint8Array;
  aad: Uint8Array;
  /** SHA-256 of the whole ciphertext. */
  contentHash: Uint8Array;
  /** Ciphertext bytes (what the relay holds). */
  size: number;
}

export function plainChunkCount(plainSize: number): number {
  return Math.max(1, Math.ceil(plainSize / PLAIN_CHUNK_BYTES));
}

export function ciphertextSize(plainSize: number): number {
  return plainSize + plainChunkCount(plainSize) * TAG_BYTES;
}

/** The plaintext size of a ciphertext of `size` bytes, or null if no plaintext encrypts to that size. */
export function plaintextSize(size: number): number | null {
  const chunks = Math.ceil(size / BLOB_CHUNK_BYTES);
  const plain = size - chunks * TAG_BYTES;
  return chunks >= 1 && plain >= 0 && ciphertextSize(plain) === size ? plain : null;
}

function chunkNonce(nonce: Uint8Array, index: number): Uint8Array {
  const out = nonce.slice();
  const view = new DataView(out.buffer);
  view.setUint32(8, view.getUint32(8) ^ index);
  return out;
}

function chunkAad(aad: Uint8Array, index: number, last: boolean): Uint8Array {
  const out = new Uint8Array(aad.length + 5);
  out.set(aad);
  new DataView(out.buffer).setUint32(aad.length, index);
  out[aad.length + 4] = last ? 1 : 0;
  return out;
}

async function importKey(key: Uint8Array, usage: 'encrypt' | 'decrypt'): Promise<CryptoKey> {
  if (key.length !== ATTACHMENT_KEY_BYTES) throw new UsageError('attachment key must be 32 bytes');
  return crypto.subtle.importKey('raw', key.slice(), { name: 'AES-GCM' }, false, [usage]);
}

/** Encrypts one file, chunk by chunk and in order, under a fresh key and nonce. */
export class AttachmentEncryptor {
  readonly key = crypto.getRandomValues(new Uint8Array(ATTACHMENT_KEY_BYTES));
  readonly nonce = crypto.getRandomValues(new Uint8Array(ATTACHMENT_NONCE_BYTES));
  readonly aad = new Uint8Array(0);
  readonly chunks: number;
  readonly size: number;
  private readonly hash = sha256.create();
  private next = 0;
  private cryptoKey: Promise<CryptoKey> | null = null;

  constructor(readonly plainSize: number) {
    if (!Number.isSafeInteger(plainSize) || plainSize < 0) throw new UsageError('attachment size must be a non-negative integer');
    this.chunks = plainChunkCount(plainSize);
    this.size = ciphertextSize(plainSize);
  }

  /** The plaintext range of chunk `index`. */
  range(index: number): { start: number; end: number } {
    const start = index * PLAIN_CHUNK_BYTES;
    return { start, end: Math.min(this.plainSize, start + PLAIN_CHUNK_BYTES) };
  }

  /** Chunk `index` (the next one) of the ciphertext. */
  async encryptChunk(index: number, plain: Uint8Array): Promise<Uint8Array> {
    const { start, end } = this.range(index);
    if (index !== this.next || index >= this.chunks) throw new UsageError('attachment chunks must be encrypted in order');
    if (plain.length !== end - start) throw new UsageError('attachment chunk of the wrong length');
    this.cryptoKey ??= importKey(this.key, 'encrypt');
    const params = { name: 'AES-GCM', iv: chunkNonce(this.nonce, index), additionalData: chunkAad(this.aad, index, index === this.chunks - 1) };
    const ct = new Uint8Array(await crypto.subtle.encrypt(params, await this.cryptoKey, buf(plain)));
    this.hash.update(ct);
    this.next++;
    return ct;
  }

  /** The external part's fields, once every chunk was encrypted. */
  finish(): AttachmentKeys {
    if (this.next !== this.chunks) throw new UsageError('attachment not fully encrypted');
    return { key: this.key, nonce: this.nonce, aad: this.aad, contentHash: this.hash.digest(), size: this.size };
  }

  /** Forget the key (after a cancelled upload). */
  wipe(): void {
    this.key.fill(0);
  }
}

/** Decrypts one file chunk by chunk, in order; nothing it returned may be used before finish() passes. */
export class AttachmentDecryptor {
  readonly chunks: number;
  readonly plainSize: number;
  private readonly hash = sha256.create();
  private next = 0;
  private readonly cryptoKey: Promise<CryptoKey>;

  /** The fields come from another member: each is checked here, before any request or allocation. */
  constructor(private readonly keys: AttachmentKeys) {
    // ATT-KEY-1: an AES-256 key (a wrong one would only fail after the first chunk was fetched).
    if (keys.key.length !== ATTACHMENT_KEY_BYTES) throw new CryptoError('ATT-KEY-1', 'attachment key must be 32 bytes');
    if (keys.nonce.length !== ATTACHMENT_NONCE_BYTES) throw new CryptoError('ATT-SIZE-1', 'attachment nonce must be 12 bytes');
    // ATT-SIZE-1: never more than a file we would send (the recipient allocates the plaintext size).
    if (!Number.isSafeInteger(keys.size) || keys.size > ciphertextSize(MAX_ATTACHMENT_BYTES)) {
      throw new CryptoError('ATT-SIZE-1', 'the announced size is above the largest attachment');
    }
    const plain = plaintextSize(keys.size);
    if (plain === null) throw new CryptoError('ATT-SIZE-1', 'no content encrypts to the announced size');
    this.plainSize = plain;
    this.chunks = plainChunkCount(plain);
    this.cryptoKey = importKey(keys.key, 'decrypt');
  }

  /** Ciphertext bytes of chunk `index`. */
  chunkLength(index: number): number {
    return Math.min(BLOB_CHUNK_BYTES, this.keys.size - index * BLOB_CHUNK_BYTES);
  }

  async decryptChunk(index: number, ct: Uint8Array): Promise<Uint8Array> {
    if (index !== this.next || index >= this.chunks) throw new UsageError('attachment chunks must be decrypted in order');
    if (ct.length !== this.chunkLength(index)) throw new CryptoError('ATT-SIZE-1', 'attachment chunk of the wrong length');
    this.hash.update(ct);
    const params = { name: 'AES-GCM', iv: chunkNonce(this.keys.nonce, index), additionalData: chunkAad(this.keys.aad, index, index === this.chunks - 1) };
    let plain: ArrayBuffer;
    try {
      plain = await crypto.subtle.decrypt(params, await this.cryptoKey, buf(ct));
    } catch (cause) {
      throw new CryptoError('ATT-AEAD-1', 'attachment chunk failed authentication', { cause });
    }
    this.next++;
    return new Uint8Array(plain);
  }

  /** Every chunk decrypted and the ciphertext's hash is contentHash; otherwise the content must be dropped. */
  finish(): void {
    if (this.next !== this.chunks) throw new CryptoError('ATT-SIZE-1', 'attachment ended early');
    if (!bytesEqual(this.hash.digest(), this.keys.contentHash)) throw new CryptoError('ATT-HASH-1', 'attachment content hash mismatch');
  }
}
