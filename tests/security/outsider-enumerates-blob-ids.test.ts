/**
 * Attack: an outsider (anyone may sign up, get tokens and open a mailbox)
 * guesses or enumerates blob ids, hoping to fetch someone's attachment, to
 * release it so its readers lose it, or just to learn which ids exist. With
 * a real id in hand (seen over someone's shoulder) she tries her own
 * mailbox, a reader's mailbox id with a made-up secret, and a release.
 *
 * Defence (relay/blobs/blobs.ts): a blob id is 128 random bits; a fetch or
 * release needs a mailbox's secret AND that mailbox being one of the blob's
 * readers (registered to the conversation's queue when it was created);
 * "does not exist" and "not allowed" are the same 404 not_found, so a real id
 * answers exactly like a made-up one. Nothing she does changes what the
 * readers get.
 *
 * Uploading without a token, with a spent token, with a guessed capability,
 * or a second time on one token is refused, spending nothing: those cases
 * are in tests/relay/blobs.test.ts ("needs a token for the creation and for
 * every chunk ...", "refuses ... on a wrong capability ...") and are not
 * repeated here.
 */
import { describe, expect, it } from 'vitest';
import { toB64 } from '../../lib/bytes.ts';
import { downloadAttachment, uploadAttachment, type SentAttachment } from '../../lib/background/attachments.ts';
import { BlobClient } from '../../lib/background/blob-client.ts';
import type { Mailbox } from '../relay/support/client.ts';
import { withScenario } from './support/with-scenario.ts';
import { blobCall, blobIdOfUrl, canaryFile, mailboxOf, targetOf } from './support/blob-attack.ts';

describe('an outsider enumerates blob ids', () => {
  let file: Uint8Array<ArrayBuffer>;
  let sent: SentAttachment;
  let own: Mailbox;
  const s = withScenario({
    setup: async () => {
      file = canaryFile('guess', 200_000);
      sent = await uploadAttachment(new Blob([file]), new BlobClient(s.relay.url), await targetOf(s.alice, s.conv));
      const attacker = await s.attacker(2);
      own = await attacker.client.mailbox(attacker.tokens[0]!);
    },
  });

  it('a real id answers exactly like 200 guessed ones, to her mailbox, a forged secret and a release; the readers still get the file', async () => {
    const real = blobIdOfUrl(sent.url);
    const bob = mailboxOf(s.bob, s.conv);
    const forged = { mailboxId: bob.mailboxId, secret: toB64(crypto.getRandomValues(new Uint8Array(32))) };
    const guesses = Array.from({ length: 200 }, () => toB64(crypto.getRandomValues(new Uint8Array(16))));
    const answers = new Set<string>();
    for (const blobId of [real, ...guesses]) {
      for (const who of [own, forged]) {
        for (const index of [0, 1]) {
          const r = await blobCall(s.relay.url, 'fetchBlobChunk', { blobId, ...who, index });
          answers.add(JSON.stringify([r.status, r.body]));
        }
        const rel = await blobCall(s.relay.url, 'releaseBlob', { blobId, ...who });
        answers.add(JSON.stringify([rel.status, rel.body]));
      }
    }
    // One answer for everything: nothing tells a real id from a guess.
    expect([...answers]).toEqual([JSON.stringify([404, { error: { code: 'not_found', message: 'not found or not allowed' } }])]);
    // Ids are not guessable: 22 base64url characters, 128 random bits (relay randomId).
    expect(real).toMatch(/^[A-Za-z0-9_-]{21}[AQgw]$/);

    // Her releases changed nothing: Bob and Alice still read it.
    for (const d of [s.bob, s.alice]) {
      const got = await downloadAttachment(sent.url, sent, new BlobClient(s.relay.url), mailboxOf(d, s.conv));
      expect(Buffer.from(got).equals(Buffer.from(file))).toBe(true);
    }
  });
});
