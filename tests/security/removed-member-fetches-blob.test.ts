/**
 * Attack: a removed member fetches attachments. Mallory kept what her
 * client sent the relay while she was a member (her mailboxes and their
 * secrets, the queue id, every capability: support/removed-member-scenario.ts)
 * and, once removed, asks the blob API for (a) a file posted after her
 * removal and (b) one posted before it, whose key she received then.
 *
 * What holds:
 * - after: the file key travels only in an MLS message of an epoch she has
 *   no secrets for (her device never gets it), and the relay does not count
 *   her as a reader: a blob's readers are the mailboxes registered to the
 *   queue when it is created, and Alice, who removed her, unregistered her
 *   mailboxes (inbox.ts 'unregister'). Her fetch is the uniform not_found;
 *   an upload with her last capability is refused (stale), so she cannot
 *   post into the conversation either (tests/relay/blobs.test.ts covers the
 *   capability rule).
 * - before: she was a member then. She could fetch and decrypt it while she
 *   was (that is what a member can do, and nothing can take back what she
 *   already saved); once her mailbox is unregistered the relay no longer
 *   serves it to her, and her pending read no longer keeps the blob alive.
 * The unregistration is the remover's best effort; the key is what keeps a
 * later file secret even when it did not happen.
 */
import { describe, expect, it } from 'vitest';
import { downloadAttachment, uploadAttachment } from '../../lib/background/attachments.ts';
import { BlobClient } from '../../lib/background/blob-client.ts';
import { dumpRelayDatabase } from '../support/relay-process.ts';
import { waitUntil } from '../integration/support/device.ts';
import type { Mailbox } from '../relay/support/client.ts';
import { withScenario } from './support/with-scenario.ts';
import { SLOW } from './support/rich-attack.ts';
import { blobCall, blobIdOfUrl, canaryFile, mailboxOf, partFrom, partText, targetOf } from './support/blob-attack.ts';

describe('a removed member fetches attachments', () => {
  const s = withScenario();

  it('posted before: hers while a member; posted after: never, and neither is served to her once she is out', async () => {
    const before = canaryFile('before', 300_000);
    const sentBefore = await uploadAttachment(new Blob([before]), new BlobClient(s.relay.url), await targetOf(s.alice, s.conv));
    await s.alice.app.handlers['message.send']({ conversationId: s.conv, text: partText(sentBefore) });
    await waitUntil(() => s.mallory.received(s.conv).some((t) => t.includes(sentBefore.url)), 20_000 * SLOW, 'Mallory gets the first file');
    const keysBefore = partFrom(s.mallory.received(s.conv).find((t) => t.includes(sentBefore.url))!);
    // While a member she reads it, as every member does.
    const hers = mailboxOf(s.mallory, s.conv);
    const got = await downloadAttachment(sentBefore.url, keysBefore, new BlobClient(s.relay.url), hers);
    expect(Buffer.from(got).equals(Buffer.from(before))).toBe(true);

    // Every mailbox her client ever registered, and the last capability it presented.
    const loot: Mailbox[] = [...s.loot.mailboxes, hers];
    const lastCap = s.loot.caps.at(-1)!;
    await s.removeMallory();
    await waitUntil(
      async () => {
        const regs = JSON.stringify((await dumpRelayDatabase(s.relay.dataDir)).registrations ?? []);
        return loot.every((m) => !regs.includes(m.mailboxId));
      },
      20_000 * SLOW,
      'Alice unregistered her mailboxes',
    );

    const after = canaryFile('after', 300_000);
    const sentAfter = await uploadAttachment(new Blob([after]), new BlobClient(s.relay.url), await targetOf(s.alice, s.conv));
    await s.aliceSays(partText(sentAfter));
    // Her device never gets the message with the new key (she is out of the group).
    expect(s.mallory.received(s.conv).some((t) => t.includes(sentAfter.url))).toBe(false);

    for (const sent of [sentBefore, sentAfter]) {
      for (const m of loot) {
        const r = await blobCall(s.relay.url, 'fetchBlobChunk', { blobId: blobIdOfUrl(sent.url), ...m, index: 0 });
        expect([r.status, r.code], `${sent === sentBefore ? 'before' : 'after'} as ${m.mailboxId}`).toEqual([404, 'not_found']);
        const rel = await blobCall(s.relay.url, 'releaseBlob', { blobId: blobIdOfUrl(sent.url), ...m });
        expect(rel.code).toBe('not_found');
      }
    }
    // Nor can she post a blob into the conversation with the capability she last had.
    const attacker = await s.attacker(1);
    const upload = await blobCall(s.relay.url, 'createBlob', { queue: s.loot.queue, cap: lastCap, token: attacker.tokens[0], size: 10 });
    expect(upload.code).toMatch(/^(stale_capability|not_found)$/);

    // Bob, still a member, reads both.
    for (const [sent, bytes] of [[sentBefore, before], [sentAfter, after]] as const) {
      const mine = await downloadAttachment(sent.url, sent, new BlobClient(s.relay.url), mailboxOf(s.bob, s.conv));
      expect(Buffer.from(mine).equals(Buffer.from(bytes))).toBe(true);
    }
  });
});
