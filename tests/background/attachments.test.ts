// Attachments (issue #20): chunked AES-256-GCM with the MIMI external part's key, nonce and content
// hash (attachment-crypto.ts), and the upload/download pipelines over the blob client
// (attachments.ts, blob-client.ts) against an in-memory fake of the relay's blob routes.
// What a hostile relay or member can do: change, reorder or cut the ciphertext, announce another
// hash, answer outside the contract, point the url elsewhere: each is a typed error and nothing
// is returned. Cancelling stops the transfer with TransferCancelledError and no further request.
import { randomFillSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { toB64, fromB64 } from '../../lib/bytes.ts';
import { CryptoError } from '../../lib/crypto/errors.ts';
import {
  AttachmentDecryptor,
  AttachmentEncryptor,
  PLAIN_CHUNK_BYTES,
  ciphertextSize,
  plaintextSize,
  type AttachmentKeys,
} from '../../lib/background/attachment-crypto.ts';
import { AttachmentTooLargeError, MAX_ATTACHMENT_BYTES, blobIdOf, blobUrl, downloadAttachment, uploadAttachment } from '../../lib/background/attachments.ts';
import { BlobClient, TransferCancelledError, type SpendToken } from '../../lib/background/blob-client.ts';
import { RelayApiError } from '../../lib/background/relay-wire.ts';
import { classify } from '../../lib/background/failure.ts';
import { BLOB_CHUNK_BYTES, BLOB_ROUTES } from '../../lib/protocol/relay-blobs.ts';
import type { WireToken } from '../../lib/protocol/relay.ts';

const RELAY = 'https://relay.test';
const MAILBOX = { mailboxId: toB64(new Uint8Array(16).fill(1)), secret: toB64(new Uint8Array(32).fill(2)) };
const random = (n: number): Uint8Array<ArrayBuffer> => randomFillSync(new Uint8Array(n));

async function encrypt(plain: Uint8Array): Promise<{ keys: AttachmentKeys; chunks: Uint8Array[] }> {
  const enc = new AttachmentEncryptor(plain.length);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < enc.chunks; i++) {
    const { start, end } = enc.range(i);
    chunks.push(await enc.encryptChunk(i, plain.subarray(start, end)));
  }
  return { keys: enc.finish(), chunks };
}

async function decrypt(keys: AttachmentKeys, chunks: Uint8Array[]): Promise<Uint8Array> {
  const dec = new AttachmentDecryptor(keys);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < chunks.length; i++) parts.push(await dec.decryptChunk(i, chunks[i]!));
  dec.finish();
  return Buffer.concat(parts);
}

const rule = (op: string) => expect.objectContaining({ name: 'CryptoError', operation: op });

describe('attachment encryption in chunks', () => {
  it.each([0, 1, PLAIN_CHUNK_BYTES - 1, PLAIN_CHUNK_BYTES, PLAIN_CHUNK_BYTES + 1, 2 * PLAIN_CHUNK_BYTES + 12345])(
    'round-trips %i bytes; every ciphertext chunk but the last is one relay chunk',
    async (n) => {
      const plain = random(n);
      const { keys, chunks } = await encrypt(plain);
      expect(keys.size).toBe(ciphertextSize(n));
      expect(plaintextSize(keys.size)).toBe(n);
      expect(chunks.slice(0, -1).every((c) => c.length === BLOB_CHUNK_BYTES)).toBe(true);
      expect(chunks.reduce((a, c) => a + c.length, 0)).toBe(keys.size);
      expect(Buffer.from(await decrypt(keys, chunks)).equals(Buffer.from(plain))).toBe(true);
      // Fresh key and nonce every time.
      const again = await encrypt(plain);
      expect(Buffer.from(again.keys.key).equals(Buffer.from(keys.key))).toBe(false);
      expect(Buffer.from(again.keys.nonce).equals(Buffer.from(keys.nonce))).toBe(false);
    },
  );

  it('refuses a ciphertext whose hash is not the announced one (ATT-HASH-1), after authenticating every chunk', async () => {
    const { keys, chunks } = await encrypt(random(PLAIN_CHUNK_BYTES + 100));
    const other = { ...keys, contentHash: new Uint8Array(32) };
    await expect(decrypt(other, chunks)).rejects.toEqual(rule('ATT-HASH-1'));
  });

  it('refuses a changed byte, swapped chunks and a cut-short file (ATT-AEAD-1)', async () => {
    const { keys, chunks } = await encrypt(random(3 * PLAIN_CHUNK_BYTES));
    const flipped = chunks.map((c) => c.slice());
    flipped[1]![500]! ^= 1;
    await expect(decrypt(keys, flipped)).rejects.toEqual(rule('ATT-AEAD-1'));
    await expect(decrypt(keys, [chunks[1]!, chunks[0]!, chunks[2]!])).rejects.toEqual(rule('ATT-AEAD-1'));
    // The first two chunks alone, announced as a whole file of that size: the second is not marked last.
    await expect(decrypt({ ...keys, size: 2 * BLOB_CHUNK_BYTES }, chunks.slice(0, 2))).rejects.toEqual(rule('ATT-AEAD-1'));
  });

  it('refuses a size no content encrypts to, and a chunk of the wrong length (ATT-SIZE-1)', async () => {
    const { keys, chunks } = await encrypt(random(1000));
    expect(() => new AttachmentDecryptor({ ...keys, size: 10 })).toThrow(CryptoError);
    const dec = new AttachmentDecryptor(keys);
    await expect(dec.decryptChunk(0, chunks[0]!.subarray(1))).rejects.toEqual(rule('ATT-SIZE-1'));
  });
});

/** An in-memory relay blob API (the real one is tests/relay/blobs.test.ts and the integration test). */
class FakeRelay {
  readonly blobs = new Map<string, { size: number; chunks: Map<number, Uint8Array> }>();
  readonly spent = new Set<string>();
  requests: string[] = [];
  /** Rewrites a fetched chunk (a hostile relay). */
  tamper: ((data: Uint8Array, index: number) => Uint8Array) | null = null;
  /** Rewrites a whole answer (a relay outside the contract). */
  rewrite: ((route: string, body: Record<string, unknown>) => Record<string, unknown>) | null = null;
  private next = 0;

  readonly fetch: typeof fetch = async (input, init) => {
    const path = String(input).slice(RELAY.length);
    const body = JSON.parse(String(init?.body)) as Record<string, unknown>;
    this.requests.push(path);
    const answer = (status: number, b: Record<string, unknown>): Response =>
      new Response(JSON.stringify(this.rewrite === null ? b : this.rewrite(path, b)), { status });
    const pay = (): Response | null => {
      const t = body.token as WireToken;
      if (this.spent.has(t.input)) return answer(409, { error: { code: 'token_spent', message: 'spent' } });
      this.spent.add(t.input);
      return null;
    };
    if (path === BLOB_ROUTES.createBlob.path) {
      const refused = pay();
      if (refused !== null) return refused;
      const blobId = toB64(new Uint8Array(16).fill(++this.next));
      this.blobs.set(blobId, { size: body.size as number, chunks: new Map() });
      return answer(200, { blobId, writeKey: toB64(new Uint8Array(32).fill(7)), chunks: Math.ceil((body.size as number) / BLOB_CHUNK_BYTES) });
    }
    if (path === BLOB_ROUTES.putBlobChunk.path) {
      const refused = pay();
      if (refused !== null) return refused;
      const b = this.blobs.get(body.blobId as string)!;
      b.chunks.set(body.index as number, fromB64(body.data as string)!);
      return answer(200, { complete: b.chunks.size === Math.ceil(b.size / BLOB_CHUNK_BYTES) });
    }
    if (path === BLOB_ROUTES.fetchBlobChunk.path) {
      const b = this.blobs.get(body.blobId as string);
      const data = b?.chunks.get(body.index as number);
      if (b === undefined || data === undefined) return answer(404, { error: { code: 'not_found', message: 'no' } });
      const served = this.tamper === null ? data : this.tamper(data, body.index as number);
      return answer(200, { data: toB64(served), size: b.size });
    }
    return answer(404, { error: { code: 'not_found', message: 'no' } });
  };
}

function setup(): { relay: FakeRelay; client: BlobClient; target: { queue: Uint8Array; cap: Uint8Array; spend: SpendToken } } {
  const relay = new FakeRelay();
  const client = new BlobClient(RELAY, { fetch: relay.fetch, retryDelayMs: 1 });
  let n = 0;
  const spend: SpendToken = (pay) => pay({ keyId: 'k', input: toB64(new Uint8Array(32).fill(++n % 256).map((x, i) => (i === 0 ? n >> 8 : x))), output: 'o' });
  return { relay, client, target: { queue: new Uint8Array(32).fill(3), cap: new Uint8Array(32).fill(4), spend } };
}

describe('uploading and downloading an attachment', () => {
  it('round-trips a file through the blob API with progress on both sides', async () => {
    const { relay, client, target } = setup();
    const plain = random(2 * PLAIN_CHUNK_BYTES + 777);
    const up: number[] = [];
    const sent = await uploadAttachment(new Blob([plain]), client, target, { onProgress: (done) => up.push(done) });
    expect(sent.plainSize).toBe(plain.length);
    expect(sent.size).toBe(ciphertextSize(plain.length));
    expect(up).toEqual([0, BLOB_CHUNK_BYTES, 2 * BLOB_CHUNK_BYTES, sent.size]);
    // The relay holds ciphertext only.
    const stored = Buffer.concat([...[...relay.blobs.values()][0]!.chunks.values()]);
    expect(stored.indexOf(Buffer.from(plain.subarray(0, 64)))).toBe(-1);
    const down: number[] = [];
    const got = await downloadAttachment(sent.url, sent, client, MAILBOX, { onProgress: (done) => down.push(done) });
    expect(Buffer.from(got).equals(Buffer.from(plain))).toBe(true);
    expect(down).toEqual(up);
  });

  it('reads the file one chunk at a time and keeps one request in flight (bounded memory)', async () => {
    const { relay, target } = setup();
    const plain = random(3 * PLAIN_CHUNK_BYTES + 10);
    const whole = new Blob([plain]);
    const reads: number[] = [];
    // Only slices are ever read: never the whole file.
    const file = {
      size: whole.size,
      slice: (start: number, end: number) => {
        reads.push(end - start);
        return whole.slice(start, end);
      },
      arrayBuffer: () => Promise.reject(new Error('read the whole file')),
    } as unknown as Blob;
    let inFlight = 0;
    let most = 0;
    const inner = relay.fetch;
    const counting = new BlobClient(RELAY, {
      fetch: async (input, init) => {
        most = Math.max(most, ++inFlight);
        try {
          return await inner(input, init);
        } finally {
          inFlight--;
        }
      },
    });
    const sent = await uploadAttachment(file, counting, target);
    expect(reads).toEqual([PLAIN_CHUNK_BYTES, PLAIN_CHUNK_BYTES, PLAIN_CHUNK_BYTES, 10]);
    const got = await downloadAttachment(sent.url, sent, counting, MAILBOX);
    expect(most).toBe(1);
    expect(Buffer.from(got).equals(Buffer.from(plain))).toBe(true);
  });

  it('refuses a file above 25 MiB before any request', async () => {
    const { relay, client, target } = setup();
    await expect(uploadAttachment(new Blob([new Uint8Array(MAX_ATTACHMENT_BYTES + 1)]), client, target)).rejects.toBeInstanceOf(AttachmentTooLargeError);
    expect(relay.requests).toEqual([]);
  });

  it('returns nothing when the relay changes the ciphertext: a typed error instead', async () => {
    const { relay, client, target } = setup();
    const sent = await uploadAttachment(new Blob([random(PLAIN_CHUNK_BYTES + 5)]), client, target);
    relay.tamper = (data, index) => (index === 1 ? data.map((x, i) => (i === 0 ? x ^ 1 : x)) : data);
    await expect(downloadAttachment(sent.url, sent, client, MAILBOX)).rejects.toEqual(rule('ATT-AEAD-1'));
    relay.tamper = null;
    // A member that announces another hash: every chunk authenticates, the hash does not match.
    await expect(downloadAttachment(sent.url, { ...sent, contentHash: new Uint8Array(32).fill(1) }, client, MAILBOX)).rejects.toEqual(rule('ATT-HASH-1'));
  });

  it('fetches nothing from a url that is not a blob of its own relay (ATT-URL-1)', async () => {
    const { relay, client, target } = setup();
    const sent = await uploadAttachment(new Blob([random(100)]), client, target);
    const before = relay.requests.length;
    for (const url of ['https://evil.test/v1/blobs/' + blobIdOf(RELAY, sent.url), sent.url + 'x', `${RELAY}/v1/blobs/../x`]) {
      await expect(downloadAttachment(url, sent, client, MAILBOX)).rejects.toEqual(rule('ATT-URL-1'));
    }
    expect(relay.requests.length).toBe(before);
    expect(blobUrl(RELAY, 'A'.repeat(22))).toBe(`${RELAY}/v1/blobs/${'A'.repeat(22)}`);
  });

  it('refuses relay answers outside the contract as malformed', async () => {
    const { relay, client, target } = setup();
    const sent = await uploadAttachment(new Blob([random(100)]), client, target);
    relay.rewrite = (route, b) => (route === BLOB_ROUTES.fetchBlobChunk.path ? { ...b, size: 99 } : b);
    await expect(downloadAttachment(sent.url, sent, client, MAILBOX)).rejects.toMatchObject({ name: 'RelayApiError', code: 'malformed' });
    relay.rewrite = (route, b) => (route === BLOB_ROUTES.createBlob.path ? { ...b, chunks: 5 } : b);
    await expect(uploadAttachment(new Blob([random(100)]), client, target)).rejects.toBeInstanceOf(RelayApiError);
  });

  it('cancels an upload between chunks: no request after the cancel', async () => {
    const { relay, client, target } = setup();
    const cancel = new AbortController();
    const upload = uploadAttachment(new Blob([random(3 * PLAIN_CHUNK_BYTES)]), client, target, {
      signal: cancel.signal,
      onProgress: (done) => {
        if (done >= BLOB_CHUNK_BYTES) cancel.abort();
      },
    });
    await expect(upload).rejects.toBeInstanceOf(TransferCancelledError);
    expect(relay.requests).toEqual([BLOB_ROUTES.createBlob.path, BLOB_ROUTES.putBlobChunk.path]);
  });

  it('cancels a download between chunks and returns nothing', async () => {
    const { relay, client, target } = setup();
    const sent = await uploadAttachment(new Blob([random(3 * PLAIN_CHUNK_BYTES)]), client, target);
    const cancel = new AbortController();
    relay.requests = [];
    const download = downloadAttachment(sent.url, sent, client, MAILBOX, {
      signal: cancel.signal,
      onProgress: (done) => {
        if (done >= BLOB_CHUNK_BYTES) cancel.abort();
      },
    });
    await expect(download).rejects.toBeInstanceOf(TransferCancelledError);
    expect(relay.requests).toEqual([BLOB_ROUTES.fetchBlobChunk.path]);
  });

  it('retries a chunk the relay could not be reached for, with a fresh token', async () => {
    const { relay, client, target } = setup();
    const inner = relay.fetch;
    let failures = 1;
    const flaky = new BlobClient(RELAY, {
      retryDelayMs: 1,
      fetch: async (input, init) => {
        if (String(input).endsWith('/chunk') && failures-- > 0) throw new TypeError('network down');
        return inner(input, init);
      },
    });
    const plain = random(500);
    const sent = await uploadAttachment(new Blob([plain]), flaky, target);
    expect(Buffer.from(await downloadAttachment(sent.url, sent, client, MAILBOX)).equals(Buffer.from(plain))).toBe(true);
    expect(relay.spent.size).toBe(2);
  });

  it('sorts its failures on the one error path: cancel and too large are refusals, a bad hash or answer is hostile', () => {
    expect(classify(new TransferCancelledError()).kind).toBe('refused');
    expect(classify(new AttachmentTooLargeError(MAX_ATTACHMENT_BYTES + 1)).kind).toBe('refused');
    expect(classify(new CryptoError('ATT-HASH-1', 'x')).kind).toBe('hostile');
    expect(classify(new RelayApiError(200, 'malformed', 'x')).kind).toBe('hostile');
  });
});
