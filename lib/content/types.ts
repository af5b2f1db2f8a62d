/**
 * The MIMI content container (draft-ietf-mimi-content-08 §3, CDDL in
 * Appendix B) as TypeScript types. Field names follow the draft; the numbers
 * in braces are the draft's field references.
 *
 *   mimiContent = [ salt, replaces {1}, topicId {2}, expires {3},
 *                   inReplyTo {4}, mimiExtensions {6}, nestedPart {7} ]
 *
 * A decoded value is always complete and valid against the CDDL (decode.ts);
 * what it means for a conversation is the background's business.
 */

declare const messageIdBrand: unique symbol;
/** A 32-octet message id (§2.3): hash algorithm octet then 31 octets of hash output. Made only by message-id.ts or decode.ts. */
export type MessageId = Uint8Array & { readonly [messageIdBrand]: true };

/** Dispositions (§3.4, IANA registry of §8): values 9..255 are unknown ones, to be treated as render. */
export const Disposition = {
  unspecified: 0,
  render: 1,
  reaction: 2,
  profile: 3,
  inline: 4,
  icon: 5,
  attachment: 6,
  session: 7,
  preview: 8,
} as const;
/** A disposition octet: one of `Disposition`, or an unknown 9..255. */
export type DispositionValue = number;

export const Cardinality = { nullpart: 0, single: 1, external: 2, multi: 3 } as const;
export type Cardinality = (typeof Cardinality)[keyof typeof Cardinality];

export const PartSemantics = { chooseOne: 0, singleUnit: 1, processAll: 2 } as const;
export type PartSemantics = (typeof PartSemantics)[keyof typeof PartSemantics];

/** §3.1 {3}: delete at an absolute time (Unix seconds) or that many seconds after reading. */
export interface Expiration {
  relative: boolean;
  /** uint .size 4 */
  time: number;
}

interface PartHead {
  disposition: DispositionValue;
  /** "" or a comma-separated list of language tags (not checked further: an unknown tag is legitimate, §9). */
  language: string;
}

export interface NullPart extends PartHead {
  cardinality: typeof Cardinality.nullpart;
}

export interface SinglePart extends PartHead {
  cardinality: typeof Cardinality.single;
  contentType: string;
  content: Uint8Array;
}

/** §3.5: content stored elsewhere, usually encrypted with a key carried here. */
export interface ExternalPart extends PartHead {
  cardinality: typeof Cardinality.external;
  contentType: string;
  url: string;
  /** uint .size 4: Unix seconds, 0 for never. */
  expires: number;
  /** uint .size 8: octets, 0 when not given (a bigint, since it may exceed 2^53). */
  size: bigint;
  /** uint .size 2: IANA AEAD algorithm, 0 for none. */
  encAlg: number;
  key: Uint8Array;
  nonce: Uint8Array;
  aad: Uint8Array;
  /** uint .size 1: IANA Named Information hash algorithm. */
  hashAlg: number;
  contentHash: Uint8Array;
  description: string;
  filename: string;
}

export interface MultiPart extends PartHead {
  cardinality: typeof Cardinality.multi;
  partSemantics: PartSemantics;
  /** At least two. */
  parts: NestedPart[];
}

export type NestedPart = NullPart | SinglePart | ExternalPart | MultiPart;

/** An extension key (§3.3): an integer, or a text string of 1..255 octets. */
export type ExtensionKey = number | string;

/** Well-known extension keys (§8 registry). */
export const ExtensionKeys = { senderUri: 1, roomUri: 2 } as const;

export interface MimiContent {
  /** 16 random octets. */
  salt: Uint8Array;
  replaces: MessageId | null;
  topicId: Uint8Array;
  expires: Expiration | null;
  inReplyTo: MessageId | null;
  /**
   * In the order they came (so an accepted message re-encodes to its own bytes).
   * Key 1 (senderUri) and 2 (roomUri) hold text; other values are any CBOR, as decoded.
   */
  extensions: Map<ExtensionKey, unknown>;
  body: NestedPart;
}
