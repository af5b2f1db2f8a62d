/**
 * Files in the view (issue #20): sending a file chunk by chunk through the
 * channel (lib/protocol/attachments.ts), the progress of uploads and
 * downloads, cancelling either, and saving a file the person asked for.
 *
 * The view never renders a file: an image shows as the sender's preview
 * (ImagePreview.svelte), and Save always hands the bytes to the browser as a
 * download (application/octet-stream, the safe name as the file name),
 * through a Blob URL made only then and revoked right after.
 */
import { fromB64, toB64 } from '../bytes.ts';
import { ATTACHMENT_CHUNK_BYTES, MAX_FILE_BYTES, type TransferEvent } from '../protocol/attachments.ts';
import type { MessageView, Method, Params, Result } from '../protocol/channel.ts';
import { makePreview } from './image-preview.ts';

type Request = <M extends Method>(method: M, params: Params<M>) => Promise<Result<M>>;

export type UploadState = 'preparing' | 'uploading' | 'cancelled' | 'failed';

/** A file being sent from this view (shown above the composer until its message arrives). */
export interface UploadView {
  key: number;
  conversationId: string;
  name: string;
  done: number;
  total: number;
  state: UploadState;
  error?: string;
}

export class AttachmentTransfers {
  uploads = $state<UploadView[]>([]);
  /** Downloads under way, by message id. */
  downloads = $state<Record<string, { done: number; total: number }>>({});
  private nextKey = 0;
  /** Upload ids by key, and the keys the person cancelled: lookups, not state. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly ids = new Map<number, string>();
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly stopped = new Set<number>();

  constructor(
    private readonly request: Request,
    private readonly onsent: (m: MessageView) => void,
    private readonly describe: (err: unknown) => string,
  ) {}

  /** Send `file`; false when it is over 25 MiB (nothing is sent: the composer says so). */
  async send(conversationId: string, file: File): Promise<boolean> {
    if (file.size > MAX_FILE_BYTES) return false;
    const key = this.nextKey++;
    this.uploads = [...this.uploads, { key, conversationId, name: file.name, done: 0, total: file.size, state: 'preparing' }];
    try {
      const preview = file.type.startsWith('image/') ? await makePreview(file) : undefined;
      const { uploadId } = await this.request('attachment.begin', {
        conversationId,
        name: file.name,
        type: file.type,
        size: file.size,
        ...(preview === undefined ? {} : { preview: { type: preview.type, data: toB64(preview.data) } }),
      });
      this.ids.set(key, uploadId);
      this.update(key, { state: 'uploading' });
      const chunks = Math.max(1, Math.ceil(file.size / ATTACHMENT_CHUNK_BYTES));
      for (let i = 0; i < chunks; i++) {
        if (this.stopped.has(key)) return false;
        const part = new Uint8Array(await file.slice(i * ATTACHMENT_CHUNK_BYTES, (i + 1) * ATTACHMENT_CHUNK_BYTES).arrayBuffer());
        const { message } = await this.request('attachment.chunk', { uploadId, index: i, data: toB64(part) });
        this.update(key, { done: Math.min(file.size, (i + 1) * ATTACHMENT_CHUNK_BYTES) });
        if (message !== undefined) {
          this.onsent(message);
          this.uploads = this.uploads.filter((u) => u.key !== key);
        }
      }
      return true;
    } catch (err) {
      if (!this.stopped.has(key)) this.update(key, { state: 'failed', error: this.describe(err) });
      return false;
    } finally {
      this.ids.delete(key);
    }
  }

  /** Stop sending: the background drops the blob and what it kept. */
  async cancelUpload(key: number): Promise<void> {
    const u = this.uploads.find((x) => x.key === key);
    if (u === undefined) return;
    this.stopped.add(key);
    this.update(key, { state: 'cancelled' });
    const id = this.ids.get(key);
    if (id !== undefined) await this.request('attachment.cancel', { conversationId: u.conversationId, transferId: id }).catch(() => undefined);
  }

  dismiss(key: number): void {
    this.uploads = this.uploads.filter((u) => u.key !== key);
    this.stopped.delete(key);
  }

  async download(conversationId: string, messageId: string): Promise<void> {
    this.downloads = { ...this.downloads, [messageId]: { done: 0, total: 0 } };
    await this.request('attachment.download', { conversationId, messageId }).catch(() => this.ended(messageId));
  }

  async cancelDownload(conversationId: string, messageId: string): Promise<void> {
    await this.request('attachment.cancel', { conversationId, transferId: messageId }).catch(() => undefined);
  }

  onTransfer(e: TransferEvent): void {
    if (e.state === 'running') this.downloads = { ...this.downloads, [e.messageId]: { done: e.done, total: e.total } };
    else this.ended(e.messageId);
  }

  private ended(messageId: string): void {
    const { [messageId]: _gone, ...rest } = this.downloads;
    this.downloads = rest;
  }

  /** Hand a stored file to the browser as a download, when the person asked. */
  async save(conversationId: string, message: MessageView): Promise<void> {
    const parts: Uint8Array<ArrayBuffer>[] = [];
    for (let index = 0; ; index++) {
      const { data, last } = await this.request('attachment.read', { conversationId, messageId: message.id, index });
      parts.push(new Uint8Array(fromB64(data) ?? new Uint8Array(0)));
      if (last) break;
    }
    // Never the sender's type: a text/html file must not open as a page.
    const url = URL.createObjectURL(new Blob(parts, { type: 'application/octet-stream' }));
    try {
      const a = document.createElement('a');
      a.href = url;
      a.download = message.attachment?.name ?? 'file';
      a.rel = 'noopener';
      a.click();
    } finally {
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    }
  }

  private update(key: number, change: Partial<UploadView>): void {
    this.uploads = this.uploads.map((u) => (u.key === key ? { ...u, ...change } : u));
  }
}
