/**
 * Message framing structs (RFC 9420 §6): who sent what in which epoch, how it
 * is authenticated, and the two wire forms it travels in, plus MLSMessage, the
 * envelope for everything MLS sends. Structs and codecs only: signing, MACs
 * and encryption are `message-protection.ts`.
 *
 *    Proposal        Commit     Application Data
 *       |              |              |
 *       +--------------+--------------+
 *                      |
 *                      V
 *               FramedContent
 *                   |  |                -.
 *          +--------+  |                  |
 *          |           |                  |
 *          V           |                  +-- Asymmetric
 * FramedContentAuthData |                 |   Sign / Verify
 *          |           |                  |
 *          +--------+  |                  |
 *                   |  |                  |
 *                   V  V                -'
 *             AuthenticatedContent
 *                      |                -.
 *             +--------+--------+         |
 *             |                 |         +-- Symmetric
 *             V                 V         |   Protect / Unprotect
 *       PublicMessage    PrivateMessage -'
 *
 * ContentType, SenderType and the wire formats are closed for decoding: the
 * bytes that follow each depend on it, so an unknown value is a DecodeError.
 * Several fields exist only for some tags (membership_tag for member senders,
 * confirmation_tag for commits, the GroupContext in FramedContentTBS); the
 * types carry them as optional fields and the encoders refuse an object whose
 * optional fields disagree with its tags (UsageError), so we never emit
 * something we would reject.
 */
import { decode, Writer, type Codec, type DecodeOptions, type Reader } from '../codec/codec.ts';
import { commitCodec, type Commit } from '../group/commit.ts';
import { DecodeError, UsageError } from '../errors.ts';
import { groupContextCodec, type GroupContext } from '../group/group-context.ts';
import { groupInfoCodec, type GroupInfo } from '../join/group-info.ts';
import { keyPackageCodec, type KeyPackageIn } from '../join/key-package.ts';
import { ProtocolVersion, readProtocolVersion } from './protocol-version.ts';
import { proposalCodec, type Proposal } from '../group/proposals.ts';
import type { LeafIndex } from '../tree/tree-math.ts';
import { welcomeCodec, type Welcome } from '../join/welcome.ts';

export { ProtocolVersion };

/** §6 ContentType. */
export const ContentType = {
  application: 1,
  proposal: 2,
  commit: 3,
} as const;
export type ContentType = (typeof ContentType)[keyof typeof ContentType];
const CONTENT_TYPES: ReadonlySet<number> = new Set(Object.values(ContentType));

/** V-FRAME-1 (§6): content_type must be application, proposal or commit. */
function readContentType(r: Reader): ContentType {
  return r.enumU8<ContentType>(CONTENT_TYPES, '[V-FRAME-1] ContentType');
}

/** §6 SenderType. */
export const SenderType = {
  member: 1,
  external: 2,
  newMemberProposal: 3,
  newMemberCommit: 4,
} as const;
export type SenderType = (typeof SenderType)[keyof typeof SenderType];
const SENDER_TYPES: ReadonlySet<number> = new Set(Object.values(SenderType));

/** §17.2 "MLS Wire Formats" defined by RFC 9420. */
export const WireFormat = {
  publicMessage: 1,
  privateMessage: 2,
  welcome: 3,
  groupInfo: 4,
  keyPackage: 5,
} as const;
export type WireFormat = (typeof WireFormat)[keyof typeof WireFormat];
const WIRE_FORMATS: ReadonlySet<number> = new Set(Object.values(WireFormat));
/** The wire formats that carry FramedContent (§6.1). */
export type FramedWireFormat = typeof WireFormat.publicMessage | typeof WireFormat.privateMessage;
const FRAMED_WIRE_FORMATS: ReadonlySet<number> = new Set([WireFormat.publicMessage, WireFormat.privateMessage]);

/** V-FRAME-3 (§6.1): content is authenticated only as a Public- or PrivateMessage. */
function readFramedWireFormat(r: Reader): FramedWireFormat {
  return r.enumU16<FramedWireFormat>(FRAMED_WIRE_FORMATS, '[V-FRAME-3] WireFormat of framed content');
}

// ---------------------------------------------------------------------------
// Sender

/** §6 Sender. */
export type Sender =
  | { readonly senderType: typeof SenderType.member; readonly leafIndex: LeafIndex }
  | { readonly senderType: typeof SenderType.external; readonly senderIndex: number }
  | { readonly senderType: typeof SenderType.newMemberProposal }
  | { readonly senderType: typeof SenderType.newMemberCommit };

export const senderCodec: Codec<Sender> = {
  encode(w, v) {
    w.u8(v.senderType);
    if (v.senderType === SenderType.member) w.u32(v.leafIndex);
    else if (v.senderType === SenderType.external) w.u32(v.senderIndex);
  },
  decode(r) {
    // V-FRAME-2 (§6): sender_type must be a defined value.
    const senderType = r.enumU8<SenderType>(SENDER_TYPES, '[V-FRAME-2] SenderType');
    switch (senderType) {
      case SenderType.member:
        return { senderType, leafIndex: r.u32() as LeafIndex };
      case SenderType.external:
        return { senderType, senderIndex: r.u32() };
      case SenderType.newMemberProposal:
        return { senderType };
      case SenderType.newMemberCommit:
        return { senderType };
    }
  },
};

// ---------------------------------------------------------------------------
// FramedContent

/** The `select (content_type)` body shared by FramedContent and PrivateMessageContent. */
export type FramedContentBody =
  | { readonly contentType: typeof ContentType.application; readonly applicationData: Uint8Array }
  | { readonly contentType: typeof ContentType.proposal; readonly proposal: Proposal }
  | { readonly contentType: typeof ContentType.commit; readonly commit: Commit };

function encodeBody(w: Writer, v: FramedContentBody): void {
  w.u8(v.contentType);
  encodeBodyFields(w, v);
}

/** The body without its content_type octet (PrivateMessageContent has none). */
function encodeBodyFields(w: Writer, v: FramedContentBody): void {
  switch (v.contentType) {
    case ContentType.application:
      w.opaque(v.applicationData);
      break;
    case ContentType.proposal:
      proposalCodec.encode(w, v.proposal);
      break;
    case ContentType.commit:
      commitCodec.encode(w, v.commit);
      break;
  }
}

function decodeBodyFields(r: Reader, contentType: ContentType): FramedContentBody {
  switch (contentType) {
    case ContentType.application:
      return { contentType, applicationData: r.opaque() };
    case ContentType.proposal:
      return { contentType, proposal: proposalCodec.decode(r) };
    case ContentType.commit:
      return { contentType, commit: commitCodec.decode(r) };
  }
}

/** §6 FramedContent. */
export type FramedContent = {
  readonly groupId: Uint8Array;
  readonly epoch: bigint;
  readonly sender: Sender;
  readonly authenticatedData: Uint8Array;
} & FramedContentBody;

export const framedContentCodec: Codec<FramedContent> = {
  encode(w, v) {
    w.opaque(v.groupId);
    w.u64(v.epoch);
    senderCodec.encode(w, v.sender);
    w.opaque(v.authenticatedData);
    encodeBody(w, v);
  },
  decode(r) {
    const groupId = r.opaque();
    const epoch = r.u64();
    const sender = senderCodec.decode(r);
    const authenticatedData = r.opaque();
    const body = decodeBodyFields(r, readContentType(r));
    return { groupId, epoch, sender, authenticatedData, ...body };
  },
};

// ---------------------------------------------------------------------------
// Authentication

/** §6.1 FramedContentAuthData; `confirmationTag` is present iff the content is a commit. */
export interface FramedContentAuthData {
  /** SignWithLabel(., "FramedContentTBS", FramedContentTBS) */
  readonly signature: Uint8Array;
  /** MAC(confirmation_key, confirmed_transcript_hash), commits only. */
  readonly confirmationTag?: Uint8Array;
}

export function encodeFramedContentAuthData(w: Writer, v: FramedContentAuthData, contentType: ContentType): void {
  w.opaque(v.signature);
  if (contentType === ContentType.commit) {
    if (v.confirmationTag === undefined) throw new UsageError('a commit needs a confirmation_tag');
    w.opaque(v.confirmationTag);
  } else if (v.confirmationTag !== undefined) {
    throw new UsageError('only a commit carries a confirmation_tag');
  }
}

export function decodeFramedContentAuthData(r: Reader, contentType: ContentType): FramedContentAuthData {
  const signature = r.opaque();
  if (contentType !== ContentType.commit) return { signature };
  return { signature, confirmationTag: r.opaque() };
}

/** FramedContentAuthData for a known content type (the type is not on the wire). */
export function framedContentAuthDataCodec(contentType: ContentType): Codec<FramedContentAuthData> {
  return {
    encode: (w, v) => encodeFramedContentAuthData(w, v, contentType),
    decode: (r) => decodeFramedContentAuthData(r, contentType),
  };
}

/** Whether FramedContentTBS carries the GroupContext for this sender (§6.1). */
export function senderSignsGroupContext(senderType: SenderType): boolean {
  return senderType === SenderType.member || senderType === SenderType.newMemberCommit;
}

/** §6.1 FramedContentTBS; `context` is present iff the sender is a member or a new-member commit. */
export interface FramedContentTBS {
  readonly version: ProtocolVersion;
  readonly wireFormat: FramedWireFormat;
  readonly content: FramedContent;
  readonly context?: GroupContext;
}

export const framedContentTbsCodec: Codec<FramedContentTBS> = {
  encode(w, v) {
    w.u16(v.version);
    w.u16(v.wireFormat);
    framedContentCodec.encode(w, v.content);
    if (senderSignsGroupContext(v.content.sender.senderType)) {
      if (v.context === undefined) throw new UsageError('FramedContentTBS for this sender needs the GroupContext');
      groupContextCodec.encode(w, v.context);
    } else if (v.context !== undefined) {
      throw new UsageError('FramedContentTBS for this sender carries no GroupContext');
    }
  },
  decode(r) {
    const version = readProtocolVersion(r);
    const wireFormat = readFramedWireFormat(r);
    const content = framedContentCodec.decode(r);
    if (!senderSignsGroupContext(content.sender.senderType)) return { version, wireFormat, content };
    return { version, wireFormat, content, context: groupContextCodec.decode(r) };
  },
};

/** §6 AuthenticatedContent. */
export interface AuthenticatedContent {
  readonly wireFormat: FramedWireFormat;
  readonly content: FramedContent;
  readonly auth: FramedContentAuthData;
}

export const authenticatedContentCodec: Codec<AuthenticatedContent> = {
  encode(w, v) {
    w.u16(v.wireFormat);
    framedContentCodec.encode(w, v.content);
    encodeFramedContentAuthData(w, v.auth, v.content.contentType);
  },
  decode(r) {
    const wireFormat = readFramedWireFormat(r);
    const content = framedContentCodec.decode(r);
    const auth = decodeFramedContentAuthData(r, content.contentType);
    return { wireFormat, content, auth };
  },
};

// ---------------------------------------------------------------------------
// PublicMessage

/** §6.2 PublicMessage; `membershipTag` is present iff the sender is a member. */
export interface PublicMessage {
  readonly content: FramedContent;
  readonly auth: FramedContentAuthData;
  readonly membershipTag?: Uint8Array;
}

export const publicMessageCodec: Codec<PublicMessage> = {
  encode(w, v) {
    framedContentCodec.encode(w, v.content);
    encodeFramedContentAuthData(w, v.auth, v.content.contentType);
    if (v.content.sender.senderType === SenderType.member) {
      if (v.membershipTag === undefined) throw new UsageError('a member PublicMessage needs a membership_tag');
      w.opaque(v.membershipTag);
    } else if (v.membershipTag !== undefined) {
      throw new UsageError('only a member PublicMessage carries a membership_tag');
    }
  },
  decode(r) {
    const content = framedContentCodec.decode(r);
    const auth = decodeFramedContentAuthData(r, content.contentType);
    if (content.sender.senderType !== SenderType.member) return { content, auth };
    return { content, auth, membershipTag: r.opaque() };
  },
};

// ---------------------------------------------------------------------------
// PrivateMessage

/** §6.3 PrivateMessage. */
export interface PrivateMessage {
  readonly groupId: Uint8Array;
  readonly epoch: bigint;
  readonly contentType: ContentType;
  readonly authenticatedData: Uint8Array;
  readonly encryptedSenderData: Uint8Array;
  readonly ciphertext: Uint8Array;
}

export const privateMessageCodec: Codec<PrivateMessage> = {
  encode(w, v) {
    w.opaque(v.groupId);
    w.u64(v.epoch);
    w.u8(v.contentType);
    w.opaque(v.authenticatedData);
    w.opaque(v.encryptedSenderData);
    w.opaque(v.ciphertext);
  },
  decode(r) {
    const groupId = r.opaque();
    const epoch = r.u64();
    const contentType = readContentType(r);
    const authenticatedData = r.opaque();
    const encryptedSenderData = r.opaque();
    const ciphertext = r.opaque();
    return { groupId, epoch, contentType, authenticatedData, encryptedSenderData, ciphertext };
  },
};

/**
 * §6.3.1 PrivateMessageContent: the plaintext of `PrivateMessage.ciphertext`.
 * Its content type is PrivateMessage.content_type (not repeated inside), and
 * `paddingLength` zero octets follow the auth data.
 */
export type PrivateMessageContent = FramedContentBody & {
  readonly auth: FramedContentAuthData;
  readonly paddingLength: number;
};

/**
 * Codec for the plaintext of a PrivateMessage whose content_type is
 * `contentType`. Decoding takes every remaining octet as padding, and each
 * MUST be zero (V-FRAME-4, §6.3.1) or the message is malformed.
 */
export function privateMessageContentCodec(contentType: ContentType): Codec<PrivateMessageContent> {
  return {
    encode(w, v) {
      if (v.contentType !== contentType) throw new UsageError('PrivateMessageContent of the wrong content type');
      if (!Number.isInteger(v.paddingLength) || v.paddingLength < 0) {
        throw new UsageError(`invalid padding length ${v.paddingLength}`);
      }
      encodeBodyFields(w, v);
      encodeFramedContentAuthData(w, v.auth, contentType);
      w.bytes(new Uint8Array(v.paddingLength));
    },
    decode(r) {
      const body = decodeBodyFields(r, contentType);
      const auth = decodeFramedContentAuthData(r, contentType);
      const paddingStart = r.offset;
      const padding = r.bytes(r.remaining);
      for (let i = 0; i < padding.length; i++) {
        if (padding[i] !== 0) {
          throw new DecodeError('bad-value', '[V-FRAME-4] PrivateMessageContent padding is not all zeros', paddingStart + i);
        }
      }
      return { ...body, auth, paddingLength: padding.length };
    },
  };
}

/** Encode a PrivateMessage plaintext (content, auth, then zero padding). */
export function encodePrivateMessageContent(v: PrivateMessageContent): Uint8Array {
  const w = new Writer(256 + v.paddingLength);
  privateMessageContentCodec(v.contentType).encode(w, v);
  return w.finish();
}

/** Decode a PrivateMessage plaintext; see `privateMessageContentCodec`. */
export function decodePrivateMessageContent(
  bytes: Uint8Array,
  contentType: ContentType,
  options?: DecodeOptions,
): PrivateMessageContent {
  return decode(privateMessageContentCodec(contentType), bytes, options);
}

/** §6.3.2 SenderData. */
export interface SenderData {
  readonly leafIndex: LeafIndex;
  readonly generation: number;
  /** Exactly 4 octets (`opaque reuse_guard[4]`). */
  readonly reuseGuard: Uint8Array;
}

export const senderDataCodec: Codec<SenderData> = {
  encode(w, v) {
    if (v.reuseGuard.length !== 4) throw new UsageError('reuse_guard must be 4 bytes');
    w.u32(v.leafIndex);
    w.u32(v.generation);
    w.bytes(v.reuseGuard);
  },
  decode(r) {
    const leafIndex = r.u32() as LeafIndex;
    const generation = r.u32();
    const reuseGuard = r.bytes(4);
    return { leafIndex, generation, reuseGuard };
  },
};

/** §6.3.2 SenderDataAAD. */
export interface SenderDataAAD {
  readonly groupId: Uint8Array;
  readonly epoch: bigint;
  readonly contentType: ContentType;
}

export const senderDataAadCodec: Codec<SenderDataAAD> = {
  encode(w, v) {
    w.opaque(v.groupId);
    w.u64(v.epoch);
    w.u8(v.contentType);
  },
  decode(r) {
    const groupId = r.opaque();
    const epoch = r.u64();
    const contentType = readContentType(r);
    return { groupId, epoch, contentType };
  },
};

/** §6.3.1 PrivateContentAAD. */
export interface PrivateContentAAD {
  readonly groupId: Uint8Array;
  readonly epoch: bigint;
  readonly contentType: ContentType;
  readonly authenticatedData: Uint8Array;
}

export const privateContentAadCodec: Codec<PrivateContentAAD> = {
  encode(w, v) {
    w.opaque(v.groupId);
    w.u64(v.epoch);
    w.u8(v.contentType);
    w.opaque(v.authenticatedData);
  },
  decode(r) {
    const groupId = r.opaque();
    const epoch = r.u64();
    const contentType = readContentType(r);
    const authenticatedData = r.opaque();
    return { groupId, epoch, contentType, authenticatedData };
  },
};

// ---------------------------------------------------------------------------
// MLSMessage

/** §6 MLSMessage, tagged by `wireFormat`. */
export type MLSMessage = { readonly version: ProtocolVersion } & (
  | { readonly wireFormat: typeof WireFormat.publicMessage; readonly publicMessage: PublicMessage }
  | { readonly wireFormat: typeof WireFormat.privateMessage; readonly privateMessage: PrivateMessage }
  | { readonly wireFormat: typeof WireFormat.welcome; readonly welcome: Welcome }
  | { readonly wireFormat: typeof WireFormat.groupInfo; readonly groupInfo: GroupInfo }
  | { readonly wireFormat: typeof WireFormat.keyPackage; readonly keyPackage: KeyPackageIn }
);

export const mlsMessageCodec: Codec<MLSMessage> = {
  encode(w, v) {
    w.u16(v.version);
    w.u16(v.wireFormat);
    switch (v.wireFormat) {
      case WireFormat.publicMessage:
        return publicMessageCodec.encode(w, v.publicMessage);
      case WireFormat.privateMessage:
        return privateMessageCodec.encode(w, v.privateMessage);
      case WireFormat.welcome:
        return welcomeCodec.encode(w, v.welcome);
      case WireFormat.groupInfo:
        return groupInfoCodec.encode(w, v.groupInfo);
      case WireFormat.keyPackage:
        return keyPackageCodec.encode(w, v.keyPackage);
    }
  },
  decode(r) {
    // V-VERSION-1: only mls10 messages can be read.
    const version = readProtocolVersion(r);
    // V-MSG-1 (§6): wire_format must be one whose body we can parse.
    const wireFormat = r.enumU16<WireFormat>(WIRE_FORMATS, '[V-MSG-1] WireFormat');
    switch (wireFormat) {
      case WireFormat.publicMessage:
        return { version, wireFormat, publicMessage: publicMessageCodec.decode(r) };
      case WireFormat.privateMessage:
        return { version, wireFormat, privateMessage: privateMessageCodec.decode(r) };
      case WireFormat.welcome:
        return { version, wireFormat, welcome: welcomeCodec.decode(r) };
      case WireFormat.groupInfo:
        return { version, wireFormat, groupInfo: groupInfoCodec.decode(r) };
      case WireFormat.keyPackage:
        return { version, wireFormat, keyPackage: keyPackageCodec.decode(r) };
    }
  },
};
