// Two devices in one conversation over a real relay process send each other a 5 MiB and a 20 MiB
// file through the blob API: Alice encrypts and uploads (paid from her device's token wallet, for
// the conversation's queue with the current epoch's capability), the url, key, nonce and content
// hash travel inside the conversation's MLS messages, and Bob downloads with his conversation
// mailbox, checks the hash and decrypts. Once both mailboxes released it the blob is gone.
//
// The external part travels here as JSON inside a text message: the MIMI content codec (another
// part of #20) carries the same fields as an ExternalPart once it is merged.
import { randomFillSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromB64, toB64 } from '../../lib/bytes.ts';
import type { AppCore } from '../../lib/background/app/core.ts';
import { downloadAttachment, uploadAttachment, type SentAttachment } from '../../lib/background/attachments.ts';
import { BlobClient, type UploadTarget } from '../../lib/background/blob-client.ts';
import type { ChatService } from '../../lib/background/chat-service.ts';
import type { Conversations } from '../../lib/background/conversations.ts';
import { queueCapability } from '../../lib/background/queue-capability.ts';
import type { MailboxCredentials } from '../../lib/protocol/relay.ts';
import { BLOB_ROUTES } from '../../lib/protocol/relay-blobs.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from './support/device.ts';

const MiB = 1024 * 1024;
const chatOf = (d: Device): ChatService => (d.app as unknown as { chat: ChatService }).chat;
const conversationsOf = (d: Device): Conversations => (chatOf(d) as unknown as { c: Conversations }).c;
const walletOf = (d: Device) => (d.app as unknown as { core: AppCore }).core.wallet!;

/** What Alice's device needs to upload for a conversation: its queue, the current capability, her wallet. */
async function targetOf(d: Device, conversationId: string): Promise<UploadTarget> {
  const c = conversationsOf(d);
  const meta = c.metas.get(conversationId)!;
  const wallet = walletOf(d);
  return { queue: fromB64(meta.queue)!, cap: queueCapability(await c.group(conversationId)), spend: (pay) => wallet.spend(pay) };
}

function mailboxOf(d: Device, conversationId: string): MailboxCredentials {
  const c = conversationsOf(d);
  return c.mailboxOf(c.metas.get(conversationId)!)!;
}

/** The external part's fields as text (a stand-in for the MIMI codec), and back. */
const toText = (s: SentAttachment): string =>
  JSON.stringify({ url: s.url, size: s.size, key: toB64(s.key), nonce: toB64(s.nonce), aad: toB64(s.aad), contentHash: toB64(s.contentHash) });
function fromText(text: string): SentAttachment {
  const o = JSON.parse(text) as Record<string, string | number>;
  const b = (k: string): Uint8Array => fromB64(String(o[k]))!;
  return { url: String(o.url), size: Number(o.size), key: b('key'), nonce: b('nonce'), aad: b('aad'), contentHash: b('contentHash'), plainSize: 0 };
}

describe('attachments between two devices over a real relay', () => {
  let relay: RelayProcess;
  let a: Device;
  let b: Device;
  let conv: string;

  beforeAll(async () => {
    relay = await startRelay();
    [a, b] = await Promise.all([startDevice(relay.url, 'Alice'), startDevice(relay.url, 'Bob')]);
    await waitUntil(() => [a, b].every((d) => d.app.snapshot.connection === 'online'), 15_000, 'online');
    ({ conversationId: conv } = await a.app.handlers['conversation.create']({ name: 'Files' }));
    const invite = await a.app.handlers['invite.create']({ conversationId: conv, mode: 'one-time' });
    await b.app.handlers['invite.join']({ link: invite.link });
    await a.app.handlers['message.send']({ conversationId: conv, text: 'hello' });
    await waitUntil(() => b.received(conv).includes('hello'), 15_000, 'Bob reads');
    // Let the announcements that follow a join (names, mailboxes) settle, so the epoch is stable.
    const names = async (d: Device): Promise<string[]> => (await d.app.handlers['conversation.get']({ conversationId: conv })).members.map((m) => m.displayName);
    await waitUntil(async () => (await names(a)).includes('Bob') && (await names(b)).includes('Alice'), 15_000, 'names known');
    await new Promise((r) => setTimeout(r, 500));
  }, 60_000);
  afterAll(async () => {
    for (const d of [a, b]) d?.app.stop();
    await relay?.stop();
  });

  for (const size of [5 * MiB, 20 * MiB]) {
    it(`sends a ${size / MiB} MiB file: hash checked, decrypted, then deleted at the relay`, async () => {
      const file = randomFillSync(new Uint8Array(size));
      const client = new BlobClient(relay.url);
      const progress: number[] = [];
      const sent = await uploadAttachment(new Blob([file]), client, await targetOf(a, conv), { onProgress: (done) => progress.push(done) });
      expect(progress.at(-1)).toBe(sent.size);
      await a.app.handlers['message.send']({ conversationId: conv, text: toText(sent) });
      await waitUntil(() => b.received(conv).some((t) => t.includes(sent.url)), 30_000, 'Bob gets the message');
      const part = fromText(b.received(conv).find((t) => t.includes(sent.url))!);

      const bobMailbox = mailboxOf(b, conv);
      const got = await downloadAttachment(part.url, part, new BlobClient(relay.url), bobMailbox);
      expect(got.length).toBe(size);
      expect(Buffer.from(got).equals(Buffer.from(file))).toBe(true);

      // Both mailboxes of the conversation are recipients: Bob's after reading, Alice's own (she has the file).
      const blobId = part.url.slice(part.url.lastIndexOf('/') + 1);
      await client.release(blobId, bobMailbox);
      const fetchAs = (mb: MailboxCredentials) => fetch(relay.url + BLOB_ROUTES.fetchBlobChunk.path, { method: 'POST', body: JSON.stringify({ blobId, ...mb, index: 0 }) });
      expect((await fetchAs(mailboxOf(a, conv))).status).toBe(200);
      await client.release(blobId, mailboxOf(a, conv));
      expect((await fetchAs(mailboxOf(a, conv))).status).toBe(404);
      expect((await fetchAs(bobMailbox)).status).toBe(404);
    }, 120_000);
  }
});
