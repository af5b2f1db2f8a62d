/**
 * Struct encodings whose layout depends on a tag elsewhere (RFC 9420 §6.1,
 * §6.2, §6.3, §7.2): the encoders write exactly the fields the tags call for
 * and refuse, with a UsageError, objects whose optional fields disagree with
 * their tags, so we never emit bytes a peer would reject.
 */
import { describe, expect, it } from 'vitest';
import { decode, encode, Writer } from '../../lib/mls/codec/codec.ts';
import { bytesToHex, concatBytes } from '../../lib/bytes.ts';
import { CredentialType } from '../../lib/mls/tree/credential.ts';
import { UsageError } from '../../lib/mls/errors.ts';
import {
  authenticatedContentCodec,
  ContentType,
  encodePrivateMessageContent,
  framedContentAuthDataCodec,
  framedContentCodec,
  framedContentTbsCodec,
  publicMessageCodec,
  senderDataCodec,
  SenderType,
  WireFormat,
  type FramedContent,
} from '../../lib/mls/framing/framing.ts';
import { groupContextCodec, type GroupContext } from '../../lib/mls/group/group-context.ts';
import { groupInfoCodec, groupInfoTbsCodec, type GroupInfo } from '../../lib/mls/join/group-info.ts';
import { keyPackageCodec, keyPackageTbsCodec, type KeyPackageIn } from '../../lib/mls/join/key-package.ts';
import { encodeLeafNodeTbs, LeafNodeSource, leafNodeCodec, leafNodeTbsCodec, type LeafNodeIn } from '../../lib/mls/tree/leaf-node.ts';
import { ProtocolVersion } from '../../lib/mls/framing/protocol-version.ts';
import { leafIndex } from '../../lib/mls/tree/tree-math.ts';

const b = (...x: number[]): Uint8Array => Uint8Array.from(x);

const base = {
  encryptionKey: b(1, 1),
  signatureKey: b(2, 2),
  credential: { credentialType: CredentialType.basic, identity: b(3) },
  capabilities: { versions: [1], cipherSuites: [1], extensions: [], proposals: [], credentials: [1] },
  extensions: [],
  signature: b(9, 9, 9),
} as const;
const kpLeaf: LeafNodeIn = { ...base, leafNodeSource: LeafNodeSource.keyPackage, lifetime: { notBefore: 1n, notAfter: 2n } };
const updateLeaf: LeafNodeIn = { ...base, leafNodeSource: LeafNodeSource.update };
const commitLeaf: LeafNodeIn = { ...base, leafNodeSource: LeafNodeSource.commit, parentHash: b(7) };

/** A LeafNode's encoding without its trailing `opaque signature<V>`. */
function withoutSignature(leaf: LeafNodeIn): Uint8Array {
  const full = encode(leafNodeCodec, leaf);
  const sigLen = new Writer().opaque(leaf.signature).finish().length;
  return full.slice(0, full.length - sigLen);
}

const groupContext: GroupContext = {
  version: ProtocolVersion.mls10,
  cipherSuite: 1,
  groupId: b(0xaa),
  epoch: 5n,
  treeHash: b(1),
  confirmedTranscriptHash: b(2),
  extensions: [],
};

describe('LeafNodeTBS (§7.2)', () => {
  it('a key_package leaf signs its content alone, ignoring any binding', () => {
    const tbs = encodeLeafNodeTbs(kpLeaf, { groupId: b(5), leafIndex: leafIndex(3) });
    expect(bytesToHex(tbs)).toBe(bytesToHex(withoutSignature(kpLeaf)));
    expect(bytesToHex(encodeLeafNodeTbs(kpLeaf))).toBe(bytesToHex(tbs));
  });

  it('update and commit leaves sign group_id and leaf_index too', () => {
    for (const leaf of [updateLeaf, commitLeaf]) {
      const tbs = encodeLeafNodeTbs(leaf, { groupId: b(5, 6), leafIndex: leafIndex(0x01020304) });
      const expected = concatBytes(withoutSignature(leaf), b(2, 5, 6, 1, 2, 3, 4));
      expect(bytesToHex(tbs)).toBe(bytesToHex(expected));
      expect(decode(leafNodeTbsCodec, tbs)).toMatchObject({ groupId: b(5, 6), leafIndex: 0x01020304 });
    }
  });

  it('an update/commit leaf without its binding is a UsageError', () => {
    expect(() => encodeLeafNodeTbs(updateLeaf)).toThrow(UsageError);
    expect(() => encodeLeafNodeTbs(commitLeaf)).toThrow(UsageError);
  });
});

describe('TBS structs cover every field above the signature', () => {
  it('KeyPackageTBS and GroupInfoTBS are the struct minus its signature', () => {
    const kp: KeyPackageIn = {
      version: ProtocolVersion.mls10,
      cipherSuite: 1,
      initKey: b(4),
      leafNode: kpLeaf,
      extensions: [],
      signature: b(8, 8),
    };
    const gi: GroupInfo = { groupContext, extensions: [], confirmationTag: b(6), signer: leafIndex(1), signature: b(8, 8) };
    for (const [full, tbs] of [
      [encode(keyPackageCodec, kp), encode(keyPackageTbsCodec, kp)],
      [encode(groupInfoCodec, gi), encode(groupInfoTbsCodec, gi)],
    ] as const) {
      expect(bytesToHex(full)).toBe(bytesToHex(concatBytes(tbs, b(2, 8, 8))));
    }
  });
});

describe('framing fields that depend on tags (§6.1–§6.3)', () => {
  const memberApp: FramedContent = {
    groupId: b(0xaa),
    epoch: 5n,
    sender: { senderType: SenderType.member, leafIndex: leafIndex(2) },
    authenticatedData: b(),
    contentType: ContentType.application,
    applicationData: b(1, 2, 3),
  };
  const externalApp: FramedContent = { ...memberApp, sender: { senderType: SenderType.external, senderIndex: 0 } };

  it('confirmation_tag exactly for commits', () => {
    expect(() => encode(framedContentAuthDataCodec(ContentType.commit), { signature: b(1) })).toThrow(UsageError);
    expect(() => encode(framedContentAuthDataCodec(ContentType.proposal), { signature: b(1), confirmationTag: b(2) })).toThrow(
      UsageError,
    );
    expect(bytesToHex(encode(framedContentAuthDataCodec(ContentType.commit), { signature: b(1), confirmationTag: b(2) }))).toBe(
      '01010102',
    );
  });

  it('FramedContentTBS carries the GroupContext exactly for member and new_member_commit senders', () => {
    const tbs = encode(framedContentTbsCodec, {
      version: ProtocolVersion.mls10,
      wireFormat: WireFormat.publicMessage,
      content: memberApp,
      context: groupContext,
    });
    const expected = concatBytes(b(0, 1, 0, 1), encode(framedContentCodec, memberApp), encode(groupContextCodec, groupContext));
    expect(bytesToHex(tbs)).toBe(bytesToHex(expected));
    expect(() =>
      encode(framedContentTbsCodec, { version: ProtocolVersion.mls10, wireFormat: WireFormat.publicMessage, content: memberApp }),
    ).toThrow(UsageError);
    expect(() =>
      encode(framedContentTbsCodec, {
        version: ProtocolVersion.mls10,
        wireFormat: WireFormat.privateMessage,
        content: externalApp,
        context: groupContext,
      }),
    ).toThrow(UsageError);
  });

  it('membership_tag exactly for member senders', () => {
    expect(() => encode(publicMessageCodec, { content: memberApp, auth: { signature: b() } })).toThrow(UsageError);
    expect(() => encode(publicMessageCodec, { content: externalApp, auth: { signature: b() }, membershipTag: b(1) })).toThrow(
      UsageError,
    );
    const pm = { content: memberApp, auth: { signature: b() }, membershipTag: b(1) };
    expect(decode(publicMessageCodec, encode(publicMessageCodec, pm))).toEqual(pm);
  });

  it('AuthenticatedContent is wire_format || FramedContent || FramedContentAuthData', () => {
    const ac = { wireFormat: WireFormat.privateMessage, content: memberApp, auth: { signature: b(4) } } as const;
    const expected = concatBytes(b(0, 2), encode(framedContentCodec, memberApp), b(1, 4));
    expect(bytesToHex(encode(authenticatedContentCodec, ac))).toBe(bytesToHex(expected));
  });

  it('PrivateMessageContent appends exactly paddingLength zero octets and refuses bad padding lengths', () => {
    const content = { contentType: ContentType.application, applicationData: b(1), auth: { signature: b(2) } } as const;
    const plain = encodePrivateMessageContent({ ...content, paddingLength: 5 });
    expect(bytesToHex(plain)).toBe('0101' + '0102' + '0000000000');
    expect(() => encodePrivateMessageContent({ ...content, paddingLength: -1 })).toThrow(UsageError);
    expect(() => encodePrivateMessageContent({ ...content, paddingLength: 1.5 })).toThrow(UsageError);
  });

  it('SenderData reuse_guard is exactly 4 octets', () => {
    expect(bytesToHex(encode(senderDataCodec, { leafIndex: leafIndex(1), generation: 2, reuseGuard: b(1, 2, 3, 4) }))).toBe(
      '000000010000000201020304',
    );
    expect(() => encode(senderDataCodec, { leafIndex: leafIndex(1), generation: 2, reuseGuard: b(1, 2, 3) })).toThrow(UsageError);
  });
});
