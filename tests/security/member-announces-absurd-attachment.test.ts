/**
 * Attack: a hostile member announces an attachment whose fields are absurd,
 * so that a recipient's device, following them, allocates gigabytes, throws
 * something nobody expects (an untyped error is "our bug" and is reported,
 * not dropped), or contacts a server of her choice: a size of 8 GiB or 2^53,
 * sizes no file encrypts to, a key or nonce of the wrong length, a url on
 * another server or of another path.
 *
 * Defence (attachment-crypto.ts, attachments.ts): the fields are checked
 * before any request and any allocation. A size above what a 25 MiB file
 * encrypts to, or that no file encrypts to, is ATT-SIZE-1; a key or nonce of
 * the wrong length ATT-KEY-1 / ATT-SIZE-1; a url that is not a blob of our
 * own relay ATT-URL-1. Each is a CryptoError (failure.ts: hostile), and the
 * device made no request for it.
 */
import { describe, expect, it } from 'vitest';
import { ciphertextSize, MAX_ATTACHMENT_BYTES } from '../../lib/background/attachment-crypto.ts';
import { downloadAttachment, uploadAttachment, type SentAttachment } from '../../lib/background/attachments.ts';
import { BlobClient } from '../../lib/background/blob-client.ts';
import { classify } from '../../lib/background/failure.ts';
import { CryptoError } from '../../lib/crypto/errors.ts';
import { waitUntil } from '../integration/support/device.ts';
import { withScenario } from './support/with-scenario.ts';
import { SLOW } from './support/rich-attack.ts';
import { canaryFile, mailboxOf, partFrom, partText, targetOf } from './support/blob-attack.ts';

describe('a member announces an absurd attachment', () => {
  let honest: SentAttachment;
  let file: Uint8Array<ArrayBuffer>;
  const s = withScenario({
    setup: async () => {
      file = canaryFile('absurd', 50_000);
      // A real upload of Mallory's, so the url names a blob Bob is a reader of.
      const sent = await uploadAttachment(new Blob([file]), new BlobClient(s.relay.url), await targetOf(s.mallory, s.conv));
      await s.mallory.app.handlers['message.send']({ conversationId: s.conv, text: partText(sent) });
      await waitUntil(() => s.bob.received(s.conv).some((t) => t.includes(sent.url)), 20_000 * SLOW, 'Bob gets the attachment message');
      honest = partFrom(s.bob.received(s.conv).find((t) => t.includes(sent.url))!);
    },
  });

  const cases: [string, (p: SentAttachment) => SentAttachment, string][] = [
    ['a size of 8 GiB (a valid ciphertext size)', (p) => ({ ...p, size: ciphertextSize(8 * 1024 ** 3) }), 'ATT-SIZE-1'],
    ['a size just above the 25 MiB file', (p) => ({ ...p, size: ciphertextSize(MAX_ATTACHMENT_BYTES + 1) }), 'ATT-SIZE-1'],
    ['a size of 2^53 - 1', (p) => ({ ...p, size: Number.MAX_SAFE_INTEGER }), 'ATT-SIZE-1'],
    ['a negative size', (p) => ({ ...p, size: -1 }), 'ATT-SIZE-1'],
    ['a fractional size', (p) => ({ ...p, size: p.size + 0.5 }), 'ATT-SIZE-1'],
    ['a size of zero', (p) => ({ ...p, size: 0 }), 'ATT-SIZE-1'],
    ['a 31-byte key', (p) => ({ ...p, key: p.key.subarray(1) }), 'ATT-KEY-1'],
    ['an empty key', (p) => ({ ...p, key: new Uint8Array(0) }), 'ATT-KEY-1'],
    ['a 5-byte nonce', (p) => ({ ...p, nonce: p.nonce.subarray(0, 5) }), 'ATT-SIZE-1'],
    ['a url on another server', (p) => ({ ...p, url: p.url.replace(/^http:\/\/[^/]+/, 'https://evil.example') }), 'ATT-URL-1'],
    ['a url of another path', (p) => ({ ...p, url: p.url.replace('/blobs/', '/queues/') }), 'ATT-URL-1'],
  ];

  for (const [name, change, rule] of cases) {
    it(`${name}: refused as ${rule} before any request`, async () => {
      let requests = 0;
      const counting: typeof fetch = (input, init) => {
        requests++;
        return fetch(input, init);
      };
      const part = change(honest);
      const err = await downloadAttachment(part.url, part, new BlobClient(s.relay.url, { fetch: counting, attempts: 1 }), mailboxOf(s.bob, s.conv)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CryptoError);
      expect((err as CryptoError).operation).toBe(rule);
      expect(classify(err).kind).toBe('hostile');
      expect(requests).toBe(0);
    });
  }

  it('the honest fields still give the file', async () => {
    const got = await downloadAttachment(honest.url, honest, new BlobClient(s.relay.url), mailboxOf(s.bob, s.conv));
    expect(Buffer.from(got).equals(Buffer.from(file))).toBe(true);
  });
});
