/**
 * What the relay keeps of encrypted attachments (blobs), behind one interface
 * with an embedded SQLite implementation (sqlite-blobs.ts, in the relay's
 * own database file) and a Redis one (redis-blobs.ts, under the relay's key
 * prefix). As in ../store.ts every operation that must be atomic is ONE
 * method: spending the token together with what it pays for (a new blob, or
 * one chunk), a recipient's release together with deleting the blob after
 * the last one.
 *
 * A blob belongs to a queue (known by hash) and is read by the mailboxes
 * registered to that queue when it was created: the same recipients a
 * message sent then would have. A mailbox that leaves the queue (unregistered
 * or deleted) stops being one; deleting the queue deletes its blobs.
 * Nothing here names who uploaded: the upload is paid with sealed-sender
 * tokens and the write key is kept as a hash.
 */

import type { Spend } from '../store.ts';

export interface NewBlob {
  blobId: string;
  queueHash: string;
  /** H(Q, C) presented by the uploader, checked against the queue's current one. */
  capHash: string;
  writeKeyHash: string;
  /** Ciphertext bytes the blob will hold once every chunk is in. */
  size: number;
  chunks: number;
  /** Until the last chunk is in: past this the unfinished upload is swept. */
  expiresAt: number;
}

/** Checked atomically with the creation of a blob; a blob counts with its full size from its creation. */
export interface BlobCaps {
  maxBytesPerQueue: number;
  maxBlobsPerQueue: number;
  /** Bytes of every blob together. */
  maxTotalBytes: number;
}

/**
 * Refusals: 'spent' token, 'not_found' (no such blob or queue, wrong key or
 * capability, not a recipient), 'stale' (the queue's previous capability),
 * 'quota' (the queue's blob caps), 'full' (the relay's total), 'invalid' (a
 * chunk index or length that does not fit the blob), 'conflict' (that chunk
 * is already in). Nothing is spent or stored on a refusal.
 */
export type BlobRefusal = 'spent' | 'not_found' | 'stale' | 'quota' | 'full' | 'invalid' | 'conflict';
export type BlobResult<T> = { ok: true; value: T } | { ok: false; reason: BlobRefusal };

export interface FetchedChunk {
  size: number;
  data: Uint8Array;
}

export interface BlobStore {
  /** Spends the token and creates the blob for the mailboxes registered to the queue now ('not_found' if none). */
  createBlob(spend: Spend, blob: NewBlob, caps: BlobCaps): Promise<BlobResult<null>>;
  /**
   * Spends the token and stores chunk `index` (its length must be the one the
   * blob's size gives it). With the last chunk the blob is complete and its
   * expiry becomes `completeExpiresAt`.
   */
  putChunk(
    spend: Spend,
    blobId: string,
    writeKeyHash: string,
    index: number,
    data: Uint8Array,
    completeExpiresAt: number,
    now: number,
  ): Promise<BlobResult<{ complete: boolean }>>;
  /** Chunk `index` of a complete, unexpired blob that `mailboxId` is still a recipient of; null otherwise. */
  fetchChunk(blobId: string, mailboxId: string, index: number, now: number): Promise<FetchedChunk | null>;
  /** `mailboxId` is done with the blob; the last recipient's release deletes it. False if it was not a recipient. */
  release(blobId: string, mailboxId: string): Promise<boolean>;
  /** The uploader deletes its blob, finished or not (`writeKeyHash` proves it). False if there is no such blob of that key. */
  deleteByWriter(blobId: string, writeKeyHash: string): Promise<boolean>;
  /** Deletes every blob of the queue (its queue was deleted). */
  dropQueue(queueHash: string): Promise<void>;
  /** Deletes blobs whose expiry passed (finished or not); returns how many. */
  sweep(now: number): Promise<number>;
  /** Makes sure deleted ciphertext is no longer in any file (WAL, AOF). */
  scrub(): Promise<void>;
  close(): Promise<void>;
}
