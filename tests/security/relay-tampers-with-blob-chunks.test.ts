/**
 * Attack: the relay (or whoever sits in front of it) tampers with an
 * attachment's ciphertext as a recipient downloads it: it swaps two chunks,
 * serves the last chunk first, cuts the last one short (and lies about the
 * size to match), drops it, serves another blob of the same size or one of
 * its chunks, flips a bit, repeats a chunk, or answers nonsense. It also
 * reads everything it stores, hoping for the plaintext or the file key.
 *
 * Defence (attachment-crypto.ts, blob-client.ts, attachments.ts): every
 * chunk is AES-256-GCM under the file's fresh key, with its index in the
 * nonce and its index and "last" flag in the AAD, so a chunk moved, swapped,
 * repeated, cut or taken from another blob fails authentication (ATT-AEAD-1),
 * and the ciphertext's hash is checked against the one in the message
 * (ATT-HASH-1); a chunk of the wrong length or size is refused before
 * decryption (RelayApiError 'malformed'). The download answers a typed error
 * (failure.ts: hostile) and no bytes: nothing of a tampered file is ever
 * returned. The key travels only inside the MLS message: no file of the
 * relay holds the key or a plaintext byte run.
 */
import { describe, expect, it } from 'vitest';
import { toB64 } from '../../lib/bytes.ts';
import { CryptoError } from '../../lib/crypto/errors.ts';
import { PLAIN_CHUNK_BYTES } from '../../lib/background/attachment-crypto.ts';
import { downloadAttachment, uploadAttachment, type SentAttachment } from '../../lib/background/attachments.ts';
import { BlobClient } from '../../lib/background/blob-client.ts';
import { classify } from '../../lib/background/failure.ts';
import { RelayApiError } from '../../lib/background/relay-wire.ts';
import { BLOB_ROUTES } from '../../lib/protocol/relay-blobs.ts';
import { waitUntil } from '../integration/support/device.ts';
import { withScenario } from './support/with-scenario.ts';
import { SLOW } from './support/rich-attack.ts';
import { blobCall, blobIdOfUrl, canaryFile, mailboxOf, partFrom, partText, relayFilesContaining, targetOf } from './support/blob-attack.ts';

interface ChunkRequest {
  blobId: string;
  index: number;
  [k: string]: unknown;
}
interface Answer {
  status: number;
  body: Record<string, unknown>;
}
/** How the hostile relay answers one chunk request, given the honest relay. */
type Tamper = (req: ChunkRequest, honest: (req: ChunkRequest) => Promise<Answer>) => Promise<Answer | Response>;

/** A fetch that passes everything to the relay but lets `tamper` answer the chunk downloads. */
function hostileFetch(tamper: Tamper): typeof fetch {
  return async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    if (!url.endsWith(BLOB_ROUTES.fetchBlobChunk.path)) return fetch(input, init);
    const honest = async (req: ChunkRequest): Promise<Answer> => {
      const res = await fetch(url, { ...init, body: JSON.stringify(req) });
      return { status: res.status, body: (await res.json()) as Answer['body'] };
    };
    const a = await tamper(JSON.parse(String(init!.body)) as ChunkRequest, honest);
    if (a instanceof Response) return a;
    return new Response(JSON.stringify(a.body), { status: a.status, headers: { 'content-type': 'application/json' } });
  };
}

const b64 = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'base64url'));

describe('the relay tampers with blob chunks', () => {
  let file: Uint8Array<ArrayBuffer>;
  let part: SentAttachment;
  let otherId = '';
  const s = withScenario({
    timeout: 180_000 * SLOW,
    setup: async () => {
      // Three relay chunks, the last one shorter.
      const size = 2 * PLAIN_CHUNK_BYTES + 100_000;
      file = canaryFile('tamper', size);
      const sent = await uploadAttachment(new Blob([file]), new BlobClient(s.relay.url), await targetOf(s.alice, s.conv));
      await s.alice.app.handlers['message.send']({ conversationId: s.conv, text: partText(sent) });
      await waitUntil(() => s.bob.received(s.conv).some((t) => t.includes(sent.url)), 30_000 * SLOW, 'Bob gets the attachment message');
      part = partFrom(s.bob.received(s.conv).find((t) => t.includes(sent.url))!);
      // Another file of the same size in the same conversation: Bob may read it too.
      const other = await uploadAttachment(new Blob([canaryFile('other', size)]), new BlobClient(s.relay.url), await targetOf(s.alice, s.conv));
      otherId = blobIdOfUrl(other.url);
    },
  });

  const download = (tamper: Tamper): Promise<Uint8Array> =>
    downloadAttachment(part.url, part, new BlobClient(s.relay.url, { fetch: hostileFetch(tamper), attempts: 1 }), mailboxOf(s.bob, s.conv));

  const swap: Record<number, number> = { 0: 1, 1: 0 };
  const cases: [string, Tamper, 'aead' | 'malformed' | 'not_found'][] = [
    ['swaps chunks 0 and 1', (r, h) => h({ ...r, index: swap[r.index] ?? r.index }), 'aead'],
    ['serves the last chunk first', (r, h) => h({ ...r, index: 2 - r.index }), 'malformed'],
    ['repeats chunk 0 for every index', (r, h) => h({ ...r, index: 0 }), 'aead'],
    [
      'cuts the last chunk short',
      async (r, h) => {
        const a = await h(r);
        return r.index === 2 ? { ...a, body: { ...a.body, data: Buffer.from(b64(String(a.body.data)).subarray(1)).toString('base64url') } } : a;
      },
      'malformed',
    ],
    [
      'cuts the last chunk short and lowers the size to match',
      async (r, h) => {
        const a = await h(r);
        return r.index === 2 ? { ...a, body: { data: Buffer.from(b64(String(a.body.data)).subarray(1)).toString('base64url'), size: Number(a.body.size) - 1 } } : a;
      },
      'malformed',
    ],
    ['drops the last chunk', async (r, h) => (r.index === 2 ? { status: 404, body: { error: { code: 'not_found', message: 'not found or not allowed' } } } : h(r)), 'not_found'],
    ['serves another blob of the same size', (r, h) => h({ ...r, blobId: otherId }), 'aead'],
    ['serves one chunk of another blob', (r, h) => h(r.index === 1 ? { ...r, blobId: otherId } : r), 'aead'],
    [
      'flips one bit of the last chunk',
      async (r, h) => {
        const a = await h(r);
        if (r.index !== 2) return a;
        const data = b64(String(a.body.data));
        data[data.length - 20]! ^= 1;
        return { ...a, body: { ...a.body, data: Buffer.from(data).toString('base64url') } };
      },
      'aead',
    ],
    ['answers nonsense', async () => ({ status: 200, body: { data: 'not base64!', size: 'big' } }), 'malformed'],
  ];

  it('answers one chunk with an endless body: the device stops reading after about one chunk’s worth', async () => {
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        // `{"data":"AAAA…` for 64 MiB, a megabyte at a time, as long as the device keeps reading.
        if (sent >= 64 * 1024 * 1024) return controller.close();
        controller.enqueue(new TextEncoder().encode(sent === 0 ? '{"data":"' + 'A'.repeat(1024 * 1024 - 9) : 'A'.repeat(1024 * 1024)));
        sent += 1024 * 1024;
      },
    });
    const err = await download(async () => new Response(endless, { status: 200, headers: { 'content-type': 'application/json' } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RelayApiError);
    expect((err as RelayApiError).code).toBe('malformed');
    // One chunk in base64 is about 1.4 MB: the device gave up well before the 64 MiB.
    expect(sent).toBeLessThanOrEqual(4 * 1024 * 1024);
  });

  for (const [name, tamper, expected] of cases) {
    it(`${name}: the download fails with a typed error and returns nothing`, async () => {
      let got: Uint8Array | undefined;
      const err = await download(tamper).then(
        (bytes) => {
          got = bytes;
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(got).toBeUndefined();
      if (expected === 'aead') {
        expect(err).toBeInstanceOf(CryptoError);
        expect((err as CryptoError).operation).toBe('ATT-AEAD-1');
        expect(classify(err).kind).toBe('hostile');
      } else {
        expect(err).toBeInstanceOf(RelayApiError);
        expect((err as RelayApiError).code).toBe(expected);
        expect(classify(err).kind).toBe(expected === 'malformed' ? 'hostile' : 'refused');
      }
    });
  }

  it('untouched, the same download gives the file: the failures above were the tampering', async () => {
    const got = await download((r, h) => h(r));
    expect(Buffer.from(got).equals(Buffer.from(file))).toBe(true);
  });

  it('no file of the relay holds the key or any run of the plaintext, and its log does not either', async () => {
    const probes = [file.subarray(0, 64), file.subarray(PLAIN_CHUNK_BYTES + 5000, PLAIN_CHUNK_BYTES + 5064), file.subarray(file.length - 64)];
    for (const p of probes) expect(relayFilesContaining(s.relay.dataDir, p)).toEqual([]);
    for (const k of [part.key, new TextEncoder().encode(toB64(part.key)), new TextEncoder().encode(Buffer.from(part.key).toString('base64')), new TextEncoder().encode(Buffer.from(part.key).toString('hex'))]) {
      expect(relayFilesContaining(s.relay.dataDir, k)).toEqual([]);
    }
    expect(s.relay.stderr()).not.toContain(toB64(part.key));
    // The search works: the ciphertext the relay holds is found in its files.
    const chunk = await blobCall(s.relay.url, 'fetchBlobChunk', { blobId: blobIdOfUrl(part.url), ...mailboxOf(s.bob, s.conv), index: 1 });
    const ciphertext = b64(String((chunk.body as { data: string }).data));
    expect(relayFilesContaining(s.relay.dataDir, ciphertext.subarray(5000, 5064)).length).toBeGreaterThan(0);
  });
});
