/**
 * MIMI content on MicroChat's wire (docs/rich-messages.md).
 *
 * What an MLS application message of ours carries, told apart by its first
 * octet, strictly and without guessing:
 *
 *   0x87  a CBOR array of 7: MIMI content (draft-ietf-mimi-content), the
 *         person's messages: texts, replies, reactions, edits, deletes
 *   0x7B  "{": a JSON AppMessage (app-messages.ts), the bookkeeping between
 *         clients (profile, person, receipt, sync, ...) and texts of
 *         versions before MIMI content, which still show
 *   else  neither: shown as "This message can't be shown"
 *
 * A MIMI content that does not decode, or means something we do not do, is
 * shown as that sentence too, never dropped silently and never a crash; a
 * JSON message that does not parse stays ignored as before (it is bookkeeping
 * of a newer version, not something a person wrote).
 *
 * Who sent a content is the MLS sender, never a field of it: the sender and
 * room URIs that go into message ids (§2.3) are made here from the sender's
 * member id and the conversation id. A content that names another sender or
 * room in its extensions is not shown.
 */
import { fromB64, randomBytes, toB64 } from '../bytes.ts';
import { decodeContent } from '../content/decode.ts';
import { encodeContent } from '../content/encode.ts';
import { ContentError } from '../content/errors.ts';
import { messageIdOf } from '../content/message-id.ts';
import { Cardinality, Disposition, ExtensionKeys, PartSemantics, type Expiration, type MessageId, type MimiContent, type NestedPart } from '../content/types.ts';
import { LIMITS } from '../protocol/channel.ts';
import { isEmoji } from '../protocol/rich-messages.ts';
import { parseAppMessage, type AppMessage } from './app-messages.ts';
import { decodeMentions, encodeMentions, MENTION_CONTENT_TYPE } from './mentions.ts';
import type { MentionSpan } from '../protocol/mentions.ts';
import { attachmentOf, bodyOf, type AttachmentMeta } from './attachment-part.ts';

/** The first octet of a MIMI content: CBOR major type 4 (array), 7 items. */
export const MIMI_CONTENT_MARK = 0x87;
/** The first octet of a JSON AppMessage: "{". */
export const JSON_APP_MARK = 0x7b;

/** What we send for texts: plain text, shown as typed (see docs/rich-messages.md for why not markdown). */
export const TEXT_CONTENT_TYPE = 'text/plain;charset=utf-8';

const HOST = 'mimi://microchat.invalid';
/** A member's URI in message ids: their member id (safety-code.ts memberIdOf), which MLS authenticates. */
export const senderUri = (memberId: string): string => `${HOST}/m/${memberId}`;
/** A conversation's URI in message ids: its id (the MLS group id). */
export const roomUri = (conversationId: string): string => `${HOST}/r/${conversationId}`;

/** What a person meant by a content (or that it cannot be shown). Ids are base64url MIMI message ids. */
export type ContentIntent =
  | { kind: 'text'; text: string; inReplyTo?: string; mentions?: MentionSpan[] }
  | { kind: 'reaction'; target: string; emoji: string }
  | { kind: 'unreact'; reaction: string; target: string }
  | { kind: 'edit'; original: string; text: string }
  | { kind: 'delete'; original: string }
  /** A file (attachment-part.ts): fetched and decrypted only when the person asks (or a small image, at once). */
  | { kind: 'attachment'; file: AttachmentMeta; inReplyTo?: string }
  | { kind: 'unshowable' };

export interface IncomingContent {
  /** Its message id, computed from the MLS sender, the conversation and the bytes as received. */
  id: string;
  intent: ContentIntent;
  expires?: Expiration;
}

export type Payload = { kind: 'json'; app: AppMessage | null } | { kind: 'content'; content: IncomingContent };

/** Tell the two formats apart by the first octet (above), then read each strictly. */
export function readPayload(data: Uint8Array, senderMemberId: string, conversationId: string): Payload {
  if (data[0] === JSON_APP_MARK) return { kind: 'json', app: parseAppMessage(data) };
  return { kind: 'content', content: readContent(data, senderMemberId, conversationId) };
}

/** A content from a member: its id and meaning; never throws (anything wrong is 'unshowable'). */
export function readContent(data: Uint8Array, senderMemberId: string, conversationId: string): IncomingContent {
  const from = senderUri(senderMemberId);
  const room = roomUri(conversationId);
  let c: MimiContent;
  try {
    if (data[0] !== MIMI_CONTENT_MARK) throw new ContentError('shape', 'neither MIMI content nor JSON');
    c = decodeContent(data);
  } catch (err) {
    if (!(err instanceof ContentError)) throw err;
    // Still a message from this member: it gets an id of its own (no salt to hash), and shows as unreadable.
    return { id: toB64(messageIdOf(from, room, data, new Uint8Array(0))), intent: { kind: 'unshowable' } };
  }
  const id = toB64(messageIdOf(from, room, data, c.salt));
  const claimed = (k: number, is: string): boolean => !c.extensions.has(k) || c.extensions.get(k) === is;
  // R-WIRE-1: a content naming someone else as its sender, or another room, is not shown.
  const intent = claimed(ExtensionKeys.senderUri, from) && claimed(ExtensionKeys.roomUri, room) ? meaning(c) : { kind: 'unshowable' as const };
  return { id, intent, ...(c.expires === null ? {} : { expires: c.expires }) };
}

function meaning(c: MimiContent): ContentIntent {
  const unshowable = { kind: 'unshowable' } as const;
  const body = c.body;
  const replaces = c.replaces === null ? undefined : toB64(c.replaces);
  const inReplyTo = c.inReplyTo === null ? undefined : toB64(c.inReplyTo);
  if (body.disposition === Disposition.reaction) {
    // An unlike names the reaction it takes back and, like the draft's example, the message it was on.
    if (replaces !== undefined) return body.cardinality === Cardinality.nullpart && inReplyTo !== undefined ? { kind: 'unreact', reaction: replaces, target: inReplyTo } : unshowable;
    const emoji = textOf(body);
    // R-WIRE-2: a reaction is one emoji, to a message.
    return emoji !== null && inReplyTo !== undefined && isEmoji(emoji) ? { kind: 'reaction', target: inReplyTo, emoji } : unshowable;
  }
  if (replaces !== undefined && body.cardinality === Cardinality.nullpart) return { kind: 'delete', original: replaces };
  if (body.disposition === Disposition.attachment) {
    // ATT-PART-1 (attachment-part.ts): a file we can fetch and decrypt, or nothing; a file is never an edit.
    const file = replaces === undefined ? attachmentOf(body) : null;
    return file === null ? unshowable : { kind: 'attachment', file, ...(inReplyTo === undefined ? {} : { inReplyTo }) };
  }
  if (!rendersAsText(body.disposition)) return unshowable;
  const t = textOf(body);
  if (t === null) return unshowable;
  if (replaces !== undefined) return { kind: 'edit', original: replaces, text: t };
  const reply = inReplyTo === undefined ? {} : { inReplyTo };
  // Mentions (mentions.ts): links to members' URIs in a markdown text.
  if (body.cardinality === Cardinality.single && body.contentType.toLowerCase().startsWith('text/markdown')) {
    const m = decodeMentions(t, memberOfUri);
    if (m.mentions.length > 0) return { kind: 'text', text: m.text, ...reply, mentions: m.mentions };
  }
  return { kind: 'text', text: t, ...reply };
}

/** The member id in one of our member URIs (`senderUri`), or null for any other URI. */
export function memberOfUri(uri: string): string | null {
  const prefix = `${HOST}/m/`;
  if (!uri.startsWith(prefix)) return null;
  const id = uri.slice(prefix.length);
  return /^[A-Za-z0-9_-]{1,128}$/.test(id) ? id : null;
}

/** Render, unspecified, inline, and unknown dispositions (9..255, "treated as render", §9) show as a text. */
function rendersAsText(d: number): boolean {
  return d === Disposition.render || d === Disposition.unspecified || d === Disposition.inline || d >= 9;
}

/** The text of a part we can show: plain text or markdown (shown as its source), in UTF-8; a chooseOne picks the first such. */
function textOf(p: NestedPart): string | null {
  if (p.cardinality === Cardinality.multi) {
    if (p.partSemantics !== PartSemantics.chooseOne) return null;
    for (const q of p.parts) {
      const t = textOf(q);
      if (t !== null) return t;
    }
    return null;
  }
  if (p.cardinality !== Cardinality.single || !isTextType(p.contentType)) return null;
  let t: string;
  try {
    t = new TextDecoder('utf-8', { fatal: true }).decode(p.content);
  } catch {
    return null;
  }
  return t.trim() === '' || t.length > LIMITS.messageText ? null : t;
}

/** text/plain or text/markdown (any variant); a charset, if given, is UTF-8. */
function isTextType(contentType: string): boolean {
  const [type, ...params] = contentType.split(';').map((s) => s.trim().toLowerCase());
  if (type !== 'text/plain' && type !== 'text/markdown') return false;
  return params.every((p) => !p.startsWith('charset=') || p === 'charset=utf-8' || p === 'charset="utf-8"');
}

// -- sending -------------------------------------------------------------------

/** What we send: the content's bytes and salt; its id follows from who sends it where (`contentId`). */
export interface OutgoingContent {
  t: 'content';
  bytes: Uint8Array;
  salt: Uint8Array;
}

/** A MIMI message id from its base64url form; undefined for anything else (an id of a message from before MIMI content). */
export function messageIdFrom(id: string): MessageId | undefined {
  const b = id.length === 43 ? fromB64(id) : null;
  return b !== null && b.length === 32 && b[0] === 0x01 ? (b as MessageId) : undefined;
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A content whose body is made elsewhere (a file: attachment-part.ts `attachmentBody`), with a fresh random salt. */
export function outgoingBody(body: NestedPart, expires: Expiration | null = null, salt: Uint8Array = randomBytes(16)): OutgoingContent {
  const c: MimiContent = { salt, replaces: null, topicId: new Uint8Array(0), expires, inReplyTo: null, extensions: new Map(), body };
  return { t: 'content', bytes: encodeContent(c), salt };
}

/** Encode what we mean as a MIMI content, with a fresh random salt (§3.1). Ids given here are valid (`messageIdFrom`). */
export function outgoing(intent: Exclude<ContentIntent, { kind: 'unshowable' }>, salt: Uint8Array = randomBytes(16), expires: Expiration | null = null): OutgoingContent {
  const id = (s: string): MessageId => {
    const m = messageIdFrom(s);
    if (m === undefined) throw new ContentError('unencodable', 'not a MIMI message id');
    return m;
  };
  const text = (t: string, disposition: number = Disposition.render, contentType = TEXT_CONTENT_TYPE): NestedPart => ({ disposition, language: '', cardinality: Cardinality.single, contentType, content: utf8(t) });
  const none = (disposition: number): NestedPart => ({ disposition, language: '', cardinality: Cardinality.nullpart });
  const base: MimiContent = { salt, replaces: null, topicId: new Uint8Array(0), expires, inReplyTo: null, extensions: new Map(), body: none(Disposition.render) };
  let c: MimiContent;
  switch (intent.kind) {
    case 'text':
      c = {
        ...base,
        inReplyTo: intent.inReplyTo === undefined ? null : id(intent.inReplyTo),
        // With mentions: the draft's mention form, a markdown text linking each to the member's URI.
        body: intent.mentions === undefined || intent.mentions.length === 0 ? text(intent.text) : text(encodeMentions(intent.text, intent.mentions, senderUri), Disposition.render, MENTION_CONTENT_TYPE),
      };
      break;
    case 'reaction':
      c = { ...base, inReplyTo: id(intent.target), body: text(intent.emoji, Disposition.reaction) };
      break;
    case 'unreact':
      c = { ...base, replaces: id(intent.reaction), inReplyTo: id(intent.target), body: none(Disposition.reaction) };
      break;
    case 'edit':
      c = { ...base, replaces: id(intent.original), body: text(intent.text) };
      break;
    case 'delete':
      c = { ...base, replaces: id(intent.original) };
      break;
    case 'attachment':
      c = { ...base, inReplyTo: intent.inReplyTo === undefined ? null : id(intent.inReplyTo), body: bodyOf(intent.file) };
      break;
  }
  return { t: 'content', bytes: encodeContent(c), salt };
}

/** The id of a content we send, as every member computes it on receipt. */
export function contentId(senderMemberId: string, conversationId: string, c: OutgoingContent): string {
  return toB64(messageIdOf(senderUri(senderMemberId), roomUri(conversationId), c.bytes, c.salt));
}
