/**
 * Attack: a member of one conversation fetches an attachment of another.
 * Mallory shares "Plans" with Alice and Bob; Alice and Bob also have
 * "Private", without her. She learns the id of a file Alice posted in
 * "Private" (it is just a url) and asks the blob API for it with every
 * mailbox her client ever registered, releases it to make it vanish for
 * Bob, and tries to post a blob into "Private" with the capability of
 * "Plans". Then she tries the other way round: she posts in "Plans" a
 * message whose attachment url is the "Private" file, hoping Bob's device
 * fetches it for her with his "Plans" mailbox.
 *
 * Defence (relay/blobs/): a blob's readers are the mailboxes registered to
 * ITS conversation's queue when it was created; each conversation has its own
 * queue, capability and mailboxes, so her mailboxes are not readers (404
 * not_found, the same as for an unknown id) and her capability opens nothing
 * of another queue. And Bob's device fetches with the mailbox of the
 * conversation the message came in, which is not a reader of the other
 * conversation's blob either: her url gets nothing.
 */
import { describe, expect, it } from 'vitest';
import { downloadAttachment, uploadAttachment } from '../../lib/background/attachments.ts';
import { BlobClient } from '../../lib/background/blob-client.ts';
import { RelayApiError } from '../../lib/background/relay-wire.ts';
import { waitUntil } from '../integration/support/device.ts';
import type { Mailbox } from '../relay/support/client.ts';
import { withScenario } from './support/with-scenario.ts';
import { SLOW } from './support/rich-attack.ts';
import { blobCall, blobIdOfUrl, canaryFile, mailboxOf, targetOf } from './support/blob-attack.ts';

describe('a member fetches a blob of another conversation', () => {
  let other = '';
  const s = withScenario({
    timeout: 150_000 * SLOW,
    setup: async () => {
      ({ conversationId: other } = await s.alice.app.handlers['conversation.create']({ name: 'Private' }));
      const invite = await s.alice.app.handlers['invite.create']({ conversationId: other, mode: 'one-time' });
      await s.bob.app.handlers['invite.join']({ link: invite.link });
      await waitUntil(async () => (await s.alice.app.handlers['conversation.get']({ conversationId: other })).members.length === 2, 20_000 * SLOW, 'Bob in Private');
      await s.alice.app.handlers['message.send']({ conversationId: other, text: 'just us' });
      await waitUntil(() => s.bob.received(other).includes('just us'), 20_000 * SLOW, 'Bob reads Private');
    },
  });

  it('none of her mailboxes reads or releases it, her capability posts nothing there, and Bob reads it still', async () => {
    const file = canaryFile('private', 200_000);
    const sent = await uploadAttachment(new Blob([file]), new BlobClient(s.relay.url), await targetOf(s.alice, other));
    const blobId = blobIdOfUrl(sent.url);
    const hers: Mailbox[] = [...s.loot.mailboxes, mailboxOf(s.mallory, s.conv)];
    for (const m of hers) {
      expect((await blobCall(s.relay.url, 'fetchBlobChunk', { blobId, ...m, index: 0 })).code, m.mailboxId).toBe('not_found');
      expect((await blobCall(s.relay.url, 'releaseBlob', { blobId, ...m })).code, m.mailboxId).toBe('not_found');
    }
    // Her conversation's capability against the other queue (which she would have to know too).
    const privateQueue = (await targetOf(s.alice, other)).queue;
    const attacker = await s.attacker(1);
    const upload = await blobCall(s.relay.url, 'createBlob', { queue: Buffer.from(privateQueue).toString('base64url'), cap: s.loot.caps.at(-1), token: attacker.tokens[0], size: 10 });
    expect(upload.code).toBe('not_found');

    // Her url in "Plans": Bob's device fetches with his "Plans" mailbox, which is no reader of a "Private" blob.
    const err = await downloadAttachment(sent.url, sent, new BlobClient(s.relay.url, { attempts: 1 }), mailboxOf(s.bob, s.conv)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RelayApiError);
    expect((err as RelayApiError).code).toBe('not_found');

    // Bob, a reader of "Private", still gets it: nothing she did took it away.
    const got = await downloadAttachment(sent.url, sent, new BlobClient(s.relay.url), mailboxOf(s.bob, other));
    expect(Buffer.from(got).equals(Buffer.from(file))).toBe(true);
  });
});
