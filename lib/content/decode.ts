/**
 * Strict decoder of MIMI content (draft-ietf-mimi-content-08, Appendix B).
 *
 * Two stages, like every reader of network bytes here: CBOR (RFC 8949) under
 * a strict profile, then the CDDL shape, field by field. Anything wrong is a
 * ContentError; nothing else escapes, and no partial value is returned.
 *
 * The CBOR profile (RFC 8949 §4.2.1 preferred serialization, definite lengths
 * only) gives every accepted message exactly one encoding, so what we accept
 * re-encodes to its own bytes (encode.ts), and a message id, which hashes the
 * bytes as received (message-id.ts), cannot be varied by re-encoding the same
 * content. Duplicate map keys are refused (§3.3: "MUST NOT include more than
 * one extension field with the same map key"), as are simple values other than
 * false/true/null, `undefined`, and tags are kept opaque (never interpreted).
 *
 * Rule ids (C-…) appear at each check and in tests/content/.
 */
import { decode as decodeCbor, type DecodeOptions } from 'cbor2';
import { ContentError, ContentErrorReason } from './errors.ts';
import { encodeCborValue } from './encode.ts';
import {
  Cardinality,
  ExtensionKeys,
  type Expiration,
  type ExtensionKey,
  type MessageId,
  type MimiContent,
  type NestedPart,
  type PartSemantics,
} from './types.ts';

/** Our cap on one content (images' previews travel inside it); larger is refused before CBOR is read. */
export const MAX_CONTENT_BYTES = 512 * 1024;
/** §9 "General handling": more than 4 levels of nesting, or more than 1024 parts, is malicious. */
export const MAX_PART_DEPTH = 4;
export const MAX_PARTS = 1024;
/** §9: a topicId over 4096 octets is malicious. */
export const MAX_TOPIC_ID = 4096;
/** §3.3: an extension value is `any .size (0..4095)`. */
export const MAX_EXTENSION_VALUE = 4095;
/** SHA-256, the one hash algorithm (IANA Named Information id 1) a message id may name (§2.3, §9). */
export const MESSAGE_ID_SHA256 = 0x01;

const CBOR_OPTIONS: DecodeOptions = {
  rejectDuplicateKeys: true,
  requirePreferred: true,
  rejectLongFloats: true,
  rejectLongLoundNaN: true,
  rejectStreaming: true,
  rejectSimple: true,
  rejectUndefined: true,
  rejectLargeNegatives: true,
  ignoreGlobalTags: true,
  preferMap: true,
  // The content is at most 4 part levels deep inside 3 container levels; extension values get the rest.
  maxDepth: 32,
};

const shape = (message: string): ContentError => new ContentError(ContentErrorReason.Shape, message);
const tooLarge = (message: string): ContentError => new ContentError(ContentErrorReason.TooLarge, message);

/** Decode one MIMI content. Throws only ContentError. */
export function decodeContent(bytes: Uint8Array): MimiContent {
  if (bytes.length > MAX_CONTENT_BYTES) throw tooLarge(`C-SIZE-1: content over ${MAX_CONTENT_BYTES} octets`);
  let value: unknown;
  try {
    // A plain Uint8Array over its own buffer: cbor2 reads subarrays of Node Buffers wrongly.
    value = decodeCbor(Uint8Array.from(bytes), CBOR_OPTIONS);
  } catch (err) {
    throw new ContentError(ContentErrorReason.Cbor, 'C-CBOR-1: not CBOR in the strict profile', { cause: err });
  }
  try {
    return readContent(value);
  } catch (err) {
    if (err instanceof ContentError) throw err;
    // Only a fault of ours lands here (the readers throw ContentError); still a typed answer for the caller.
    throw new ContentError(ContentErrorReason.Shape, 'C-SHAPE-0: content could not be read', { cause: err });
  }
}

function readContent(v: unknown): MimiContent {
  const a = array(v, 7, 'C-TOP-1: mimiContent is an array of 7');
  const salt = bstr(a[0], 'salt');
  if (salt.length !== 16) throw shape('C-TOP-2: salt is 16 octets');
  const topicId = bstr(a[2], 'topicId');
  if (topicId.length > MAX_TOPIC_ID) throw tooLarge('C-TOP-3: topicId over 4096 octets');
  const counter = { parts: 0 };
  return {
    salt,
    replaces: a[1] === null ? null : messageId(a[1], 'replaces'),
    topicId,
    expires: a[3] === null ? null : expiration(a[3]),
    inReplyTo: a[4] === null ? null : messageId(a[4], 'inReplyTo'),
    extensions: extensions(a[5]),
    body: nestedPart(a[6], 1, counter),
  };
}

/** C-ID-1 (§2.3, §9): 32 octets, and the first names SHA-256 (an unknown hash algorithm is malicious). */
function messageId(v: unknown, field: string): MessageId {
  const b = bstr(v, field);
  if (b.length !== 32) throw shape(`C-ID-1: ${field} is a 32-octet message id`);
  if (b[0] !== MESSAGE_ID_SHA256) throw shape(`C-ID-1: ${field} names an unknown hash algorithm`);
  return b as MessageId;
}

/** C-EXP-1 (§3.1): [relative: bool, time: uint .size 4]. */
function expiration(v: unknown): Expiration {
  const a = array(v, 2, 'C-EXP-1: expires is [relative, time]');
  if (typeof a[0] !== 'boolean') throw shape('C-EXP-1: expires.relative is a boolean');
  return { relative: a[0], time: uint(a[1], 0xffff_ffff, 'expires.time') };
}

/** C-EXT-1..3 (§3.3): keys int or tstr of 1..255 octets, no duplicates (CBOR profile), values of at most 4095 octets. */
function extensions(v: unknown): Map<ExtensionKey, unknown> {
  if (!(v instanceof Map)) throw shape('C-EXT-1: mimiExtensions is a map');
  const out = new Map<ExtensionKey, unknown>();
  for (const [k, value] of v as Map<unknown, unknown>) {
    let key: ExtensionKey;
    if (typeof k === 'number' && Number.isSafeInteger(k)) key = k;
    else if (typeof k === 'string' && new TextEncoder().encode(k).length >= 1 && new TextEncoder().encode(k).length <= 255) key = k;
    else throw shape('C-EXT-1: an extension key is an integer or a text of 1..255 octets');
    if ((key === ExtensionKeys.senderUri || key === ExtensionKeys.roomUri) && typeof value !== 'string') {
      throw shape('C-EXT-2: senderUri and roomUri are text');
    }
    if (encodeCborValue(value).length > MAX_EXTENSION_VALUE) throw tooLarge('C-EXT-3: an extension value over 4095 octets');
    out.set(key, value);
  }
  return out;
}

function nestedPart(v: unknown, depth: number, counter: { parts: number }): NestedPart {
  // C-PART-1 (§9): at most 4 levels, at most 1024 parts.
  if (depth > MAX_PART_DEPTH) throw tooLarge('C-PART-1: parts nested more than 4 levels deep');
  if (++counter.parts > MAX_PARTS) throw tooLarge('C-PART-1: more than 1024 parts');
  if (!Array.isArray(v) || v.length < 3) throw shape('C-PART-2: a NestedPart is an array [disposition, language, cardinality, ...]');
  const head = { disposition: uint(v[0], 0xff, 'disposition'), language: tstr(v[1], 'language') };
  const cardinality = v[2] as unknown;
  switch (cardinality) {
    case Cardinality.nullpart:
      if (v.length !== 3) throw shape('C-PART-3: a NullPart has nothing after its cardinality');
      return { ...head, cardinality };
    case Cardinality.single:
      if (v.length !== 5) throw shape('C-PART-4: a SinglePart is [.., 1, contentType, content]');
      return { ...head, cardinality, contentType: tstr(v[3], 'contentType'), content: bstr(v[4], 'content') };
    case Cardinality.external:
      if (v.length !== 15) throw shape('C-PART-5: an ExternalPart has 12 fields after its cardinality');
      return {
        ...head,
        cardinality,
        contentType: tstr(v[3], 'contentType'),
        url: tstr(v[4], 'url'),
        expires: uint(v[5], 0xffff_ffff, 'expires'),
        size: uint64(v[6], 'size'),
        encAlg: uint(v[7], 0xffff, 'encAlg'),
        key: bstr(v[8], 'key'),
        nonce: bstr(v[9], 'nonce'),
        aad: bstr(v[10], 'aad'),
        hashAlg: uint(v[11], 0xff, 'hashAlg'),
        contentHash: bstr(v[12], 'contentHash'),
        description: tstr(v[13], 'description'),
        filename: tstr(v[14], 'filename'),
      };
    case Cardinality.multi: {
      if (v.length !== 5) throw shape('C-PART-6: a MultiPart is [.., 3, partSemantics, parts]');
      const semantics = v[3] as unknown;
      // §9: an unknown PartSemantics value is malicious.
      if (semantics !== 0 && semantics !== 1 && semantics !== 2) throw shape('C-PART-6: unknown partSemantics');
      const list = v[4] as unknown;
      if (!Array.isArray(list) || list.length < 2) throw shape('C-PART-6: a MultiPart has at least 2 parts');
      if (counter.parts + list.length > MAX_PARTS) throw tooLarge('C-PART-1: more than 1024 parts');
      const parts = list.map((p: unknown) => nestedPart(p, depth + 1, counter));
      return { ...head, cardinality, partSemantics: semantics as PartSemantics, parts };
    }
    default:
      throw shape('C-PART-2: unknown cardinality');
  }
}

// -- primitive readers ----------------------------------------------------------

function array(v: unknown, length: number, rule: string): unknown[] {
  if (!Array.isArray(v) || v.length !== length) throw shape(rule);
  return v;
}

function bstr(v: unknown, field: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw shape(`C-TYPE-1: ${field} is a byte string`);
  return v;
}

function tstr(v: unknown, field: string): string {
  if (typeof v !== 'string') throw shape(`C-TYPE-2: ${field} is a text string`);
  return v;
}

/**
 * An unsigned integer of at most `max`. Floats never reach here as integers:
 * the profile refuses a float that could have been an integer, and -0 is refused below.
 */
function uint(v: unknown, max: number, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || Object.is(v, -0) || v < 0 || v > max) throw shape(`C-TYPE-3: ${field} is an unsigned integer up to ${max}`);
  return v;
}

/** uint .size 8: cbor2 gives a number up to 2^53 and a bigint beyond. */
function uint64(v: unknown, field: string): bigint {
  if (typeof v === 'bigint' && v >= 0n && v <= 0xffff_ffff_ffff_ffffn) return v;
  return BigInt(uint(v, Number.MAX_SAFE_INTEGER, field));
}
