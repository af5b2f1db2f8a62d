/**
 * Files and images in a conversation over a real relay (issue #20), each
 * device a whole BackgroundApp driven through its channel handlers, as the
 * view drives it: Alice sends a file chunk by chunk (attachment.begin /
 * attachment.chunk), Bob sees the card at once, downloads it on demand,
 * and saves the same bytes; a small image with a preview is fetched by
 * itself. A cancelled upload sends nothing and keeps nothing, on the device
 * or at the relay (it deletes its half-uploaded blob). A delete for
 * everyone removes the stored file from both devices' IndexedDB.
 */
import { randomFillSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatBytes, fromB64, toB64 } from '../../lib/bytes.ts';
import { ATTACHMENT_CHUNK_BYTES, type TransferEvent } from '../../lib/protocol/attachments.ts';
import { ErrorCode, type MessageView } from '../../lib/protocol/channel.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from './support/device.ts';

const SLOW = Number(process.env.MICROCHAT_TEST_SLOW ?? 1);
const MiB = 1024 * 1024;

/** A tiny but real WebP header (what the signature check looks at) padded to a small preview. */
export function fakeWebp(bytes = 600): Uint8Array {
  const out = new Uint8Array(bytes);
  out.set(new TextEncoder().encode('RIFF'), 0);
  new DataView(out.buffer).setUint32(4, bytes - 8, true);
  out.set(new TextEncoder().encode('WEBPVP8 '), 8);
  return out;
}

/** What the view does: begin, then each chunk in turn; answers the message sent. */
export async function sendFile(d: Device, conversationId: string, file: Uint8Array, name: string, type: string, preview?: Uint8Array): Promise<MessageView> {
  const { uploadId } = await d.app.handlers['attachment.begin']({
    conversationId,
    name,
    type,
    size: file.length,
    ...(preview === undefined ? {} : { preview: { type: 'image/webp', data: toB64(preview) } }),
  });
  const chunks = Math.max(1, Math.ceil(file.length / ATTACHMENT_CHUNK_BYTES));
  let message: MessageView | undefined;
  for (let i = 0; i < chunks; i++) {
    ({ message } = await d.app.handlers['attachment.chunk']({ uploadId, index: i, data: toB64(file.subarray(i * ATTACHMENT_CHUNK_BYTES, (i + 1) * ATTACHMENT_CHUNK_BYTES)) }));
  }
  return message!;
}

/** What the view does for Save: every chunk of the stored file. */
export async function saveFile(d: Device, conversationId: string, messageId: string): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (let i = 0; ; i++) {
    const { data, last } = await d.app.handlers['attachment.read']({ conversationId, messageId, index: i });
    parts.push(fromB64(data)!);
    if (last) return concatBytes(...parts);
  }
}

describe('files and images in a conversation over a real relay', () => {
  let relay: RelayProcess;
  let a: Device;
  let b: Device;
  let conv = '';
  const find = async (d: Device, id: string): Promise<MessageView | undefined> =>
    (await d.app.handlers['messages.page']({ conversationId: conv, beforeSeq: null, limit: 200 })).messages.find((m) => m.id === id);

  beforeAll(async () => {
    relay = await startRelay();
    [a, b] = await Promise.all([startDevice(relay.url, 'Alice'), startDevice(relay.url, 'Bob')]);
    await waitUntil(() => [a, b].every((d) => d.app.snapshot.connection === 'online'), 15_000 * SLOW, 'both online');
    ({ conversationId: conv } = await a.app.handlers['conversation.create']({ name: 'Files' }));
    const inv = await a.app.handlers['invite.create']({ conversationId: conv, mode: 'expiring', expiresInHours: 1 });
    await b.app.handlers['invite.join']({ link: inv.link });
    await waitUntil(async () => (await a.app.handlers['conversation.get']({ conversationId: conv })).members.length === 2, 20_000 * SLOW, 'Alice sees Bob');
  }, 120_000 * SLOW);

  afterAll(async () => {
    for (const d of [a, b]) d?.app.stop();
    await relay?.stop();
  });

  it('a 3 MiB file: a card at once, downloaded on demand with progress, saved byte for byte', async () => {
    const file = randomFillSync(new Uint8Array(3 * MiB + 17));
    const sent = await sendFile(a, conv, file, '../../etc/report\u202Efdp.exe', 'application/pdf');
    expect(sent.attachment).toMatchObject({ name: 'reportfdp.exe', type: 'application/pdf', size: file.length, saved: true });
    await waitUntil(async () => (await find(b, sent.id))?.attachment !== undefined, 20_000 * SLOW, 'Bob has the card');
    const card = (await find(b, sent.id))!;
    expect(card.attachment).toEqual({ name: 'reportfdp.exe', type: 'application/pdf', size: file.length });
    await b.app.handlers['attachment.download']({ conversationId: conv, messageId: sent.id });
    await waitUntil(async () => (await find(b, sent.id))?.attachment?.saved === true, 30_000 * SLOW, 'Bob has the file');
    const progress = b.events.filter((e): e is TransferEvent => e.type === 'transfer' && e.messageId === sent.id);
    expect(progress.some((e) => e.state === 'running' && e.done > 0 && e.done < e.total)).toBe(true);
    expect(progress.at(-1)!.state).toBe('done');
    expect(Buffer.from(await saveFile(b, conv, sent.id)).equals(Buffer.from(file))).toBe(true);
    // The sender kept its own copy while sending.
    expect(Buffer.from(await saveFile(a, conv, sent.id)).equals(Buffer.from(file))).toBe(true);
  }, 120_000 * SLOW);

  it('a small image with a preview: fetched by itself, the preview shown before', async () => {
    const image = randomFillSync(new Uint8Array(200_000));
    const preview = fakeWebp();
    const sent = await sendFile(a, conv, image, 'cat.png', 'image/png', preview);
    await waitUntil(async () => (await find(b, sent.id))?.attachment?.saved === true, 30_000 * SLOW, 'Bob fetched the image by himself');
    const got = (await find(b, sent.id))!.attachment!;
    expect(got.preview).toEqual({ type: 'image/webp', data: toB64(preview) });
    expect(Buffer.from(await saveFile(b, conv, sent.id)).equals(Buffer.from(image))).toBe(true);
  }, 120_000 * SLOW);

  it('an empty file goes too', async () => {
    const sent = await sendFile(a, conv, new Uint8Array(0), 'empty.txt', 'text/plain');
    await waitUntil(async () => (await find(b, sent.id))?.attachment !== undefined, 20_000 * SLOW, 'Bob has the card');
    await b.app.handlers['attachment.download']({ conversationId: conv, messageId: sent.id });
    await waitUntil(async () => (await find(b, sent.id))?.attachment?.saved === true, 30_000 * SLOW, 'Bob has the file');
    expect((await saveFile(b, conv, sent.id)).length).toBe(0);
  }, 60_000 * SLOW);

  it('a file over 25 MiB is refused before anything is sent', async () => {
    const err = await a.app.handlers['attachment.begin']({ conversationId: conv, name: 'big.iso', type: 'application/x-iso9660-image', size: 25 * MiB + 1 }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe(ErrorCode.InvalidInput);
  });

  it('a cancelled upload sends no message and keeps nothing of the file', async () => {
    const before = (await a.app.handlers['messages.page']({ conversationId: conv, beforeSeq: null, limit: 200 })).messages.length;
    const file = randomFillSync(new Uint8Array(2 * MiB + 5));
    const { uploadId } = await a.app.handlers['attachment.begin']({ conversationId: conv, name: 'half.bin', type: 'application/octet-stream', size: file.length });
    await a.app.handlers['attachment.chunk']({ uploadId, index: 0, data: toB64(file.subarray(0, ATTACHMENT_CHUNK_BYTES)) });
    await a.app.handlers['attachment.cancel']({ conversationId: conv, transferId: uploadId });
    const err = await a.app.handlers['attachment.chunk']({ uploadId, index: 1, data: toB64(file.subarray(ATTACHMENT_CHUNK_BYTES, 2 * ATTACHMENT_CHUNK_BYTES)) }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe(ErrorCode.NotFound);
    const msgs = (await a.app.handlers['messages.page']({ conversationId: conv, beforeSeq: null, limit: 200 })).messages;
    expect(msgs.length).toBe(before);
    // Only the files of the messages above are stored: each is named by a message's record.
    const named = new Set<string>();
    for (const r of await a.db.getAll('messages')) if (r.fileId !== undefined) named.add(r.fileId);
    await waitUntil(async () => (await a.db.getAll('files')).every((r) => named.has(r.fileId)), 5000 * SLOW, 'the cancelled upload left nothing');
  }, 60_000 * SLOW);

  it('a cancelled upload takes back what it had uploaded to the relay (the uploader’s delete by write key), not left to the TTL', async () => {
    // The device runs in this process: its blob requests are watched on their way to the real relay.
    const seen: { path: string; body: Record<string, unknown>; answer: Record<string, unknown>; status: number }[] = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = async (input, init) => {
      const res = await realFetch(input, init);
      const path = new URL(String(input instanceof Request ? input.url : input)).pathname;
      if (path.startsWith('/v1/blobs')) {
        const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, unknown>) : {};
        seen.push({ path, body, answer: (await res.clone().json().catch(() => ({}))) as Record<string, unknown>, status: res.status });
      }
      return res;
    };
    try {
      const file = randomFillSync(new Uint8Array(2 * MiB + 5));
      const { uploadId } = await a.app.handlers['attachment.begin']({ conversationId: conv, name: 'taken-back.bin', type: 'application/octet-stream', size: file.length });
      await a.app.handlers['attachment.chunk']({ uploadId, index: 0, data: toB64(file.subarray(0, ATTACHMENT_CHUNK_BYTES)) });
      const created = seen.find((r) => r.path === '/v1/blobs' && r.status === 200);
      expect(created, 'the blob was created at the relay').toBeDefined();
      const { blobId } = created!.answer as { blobId: string };
      expect(seen.some((r) => r.path === '/v1/blobs/chunk' && r.body.blobId === blobId && r.status === 200)).toBe(true);
      await a.app.handlers['attachment.cancel']({ conversationId: conv, transferId: uploadId });
      await waitUntil(() => seen.some((r) => r.path === '/v1/blobs/delete' && r.body.blobId === blobId), 10_000 * SLOW, 'the device deletes the blob');
      expect(seen.find((r) => r.path === '/v1/blobs/delete')!.status).toBe(200);
    } finally {
      globalThis.fetch = realFetch;
    }
    // Gone at the relay: the same delete again finds nothing, and so does Bob, a recipient.
    const created = seen.find((r) => r.path === '/v1/blobs' && r.status === 200)!.answer as { blobId: string; writeKey: string };
    const again = await fetch(`${relay.url}/v1/blobs/delete`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ blobId: created.blobId, writeKey: created.writeKey }) });
    expect(again.status).toBe(404);
  }, 60_000 * SLOW);

  it('a delete for everyone removes the stored file on both devices', async () => {
    const file = randomFillSync(new Uint8Array(100_000));
    const sent = await sendFile(a, conv, file, 'oops.bin', 'application/octet-stream');
    await waitUntil(async () => (await find(b, sent.id))?.attachment !== undefined, 20_000 * SLOW, 'Bob has the card');
    await b.app.handlers['attachment.download']({ conversationId: conv, messageId: sent.id });
    await waitUntil(async () => (await find(b, sent.id))?.attachment?.saved === true, 30_000 * SLOW, 'Bob has the file');
    const fileIdOn = async (d: Device): Promise<string | undefined> => (await d.db.getAll('messages')).find((r) => r.messageId === sent.id)?.fileId;
    const [fa, fb] = [await fileIdOn(a), await fileIdOn(b)];
    expect(fa).toBeDefined();
    expect(fb).toBeDefined();
    await a.app.handlers['message.deleteForEveryone']({ conversationId: conv, messageId: sent.id });
    for (const [d, f] of [[a, fa], [b, fb]] as const) {
      await waitUntil(async () => (await find(d, sent.id))?.deleted === true, 20_000 * SLOW, `${d.name}: deleted`);
      expect((await d.db.getAll('files')).filter((r) => r.fileId === f)).toEqual([]);
      expect((await find(d, sent.id))!.attachment).toBeUndefined();
    }
  }, 90_000 * SLOW);
});
