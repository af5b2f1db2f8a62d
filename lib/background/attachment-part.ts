/**
 * A file in a conversation as MIMI content (issue #20; draft-ietf-mimi-content
 * §3.5 external parts): what the body of a message carrying an attachment
 * is, how we build it, and how a received one is read, strictly.
 *
 *   without a preview   body = ExternalPart (disposition attachment)
 *   with a preview      body = MultiPart singleUnit [ExternalPart, SinglePart]
 *                       the single part: disposition preview, image/jpeg or
 *                       image/webp, the sender's small thumbnail
 *
 * Everything here comes from another member and is hostile (docs/rich-messages.md):
 *   ATT-PART-1  the external part must be ours to fetch and decrypt: AES-256-GCM
 *               (encAlg 2), SHA-256 (hashAlg 1), a 32-byte key, a 12-byte nonce,
 *               a 32-byte hash, a size some file of at most 25 MiB encrypts to, a
 *               url of at most 2048 characters; otherwise the message is unshowable
 *   ATT-NAME-1  the file name is shown and saved as a name only: path separators,
 *               control and bidirectional-override characters are removed, it is
 *               cut to 120 characters, and an empty or dot-only name becomes "file"
 *   ATT-TYPE-1  the content type is a label only (at most 100 characters of
 *               type/subtype, otherwise application/octet-stream); the view never
 *               renders the file by it and always saves it as a download
 *   ATT-THUMB-1 a preview is at most MAX_THUMBNAIL_BYTES, says image/jpeg or
 *               image/webp and starts with that format's signature; anything else
 *               is dropped (the file still shows, as a card)
 */
import { CryptoError } from '../crypto/errors.ts';
import { Cardinality, Disposition, PartSemantics, type ExternalPart, type NestedPart, type SinglePart } from '../content/types.ts';
import { ATTACHMENT_KEY_BYTES, ATTACHMENT_NONCE_BYTES, ENC_ALG_AES_256_GCM, HASH_ALG_SHA_256, MAX_ATTACHMENT_BYTES, ciphertextSize, plaintextSize } from './attachment-crypto.ts';
import type { SentAttachment } from './attachments.ts';

/**
 * The largest preview a message may carry: the whole MLS message must stay under the relay's
 * message limit (11 KiB by default, relay/config.ts), with the external part and framing beside it.
 */
export const MAX_THUMBNAIL_BYTES = 8 * 1024;
export const MAX_FILE_NAME = 120;
const MAX_CONTENT_TYPE = 100;
const MAX_URL = 2048;
const HASH_BYTES = 32;
export const THUMBNAIL_TYPES = ['image/jpeg', 'image/webp'] as const;
export type ThumbnailType = (typeof THUMBNAIL_TYPES)[number];

/** A file as a message carries it: what to fetch and decrypt, what to show. */
export interface AttachmentMeta {
  url: string;
  /** Ciphertext bytes at the url. */
  size: number;
  /** The file's own bytes. */
  plainSize: number;
  key: Uint8Array;
  nonce: Uint8Array;
  aad: Uint8Array;
  contentHash: Uint8Array;
  /** Shown and saved as (ATT-NAME-1). */
  name: string;
  /** A label (ATT-TYPE-1). */
  type: string;
  thumbnail?: { type: ThumbnailType; data: Uint8Array };
}

/** ATT-NAME-1: a file name that is a name and nothing else. */
export function safeFileName(raw: string): string {
  const last = raw.split(/[/\\]/).pop() ?? '';
  // C0/C1 controls, bidi embeddings/overrides/isolates and marks, zero-width and BOM; then reserved on Windows.
  const clean = last
    // eslint-disable-next-line no-control-regex -- removing control characters is the point
    .replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, '')
    .replace(/[<>:"|?*]/g, '_')
    .trim();
  const cut = [...clean].slice(0, MAX_FILE_NAME).join('').trim();
  return /^\.*$/.test(cut) ? 'file' : cut;
}

const TYPE_SHAPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/;

/** ATT-TYPE-1: the content type's type/subtype, lower case, or application/octet-stream. */
export function safeContentType(raw: string): string {
  const t = (raw.split(';')[0] ?? '').trim().toLowerCase();
  return t.length <= MAX_CONTENT_TYPE && TYPE_SHAPE.test(t) ? t : 'application/octet-stream';
}

/** ATT-THUMB-1: the preview's bytes are what they say they are (a signature check; the view decodes it as an image only). */
export function isThumbnail(type: string, data: Uint8Array): type is ThumbnailType {
  if (data.length < 12 || data.length > MAX_THUMBNAIL_BYTES) return false;
  if (type === 'image/jpeg') return data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff;
  if (type === 'image/webp') {
    const ascii = (from: number, to: number): string => String.fromCharCode(...data.subarray(from, to));
    return ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP';
  }
  return false;
}

/** The file's fields as the sender puts them in the message, from what the upload answered. */
export function sentMeta(sent: SentAttachment, name: string, type: string, thumbnail?: { type: string; data: Uint8Array }): AttachmentMeta {
  let thumb: AttachmentMeta['thumbnail'];
  if (thumbnail !== undefined) {
    // The view made it; it is checked as the recipients will check it.
    if (!isThumbnail(thumbnail.type, thumbnail.data)) throw new CryptoError('ATT-THUMB-1', 'the preview is not a small JPEG or WebP image');
    thumb = { type: thumbnail.type, data: thumbnail.data };
  }
  return {
    url: sent.url,
    size: sent.size,
    plainSize: sent.plainSize,
    key: sent.key,
    nonce: sent.nonce,
    aad: sent.aad,
    contentHash: sent.contentHash,
    name: safeFileName(name),
    type: safeContentType(type),
    ...(thumb === undefined ? {} : { thumbnail: thumb }),
  };
}

/** The message body of a file (and its preview). */
export function bodyOf(m: AttachmentMeta): NestedPart {
  const external: ExternalPart = {
    disposition: Disposition.attachment,
    language: '',
    cardinality: Cardinality.external,
    contentType: m.type,
    url: m.url,
    expires: 0,
    size: BigInt(m.size),
    encAlg: ENC_ALG_AES_256_GCM,
    key: m.key,
    nonce: m.nonce,
    aad: m.aad,
    hashAlg: HASH_ALG_SHA_256,
    contentHash: m.contentHash,
    description: '',
    filename: m.name,
  };
  if (m.thumbnail === undefined) return external;
  const preview: SinglePart = { disposition: Disposition.preview, language: '', cardinality: Cardinality.single, contentType: m.thumbnail.type, content: m.thumbnail.data };
  return { disposition: Disposition.attachment, language: '', cardinality: Cardinality.multi, partSemantics: PartSemantics.singleUnit, parts: [external, preview] };
}

/** A received body as a file, or null when it is not one we can fetch (ATT-PART-1); never throws. */
export function attachmentOf(body: NestedPart): AttachmentMeta | null {
  let external: NestedPart = body;
  let preview: NestedPart | undefined;
  if (body.cardinality === Cardinality.multi) {
    if (body.partSemantics !== PartSemantics.singleUnit || body.parts.length !== 2) return null;
    [external, preview] = body.parts as [NestedPart, NestedPart];
  }
  if (external.cardinality !== Cardinality.external || external.disposition !== Disposition.attachment) return null;
  const meta = externalOf(external);
  if (meta === null) return null;
  // ATT-THUMB-1: a bad preview is dropped, the file stays.
  if (preview !== undefined && preview.cardinality === Cardinality.single && preview.disposition === Disposition.preview) {
    const type = preview.contentType.trim().toLowerCase();
    if (isThumbnail(type, preview.content)) meta.thumbnail = { type, data: preview.content.slice() };
  }
  return meta;
}

function externalOf(p: ExternalPart): AttachmentMeta | null {
  // ATT-PART-1
  if (p.encAlg !== ENC_ALG_AES_256_GCM || p.hashAlg !== HASH_ALG_SHA_256) return null;
  if (p.key.length !== ATTACHMENT_KEY_BYTES || p.nonce.length !== ATTACHMENT_NONCE_BYTES || p.contentHash.length !== HASH_BYTES || p.aad.length > 256) return null;
  if (p.url.length === 0 || p.url.length > MAX_URL) return null;
  if (p.size <= 0n || p.size > BigInt(ciphertextSize(MAX_ATTACHMENT_BYTES))) return null;
  const size = Number(p.size);
  const plainSize = plaintextSize(size);
  if (plainSize === null) return null;
  return {
    url: p.url,
    size,
    plainSize,
    key: p.key.slice(),
    nonce: p.nonce.slice(),
    aad: p.aad.slice(),
    contentHash: p.contentHash.slice(),
    name: safeFileName(p.filename),
    type: safeContentType(p.contentType),
  };
}
