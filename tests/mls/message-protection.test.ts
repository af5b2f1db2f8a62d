// Message protection checks beyond the vectors, one test per rule ID, on
// freshly generated keys for every suite.
import { describe, expect, it } from 'vitest';
import { encode } from '../../lib/mls/codec/codec.ts';
import { hexToBytes } from '../../lib/bytes.ts';
import { createCipherSuite, SUPPORTED_CIPHER_SUITES } from '../../lib/crypto/suites.ts';
import type { CipherSuite } from '../../lib/crypto/provider.ts';
import { SecretTree, senderDataKeyNonce } from '../../lib/mls/keys/secret-tree.ts';
import { leafIndex, type LeafIndex } from '../../lib/mls/tree/tree-math.ts';
import {
  ContentType,
  privateContentAadCodec,
  senderDataAadCodec,
  senderDataCodec,
  SenderType,
  WireFormat,
  type FramedContent,
  type PrivateMessage,
  type PublicMessage,
} from '../../lib/mls/framing/framing.ts';
import { groupContextCodec, ProtocolVersion, type GroupContext } from '../../lib/mls/group/group-context.ts';
import { ProposalType } from '../../lib/mls/group/proposals.ts';
import {
  protectPrivateMessage,
  protectPublicMessage,
  signFramedContent,
  unprotectPrivateMessage,
  unprotectPublicMessage,
} from '../../lib/mls/framing/message-protection.ts';
import { CryptoError, DecodeError, type MlsError, UsageError, ValidationError } from '../../lib/mls/errors.ts';

const utf8 = new TextEncoder();

async function rejectsWith(p: Promise<unknown>, cls: abstract new (...a: never[]) => MlsError, tag: string): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${cls.name} ${tag}`).toBeInstanceOf(cls);
  expect(String((err as Error).message) + String((err as ValidationError).rule ?? '')).toContain(tag);
}

async function setup(cs: CipherSuite) {
  const sig = await cs.signature.generateKeyPair();
  const gc: GroupContext = {
    version: ProtocolVersion.mls10,
    cipherSuite: cs.id,
    groupId: utf8.encode('group'),
    epoch: 5n,
    treeHash: cs.randomBytes(cs.kdf.size),
    confirmedTranscriptHash: cs.randomBytes(cs.kdf.size),
    extensions: [],
  };
  const encryptionSecret = cs.randomBytes(cs.kdf.size);
  const senderDataSecret = cs.randomBytes(cs.kdf.size);
  const membershipKey = cs.randomBytes(cs.kdf.size);
  const sender = leafIndex(2);
  const app = (text: string, leaf: LeafIndex = sender): FramedContent => ({
    groupId: gc.groupId,
    epoch: gc.epoch,
    sender: { senderType: SenderType.member, leafIndex: leaf },
    authenticatedData: utf8.encode('ad'),
    contentType: ContentType.application,
    applicationData: utf8.encode(text),
  });
  const remove = (): FramedContent => ({
    groupId: gc.groupId,
    epoch: gc.epoch,
    sender: { senderType: SenderType.member, leafIndex: sender },
    authenticatedData: new Uint8Array(0),
    contentType: ContentType.proposal,
    proposal: { proposalType: ProposalType.remove, remove: { removed: 1 } },
  } as FramedContent);
  const receiver = (tree = new SecretTree(cs, encryptionSecret, 4)) => ({
    groupContext: gc,
    secretTree: tree,
    senderDataSecret,
    memberSignatureKey: (leaf: LeafIndex) => (leaf === sender ? sig.publicKey : undefined),
  });
  const senderTree = new SecretTree(cs, encryptionSecret, 4);
  const sendPrivate = async (content: FramedContent, opts: { paddingLength?: number; padToMultipleOf?: number } = {}) =>
    protectPrivateMessage(
      cs,
      await signFramedContent(cs, { wireFormat: WireFormat.privateMessage, content, groupContext: gc, signaturePrivateKey: sig.privateKey }),
      { secretTree: senderTree, senderDataSecret, ...opts },
    );
  return { sig, gc, encryptionSecret, senderDataSecret, membershipKey, sender, app, remove, receiver, senderTree, sendPrivate };
}

describe.each(SUPPORTED_CIPHER_SUITES.map((id) => [id]))('message protection, suite %i', (id) => {
  const cs = createCipherSuite(id);

  it(`suite ${id} PrivateMessage round trip, out of order, with padding`, async () => {
    const s = await setup(cs);
    const m0 = await s.sendPrivate(s.app('zero'));
    const m1 = await s.sendPrivate(s.app('one'), { padToMultipleOf: 64 });
    const r = s.receiver();
    const a1 = await unprotectPrivateMessage(cs, m1, r);
    const a0 = await unprotectPrivateMessage(cs, m0, r);
    expect(a1.content.contentType === ContentType.application && new TextDecoder().decode(a1.content.applicationData)).toBe('one');
    expect(a0.content.contentType === ContentType.application && new TextDecoder().decode(a0.content.applicationData)).toBe('zero');
    // padToMultipleOf: the ciphertext is the padded plaintext plus the tag.
    expect((m1.ciphertext.length - cs.aead.tagSize) % 64).toBe(0);
  });

  it(`suite ${id} V-PROT-3: the pre-encoded GroupContext (contextBytes) gives the same TBS as encoding it; another epoch's bytes do not verify`, async () => {
    const s = await setup(cs);
    const contextBytes = encode(groupContextCodec, s.gc);
    const withBytes = await signFramedContent(cs, {
      wireFormat: WireFormat.privateMessage,
      content: s.app('pre-encoded'),
      groupContext: s.gc,
      contextBytes,
      signaturePrivateKey: s.sig.privateKey,
    });
    const m = await protectPrivateMessage(cs, withBytes, { secretTree: s.senderTree, senderDataSecret: s.senderDataSecret });
    // Verified without the bytes (encoding the context) and with them.
    await unprotectPrivateMessage(cs, m, s.receiver());
    await unprotectPrivateMessage(cs, m, { ...s.receiver(), contextBytes });
    const m2 = await s.sendPrivate(s.app('encoded here'));
    await unprotectPrivateMessage(cs, m2, { ...s.receiver(), contextBytes });
    // The bytes of another GroupContext make the signature fail.
    const other = encode(groupContextCodec, { ...s.gc, confirmedTranscriptHash: cs.randomBytes(cs.kdf.size) });
    const m3 = await s.sendPrivate(s.app('other context'));
    await rejectsWith(unprotectPrivateMessage(cs, m3, { ...s.receiver(), contextBytes: other }), CryptoError, 'V-PROT-3');
    // PublicMessage: tag and signature agree either way.
    const ac = await signFramedContent(cs, { wireFormat: WireFormat.publicMessage, content: s.remove(), groupContext: s.gc, contextBytes, signaturePrivateKey: s.sig.privateKey });
    const pm = protectPublicMessage(cs, ac, { groupContext: s.gc, contextBytes, membershipKey: s.membershipKey });
    expect(protectPublicMessage(cs, ac, { groupContext: s.gc, membershipKey: s.membershipKey }).membershipTag).toEqual(pm.membershipTag);
    await unprotectPublicMessage(cs, pm, { groupContext: s.gc, membershipKey: s.membershipKey, signatureKey: () => s.sig.publicKey });
    await unprotectPublicMessage(cs, pm, { groupContext: s.gc, contextBytes, membershipKey: s.membershipKey, signatureKey: () => s.sig.publicKey });
  });

  it(`suite ${id} V-ST-2: a replayed PrivateMessage is rejected`, async () => {
    const s = await setup(cs);
    const m = await s.sendPrivate(s.app('x'));
    const r = s.receiver();
    await unprotectPrivateMessage(cs, m, r);
    await rejectsWith(unprotectPrivateMessage(cs, m, r), ValidationError, 'V-ST-2');
  });

  it(`suite ${id} V-PROT-10/V-PROT-11: tampered sender data or content fail, and do not burn the generation`, async () => {
    const s = await setup(cs);
    const m = await s.sendPrivate(s.app('x'));
    const r = s.receiver();
    const badSd = m.encryptedSenderData.slice();
    badSd[0]! ^= 1;
    await rejectsWith(unprotectPrivateMessage(cs, { ...m, encryptedSenderData: badSd }, r), CryptoError, 'V-PROT-10');
    const badAd: PrivateMessage = { ...m, authenticatedData: utf8.encode('other') };
    await rejectsWith(unprotectPrivateMessage(cs, badAd, r), CryptoError, 'V-PROT-11');
    // The genuine message still decrypts.
    await unprotectPrivateMessage(cs, m, r);
  });

  it(`suite ${id} V-PROT-7: a message for another epoch or group is rejected`, async () => {
    const s = await setup(cs);
    const m = await s.sendPrivate(s.app('x'));
    await rejectsWith(unprotectPrivateMessage(cs, { ...m, epoch: 6n }, s.receiver()), ValidationError, 'V-PROT-7');
    await rejectsWith(unprotectPrivateMessage(cs, { ...m, groupId: utf8.encode('other') }, s.receiver()), ValidationError, 'V-PROT-7');
  });

  it(`suite ${id} V-PROT-5: a sender leaf that is blank is rejected`, async () => {
    const s = await setup(cs);
    const content = s.app('x', leafIndex(3));
    const m = await protectPrivateMessage(
      cs,
      await signFramedContent(cs, { wireFormat: WireFormat.privateMessage, content, groupContext: s.gc, signaturePrivateKey: s.sig.privateKey }),
      { secretTree: s.senderTree, senderDataSecret: s.senderDataSecret },
    );
    await rejectsWith(unprotectPrivateMessage(cs, m, s.receiver()), ValidationError, 'V-PROT-5');
  });

  it(`suite ${id} V-PROT-3: a PrivateMessage signed by another key is rejected`, async () => {
    const s = await setup(cs);
    const other = await cs.signature.generateKeyPair();
    const m = await protectPrivateMessage(
      cs,
      await signFramedContent(cs, { wireFormat: WireFormat.privateMessage, content: s.app('x'), groupContext: s.gc, signaturePrivateKey: other.privateKey }),
      { secretTree: s.senderTree, senderDataSecret: s.senderDataSecret },
    );
    await rejectsWith(unprotectPrivateMessage(cs, m, s.receiver()), CryptoError, 'V-PROT-3');
  });

  it(`suite ${id} V-FRAME-4 (was also V-PROT-6): non-zero padding makes a PrivateMessage malformed`, async () => {
    const s = await setup(cs);
    // Hand-build a PrivateMessage whose plaintext ends in a non-zero "padding" octet.
    const ac = await signFramedContent(cs, { wireFormat: WireFormat.privateMessage, content: s.app('x'), groupContext: s.gc, signaturePrivateKey: s.sig.privateKey });
    const sigLen = ac.auth.signature.length;
    const w: number[] = [1, 'x'.charCodeAt(0)];
    const sigPrefix = sigLen < 64 ? [sigLen] : [0x40 | (sigLen >> 8), sigLen & 0xff];
    const plaintext = new Uint8Array([...w, ...sigPrefix, ...ac.auth.signature, 0, 0, 7]);
    const { generation, key, nonce } = s.senderTree.nextKey(s.sender, 'application');
    const aad = encode(privateContentAadCodec, { groupId: s.gc.groupId, epoch: s.gc.epoch, contentType: ContentType.application, authenticatedData: utf8.encode('ad') });
    const ciphertext = await cs.aead.seal(key, nonce, aad, plaintext);
    const sd = senderDataKeyNonce(cs, s.senderDataSecret, ciphertext);
    const encryptedSenderData = await cs.aead.seal(
      sd.key,
      sd.nonce,
      encode(senderDataAadCodec, { groupId: s.gc.groupId, epoch: s.gc.epoch, contentType: ContentType.application }),
      encode(senderDataCodec, { leafIndex: s.sender, generation, reuseGuard: new Uint8Array(4) }),
    );
    const m: PrivateMessage = {
      groupId: s.gc.groupId,
      epoch: s.gc.epoch,
      contentType: ContentType.application,
      authenticatedData: utf8.encode('ad'),
      encryptedSenderData,
      ciphertext,
    };
    await rejectsWith(unprotectPrivateMessage(cs, m, s.receiver()), DecodeError, 'V-FRAME-4');
  });

  it(`suite ${id} reuse guard: a fresh guard per message, applied to the nonce`, async () => {
    const s = await setup(cs);
    const a = new SecretTree(cs, s.encryptionSecret, 4);
    const b = new SecretTree(cs, s.encryptionSecret, 4);
    const ac = await signFramedContent(cs, { wireFormat: WireFormat.privateMessage, content: s.app('same'), groupContext: s.gc, signaturePrivateKey: s.sig.privateKey });
    const m1 = await protectPrivateMessage(cs, ac, { secretTree: a, senderDataSecret: s.senderDataSecret, reuseGuard: hexToBytes('00000000') });
    const m2 = await protectPrivateMessage(cs, ac, { secretTree: b, senderDataSecret: s.senderDataSecret, reuseGuard: hexToBytes('01020304') });
    // Same generation and key, different guard: different ciphertexts, both decrypt.
    expect(m1.ciphertext).not.toEqual(m2.ciphertext);
    await unprotectPrivateMessage(cs, m1, s.receiver());
    await unprotectPrivateMessage(cs, m2, s.receiver());
    await expect(protectPrivateMessage(cs, ac, { secretTree: a, senderDataSecret: s.senderDataSecret, reuseGuard: new Uint8Array(3) })).rejects.toThrow(UsageError);
  });

  it(`suite ${id} V-PROT-4: only members send PrivateMessages`, async () => {
    const s = await setup(cs);
    const content = { ...s.remove(), sender: { senderType: SenderType.external, senderIndex: 0 } } as FramedContent;
    const ac = await signFramedContent(cs, { wireFormat: WireFormat.privateMessage, content, groupContext: s.gc, signaturePrivateKey: s.sig.privateKey });
    await rejectsWith(protectPrivateMessage(cs, ac, { secretTree: s.senderTree, senderDataSecret: s.senderDataSecret }), UsageError, 'V-PROT-4');
  });

  it(`suite ${id} V-PROT-2 / V-PROT-3: PublicMessage membership tag and signature`, async () => {
    const s = await setup(cs);
    const ac = await signFramedContent(cs, { wireFormat: WireFormat.publicMessage, content: s.remove(), groupContext: s.gc, signaturePrivateKey: s.sig.privateKey });
    const pm = protectPublicMessage(cs, ac, { groupContext: s.gc, membershipKey: s.membershipKey });
    const params = { groupContext: s.gc, membershipKey: s.membershipKey, signatureKey: () => s.sig.publicKey };
    await unprotectPublicMessage(cs, pm, params);
    const badTag = pm.membershipTag!.slice();
    badTag[0]! ^= 1;
    await rejectsWith(unprotectPublicMessage(cs, { ...pm, membershipTag: badTag }, params), CryptoError, 'V-PROT-2');
    await rejectsWith(unprotectPublicMessage(cs, pm, { ...params, membershipKey: cs.randomBytes(cs.kdf.size) }), CryptoError, 'V-PROT-2');
    const { membershipTag: _dropped, ...noTag } = pm;
    await rejectsWith(unprotectPublicMessage(cs, noTag as PublicMessage, params), CryptoError, 'V-PROT-2');
    const badSig = pm.auth.signature.slice();
    badSig[badSig.length - 1]! ^= 1;
    // Recompute the tag so only the signature is wrong.
    const forged = protectPublicMessage(cs, { ...ac, auth: { signature: badSig } }, { groupContext: s.gc, membershipKey: s.membershipKey });
    await rejectsWith(unprotectPublicMessage(cs, forged, params), CryptoError, 'V-PROT-3');
    await rejectsWith(unprotectPublicMessage(cs, pm, { ...params, signatureKey: () => undefined }), ValidationError, 'V-PROT-3');
  });

  it(`suite ${id} V-PROT-1: application data never travels as a PublicMessage`, async () => {
    const s = await setup(cs);
    const ac = await signFramedContent(cs, { wireFormat: WireFormat.publicMessage, content: s.app('x'), groupContext: s.gc, signaturePrivateKey: s.sig.privateKey });
    expect(() => protectPublicMessage(cs, ac, { groupContext: s.gc, membershipKey: s.membershipKey })).toThrow(UsageError);
    const pm: PublicMessage = { content: ac.content, auth: ac.auth, membershipTag: new Uint8Array(cs.kdf.size) };
    await rejectsWith(
      unprotectPublicMessage(cs, pm, { groupContext: s.gc, membershipKey: s.membershipKey, signatureKey: () => s.sig.publicKey }),
      ValidationError,
      'V-PROT-1',
    );
  });

  it(`suite ${id} V-PROT-9: sender types are limited in what they may send`, async () => {
    const s = await setup(cs);
    const params = { groupContext: s.gc, membershipKey: s.membershipKey, signatureKey: () => s.sig.publicKey };
    const cases: FramedContent[] = [
      { ...s.remove(), sender: { senderType: SenderType.newMemberProposal } } as FramedContent,
      { ...s.remove(), sender: { senderType: SenderType.newMemberCommit } } as FramedContent,
    ];
    for (const content of cases) {
      const ac = await signFramedContent(cs, { wireFormat: WireFormat.publicMessage, content, groupContext: s.gc, signaturePrivateKey: s.sig.privateKey });
      const pm = protectPublicMessage(cs, ac, { groupContext: s.gc });
      await rejectsWith(unprotectPublicMessage(cs, pm, params), ValidationError, 'V-PROT-9');
    }
    // An external sender's Remove proposal passes this layer (proposal-type policy is checked elsewhere).
    const ext = { ...s.remove(), sender: { senderType: SenderType.external, senderIndex: 0 } } as FramedContent;
    const ac = await signFramedContent(cs, { wireFormat: WireFormat.publicMessage, content: ext, groupContext: s.gc, signaturePrivateKey: s.sig.privateKey });
    await unprotectPublicMessage(cs, protectPublicMessage(cs, ac, { groupContext: s.gc }), params);
  });
});
