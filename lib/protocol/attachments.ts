/**
 * The view contract of files and images in conversations (issue #20): what a
 * MessageView carries of a file, the requests that send, fetch, cancel and
 * save one, and the live event with a download's progress. Parsed as
 * strictly as the rest of channel.ts, which extends all three.
 *
 * Bytes cross the channel as base64url, one chunk per request (at most
 * ATTACHMENT_CHUNK_BYTES), so neither side ever holds a 25 MiB file as
 * several copies: the view sends a file chunk by chunk and waits for each to
 * be encrypted and uploaded; a saved file comes back the same way.
 *
 * Imports only lib/bytes.ts (through nothing at all here): plain data.
 */

/** The largest file a person may send (issue #20): 25 MiB. The background checks it again. */
export const MAX_FILE_BYTES = 25 * 1024 * 1024;
/** Plaintext bytes per chunk on the channel: one encrypted relay chunk (1 MiB) less the AEAD tag. */
export const ATTACHMENT_CHUNK_BYTES = 1024 * 1024 - 16;
/** A preview the view made (a small JPEG or WebP); the background checks it as recipients will. It travels inside the message, under the relay's 11 KiB limit. */
export const MAX_PREVIEW_BYTES = 8 * 1024;
/** Images at most this large are fetched as soon as they arrive; other files when the person asks. */
export const AUTO_DOWNLOAD_BYTES = 4 * 1024 * 1024;

/** Why a file cannot be shown or saved. 'hash': its content is not what the sender announced (never shown). */
export type AttachmentError = 'hash' | 'failed' | 'gone';

/** A file in a message, as the view may show it. */
export interface AttachmentView {
  /** The file name, made safe by the background (no path, no control or direction characters). */
  name: string;
  /** The sender's content type: a label, never how the file is rendered. */
  type: string;
  /** Bytes of the file. */
  size: number;
  /** A preview the sending device made: an image/jpeg or image/webp, base64url. */
  preview?: { type: 'image/jpeg' | 'image/webp'; data: string };
  /** The file is on this device (encrypted in its store) and can be saved. */
  saved?: boolean;
  error?: AttachmentError;
}

export interface AttachmentFields {
  attachment?: AttachmentView;
}

/** A download's progress (or end), pushed on the live port; `transferId` is the message id. */
export interface TransferEvent {
  type: 'transfer';
  conversationId: string;
  messageId: string;
  done: number;
  total: number;
  state: 'running' | 'done' | 'cancelled' | 'failed';
}

export interface AttachmentRequests<V> {
  /** Start sending a file: answers an upload id for its chunks. Over MAX_FILE_BYTES is refused (InvalidInput). */
  'attachment.begin': {
    params: { conversationId: string; name: string; type: string; size: number; preview?: { type: string; data: string } };
    result: { uploadId: string };
  };
  /** Chunk `index` of the file (ATTACHMENT_CHUNK_BYTES, the last shorter): answers once it is encrypted and uploaded; after the last, with the message sent. */
  'attachment.chunk': { params: { uploadId: string; index: number; data: string }; result: { message?: V } };
  /** Stop an upload (its blob and what was stored go) or a download under way. */
  'attachment.cancel': { params: { conversationId: string; transferId: string }; result: null };
  /** Fetch, check and decrypt the file of a message; progress comes as TransferEvents, the end as a changed message. */
  'attachment.download': { params: { conversationId: string; messageId: string }; result: null };
  /** Chunk `index` of a saved file (the view asked to save it). */
  'attachment.read': { params: { conversationId: string; messageId: string; index: number }; result: { data: string; last: boolean } };
}

type Params = Record<string, unknown>;

/** The strict readers of channel.ts, passed in (this file cannot import channel.ts, which imports it). */
export interface AttachmentReaders {
  keys(p: Params, allowed: readonly string[]): void;
  str(p: Params, k: string, max: number): string;
  id(p: Params, k: string): string;
  int(p: Params, k: string, min: number, max: number): number;
  bad(message: string): Error;
}

const B64 = /^[A-Za-z0-9_-]*$/;
const b64Length = (bytes: number): number => Math.ceil((bytes * 4) / 3);
const MAX_CHUNKS = Math.ceil(MAX_FILE_BYTES / ATTACHMENT_CHUNK_BYTES);

export function attachmentValidators<V>(r: AttachmentReaders) {
  type R = AttachmentRequests<V>;
  const bytes = (p: Params, k: string, max: number): string => {
    const v = r.str(p, k, b64Length(max));
    if (!B64.test(v)) throw r.bad(`${k} is not base64url`);
    return v;
  };
  const preview = (v: unknown): { type: string; data: string } => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw r.bad('preview must be an object');
    const p = v as Params;
    r.keys(p, ['type', 'data']);
    return { type: r.str(p, 'type', 32), data: bytes(p, 'data', MAX_PREVIEW_BYTES) };
  };
  return {
    'attachment.begin': (p: Params): R['attachment.begin']['params'] => {
      r.keys(p, ['conversationId', 'name', 'type', 'size', 'preview']);
      // The size is checked by the background (it says so in the person's words); here only its shape.
      const size = r.int(p, 'size', 0, Number.MAX_SAFE_INTEGER);
      const out = { conversationId: r.id(p, 'conversationId'), name: r.str(p, 'name', 1024), type: r.str(p, 'type', 255), size };
      return p.preview === undefined ? out : { ...out, preview: preview(p.preview) };
    },
    'attachment.chunk': (p: Params): R['attachment.chunk']['params'] => (
      r.keys(p, ['uploadId', 'index', 'data']), { uploadId: r.id(p, 'uploadId'), index: r.int(p, 'index', 0, MAX_CHUNKS - 1), data: bytes(p, 'data', ATTACHMENT_CHUNK_BYTES) }
    ),
    'attachment.cancel': (p: Params): R['attachment.cancel']['params'] => (
      r.keys(p, ['conversationId', 'transferId']), { conversationId: r.id(p, 'conversationId'), transferId: r.id(p, 'transferId') }
    ),
    'attachment.download': (p: Params): R['attachment.download']['params'] => (
      r.keys(p, ['conversationId', 'messageId']), { conversationId: r.id(p, 'conversationId'), messageId: r.id(p, 'messageId') }
    ),
    'attachment.read': (p: Params): R['attachment.read']['params'] => (
      r.keys(p, ['conversationId', 'messageId', 'index']),
      { conversationId: r.id(p, 'conversationId'), messageId: r.id(p, 'messageId'), index: r.int(p, 'index', 0, MAX_CHUNKS - 1) }
    ),
  } as const;
}
