/**
 * The background's client for the relay's blob API (lib/protocol/relay-blobs.ts):
 * uploads a ciphertext chunk by chunk, each chunk paid with a sealed-sender
 * token, and downloads one chunk by chunk as a recipient mailbox, with
 * progress and cancellation. It never asks for more than one chunk at a time
 * from its source and hands each fetched chunk on at once, so memory stays
 * at one chunk in flight.
 *
 * Failures are RelayApiError (relay-wire.ts; failure.ts classifies them),
 * answers outside the contract are RelayApiError 'malformed', and a cancel is
 * TransferCancelledError. A chunk whose request did not reach the relay, or
 * that the relay could not serve (5xx), is tried again a few times (an
 * upload with a fresh token: the old one may have been spent).
 */

import { t } from '../platform/i18n.ts';
import { toB64 } from '../bytes.ts';
import type { MailboxCredentials, WireToken } from '../protocol/relay.ts';
import {
  BLOB_CHUNK_BYTES,
  BLOB_ROUTES,
  BlobAnswerError,
  blobChunkCount,
  decodeCreatedBlob,
  decodeFetchedChunk,
  decodePutChunk,
  decodeReleased,
  type BlobRequestOf,
  type BlobRouteName,
} from '../protocol/relay-blobs.ts';
import { RelayApiError, boundedText, malformed } from './relay-wire.ts';
import { mailboxFields, relayAnswer, tokenFields } from './relay-api.ts';

/** The person (or the code acting for them) cancelled the transfer. */
export class TransferCancelledError extends Error {
  override readonly name = 'TransferCancelledError';
  constructor() {
    super('transfer cancelled');
  }
}

/** Pays for one request with a fresh token (TokenWallet.spend has this shape). */
export type SpendToken = <T>(pay: (token: WireToken) => Promise<T>) => Promise<T>;

export interface TransferOptions {
  /** Bytes done so far and in all, after each chunk. */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** Upload only: the blob exists at the relay now, and this write key can take it back (`remove`). */
  onCreated?: (blobId: string, writeKey: string) => void;
}

export interface UploadTarget {
  /** The conversation's queue id and the current epoch's capability (queue-capability.ts). */
  queue: Uint8Array;
  cap: Uint8Array;
  spend: SpendToken;
}

export interface BlobClientOptions {
  fetch?: typeof fetch;
  /** Per-request timeout (default 60 s: a chunk is about 1.4 MB). */
  timeoutMs?: number;
  /** Attempts per chunk when the relay is unreachable or answers 5xx (default 3). */
  attempts?: number;
  /** Wait before another attempt (default 500 ms, doubling). */
  retryDelayMs?: number;
}

/**
 * The largest answer read from the relay: a fetched chunk in base64 and its
 * JSON around it. A relay that sends more is not answering our question, and
 * reading it all would hold as much memory as it cares to send.
 */
const MAX_ANSWER_BYTES = Math.ceil((BLOB_CHUNK_BYTES * 4) / 3) + 4096;

/** A function, not an inline check: TypeScript would keep `aborted` narrowed across awaits. */
const cancelled = (signal: AbortSignal | undefined): boolean => signal?.aborted === true;
const retriable = (err: unknown): boolean => err instanceof RelayApiError && (err.status === 0 || err.status >= 500);

export class BlobClient {
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly retryDelayMs: number;

  constructor(
    readonly baseUrl: string,
    options: BlobClientOptions = {},
  ) {
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.attempts = options.attempts ?? 3;
    this.retryDelayMs = options.retryDelayMs ?? 500;
  }

  private async call<R extends BlobRouteName>(route: R, body: BlobRequestOf<R>, signal?: AbortSignal): Promise<unknown> {
    if (cancelled(signal)) throw new TransferCancelledError();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    const onAbort = (): void => controller.abort();
    signal?.addEventListener('abort', onAbort);
    let res: Response;
    let text: string;
    try {
      res = await this.fetchImpl(this.baseUrl + BLOB_ROUTES[route].path, {
        method: BLOB_ROUTES[route].method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: controller.signal,
        cache: 'no-store',
        credentials: 'omit',
      });
      text = await boundedText(res, MAX_ANSWER_BYTES, 'blob answer above one chunk');
    } catch (err) {
      if (err instanceof RelayApiError) throw err;
      if (cancelled(signal)) throw new TransferCancelledError();
      throw new RelayApiError(0, 'unreachable', t('bg_relay_unreachable'), { cause: err });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
    return relayAnswer(res, text);
  }

  /** Runs `attempt` again while the relay is unreachable or failing (not on a refusal or a cancel). */
  private async retrying<T>(attempt: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    for (let i = 1; ; i++) {
      try {
        return await attempt();
      } catch (err) {
        if (i >= this.attempts || !retriable(err)) throw err;
        await sleep(this.retryDelayMs * 2 ** (i - 1), signal);
      }
    }
  }

  /**
   * Uploads `size` ciphertext bytes; `chunk(i)` produces chunk i (BLOB_CHUNK_BYTES
   * long, the last one shorter) when it is its turn. Answers the blob id.
   */
  async upload(size: number, chunk: (index: number) => Promise<Uint8Array>, target: UploadTarget, options: TransferOptions = {}): Promise<string> {
    const { signal, onProgress } = options;
    const answer = await this.retrying(
      () => target.spend((token) => this.call('createBlob', { queue: toB64(target.queue), cap: toB64(target.cap), token: tokenFields(token), size }, signal)),
      signal,
    );
    const created = decode(() => decodeCreatedBlob(answer, size));
    const writeKey = toB64(created.writeKey);
    options.onCreated?.(created.blobId, writeKey);
    let done = 0;
    onProgress?.(0, size);
    for (let index = 0; index < created.chunks; index++) {
      if (cancelled(signal)) throw new TransferCancelledError();
      const data = await chunk(index);
      if (data.length !== Math.min(BLOB_CHUNK_BYTES, size - index * BLOB_CHUNK_BYTES)) throw new RangeError('blob chunk of the wrong length');
      const encoded = toB64(data);
      const answer = await this.retrying(
        () => target.spend((token) => this.call('putBlobChunk', { blobId: created.blobId, writeKey, index, token: tokenFields(token), data: encoded }, signal)),
        signal,
      );
      const { complete } = decode(() => decodePutChunk(answer));
      if (complete !== (index === created.chunks - 1)) throw malformed('blob upload state');
      done += data.length;
      onProgress?.(done, size);
    }
    return created.blobId;
  }

  /**
   * Downloads blob `blobId` of `size` bytes (the size the message announced)
   * as `mailbox`, handing each chunk to `sink` in order before fetching the next.
   */
  async download(
    blobId: string,
    size: number,
    mailbox: MailboxCredentials,
    sink: (index: number, data: Uint8Array) => Promise<void>,
    options: TransferOptions = {},
  ): Promise<void> {
    const { signal, onProgress } = options;
    const chunks = blobChunkCount(size);
    let done = 0;
    onProgress?.(0, size);
    for (let index = 0; index < chunks; index++) {
      const answer = await this.retrying(() => this.call('fetchBlobChunk', { blobId, ...mailboxFields(mailbox), index }, signal), signal);
      const data = decode(() => decodeFetchedChunk(answer, size, index));
      await sink(index, data);
      done += data.length;
      onProgress?.(done, size);
    }
  }

  /** Take back a blob we uploaded (its message was never sent, or the upload was cancelled), finished or not. */
  async remove(blobId: string, writeKey: string): Promise<void> {
    const answer = await this.retrying(() => this.call('deleteBlob', { blobId, writeKey }));
    decode(() => decodeReleased(answer));
  }

  /** This mailbox is done with the blob (fetched it, or never needs to: the sender's own); the last release deletes it. */
  async release(blobId: string, mailbox: MailboxCredentials): Promise<void> {
    const answer = await this.retrying(() => this.call('releaseBlob', { blobId, ...mailboxFields(mailbox) }));
    decode(() => decodeReleased(answer));
  }
}

/** A contract decoder's refusal becomes the client's 'malformed' relay error. */
function decode<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof BlobAnswerError) throw malformed(`blob answer (${err.message})`);
    throw err;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (cancelled(signal)) return reject(new TransferCancelledError());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new TransferCancelledError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
