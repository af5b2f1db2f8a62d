/**
 * Files and images in conversations (issue #20): the chat service's side of
 * sending a file, fetching one, and saving one, over attachment-crypto.ts,
 * blob-client.ts and the MIMI external part of attachment-part.ts.
 *
 * Sending: the view hands the file over chunk by chunk (`begin`, then
 * `chunk` for each, lib/protocol/attachments.ts); each chunk is sealed into
 * this device's `files` store, encrypted and uploaded before its request is
 * answered, so one chunk is in flight and the answer is the upload's
 * progress. After the last chunk the message goes out, and our own mailbox
 * releases the blob (we have the file already). A cancel, a failure, or a
 * view that stops sending for UPLOAD_IDLE_MS drops the upload and what was
 * stored of it, here and at the relay (the uploader's delete, by write key).
 *
 * Receiving: a file arrives as a record with its preview and no content.
 * `download` fetches, checks (hash and AEAD, attachment-crypto.ts) and
 * decrypts it, with progress as live events; only a file that passed every
 * check is stored and named by its record. A mismatch marks the record
 * (error 'hash'): its content is dropped and never shown. Small images are
 * fetched as soon as they arrive.
 */
import { fromB64, randomId, toB64 } from '../bytes.ts';
import { CryptoError } from '../crypto/errors.ts';
import { ChannelError, ErrorCode, type MessageView } from '../protocol/channel.ts';
import { AUTO_DOWNLOAD_BYTES, MAX_FILE_BYTES, type AttachmentError, type TransferEvent } from '../protocol/attachments.ts';
import { AttachmentEncryptor, PLAIN_CHUNK_BYTES } from './attachment-crypto.ts';
import { AttachmentFiles } from './attachment-files.ts';
import { bodyOf, sentMeta, type AttachmentMeta } from './attachment-part.ts';
import { attachmentMeta, attachmentRecord } from './attachment-record.ts';
import { blobIdOf, blobUrl, downloadAttachment, type SentAttachment } from './attachments.ts';
import { BlobClient, TransferCancelledError } from './blob-client.ts';
import type { MessageRecord } from './chat-store.ts';
import { preview, toView, type Conversations } from './conversations.ts';
import { expiresAt, expiryToSend, scheduleExpiry } from './disappearing.ts';
import { labelText } from './member-names.ts';
import { outgoingBody } from './mimi-wire.ts';
import type { Outbox } from './outbox.ts';
import { queueCapability } from './queue-capability.ts';
import { newReceiptState } from './receipts.ts';
import { RelayApiError } from './relay-wire.ts';
import * as text from './text.ts';

/** An upload whose view sends no chunk for this long is given up (the popup closed, the view crashed). */
export const UPLOAD_IDLE_MS = 60_000;

/** A value handed from one side to the other once. */
class Slot<T> {
  resolve!: (v: T) => void;
  reject!: (e: unknown) => void;
  readonly promise = new Promise<T>((res, rej) => {
    this.resolve = res;
    this.reject = rej;
  });
}

class Upload {
  readonly controller = new AbortController();
  readonly fileId = randomId();
  next = 0;
  /** The plaintext of chunk i, from the view; and chunk i uploaded. */
  readonly plain = new Map<number, Slot<Uint8Array>>();
  readonly uploaded = new Map<number, Slot<void>>();
  finished!: Promise<SentAttachment>;
  idle: ReturnType<typeof setTimeout> | undefined;
  /** The blob at the relay and the key that takes it back, until its message is sent. */
  created: { blobId: string; writeKey: string } | undefined;
  dropped = false;

  constructor(
    readonly conversationId: string,
    readonly enc: AttachmentEncryptor,
    readonly name: string,
    readonly type: string,
    readonly preview: { type: string; data: Uint8Array } | undefined,
  ) {}

  slot<T>(map: Map<number, Slot<T>>, i: number): Slot<T> {
    let s = map.get(i);
    if (s === undefined) map.set(i, (s = new Slot<T>()));
    return s;
  }
}

export class ConversationAttachments {
  private readonly uploads = new Map<string, Upload>();
  private readonly downloads = new Map<string, AbortController>();
  readonly files: AttachmentFiles;

  constructor(
    private readonly c: Conversations,
    private readonly outbox: Outbox,
    private readonly onTransfer: (e: TransferEvent) => void = () => undefined,
  ) {
    this.files = new AttachmentFiles(c.deps.db, c.deps.vault);
  }

  private client(): BlobClient {
    return new BlobClient(this.c.deps.api().baseUrl);
  }

  // -- sending -------------------------------------------------------------------

  /** Start sending a file of `size` bytes; answers the upload id its chunks go to. */
  async begin(id: string, name: string, type: string, size: number, preview?: { type: string; data: string }): Promise<string> {
    const meta = this.c.activeMeta(id);
    if (size > MAX_FILE_BYTES) throw new ChannelError(ErrorCode.InvalidInput, text.FILE_TOO_BIG);
    const thumb = preview === undefined ? undefined : { type: preview.type, data: fromB64(preview.data) ?? new Uint8Array(0) };
    // The preview is checked now as recipients will check it (ATT-THUMB-1), before anything is uploaded.
    try {
      sentMeta({ url: '', size: 0, plainSize: 0, key: new Uint8Array(0), nonce: new Uint8Array(0), aad: new Uint8Array(0), contentHash: new Uint8Array(0) }, name, type, thumb);
    } catch (err) {
      if (err instanceof CryptoError) throw new ChannelError(ErrorCode.BadRequest, 'preview is not a small JPEG or WebP image');
      throw err;
    }
    const u = new Upload(id, new AttachmentEncryptor(size), name, type, thumb);
    const uploadId = randomId();
    this.uploads.set(uploadId, u);
    const client = this.client();
    const target = { queue: fromB64(meta.queue)!, cap: queueCapability(await this.c.group(id)), spend: this.c.deps.wallet().spend.bind(this.c.deps.wallet()) };
    let chunksDone = -1;
    u.finished = client
      .upload(
        u.enc.size,
        async (i) => {
          const plain = await u.slot(u.plain, i).promise;
          u.plain.delete(i);
          await this.files.put(id, u.fileId, i, plain);
          return u.enc.encryptChunk(i, plain);
        },
        target,
        {
          signal: u.controller.signal,
          onProgress: () => (chunksDone >= 0 ? u.slot(u.uploaded, chunksDone).resolve() : undefined, chunksDone++),
          onCreated: (blobId, writeKey) => {
            u.created = { blobId, writeKey };
            // Dropped while the blob was being created: it goes at once.
            if (u.dropped) this.takeBack(u);
          },
        },
      )
      .then((blobId) => ({ ...u.enc.finish(), url: blobUrl(client.baseUrl, blobId), plainSize: size }));
    // Whoever waits sees the failure; this only keeps it from being unhandled while nobody does.
    u.finished.catch(() => undefined);
    this.touch(uploadId, u);
    return uploadId;
  }

  /** Chunk `index` of an upload: answers once it is uploaded; the last one answers with the message sent. */
  async chunk(uploadId: string, index: number, data: string): Promise<{ message?: MessageView }> {
    const u = this.uploads.get(uploadId);
    if (u === undefined) throw new ChannelError(ErrorCode.NotFound, text.TRANSFER_CANCELLED);
    const plain = fromB64(data);
    const { start, end } = u.enc.range(index);
    if (index !== u.next || index >= u.enc.chunks || plain === null || plain.length !== end - start) {
      this.drop(uploadId, u);
      throw new ChannelError(ErrorCode.BadRequest, 'chunk out of order or of the wrong length');
    }
    u.next++;
    this.touch(uploadId, u);
    u.slot(u.plain, index).resolve(plain);
    try {
      await Promise.race([u.slot(u.uploaded, index).promise, u.finished.then(() => undefined)]);
      if (index < u.enc.chunks - 1) return {};
      const sent = await u.finished;
      clearTimeout(u.idle);
      const message = await this.send(u, sent);
      // Sent: the blob is the message's now (released by its readers, or at the TTL).
      u.created = undefined;
      this.uploads.delete(uploadId);
      return { message };
    } catch (err) {
      this.drop(uploadId, u);
      if (err instanceof TransferCancelledError) throw new ChannelError(ErrorCode.InvalidInput, text.TRANSFER_CANCELLED);
      throw err;
    }
  }

  /** The message of a file now uploaded: its record names the file this device kept while sending. */
  private async send(u: Upload, sent: SentAttachment): Promise<MessageView> {
    const id = u.conversationId;
    const meta = sentMeta(sent, u.name, u.type, u.preview);
    const expires = expiryToSend(this.c.activeMeta(id), Date.now());
    let view: MessageView | undefined;
    await this.outbox.sendApp(id, outgoingBody(bodyOf(meta), expires), async (m, msgId, self, others) => {
      const rec: MessageRecord = {
        id: msgId,
        conversationId: id,
        seq: m.nextSeq++,
        kind: 'text',
        text: meta.name,
        sender: self,
        sentAt: Date.now(),
        status: 'sending',
        receipts: newReceiptState(others),
        attachment: { ...attachmentRecord(meta), fileId: u.fileId },
      };
      m.lastMessage = { preview: preview(meta.name), senderName: labelText(self), fromSelf: true };
      if (expires !== null) scheduleExpiry(m, rec.seq, expiresAt(expires, rec.sentAt));
      view = toView(rec);
      return rec;
    });
    // Our own mailbox is a recipient too: we have the file, so it lets the blob go (best effort; the TTL deletes it anyway).
    const mailbox = this.c.mailboxOf(this.c.meta(id));
    const blobId = blobIdOf(this.client().baseUrl, sent.url);
    if (mailbox !== undefined && blobId !== null) void this.client().release(blobId, mailbox).catch(() => undefined);
    return view!;
  }

  /** Stop an upload (what it stored goes) or a download under way. */
  cancel(id: string, transferId: string): void {
    const u = this.uploads.get(transferId);
    if (u !== undefined && u.conversationId === id) return this.drop(transferId, u);
    this.downloads.get(`${id}/${transferId}`)?.abort();
  }

  private touch(uploadId: string, u: Upload): void {
    clearTimeout(u.idle);
    u.idle = setTimeout(() => this.drop(uploadId, u), UPLOAD_IDLE_MS);
  }

  private drop(uploadId: string, u: Upload): void {
    u.dropped = true;
    this.takeBack(u);
    clearTimeout(u.idle);
    this.uploads.delete(uploadId);
    u.controller.abort();
    for (const s of u.plain.values()) s.reject(new TransferCancelledError());
    u.enc.wipe();
    void this.files.drop(u.conversationId, u.fileId).catch(() => undefined);
  }

  /** What was uploaded of a file whose message will not be sent goes from the relay now, not at its TTL (best effort: the TTL stays). */
  private takeBack(u: Upload): void {
    const blob = u.created;
    u.created = undefined;
    if (blob !== undefined) void this.client().remove(blob.blobId, blob.writeKey).catch(() => undefined);
  }

  // -- receiving -------------------------------------------------------------------

  /** New records from a delivery: small images are fetched at once (the rest when the person asks). */
  received(id: string, records: readonly MessageRecord[] | undefined): void {
    for (const r of records ?? []) {
      const a = r.attachment;
      if (a?.thumbnail !== undefined && a.fileId === undefined && a.error === undefined && a.plainSize <= AUTO_DOWNLOAD_BYTES && !r.sender.self) {
        void this.download(id, r.id).catch(() => undefined);
      }
    }
  }

  /** Fetch, check and decrypt a message's file; progress and the end go to the views. Answers at once. */
  async download(id: string, messageId: string): Promise<void> {
    const rec = await this.fileMessage(id, messageId);
    const a = rec.attachment!;
    const key = `${id}/${messageId}`;
    if (a.fileId !== undefined || a.error === 'hash' || this.downloads.has(key)) return;
    const controller = new AbortController();
    this.downloads.set(key, controller);
    void this.fetchFile(id, rec, controller).finally(() => this.downloads.delete(key));
  }

  private async fetchFile(id: string, rec: MessageRecord, controller: AbortController): Promise<void> {
    const meta: AttachmentMeta = attachmentMeta(rec.attachment!);
    const event = (state: TransferEvent['state'], done: number, total: number): void =>
      this.onTransfer({ type: 'transfer', conversationId: id, messageId: rec.id, done, total, state });
    const mailbox = this.c.mailboxOf(this.c.meta(id));
    const client = this.client();
    const fileId = randomId();
    try {
      if (mailbox === undefined) throw new ChannelError(ErrorCode.NotFound, text.NO_SUCH_CONVERSATION);
      const plain = await downloadAttachment(meta.url, meta, client, mailbox, { signal: controller.signal, onProgress: (done, total) => event('running', done, total) });
      for (let i = 0, at = 0; i === 0 || at < plain.length; i++, at += PLAIN_CHUNK_BYTES) await this.files.put(id, fileId, i, plain.subarray(at, at + PLAIN_CHUNK_BYTES));
      plain.fill(0);
      const kept = await this.mark(id, rec.id, { fileId });
      if (!kept) await this.files.drop(id, fileId);
      const blobId = blobIdOf(client.baseUrl, meta.url);
      if (blobId !== null) void client.release(blobId, mailbox).catch(() => undefined);
      event('done', meta.size, meta.size);
    } catch (err) {
      await this.files.drop(id, fileId).catch(() => undefined);
      if (err instanceof TransferCancelledError) return event('cancelled', 0, meta.size);
      await this.mark(id, rec.id, { error: errorOf(err) }).catch(() => false);
      event('failed', 0, meta.size);
    }
  }

  /** Write the file's outcome on its record, if the message is still there with its file (not deleted meanwhile). */
  private mark(id: string, messageId: string, change: { fileId: string } | { error: AttachmentError }): Promise<boolean> {
    return this.c.serial(async () => {
      const now = await this.c.store.message(id, messageId).catch(() => undefined);
      if (now?.attachment === undefined || now.deleted === true || !this.c.metas.has(id)) return false;
      const { error: _e, ...att } = now.attachment;
      await this.c.apply({ messages: [{ ...now, attachment: { ...att, ...change } }] });
      return true;
    });
  }

  /** Chunk `index` of a message's file on this device (for the view to save it). */
  async read(id: string, messageId: string, index: number): Promise<{ data: string; last: boolean }> {
    const rec = await this.fileMessage(id, messageId);
    const fileId = rec.attachment!.fileId;
    const data = fileId === undefined ? undefined : await this.files.read(id, fileId, index);
    if (fileId === undefined || data === undefined) throw new ChannelError(ErrorCode.NotFound, text.NO_FILE);
    return { data: toB64(data), last: await this.files.isLast(id, fileId, index) };
  }

  private async fileMessage(id: string, messageId: string): Promise<MessageRecord> {
    this.c.meta(id);
    const rec = await this.c.store.message(id, messageId).catch(() => undefined);
    if (rec?.attachment === undefined || rec.deleted === true) throw new ChannelError(ErrorCode.NotFound, text.NO_FILE);
    return rec;
  }
}

/** What the person is told of a failed download: the content was not what was announced, the relay no longer has it, or it failed. */
function errorOf(err: unknown): AttachmentError {
  if (err instanceof CryptoError) return 'hash';
  if (err instanceof RelayApiError && err.status === 404) return 'gone';
  return 'failed';
}
