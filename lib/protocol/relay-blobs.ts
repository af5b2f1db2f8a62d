/**
 * The blob part of the relay contract: encrypted attachments (issue #20,
 * MIMI external parts) uploaded in chunks and fetched by the recipients of a
 * conversation queue, as messages are. The relay (relay/blobs/) reads these
 * bodies with its strict readers; the extension (lib/background/blob-client.ts)
 * reads the answers with the decoders below. Nothing here is trusted by the
 * side that receives it.
 *
 *   create  {queue, cap, token, size}          -> {blobId, writeKey, chunks}
 *           one token; the recipients are the mailboxes registered to the queue now
 *   chunk   {blobId, writeKey, index, token, data} -> {complete}
 *           one token per chunk; every chunk but the last is BLOB_CHUNK_BYTES long
 *   fetch   {blobId, mailboxId, secret, index}  -> {data, size}
 *           only a recipient, only once every chunk is in
 *   release {blobId, mailboxId, secret}         -> {ok}
 *           this recipient is done with it; the last release deletes the blob
 *
 * Imports only lib/bytes.ts: the relay runs this file under Deno.
 */

import { fromB64 } from '../bytes.ts';

/** Unpadded base64url text of a byte string. */
export type B64 = string;

/** Ciphertext bytes per chunk (the last may be shorter): one chunk per request, about 1.4 MB of JSON. */
export const BLOB_CHUNK_BYTES = 1024 * 1024;

/** The write key that lets the uploader add chunks (the relay keeps only its hash). */
export const BLOB_WRITE_KEY_BYTES = 32;

/** How many chunks a blob of `size` ciphertext bytes has. */
export function blobChunkCount(size: number): number {
  return Math.ceil(size / BLOB_CHUNK_BYTES);
}

/** The length chunk `index` of a blob of `size` bytes must have. */
export function blobChunkLength(size: number, index: number): number {
  return Math.min(BLOB_CHUNK_BYTES, size - index * BLOB_CHUNK_BYTES);
}

export const BLOB_ROUTES = {
  createBlob: { method: 'POST', path: '/v1/blobs' },
  putBlobChunk: { method: 'POST', path: '/v1/blobs/chunk' },
  fetchBlobChunk: { method: 'POST', path: '/v1/blobs/fetch' },
  releaseBlob: { method: 'POST', path: '/v1/blobs/release' },
  deleteBlob: { method: 'POST', path: '/v1/blobs/delete' },
} as const satisfies Record<string, { method: 'POST'; path: string }>;

export type BlobRouteName = keyof typeof BLOB_ROUTES;

/** Every path under this prefix is a blob route (or a 404). */
export const BLOB_PATH_PREFIX = '/v1/blobs';

interface WireTokenShape {
  keyId: string;
  input: B64;
  output: B64;
}

/** What each blob route takes and answers. */
export interface BlobRouteTypes {
  createBlob: {
    request: { queue: B64; cap: B64; token: WireTokenShape; size: number };
    response: { blobId: string; writeKey: B64; chunks: number };
  };
  putBlobChunk: {
    request: { blobId: string; writeKey: B64; index: number; token: WireTokenShape; data: B64 };
    /** `complete`: every chunk is in, recipients may fetch. */
    response: { complete: boolean };
  };
  fetchBlobChunk: {
    request: { blobId: string; mailboxId: string; secret: B64; index: number };
    response: { data: B64; size: number };
  };
  releaseBlob: {
    request: { blobId: string; mailboxId: string; secret: B64 };
    response: { ok: true };
  };
  /** The uploader takes its blob back (its message was never sent, or the upload was cancelled): proven by the write key. */
  deleteBlob: {
    request: { blobId: string; writeKey: B64 };
    response: { ok: true };
  };
}

export type BlobRequestOf<R extends BlobRouteName> = BlobRouteTypes[R]['request'];
export type BlobResponseOf<R extends BlobRouteName> = BlobRouteTypes[R]['response'];

/** The blob limits a relay advertises (GET /v1/limits). */
export interface BlobLimits {
  maxBlobBytes: number;
  maxBlobBytesPerQueue: number;
  maxBlobsPerQueue: number;
}

// ---------------------------------------------------------------------------
// Strict decoders of the relay's answers (the client side).

/** An answer that is not what the contract says: hostile or broken, never used. */
export class BlobAnswerError extends Error {
  override readonly name = 'BlobAnswerError';
}

const ID_SHAPE = /^[A-Za-z0-9_-]{21}[AQgw]$/;

function record(v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BlobAnswerError('expected an object');
  return v as Record<string, unknown>;
}

function exactKeys(o: Record<string, unknown>, keys: readonly string[]): void {
  const got = Object.keys(o);
  if (got.length !== keys.length || !keys.every((k) => Object.hasOwn(o, k))) throw new BlobAnswerError(`expected exactly ${keys.join(', ')}`);
}

function int(o: Record<string, unknown>, key: string, min: number, max: number): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new BlobAnswerError(`${key}: out of range`);
  return v;
}

function b64(o: Record<string, unknown>, key: string, min: number, max: number): Uint8Array {
  const v = o[key];
  if (typeof v !== 'string' || v.length > Math.ceil((max * 4) / 3) + 1) throw new BlobAnswerError(`${key}: not a byte string`);
  const bytes = fromB64(v);
  if (bytes === null || bytes.length < min || bytes.length > max) throw new BlobAnswerError(`${key}: wrong length`);
  return bytes;
}

export interface CreatedBlob {
  blobId: string;
  writeKey: Uint8Array;
  chunks: number;
}

/** The answer to createBlob for a blob of `size` bytes. */
export function decodeCreatedBlob(v: unknown, size: number): CreatedBlob {
  const o = record(v);
  exactKeys(o, ['blobId', 'writeKey', 'chunks']);
  if (typeof o.blobId !== 'string' || !ID_SHAPE.test(o.blobId)) throw new BlobAnswerError('blobId: not an id');
  const chunks = int(o, 'chunks', 1, Number.MAX_SAFE_INTEGER);
  if (chunks !== blobChunkCount(size)) throw new BlobAnswerError('chunks: does not match the size');
  return { blobId: o.blobId, writeKey: b64(o, 'writeKey', BLOB_WRITE_KEY_BYTES, BLOB_WRITE_KEY_BYTES), chunks };
}

export function decodePutChunk(v: unknown): { complete: boolean } {
  const o = record(v);
  exactKeys(o, ['complete']);
  if (typeof o.complete !== 'boolean') throw new BlobAnswerError('complete: not a boolean');
  return { complete: o.complete };
}

/**
 * The answer to fetchBlobChunk for chunk `index` of a blob expected to be
 * `size` bytes (the size the sender put in the encrypted message): the
 * relay's size must agree and the chunk must have exactly its length.
 */
export function decodeFetchedChunk(v: unknown, size: number, index: number): Uint8Array {
  const o = record(v);
  exactKeys(o, ['data', 'size']);
  if (int(o, 'size', 1, Number.MAX_SAFE_INTEGER) !== size) throw new BlobAnswerError('size: not the expected size');
  const length = blobChunkLength(size, index);
  if (length <= 0) throw new BlobAnswerError('index: past the end');
  return b64(o, 'data', length, length);
}

export function decodeReleased(v: unknown): void {
  const o = record(v);
  exactKeys(o, ['ok']);
  if (o.ok !== true) throw new BlobAnswerError('ok: not true');
}
