/**
 * Encoder of MIMI content (draft-ietf-mimi-content-08, Appendix B), in the
 * same strict profile the decoder accepts (decode.ts): preferred serialization,
 * definite lengths, extensions in the order given. So decode(encode(c)) is c,
 * and encode(decode(b)) is b for every b the decoder accepts.
 *
 * A value that breaks the CDDL is refused with a ContentError (Unencodable)
 * before any byte is written: we never send what we would not accept.
 */
import { encode as encodeCbor, type EncodeOptions } from 'cbor2';
import { ContentError, ContentErrorReason } from './errors.ts';
import { Cardinality, type MimiContent, type NestedPart } from './types.ts';

const CBOR_OPTIONS: EncodeOptions = { collapseBigInts: true };

const unencodable = (message: string): ContentError => new ContentError(ContentErrorReason.Unencodable, message);

/** Any CBOR value as the decoder gave it (an extension value), in preferred serialization. */
export function encodeCborValue(v: unknown): Uint8Array {
  try {
    return encodeCbor(v, CBOR_OPTIONS);
  } catch (err) {
    throw new ContentError(ContentErrorReason.Unencodable, 'a value that is not CBOR', { cause: err });
  }
}

export function encodeContent(c: MimiContent): Uint8Array {
  if (c.salt.length !== 16) throw unencodable('salt is 16 octets');
  for (const id of [c.replaces, c.inReplyTo]) if (id !== null && id.length !== 32) throw unencodable('a message id is 32 octets');
  if (c.expires !== null && !isUint(c.expires.time, 0xffff_ffff)) throw unencodable('expires.time is a uint32');
  const value = [
    c.salt,
    c.replaces,
    c.topicId,
    c.expires === null ? null : [c.expires.relative, c.expires.time],
    c.inReplyTo,
    c.extensions,
    part(c.body),
  ];
  return encodeCborValue(value);
}

function part(p: NestedPart): unknown[] {
  if (!isUint(p.disposition, 0xff)) throw unencodable('disposition is a uint8');
  const head = [p.disposition, p.language, p.cardinality];
  switch (p.cardinality) {
    case Cardinality.nullpart:
      return head;
    case Cardinality.single:
      return [...head, p.contentType, p.content];
    case Cardinality.external:
      if (!isUint(p.expires, 0xffff_ffff) || !isUint(p.encAlg, 0xffff) || !isUint(p.hashAlg, 0xff)) throw unencodable('an external part field is out of range');
      if (p.size < 0n || p.size > 0xffff_ffff_ffff_ffffn) throw unencodable('size is a uint64');
      return [...head, p.contentType, p.url, p.expires, p.size, p.encAlg, p.key, p.nonce, p.aad, p.hashAlg, p.contentHash, p.description, p.filename];
    case Cardinality.multi:
      if (p.parts.length < 2) throw unencodable('a multipart has at least 2 parts');
      return [...head, p.partSemantics, p.parts.map(part)];
  }
}

function isUint(v: number, max: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= max;
}
