/**
 * Message protection (RFC 9420 §6.1–§6.3): turning FramedContent into an
 * AuthenticatedContent (signature), and an AuthenticatedContent into a
 * PublicMessage (membership tag) or a PrivateMessage (sender-data and content
 * encryption with the secret tree), and back.
 *
 *   FramedContent --signFramedContent--> AuthenticatedContent
 *        (the caller adds the confirmation_tag of a commit here)
 *   AuthenticatedContent --protectPublicMessage-->  PublicMessage
 *   AuthenticatedContent --protectPrivateMessage--> PrivateMessage
 *   PublicMessage  --unprotectPublicMessage-->  AuthenticatedContent  (tag + signature checked)
 *   PrivateMessage --unprotectPrivateMessage--> AuthenticatedContent  (AEAD + padding + signature checked)
 *
 * PrivateMessage:
 *   ciphertext            = AEAD(ratchet key, ratchet nonce XOR reuse_guard,
 *                                PrivateContentAAD, PrivateMessageContent)
 *   encrypted_sender_data = AEAD(sender_data_key, sender_data_nonce,
 *                                SenderDataAAD, SenderData)
 *   where sender_data_key/nonce are derived from the first Nh bytes of ciphertext.
 *
 * Confirmation tags are the key schedule's business (they need the next
 * epoch); this module carries them but does not check them.
 */
import type { CipherSuite } from '../../crypto/provider.ts';
import { decode, encode, Writer } from '../codec/codec.ts';
import { bytesEqual } from '../../bytes.ts';
import { signWithLabel, verifyWithLabel } from '../keys/crypto-ops.ts';
import { CryptoError, DecodeError, UsageError, ValidationError } from '../errors.ts';
import {
  ContentType,
  encodeFramedContentAuthData,
  encodePrivateMessageContent,
  framedContentCodec,
  decodePrivateMessageContent,
  framedContentTbsCodec,
  privateContentAadCodec,
  senderDataAadCodec,
  senderDataCodec,
  SenderType,
  senderSignsGroupContext,
  WireFormat,
  type AuthenticatedContent,
  type FramedContent,
  type FramedContentAuthData,
  type FramedWireFormat,
  type PrivateMessage,
  type PrivateMessageContent,
  type PublicMessage,
  type Sender,
  type SenderData,
} from './framing.ts';
import type { GroupContext } from '../group/group-context.ts';
import { ProtocolVersion } from './protocol-version.ts';
import { senderDataKeyNonce, type SecretTree } from '../keys/secret-tree.ts';
import { ProposalType } from '../group/proposals.ts';
import type { LeafIndex } from '../tree/tree-math.ts';

// ---------------------------------------------------------------------------
// Signatures (§6.1)

function framedContentTbs(
  wireFormat: FramedWireFormat,
  content: FramedContent,
  groupContext: GroupContext | undefined,
  contextBytes?: Uint8Array,
): Uint8Array {
  if (contextBytes === undefined || !senderSignsGroupContext(content.sender.senderType)) {
    return encode(framedContentTbsCodec, {
      version: ProtocolVersion.mls10,
      wireFormat,
      content,
      ...(senderSignsGroupContext(content.sender.senderType) ? { context: groupContext } : {}),
    });
  }
  // The same bytes as framedContentTbsCodec, with the epoch's GroupContext
  // taken already encoded (it is constant for the epoch) instead of encoding
  // it again for every message.
  const w = new Writer(256 + contextBytes.length);
  w.u16(ProtocolVersion.mls10).u16(wireFormat);
  framedContentCodec.encode(w, content);
  w.bytes(contextBytes);
  return w.finish();
}

/**
 * V-PROT-9 (§6.1): which content a sender type may send. External senders and
 * new-member proposals send proposals (the latter only Add), a new member's
 * commit is a commit. (Which proposal types external senders may use is
 * checked where proposals are validated.)
 */
function checkSenderContent(content: FramedContent): void {
  const t = content.sender.senderType;
  if (t === SenderType.external && content.contentType !== ContentType.proposal) {
    throw new ValidationError('V-PROT-9', 'an external sender may only send proposals');
  }
  if (t === SenderType.newMemberCommit && content.contentType !== ContentType.commit) {
    throw new ValidationError('V-PROT-9', 'a new_member_commit sender may only send a commit');
  }
  if (t === SenderType.newMemberProposal) {
    if (content.contentType !== ContentType.proposal || content.proposal.proposalType !== ProposalType.add) {
      throw new ValidationError('V-PROT-9', 'a new_member_proposal sender may only send an Add proposal');
    }
  }
}

export interface SignFramedContentParams {
  wireFormat: FramedWireFormat;
  content: FramedContent;
  /** The current epoch's GroupContext; signed into the TBS for member and new-member-commit senders. */
  groupContext: GroupContext;
  /** `groupContext` already encoded (GroupState.contextBytes), to skip encoding it again; must match it. */
  contextBytes?: Uint8Array;
  signaturePrivateKey: Uint8Array;
  /** For commits: MAC(confirmation_key, confirmed_transcript_hash), if already known. */
  confirmationTag?: Uint8Array;
}

/** §6.1: sign FramedContent into an AuthenticatedContent (SignWithLabel "FramedContentTBS"). */
export async function signFramedContent(cs: CipherSuite, p: SignFramedContentParams): Promise<AuthenticatedContent> {
  checkContentMatchesGroup(p.content.groupId, p.content.epoch, p.groupContext, 'content');
  const tbs = framedContentTbs(p.wireFormat, p.content, p.groupContext, p.contextBytes);
  const signature = await signWithLabel(cs, p.signaturePrivateKey, 'FramedContentTBS', tbs);
  const auth: FramedContentAuthData =
    p.confirmationTag === undefined ? { signature } : { signature, confirmationTag: p.confirmationTag };
  return { wireFormat: p.wireFormat, content: p.content, auth };
}

/** §6.1: does the signature of `ac` verify under `signaturePublicKey`? */
export function verifyAuthenticatedContent(
  cs: CipherSuite,
  ac: AuthenticatedContent,
  groupContext: GroupContext,
  signaturePublicKey: Uint8Array,
  /** `groupContext` already encoded, if the caller has it (must match it). */
  contextBytes?: Uint8Array,
): Promise<boolean> {
  const tbs = framedContentTbs(ac.wireFormat, ac.content, groupContext, contextBytes);
  return verifyWithLabel(cs, signaturePublicKey, 'FramedContentTBS', tbs, ac.auth.signature);
}

/** Where the verifier finds a sender's signature key (leaf node, external_senders, commit path...). */
export type SignatureKeyResolver = (sender: Sender, content: FramedContent) => Uint8Array | undefined;

// ---------------------------------------------------------------------------
// PublicMessage (§6.2)

function checkContentMatchesGroup(groupId: Uint8Array, epoch: bigint, gc: GroupContext, what: string): void {
  if (!bytesEqual(groupId, gc.groupId)) throw new UsageError(`${what} is for another group`);
  if (epoch !== gc.epoch) throw new UsageError(`${what} is for epoch ${epoch}, the group is in epoch ${gc.epoch}`);
}

/** membership_tag = MAC(membership_key, AuthenticatedContentTBM) */
function membershipTag(
  cs: CipherSuite,
  membershipKey: Uint8Array,
  ac: AuthenticatedContent,
  gc: GroupContext,
  contextBytes: Uint8Array | undefined,
): Uint8Array {
  const w = new Writer(512);
  w.bytes(framedContentTbs(ac.wireFormat, ac.content, gc, contextBytes));
  encodeFramedContentAuthData(w, ac.auth, ac.content.contentType);
  return cs.hash.mac(membershipKey, w.finish());
}

export interface PublicProtectParams {
  groupContext: GroupContext;
  /** `groupContext` already encoded, if the caller has it (must match it). */
  contextBytes?: Uint8Array;
  /** Required for member senders (the current epoch's membership_key). */
  membershipKey?: Uint8Array;
}

/** §6.2: wrap an AuthenticatedContent as a PublicMessage. */
export function protectPublicMessage(cs: CipherSuite, ac: AuthenticatedContent, p: PublicProtectParams): PublicMessage {
  if (ac.wireFormat !== WireFormat.publicMessage) throw new UsageError('content was signed for another wire format');
  // V-PROT-1 (§6): application messages MUST be sent as PrivateMessage.
  if (ac.content.contentType === ContentType.application) {
    throw new UsageError('[V-PROT-1] application data must be sent as a PrivateMessage');
  }
  checkContentMatchesGroup(ac.content.groupId, ac.content.epoch, p.groupContext, 'content');
  if (ac.content.sender.senderType !== SenderType.member) return { content: ac.content, auth: ac.auth };
  if (p.membershipKey === undefined) throw new UsageError('a member PublicMessage needs the membership_key');
  return { content: ac.content, auth: ac.auth, membershipTag: membershipTag(cs, p.membershipKey, ac, p.groupContext, p.contextBytes) };
}

export interface PublicUnprotectParams {
  groupContext: GroupContext;
  /** `groupContext` already encoded, if the caller has it (must match it). */
  contextBytes?: Uint8Array;
  /** The current epoch's membership_key (checked for member senders). */
  membershipKey: Uint8Array;
  signatureKey: SignatureKeyResolver;
}

/** V-PROT-7 (§6): content is bound to one group and epoch; we unprotect only with that epoch's keys and context. */
function checkMessageMatchesGroup(groupId: Uint8Array, epoch: bigint, gc: GroupContext): void {
  if (!bytesEqual(groupId, gc.groupId)) throw new ValidationError('V-PROT-7', 'message is for another group');
  if (epoch !== gc.epoch) {
    throw new ValidationError('V-PROT-7', `message is for epoch ${epoch}, the group is in epoch ${gc.epoch}`);
  }
}

/** §6.2: check a PublicMessage's membership tag and signature and return its AuthenticatedContent. */
export async function unprotectPublicMessage(
  cs: CipherSuite,
  msg: PublicMessage,
  p: PublicUnprotectParams,
): Promise<AuthenticatedContent> {
  checkMessageMatchesGroup(msg.content.groupId, msg.content.epoch, p.groupContext);
  // V-PROT-1 (§6): application data is never accepted in the clear.
  if (msg.content.contentType === ContentType.application) {
    throw new ValidationError('V-PROT-1', 'application data in a PublicMessage');
  }
  checkSenderContent(msg.content);
  const ac: AuthenticatedContent = { wireFormat: WireFormat.publicMessage, content: msg.content, auth: msg.auth };
  if (msg.content.sender.senderType === SenderType.member) {
    // V-PROT-2 (§6.2): the membership_tag MUST be checked.
    const tag = msg.membershipTag;
    if (tag === undefined || !bytesEqual(tag, membershipTag(cs, p.membershipKey, ac, p.groupContext, p.contextBytes))) {
      throw new CryptoError('membership_tag', '[V-PROT-2] membership tag does not verify');
    }
  }
  await checkSignature(cs, ac, p.groupContext, p.signatureKey, p.contextBytes);
  return ac;
}

/** V-PROT-3 (§6.1): recipients MUST verify the signature with the sender's key. */
async function checkSignature(
  cs: CipherSuite,
  ac: AuthenticatedContent,
  gc: GroupContext,
  resolve: SignatureKeyResolver,
  contextBytes: Uint8Array | undefined,
): Promise<void> {
  const key = resolve(ac.content.sender, ac.content);
  if (key === undefined) throw new ValidationError('V-PROT-3', 'no signature key for the sender');
  if (!(await verifyAuthenticatedContent(cs, ac, gc, key, contextBytes))) {
    throw new CryptoError('signature', '[V-PROT-3] FramedContentTBS signature does not verify');
  }
}

// ---------------------------------------------------------------------------
// PrivateMessage (§6.3)

export interface PrivateProtectParams {
  secretTree: SecretTree;
  senderDataSecret: Uint8Array;
  /** Zero octets appended to the content (§6.3.1). Default 0. */
  paddingLength?: number;
  /** Alternatively pad the plaintext up to a multiple of this many bytes. */
  padToMultipleOf?: number;
  /** Test hook: a fixed reuse guard instead of a fresh random one. */
  reuseGuard?: Uint8Array;
}

function ratchetKind(contentType: ContentType): 'application' | 'handshake' {
  return contentType === ContentType.application ? 'application' : 'handshake';
}

/** Nonce XOR reuse_guard over its first four octets (§6.3.1). */
function applyReuseGuard(nonce: Uint8Array, guard: Uint8Array): Uint8Array {
  const out = nonce.slice();
  for (let i = 0; i < 4; i++) out[i]! ^= guard[i]!;
  return out;
}

function contentOf(ac: AuthenticatedContent, paddingLength: number): PrivateMessageContent {
  const c = ac.content;
  switch (c.contentType) {
    case ContentType.application:
      return { contentType: c.contentType, applicationData: c.applicationData, auth: ac.auth, paddingLength };
    case ContentType.proposal:
      return { contentType: c.contentType, proposal: c.proposal, auth: ac.auth, paddingLength };
    case ContentType.commit:
      return { contentType: c.contentType, commit: c.commit, auth: ac.auth, paddingLength };
  }
}

/** §6.3: encrypt an AuthenticatedContent from a member into a PrivateMessage, consuming one ratchet generation. */
export async function protectPrivateMessage(
  cs: CipherSuite,
  ac: AuthenticatedContent,
  p: PrivateProtectParams,
): Promise<PrivateMessage> {
  if (ac.wireFormat !== WireFormat.privateMessage) throw new UsageError('content was signed for another wire format');
  const c = ac.content;
  // V-PROT-4 (§6.3.2): only members send PrivateMessages; SenderData takes their leaf_index.
  if (c.sender.senderType !== SenderType.member) {
    throw new UsageError('[V-PROT-4] only a member sender can send a PrivateMessage');
  }
  const leaf = c.sender.leafIndex;
  const reuseGuard = p.reuseGuard ?? cs.randomBytes(4);
  if (reuseGuard.length !== 4) throw new UsageError('reuse_guard must be 4 bytes');

  let plaintext = encodePrivateMessageContent(contentOf(ac, p.paddingLength ?? 0));
  if (p.padToMultipleOf !== undefined && p.padToMultipleOf > 1) {
    const extra = (p.padToMultipleOf - (plaintext.length % p.padToMultipleOf)) % p.padToMultipleOf;
    if (extra > 0) plaintext = encodePrivateMessageContent(contentOf(ac, (p.paddingLength ?? 0) + extra));
  }

  const { generation, key, nonce } = p.secretTree.nextKey(leaf, ratchetKind(c.contentType));
  const contentAad = encode(privateContentAadCodec, {
    groupId: c.groupId,
    epoch: c.epoch,
    contentType: c.contentType,
    authenticatedData: c.authenticatedData,
  });
  const ciphertext = await cs.aead.seal(key, applyReuseGuard(nonce, reuseGuard), contentAad, plaintext);
  key.fill(0);
  nonce.fill(0);

  const senderData = encode(senderDataCodec, { leafIndex: leaf, generation, reuseGuard });
  const sd = senderDataKeyNonce(cs, p.senderDataSecret, ciphertext);
  const sdAad = encode(senderDataAadCodec, { groupId: c.groupId, epoch: c.epoch, contentType: c.contentType });
  const encryptedSenderData = await cs.aead.seal(sd.key, sd.nonce, sdAad, senderData);
  return {
    groupId: c.groupId,
    epoch: c.epoch,
    contentType: c.contentType,
    authenticatedData: c.authenticatedData,
    encryptedSenderData,
    ciphertext,
  };
}

export interface PrivateUnprotectParams {
  groupContext: GroupContext;
  /** `groupContext` already encoded, if the caller has it (must match it). */
  contextBytes?: Uint8Array;
  secretTree: SecretTree;
  senderDataSecret: Uint8Array;
  /**
   * The signature key of the member at a leaf, or undefined when that leaf is
   * blank (or outside the tree).
   */
  memberSignatureKey: (leaf: LeafIndex) => Uint8Array | undefined;
}

/**
 * §6.3: decrypt a PrivateMessage and check it: sender data, the sender's leaf
 * (non-blank), the content AEAD, zero padding and the signature. The ratchet
 * generation is consumed only once all of that has passed.
 */
export async function unprotectPrivateMessage(
  cs: CipherSuite,
  msg: PrivateMessage,
  p: PrivateUnprotectParams,
): Promise<AuthenticatedContent> {
  checkMessageMatchesGroup(msg.groupId, msg.epoch, p.groupContext);

  // Sender data (§6.3.2).
  const sd = senderDataKeyNonce(cs, p.senderDataSecret, msg.ciphertext);
  const sdAad = encode(senderDataAadCodec, { groupId: msg.groupId, epoch: msg.epoch, contentType: msg.contentType });
  const senderDataBytes = await cs.aead.open(sd.key, sd.nonce, sdAad, msg.encryptedSenderData);
  if (senderDataBytes === null) throw new CryptoError('sender_data', '[V-PROT-10] sender data does not decrypt');
  let senderData: SenderData;
  try {
    senderData = decode(senderDataCodec, senderDataBytes);
  } catch (cause) {
    throw new DecodeError('bad-value', '[V-PROT-10] malformed SenderData', undefined, { cause });
  }
  const leaf = senderData.leafIndex;
  // V-PROT-5 (§6.3.2): the leaf_index MUST identify a non-blank leaf.
  const signatureKey = leaf < p.secretTree.nLeaves ? p.memberSignatureKey(leaf) : undefined;
  if (signatureKey === undefined) {
    throw new ValidationError('V-PROT-5', `sender leaf ${leaf} is blank or outside the tree`);
  }

  // Content (§6.3.1).
  const prepared = p.secretTree.prepareKey(leaf, ratchetKind(msg.contentType), senderData.generation);
  const contentAad = encode(privateContentAadCodec, {
    groupId: msg.groupId,
    epoch: msg.epoch,
    contentType: msg.contentType,
    authenticatedData: msg.authenticatedData,
  });
  const plaintext = await cs.aead.open(
    prepared.key,
    applyReuseGuard(prepared.nonce, senderData.reuseGuard),
    contentAad,
    msg.ciphertext,
  );
  if (plaintext === null) throw new CryptoError('content', '[V-PROT-11] PrivateMessage content does not decrypt');
  // V-FRAME-4 (§6.3.1): non-zero padding makes the message malformed (checked by the decoder).
  const pmc = decodePrivateMessageContent(plaintext, msg.contentType);

  const sender: Sender = { senderType: SenderType.member, leafIndex: leaf };
  const content = framedContentFrom(msg, sender, pmc);
  const ac: AuthenticatedContent = { wireFormat: WireFormat.privateMessage, content, auth: pmc.auth };
  await checkSignature(cs, ac, p.groupContext, () => signatureKey, p.contextBytes);
  prepared.commit();
  return ac;
}

function framedContentFrom(msg: PrivateMessage, sender: Sender, pmc: PrivateMessageContent): FramedContent {
  const base = { groupId: msg.groupId, epoch: msg.epoch, sender, authenticatedData: msg.authenticatedData };
  switch (pmc.contentType) {
    case ContentType.application:
      return { ...base, contentType: pmc.contentType, applicationData: pmc.applicationData };
    case ContentType.proposal:
      return { ...base, contentType: pmc.contentType, proposal: pmc.proposal };
    case ContentType.commit:
      return { ...base, contentType: pmc.contentType, commit: pmc.commit };
  }
}
