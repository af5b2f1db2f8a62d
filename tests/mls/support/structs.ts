/**
 * fast-check arbitraries for every RFC 9420 wire struct we encode, and the one
 * round-trip helper all codec tests share. `STRUCTS` lists each struct with its
 * codec and an arbitrary of valid values; the round-trip property test and the
 * decoder fuzz test both iterate it, so a new struct is covered by adding one
 * entry here.
 *
 * Byte strings are kept short so that deeply nested structs (a Commit holding
 * an Add holding a KeyPackage holding a LeafNode...) stay small and fast.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { decode, encode, type Codec } from '../../../lib/mls/codec/codec.ts';
import { bytesEqual } from '../../../lib/bytes.ts';
import { commitCodec, type Commit } from '../../../lib/mls/group/commit.ts';
import { CredentialType, credentialCodec, type Credential } from '../../../lib/mls/tree/credential.ts';
import {
  applicationIdCodec,
  extensionCodec,
  extensionsCodec,
  externalPubCodec,
  externalSenderCodec,
  externalSendersCodec,
  requiredCapabilitiesCodec,
  type Extension,
  type ExternalSender,
  type RequiredCapabilities,
} from '../../../lib/mls/group/extensions.ts';
import {
  authenticatedContentCodec,
  ContentType,
  framedContentAuthDataCodec,
  framedContentCodec,
  framedContentTbsCodec,
  mlsMessageCodec,
  privateContentAadCodec,
  privateMessageCodec,
  privateMessageContentCodec,
  publicMessageCodec,
  senderCodec,
  senderDataAadCodec,
  senderDataCodec,
  SenderType,
  senderSignsGroupContext,
  WireFormat,
  type AuthenticatedContent,
  type FramedContent,
  type FramedContentAuthData,
  type FramedContentBody,
  type FramedContentTBS,
  type FramedWireFormat,
  type MLSMessage,
  type PrivateMessage,
  type PrivateMessageContent,
  type PublicMessage,
  type Sender,
} from '../../../lib/mls/framing/framing.ts';
import { groupContextCodec, type GroupContext } from '../../../lib/mls/group/group-context.ts';
import { groupInfoCodec, groupInfoTbsCodec, type GroupInfo } from '../../../lib/mls/join/group-info.ts';
import { keyPackageCodec, keyPackageTbsCodec, type KeyPackageIn } from '../../../lib/mls/join/key-package.ts';
import {
  capabilitiesCodec,
  LeafNodeSource,
  leafNodeCodec,
  leafNodeTbsCodec,
  lifetimeCodec,
  type Capabilities,
  type LeafNodeIn,
  type LeafNodeSourceFields,
  type LeafNodeTBS,
  type Lifetime,
} from '../../../lib/mls/tree/leaf-node.ts';
import { ProtocolVersion } from '../../../lib/mls/framing/protocol-version.ts';
import {
  addCodec,
  externalInitCodec,
  groupContextExtensionsCodec,
  preSharedKeyCodec,
  proposalCodec,
  proposalOrRefCodec,
  ProposalOrRefType,
  ProposalType,
  reInitCodec,
  removeCodec,
  updateCodec,
  type Proposal,
  type ProposalOrRef,
} from '../../../lib/mls/group/proposals.ts';
import { PskType, ResumptionPskUsage, preSharedKeyIdCodec, type PreSharedKeyId } from '../../../lib/mls/keys/psk.ts';
import type { LeafIndex } from '../../../lib/mls/tree/tree-math.ts';
import { NodeType, nodeCodec, parentNodeCodec, ratchetTreeCodec, type Node, type ParentNode } from '../../../lib/mls/tree/tree-node.ts';
import {
  hpkeCiphertextCodec,
  updatePathCodec,
  updatePathNodeCodec,
  type HPKECiphertext,
  type UpdatePath,
  type UpdatePathNode,
} from '../../../lib/mls/tree/update-path.ts';
import {
  encryptedGroupSecretsCodec,
  groupSecretsCodec,
  pathSecretCodec,
  welcomeCodec,
  type EncryptedGroupSecrets,
  type GroupSecrets,
  type Welcome,
} from '../../../lib/mls/join/welcome.ts';

// ---------------------------------------------------------------------------
// The shared round-trip helper

/**
 * encode → decode → encode: the second encoding equals the first, the decoded
 * value equals the original, and neither step mutated its input.
 */
export function expectRoundTrip<T>(codec: Codec<T>, value: T): Uint8Array {
  const snapshot = structuredClone(value);
  const bytes = encode(codec, value);
  expect(value).toEqual(snapshot); // encoding never mutates the value
  const copy = bytes.slice();
  const decoded = decode(codec, bytes);
  expect(bytesEqual(bytes, copy)).toBe(true); // decoding never mutates the bytes
  expect(decoded).toEqual(value);
  const again = encode(codec, decoded);
  expect(bytesEqual(again, bytes)).toBe(true);
  return bytes;
}

// ---------------------------------------------------------------------------
// Scalars

const bytes = (maxLength = 12): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const leafIdx = u32.map((n) => n as LeafIndex);
const version = fc.constant(ProtocolVersion.mls10);
const list = <T>(arb: fc.Arbitrary<T>, maxLength = 3): fc.Arbitrary<T[]> => fc.array(arb, { maxLength });

// ---------------------------------------------------------------------------
// Structs, leaves first

export const arbExtension: fc.Arbitrary<Extension> = fc.record({ extensionType: u16, extensionData: bytes() });
export const arbExtensions = list(arbExtension);

export const arbCredential: fc.Arbitrary<Credential> = fc.oneof(
  fc.record({ credentialType: fc.constant(CredentialType.basic), identity: bytes() }),
  fc.record({ credentialType: fc.constant(CredentialType.x509), certificates: list(bytes()) }),
);

export const arbRequiredCapabilities: fc.Arbitrary<RequiredCapabilities> = fc.record({
  extensionTypes: list(u16),
  proposalTypes: list(u16),
  credentialTypes: list(u16),
});
export const arbExternalSender: fc.Arbitrary<ExternalSender> = fc.record({ signatureKey: bytes(), credential: arbCredential });

export const arbCapabilities: fc.Arbitrary<Capabilities> = fc.record({
  versions: list(u16),
  cipherSuites: list(u16),
  extensions: list(u16),
  proposals: list(u16),
  credentials: list(u16),
});
export const arbLifetime: fc.Arbitrary<Lifetime> = fc.record({ notBefore: u64, notAfter: u64 });

const arbSourceFields: fc.Arbitrary<LeafNodeSourceFields> = fc.oneof(
  fc.record({ leafNodeSource: fc.constant(LeafNodeSource.keyPackage), lifetime: arbLifetime }),
  fc.record({ leafNodeSource: fc.constant(LeafNodeSource.update) }),
  fc.record({ leafNodeSource: fc.constant(LeafNodeSource.commit), parentHash: bytes() }),
);

export const arbLeafNode: fc.Arbitrary<LeafNodeIn> = fc
  .tuple(
    fc.record({
      encryptionKey: bytes(),
      signatureKey: bytes(),
      credential: arbCredential,
      capabilities: arbCapabilities,
      extensions: arbExtensions,
      signature: bytes(),
    }),
    arbSourceFields,
  )
  .map(([base, source]) => ({ ...base, ...source }));

export const arbLeafNodeTbs: fc.Arbitrary<LeafNodeTBS> = fc
  .tuple(arbLeafNode, bytes(), leafIdx)
  .map(([{ signature: _signature, ...content }, groupId, leafIndex]) =>
    content.leafNodeSource === LeafNodeSource.keyPackage ? content : { ...content, groupId, leafIndex },
  );

export const arbParentNode: fc.Arbitrary<ParentNode> = fc.record({
  encryptionKey: bytes(),
  parentHash: bytes(),
  unmergedLeaves: list(leafIdx),
});
export const arbNode: fc.Arbitrary<Node> = fc.oneof(
  arbLeafNode.map((leafNode) => ({ nodeType: NodeType.leaf, leafNode })),
  arbParentNode.map((parentNode) => ({ nodeType: NodeType.parent, parentNode })),
);
export const arbRatchetTree = list(fc.option(arbNode, { nil: undefined }), 5);

export const arbGroupContext: fc.Arbitrary<GroupContext> = fc.record({
  version,
  cipherSuite: u16,
  groupId: bytes(),
  epoch: u64,
  treeHash: bytes(),
  confirmedTranscriptHash: bytes(),
  extensions: arbExtensions,
});

export const arbKeyPackage: fc.Arbitrary<KeyPackageIn> = fc.record({
  version,
  cipherSuite: u16,
  initKey: bytes(),
  leafNode: arbLeafNode,
  extensions: arbExtensions,
  signature: bytes(),
});

export const arbHpkeCiphertext: fc.Arbitrary<HPKECiphertext> = fc.record({ kemOutput: bytes(), ciphertext: bytes() });
export const arbUpdatePathNode: fc.Arbitrary<UpdatePathNode> = fc.record({
  encryptionKey: bytes(),
  encryptedPathSecret: list(arbHpkeCiphertext),
});
export const arbUpdatePath: fc.Arbitrary<UpdatePath> = fc.record({ leafNode: arbLeafNode, nodes: list(arbUpdatePathNode) });

export const arbPreSharedKeyId: fc.Arbitrary<PreSharedKeyId> = fc.oneof(
  fc.record({ psktype: fc.constant(PskType.external), pskId: bytes(), pskNonce: bytes() }),
  fc.record({
    psktype: fc.constant(PskType.resumption),
    usage: fc.constantFrom(...Object.values(ResumptionPskUsage)),
    pskGroupId: bytes(),
    pskEpoch: u64,
    pskNonce: bytes(),
  }),
);

export const arbAdd = fc.record({ keyPackage: arbKeyPackage });
export const arbUpdate = fc.record({ leafNode: arbLeafNode });
export const arbRemove = fc.record({ removed: leafIdx });
export const arbPreSharedKey = fc.record({ psk: arbPreSharedKeyId });
export const arbReInit = fc.record({ groupId: bytes(), version: u16, cipherSuite: u16, extensions: arbExtensions });
export const arbExternalInit = fc.record({ kemOutput: bytes() });
export const arbGroupContextExtensions = fc.record({ extensions: arbExtensions });

export const arbProposal: fc.Arbitrary<Proposal> = fc.oneof(
  arbAdd.map((add) => ({ proposalType: ProposalType.add, add })),
  arbUpdate.map((update) => ({ proposalType: ProposalType.update, update })),
  arbRemove.map((remove) => ({ proposalType: ProposalType.remove, remove })),
  arbPreSharedKey.map((psk) => ({ proposalType: ProposalType.psk, psk })),
  arbReInit.map((reInit) => ({ proposalType: ProposalType.reinit, reInit })),
  arbExternalInit.map((externalInit) => ({ proposalType: ProposalType.externalInit, externalInit })),
  arbGroupContextExtensions.map((groupContextExtensions) => ({
    proposalType: ProposalType.groupContextExtensions,
    groupContextExtensions,
  })),
);
export const arbProposalOrRef: fc.Arbitrary<ProposalOrRef> = fc.oneof(
  arbProposal.map((proposal) => ({ type: ProposalOrRefType.proposal, proposal })),
  bytes().map((reference) => ({ type: ProposalOrRefType.reference, reference })),
);

export const arbCommit: fc.Arbitrary<Commit> = fc
  .tuple(list(arbProposalOrRef, 2), fc.option(arbUpdatePath, { nil: undefined }))
  .map(([proposals, path]) => (path === undefined ? { proposals } : { proposals, path }));

export const arbGroupInfo: fc.Arbitrary<GroupInfo> = fc.record({
  groupContext: arbGroupContext,
  extensions: arbExtensions,
  confirmationTag: bytes(),
  signer: leafIdx,
  signature: bytes(),
});

export const arbGroupSecrets: fc.Arbitrary<GroupSecrets> = fc
  .tuple(bytes(), fc.option(bytes(), { nil: undefined }), list(arbPreSharedKeyId))
  .map(([joinerSecret, path, psks]) =>
    path === undefined ? { joinerSecret, psks } : { joinerSecret, pathSecret: { pathSecret: path }, psks },
  );
export const arbEncryptedGroupSecrets: fc.Arbitrary<EncryptedGroupSecrets> = fc.record({
  newMember: bytes(),
  encryptedGroupSecrets: arbHpkeCiphertext,
});
export const arbWelcome: fc.Arbitrary<Welcome> = fc.record({
  cipherSuite: u16,
  secrets: list(arbEncryptedGroupSecrets),
  encryptedGroupInfo: bytes(),
});

// ---------------------------------------------------------------------------
// Framing

export const arbSender: fc.Arbitrary<Sender> = fc.oneof(
  leafIdx.map((leafIndex) => ({ senderType: SenderType.member, leafIndex })),
  u32.map((senderIndex) => ({ senderType: SenderType.external, senderIndex })),
  fc.constant({ senderType: SenderType.newMemberProposal }),
  fc.constant({ senderType: SenderType.newMemberCommit }),
);

const arbBodyOf = (contentType: ContentType): fc.Arbitrary<FramedContentBody> => {
  switch (contentType) {
    case ContentType.application:
      return bytes(24).map((applicationData) => ({ contentType, applicationData }));
    case ContentType.proposal:
      return arbProposal.map((proposal) => ({ contentType, proposal }));
    case ContentType.commit:
      return arbCommit.map((commit) => ({ contentType, commit }));
  }
};
const CONTENT_TYPES = Object.values(ContentType);
export const arbContentType = fc.constantFrom(...CONTENT_TYPES);
export const arbBody: fc.Arbitrary<FramedContentBody> = arbContentType.chain(arbBodyOf);

export const arbFramedContent: fc.Arbitrary<FramedContent> = fc
  .tuple(fc.record({ groupId: bytes(), epoch: u64, sender: arbSender, authenticatedData: bytes() }), arbBody)
  .map(([head, body]) => ({ ...head, ...body }));

export const arbAuthFor = (contentType: ContentType): fc.Arbitrary<FramedContentAuthData> =>
  contentType === ContentType.commit
    ? fc.record({ signature: bytes(), confirmationTag: bytes() })
    : fc.record({ signature: bytes() });

const arbFramedWireFormat = fc.constantFrom<FramedWireFormat>(WireFormat.publicMessage, WireFormat.privateMessage);

export const arbFramedContentTbs: fc.Arbitrary<FramedContentTBS> = fc
  .tuple(arbFramedWireFormat, arbFramedContent, arbGroupContext)
  .map(([wireFormat, content, context]) =>
    senderSignsGroupContext(content.sender.senderType)
      ? { version: ProtocolVersion.mls10, wireFormat, content, context }
      : { version: ProtocolVersion.mls10, wireFormat, content },
  );

export const arbAuthenticatedContent: fc.Arbitrary<AuthenticatedContent> = fc
  .tuple(arbFramedWireFormat, arbFramedContent)
  .chain(([wireFormat, content]) => arbAuthFor(content.contentType).map((auth) => ({ wireFormat, content, auth })));

export const arbPublicMessage: fc.Arbitrary<PublicMessage> = fc
  .tuple(arbFramedContent, bytes())
  .chain(([content, tag]) =>
    arbAuthFor(content.contentType).map((auth) =>
      content.sender.senderType === SenderType.member ? { content, auth, membershipTag: tag } : { content, auth },
    ),
  );

export const arbPrivateMessage: fc.Arbitrary<PrivateMessage> = fc.record({
  groupId: bytes(),
  epoch: u64,
  contentType: arbContentType,
  authenticatedData: bytes(),
  encryptedSenderData: bytes(),
  ciphertext: bytes(40),
});

export const arbPrivateMessageContentOf = (contentType: ContentType): fc.Arbitrary<PrivateMessageContent> =>
  fc
    .tuple(arbBodyOf(contentType), arbAuthFor(contentType), fc.nat({ max: 40 }))
    .map(([body, auth, paddingLength]) => ({ ...body, auth, paddingLength }));

export const arbSenderData = fc.record({ leafIndex: leafIdx, generation: u32, reuseGuard: fc.uint8Array({ minLength: 4, maxLength: 4 }) });
export const arbSenderDataAad = fc.record({ groupId: bytes(), epoch: u64, contentType: arbContentType });
export const arbPrivateContentAad = fc.record({
  groupId: bytes(),
  epoch: u64,
  contentType: arbContentType,
  authenticatedData: bytes(),
});

export const arbMlsMessage: fc.Arbitrary<MLSMessage> = fc.oneof(
  arbPublicMessage.map((publicMessage) => ({ version: ProtocolVersion.mls10, wireFormat: WireFormat.publicMessage, publicMessage })),
  arbPrivateMessage.map((privateMessage) => ({ version: ProtocolVersion.mls10, wireFormat: WireFormat.privateMessage, privateMessage })),
  arbWelcome.map((welcome) => ({ version: ProtocolVersion.mls10, wireFormat: WireFormat.welcome, welcome })),
  arbGroupInfo.map((groupInfo) => ({ version: ProtocolVersion.mls10, wireFormat: WireFormat.groupInfo, groupInfo })),
  arbKeyPackage.map((keyPackage) => ({ version: ProtocolVersion.mls10, wireFormat: WireFormat.keyPackage, keyPackage })),
);

// ---------------------------------------------------------------------------
// The registry

export interface StructEntry<T> {
  readonly name: string;
  readonly codec: Codec<T>;
  readonly arb: fc.Arbitrary<T>;
}

const entry = <T>(name: string, codec: Codec<T>, arb: fc.Arbitrary<T>): StructEntry<unknown> =>
  ({ name, codec, arb }) as StructEntry<unknown>;

/** Every wire struct with its codec and an arbitrary of valid values. */
export const STRUCTS: readonly StructEntry<unknown>[] = [
  entry('Extension', extensionCodec, arbExtension),
  entry('Extension<V>', extensionsCodec, arbExtensions),
  entry('ApplicationId', applicationIdCodec, bytes()),
  entry('RequiredCapabilities', requiredCapabilitiesCodec, arbRequiredCapabilities),
  entry('ExternalPub', externalPubCodec, fc.record({ externalPub: bytes() })),
  entry('ExternalSender', externalSenderCodec, arbExternalSender),
  entry('ExternalSender<V>', externalSendersCodec, list(arbExternalSender)),
  entry('Credential', credentialCodec, arbCredential),
  entry('Capabilities', capabilitiesCodec, arbCapabilities),
  entry('Lifetime', lifetimeCodec, arbLifetime),
  entry('LeafNode', leafNodeCodec, arbLeafNode),
  entry('LeafNodeTBS', leafNodeTbsCodec, arbLeafNodeTbs),
  entry('ParentNode', parentNodeCodec, arbParentNode),
  entry('Node', nodeCodec, arbNode),
  entry('ratchet_tree', ratchetTreeCodec, arbRatchetTree),
  entry('GroupContext', groupContextCodec, arbGroupContext),
  entry('KeyPackage', keyPackageCodec, arbKeyPackage),
  entry('KeyPackageTBS', keyPackageTbsCodec, arbKeyPackage.map(({ signature: _s, ...tbs }) => tbs)),
  entry('HPKECiphertext', hpkeCiphertextCodec, arbHpkeCiphertext),
  entry('UpdatePathNode', updatePathNodeCodec, arbUpdatePathNode),
  entry('UpdatePath', updatePathCodec, arbUpdatePath),
  entry('PreSharedKeyID', preSharedKeyIdCodec, arbPreSharedKeyId),
  entry('Add', addCodec, arbAdd),
  entry('Update', updateCodec, arbUpdate),
  entry('Remove', removeCodec, arbRemove),
  entry('PreSharedKey', preSharedKeyCodec, arbPreSharedKey),
  entry('ReInit', reInitCodec, arbReInit),
  entry('ExternalInit', externalInitCodec, arbExternalInit),
  entry('GroupContextExtensions', groupContextExtensionsCodec, arbGroupContextExtensions),
  entry('Proposal', proposalCodec, arbProposal),
  entry('ProposalOrRef', proposalOrRefCodec, arbProposalOrRef),
  entry('Commit', commitCodec, arbCommit),
  entry('GroupInfo', groupInfoCodec, arbGroupInfo),
  entry('GroupInfoTBS', groupInfoTbsCodec, arbGroupInfo.map(({ signature: _s, ...tbs }) => tbs)),
  entry('PathSecret', pathSecretCodec, fc.record({ pathSecret: bytes() })),
  entry('GroupSecrets', groupSecretsCodec, arbGroupSecrets),
  entry('EncryptedGroupSecrets', encryptedGroupSecretsCodec, arbEncryptedGroupSecrets),
  entry('Welcome', welcomeCodec, arbWelcome),
  entry('Sender', senderCodec, arbSender),
  entry('FramedContent', framedContentCodec, arbFramedContent),
  ...CONTENT_TYPES.map((ct) => entry(`FramedContentAuthData(content_type=${ct})`, framedContentAuthDataCodec(ct), arbAuthFor(ct))),
  entry('FramedContentTBS', framedContentTbsCodec, arbFramedContentTbs),
  entry('AuthenticatedContent', authenticatedContentCodec, arbAuthenticatedContent),
  entry('PublicMessage', publicMessageCodec, arbPublicMessage),
  entry('PrivateMessage', privateMessageCodec, arbPrivateMessage),
  ...CONTENT_TYPES.map((ct) =>
    entry(`PrivateMessageContent(content_type=${ct})`, privateMessageContentCodec(ct), arbPrivateMessageContentOf(ct)),
  ),
  entry('SenderData', senderDataCodec, arbSenderData),
  entry('SenderDataAAD', senderDataAadCodec, arbSenderDataAad),
  entry('PrivateContentAAD', privateContentAadCodec, arbPrivateContentAad),
  entry('MLSMessage', mlsMessageCodec, arbMlsMessage),
];
