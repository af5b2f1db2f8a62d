/**
 * The blob API (issue #20): encrypted attachments uploaded in chunks, paid
 * with sealed-sender tokens, read by the conversation's recipients, deleted
 * after the last one is done with it or at the TTL. The routes and bodies are
 * lib/protocol/relay-blobs.ts; the storage is a BlobStore (store.ts).
 *
 *   create(Q, C, token, size)  one token; recipients = mailboxes on H(Q) now
 *        │  writeKey (the relay keeps its hash)
 *        ▼
 *   chunk(blobId, writeKey, i, token, bytes) × chunks   one token each
 *        │  complete: expires a message TTL later
 *        ▼
 *   fetch(blobId, mailbox + secret, i)   recipients only, chunk by chunk
 *   release(blobId, mailbox + secret)    the last release deletes the blob
 *   delete(blobId, writeKey)             the uploader takes it back (message never sent, upload cancelled)
 *
 * What the relay learns: a queue got a blob of this size at about this time,
 * and which mailboxes fetched it. Not who uploaded it (the tokens are not
 * linkable to an issuance, the write key is random), nor anything inside it
 * (ciphertext under a key only the members hold, inside the MLS message).
 * A refusal spends nothing; "does not exist" and "not allowed" are the same
 * not_found.
 */

import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes, randomId, toB64 } from '../../lib/bytes.ts';
import {
  BLOB_CHUNK_BYTES,
  BLOB_ROUTES,
  BLOB_WRITE_KEY_BYTES,
  blobChunkCount,
  type BlobLimits,
  type BlobResponseOf,
  type BlobRouteName,
} from '../../lib/protocol/relay-blobs.ts';
import type { RelayConfig } from '../config.ts';
import { hashCapability, hashQueueId, readCapability, type Delivery } from '../delivery.ts';
import { readBytes, readId, readInt } from '../encoding.ts';
import { ErrorCode, RelayError, notFound } from '../errors.ts';
import { readStrictBody } from '../http.ts';
import type { TokenAuthority } from '../tokens.ts';
import { readToken } from '../tokens.ts';
import type { BlobRefusal, BlobResult, BlobStore } from './store.ts';

/** The settings the blob API reads (relay/config.ts). */
export type BlobConfig = Pick<
  RelayConfig,
  'messageTtlSeconds' | 'maxBlobBytes' | 'maxBlobBytesPerQueue' | 'maxBlobsPerQueue' | 'maxBlobStoredBytes'
>;

/** An unfinished upload is swept after this long (or the message TTL, if shorter). */
const UPLOAD_WINDOW_SECONDS = 3600;

/** Body bound of a chunk: the base64 of one chunk plus the token and ids around it. */
const CHUNK_BODY_BYTES = Math.ceil((BLOB_CHUNK_BYTES * 4) / 3) + 4096;
const SMALL_BODY_BYTES = 4096;

const hashWriteKey = (key: Uint8Array): string => toB64(sha256(key));

const MESSAGES: Record<BlobRefusal, [ErrorCode, string]> = {
  spent: [ErrorCode.tokenSpent, 'token already spent'],
  not_found: [ErrorCode.notFound, 'not found or not allowed'],
  stale: [ErrorCode.staleCapability, 'the queue capability rotated: process pending messages first'],
  quota: [ErrorCode.quotaExceeded, 'blob quota of this queue reached (bytes or count)'],
  full: [ErrorCode.capacity, 'blob storage of the relay is full'],
  invalid: [ErrorCode.badRequest, 'chunk index or length does not fit the blob'],
  conflict: [ErrorCode.conflict, 'chunk already uploaded'],
};

function unwrap<T>(r: BlobResult<T>): T {
  if (r.ok) return r.value;
  const [code, message] = MESSAGES[r.reason];
  throw new RelayError(code, message);
}

export class Blobs {
  constructor(
    private readonly store: BlobStore,
    private readonly tokens: TokenAuthority,
    private readonly delivery: Delivery,
    private readonly config: BlobConfig,
    private readonly now: () => number,
  ) {}

  get limits(): BlobLimits {
    return {
      maxBlobBytes: this.config.maxBlobBytes,
      maxBlobBytesPerQueue: this.config.maxBlobBytesPerQueue,
      maxBlobsPerQueue: this.config.maxBlobsPerQueue,
    };
  }

  /** Expiry rounded up to the hour (or the TTL if shorter), as message expiries are. */
  private expiresAt(ttl: number): number {
    const grain = Math.max(1, Math.min(3600, ttl));
    return Math.ceil((this.now() + ttl) / grain) * grain;
  }

  async create(queueId: Uint8Array, capability: Uint8Array, b: Record<string, unknown>): Promise<BlobResponseOf<'createBlob'>> {
    const size = readInt(b, 'size', 1, Number.MAX_SAFE_INTEGER);
    if (size > this.config.maxBlobBytes) throw new RelayError(ErrorCode.tooLarge, `blob above ${this.config.maxBlobBytes} bytes`);
    const token = readToken(b);
    const spend = await this.tokens.verify(token);
    const blobId = randomId();
    const writeKey = randomBytes(BLOB_WRITE_KEY_BYTES);
    const chunks = blobChunkCount(size);
    unwrap(
      await this.store.createBlob(
        spend,
        {
          blobId,
          queueHash: hashQueueId(queueId),
          capHash: hashCapability(queueId, capability),
          writeKeyHash: hashWriteKey(writeKey),
          size,
          chunks,
          expiresAt: this.expiresAt(Math.min(UPLOAD_WINDOW_SECONDS, this.config.messageTtlSeconds)),
        },
        { maxBytesPerQueue: this.config.maxBlobBytesPerQueue, maxBlobsPerQueue: this.config.maxBlobsPerQueue, maxTotalBytes: this.config.maxBlobStoredBytes },
      ),
    );
    return { blobId, writeKey: toB64(writeKey), chunks };
  }

  async putChunk(b: Record<string, unknown>): Promise<BlobResponseOf<'putBlobChunk'>> {
    const blobId = readId(b, 'blobId');
    const writeKey = readBytes(b, 'writeKey', { min: BLOB_WRITE_KEY_BYTES, max: BLOB_WRITE_KEY_BYTES });
    const index = readInt(b, 'index', 0, blobChunkCount(this.config.maxBlobBytes) - 1);
    const data = readBytes(b, 'data', { min: 1, max: BLOB_CHUNK_BYTES });
    const spend = await this.tokens.verify(readToken(b));
    const now = this.now();
    return unwrap(
      await this.store.putChunk(spend, blobId, hashWriteKey(writeKey), index, data, this.expiresAt(this.config.messageTtlSeconds), now),
    );
  }

  async fetchChunk(b: Record<string, unknown>): Promise<BlobResponseOf<'fetchBlobChunk'>> {
    const blobId = readId(b, 'blobId');
    const mailboxId = readId(b, 'mailboxId');
    const index = readInt(b, 'index', 0, blobChunkCount(this.config.maxBlobBytes) - 1);
    await this.delivery.openMailbox(mailboxId, readMailboxSecret(b));
    const chunk = await this.store.fetchChunk(blobId, mailboxId, index, this.now());
    if (chunk === null) throw notFound();
    return { data: toB64(chunk.data), size: chunk.size };
  }

  async release(b: Record<string, unknown>): Promise<BlobResponseOf<'releaseBlob'>> {
    const blobId = readId(b, 'blobId');
    const mailboxId = readId(b, 'mailboxId');
    await this.delivery.openMailbox(mailboxId, readMailboxSecret(b));
    if (!(await this.store.release(blobId, mailboxId))) throw notFound();
    return { ok: true };
  }

  /** The uploader takes its blob back, finished or not: the write key is the proof (wrong key and unknown blob: the same not_found). */
  async deleteByWriter(b: Record<string, unknown>): Promise<BlobResponseOf<'deleteBlob'>> {
    const blobId = readId(b, 'blobId');
    const writeKey = readBytes(b, 'writeKey', { min: BLOB_WRITE_KEY_BYTES, max: BLOB_WRITE_KEY_BYTES });
    if (!(await this.store.deleteByWriter(blobId, hashWriteKey(writeKey)))) throw notFound();
    return { ok: true };
  }

  /** The queue was deleted: its blobs go too. */
  async queueDeleted(queueId: Uint8Array): Promise<void> {
    await this.store.dropQueue(hashQueueId(queueId));
  }

  sweep(): Promise<number> {
    return this.store.sweep(this.now());
  }

  scrub(): Promise<void> {
    return this.store.scrub();
  }

  close(): Promise<void> {
    return this.store.close();
  }

  /** The routes, each reading its own body with its own bound. */
  handlers(): { [N in BlobRouteName]: (req: Request) => Promise<BlobResponseOf<N>> } {
    return {
      createBlob: async (req) => {
        const b = await readStrictBody(req, SMALL_BODY_BYTES, ['queue', 'cap', 'token', 'size']);
        return this.create(readBytes(b, 'queue', { min: 16, max: 64 }), readCapability(b), b);
      },
      putBlobChunk: async (req) => this.putChunk(await readStrictBody(req, CHUNK_BODY_BYTES, ['blobId', 'writeKey', 'index', 'token', 'data'])),
      fetchBlobChunk: async (req) => this.fetchChunk(await readStrictBody(req, SMALL_BODY_BYTES, ['blobId', 'mailboxId', 'secret', 'index'])),
      releaseBlob: async (req) => this.release(await readStrictBody(req, SMALL_BODY_BYTES, ['blobId', 'mailboxId', 'secret'])),
      deleteBlob: async (req) => this.deleteByWriter(await readStrictBody(req, SMALL_BODY_BYTES, ['blobId', 'writeKey'])),
    };
  }
}

function readMailboxSecret(b: Record<string, unknown>): Uint8Array {
  return readBytes(b, 'secret', { min: 32, max: 32 });
}

/** Path → route name, for the router in app.ts (a path under the prefix that is not here is a 404). */
export const BLOB_ROUTE_BY_PATH: ReadonlyMap<string, BlobRouteName> = new Map(
  (Object.keys(BLOB_ROUTES) as BlobRouteName[]).map((name) => [BLOB_ROUTES[name].path, name]),
);
