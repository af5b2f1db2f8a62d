/**
 * What a message record keeps of its file (sealed with the record, vault.ts):
 * the external part's fields in base64url, the name and label, the sender's
 * preview, and whether the file is on this device (the `files` store, under
 * `fileId`, sealed chunk by chunk: attachment-files.ts). And what the view
 * gets of it: never the key, the url or the hash.
 */
import { fromB64, toB64 } from '../bytes.ts';
import type { AttachmentError, AttachmentView } from '../protocol/attachments.ts';
import type { AttachmentMeta } from './attachment-part.ts';

export interface AttachmentRecord {
  url: string;
  size: number;
  plainSize: number;
  key: string;
  nonce: string;
  aad: string;
  contentHash: string;
  name: string;
  type: string;
  thumbnail?: { type: 'image/jpeg' | 'image/webp'; data: string };
  /** The file's chunks in the `files` store: set once every chunk is there and checked. */
  fileId?: string;
  error?: AttachmentError;
}

export function attachmentRecord(m: AttachmentMeta): AttachmentRecord {
  return {
    url: m.url,
    size: m.size,
    plainSize: m.plainSize,
    key: toB64(m.key),
    nonce: toB64(m.nonce),
    aad: toB64(m.aad),
    contentHash: toB64(m.contentHash),
    name: m.name,
    type: m.type,
    ...(m.thumbnail === undefined ? {} : { thumbnail: { type: m.thumbnail.type, data: toB64(m.thumbnail.data) } }),
  };
}

export function attachmentMeta(r: AttachmentRecord): AttachmentMeta {
  const b = (s: string): Uint8Array => fromB64(s) ?? new Uint8Array(0);
  return { url: r.url, size: r.size, plainSize: r.plainSize, key: b(r.key), nonce: b(r.nonce), aad: b(r.aad), contentHash: b(r.contentHash), name: r.name, type: r.type };
}

export function attachmentView(r: AttachmentRecord): AttachmentView {
  return {
    name: r.name,
    type: r.type,
    size: r.plainSize,
    ...(r.thumbnail === undefined ? {} : { preview: { ...r.thumbnail } }),
    ...(r.fileId === undefined ? {} : { saved: true }),
    ...(r.error === undefined ? {} : { error: r.error }),
  };
}
