/**
 * Tools for the blob attacks (docs/rich-messages.md, "Threats"): what a
 * device uses to send and fetch an attachment of a conversation (its queue,
 * the current epoch's capability, its token wallet, its conversation
 * mailbox), a raw request to the blob routes, and a search of the relay's
 * files on disk. Attachments are not sent from the chat service yet, so the
 * external part's fields travel as the text of a message (as in
 * tests/integration/attachments.test.ts).
 */
import { randomFillSync } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fromB64, toB64 } from '../../../lib/bytes.ts';
import type { AppCore } from '../../../lib/background/app/core.ts';
import type { SentAttachment } from '../../../lib/background/attachments.ts';
import type { UploadTarget } from '../../../lib/background/blob-client.ts';
import type { ChatService } from '../../../lib/background/chat-service.ts';
import type { Conversations } from '../../../lib/background/conversations.ts';
import { queueCapability } from '../../../lib/background/queue-capability.ts';
import type { MailboxCredentials } from '../../../lib/protocol/relay.ts';
import { BLOB_ROUTES, type BlobRouteName } from '../../../lib/protocol/relay-blobs.ts';
import type { Device } from '../../integration/support/device.ts';

const conversationsOf = (d: Device): Conversations => ((d.app as unknown as { chat: ChatService }).chat as unknown as { c: Conversations }).c;

/** What this device needs to upload for a conversation: its queue, the current capability, its wallet. */
export async function targetOf(d: Device, conversationId: string): Promise<UploadTarget> {
  const c = conversationsOf(d);
  const meta = c.metas.get(conversationId)!;
  const wallet = (d.app as unknown as { core: AppCore }).core.wallet!;
  return { queue: fromB64(meta.queue)!, cap: queueCapability(await c.group(conversationId)), spend: (pay) => wallet.spend(pay) };
}

/** The mailbox this device reads the conversation from. */
export function mailboxOf(d: Device, conversationId: string): MailboxCredentials {
  const c = conversationsOf(d);
  return c.mailboxOf(c.metas.get(conversationId)!)!;
}

/** A file of random bytes that starts with a recognisable label. */
export function canaryFile(label: string, size: number): Uint8Array<ArrayBuffer> {
  const out = randomFillSync(new Uint8Array(size));
  out.set(new TextEncoder().encode(`CANARY-${label}-`));
  return out;
}

/** The external part's fields as a message text, and back (a stand-in for the MIMI external part). */
export const partText = (s: SentAttachment): string =>
  JSON.stringify({ url: s.url, size: s.size, key: toB64(s.key), nonce: toB64(s.nonce), aad: toB64(s.aad), contentHash: toB64(s.contentHash) });

export function partFrom(text: string): SentAttachment {
  const o = JSON.parse(text) as Record<string, string | number>;
  const b = (k: string): Uint8Array => fromB64(String(o[k]))!;
  return { url: String(o.url), size: Number(o.size), key: b('key'), nonce: b('nonce'), aad: b('aad'), contentHash: b('contentHash'), plainSize: 0 };
}

export const blobIdOfUrl = (url: string): string => url.slice(url.lastIndexOf('/') + 1);

/** One raw request to a blob route; answers the status and the error code (or the body). */
export async function blobCall(relayUrl: string, route: BlobRouteName, body: unknown): Promise<{ status: number; code: unknown; body: unknown }> {
  const res = await fetch(relayUrl + BLOB_ROUTES[route].path, { method: BLOB_ROUTES[route].method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const parsed = (await res.json()) as { error?: { code?: unknown } };
  return { status: res.status, code: parsed.error?.code, body: parsed };
}

/** Paths of the relay's files (its data directory, recursively) that contain these bytes. */
export function relayFilesContaining(dataDir: string, needle: Uint8Array): string[] {
  const probe = Buffer.from(needle);
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const p = join(dir, name);
      try {
        return statSync(p).isDirectory() ? walk(p) : readFileSync(p).indexOf(probe) >= 0 ? [p] : [];
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
    });
  return walk(dataDir);
}
