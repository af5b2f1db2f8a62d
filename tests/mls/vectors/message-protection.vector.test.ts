// Official message-protection.json vectors: every case, every suite. For each
// of proposal, commit and application: the vector's PublicMessage (not for
// application) and PrivateMessage unprotect to the raw value, and our own
// protection round-trips (PublicMessage protection of application data fails).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { decode, encode } from '../../../lib/mls/codec/codec.ts';
import { bytesToHex, hexToBytes } from '../../../lib/bytes.ts';
import { getCipherSuite } from '../../../lib/crypto/suites.ts';
import type { CipherSuite } from '../../../lib/crypto/provider.ts';
import { SecretTree } from '../../../lib/mls/keys/secret-tree.ts';
import { leafIndex, type LeafIndex } from '../../../lib/mls/tree/tree-math.ts';
import {
  ContentType,
  mlsMessageCodec,
  SenderType,
  WireFormat,
  type AuthenticatedContent,
  type FramedContent,
  type FramedContentBody,
  type PrivateMessage,
  type PublicMessage,
} from '../../../lib/mls/framing/framing.ts';
import { ProtocolVersion, type GroupContext } from '../../../lib/mls/group/group-context.ts';
import { proposalCodec } from '../../../lib/mls/group/proposals.ts';
import { commitCodec } from '../../../lib/mls/group/commit.ts';
import {
  protectPrivateMessage,
  protectPublicMessage,
  signFramedContent,
  unprotectPrivateMessage,
  unprotectPublicMessage,
} from '../../../lib/mls/framing/message-protection.ts';
import { UsageError } from '../../../lib/mls/errors.ts';

interface Case {
  cipher_suite: number;
  group_id: string;
  epoch: number;
  tree_hash: string;
  confirmed_transcript_hash: string;
  signature_priv: string;
  signature_pub: string;
  encryption_secret: string;
  sender_data_secret: string;
  membership_key: string;
  proposal: string;
  proposal_pub: string;
  proposal_priv: string;
  commit: string;
  commit_pub: string;
  commit_priv: string;
  application: string;
  application_priv: string;
}

const cases = JSON.parse(
  readFileSync(new URL('../../vectors/data/message-protection.json', import.meta.url), 'utf8'),
) as Case[];
const h = hexToBytes;
const SENDER = leafIndex(1);

function publicOf(hex: string): PublicMessage {
  const m = decode(mlsMessageCodec, h(hex));
  if (m.wireFormat !== WireFormat.publicMessage) throw new Error('expected a PublicMessage');
  return m.publicMessage;
}

function privateOf(hex: string): PrivateMessage {
  const m = decode(mlsMessageCodec, h(hex));
  if (m.wireFormat !== WireFormat.privateMessage) throw new Error('expected a PrivateMessage');
  return m.privateMessage;
}

/** The raw value of a content body, encoded as the vector gives it. */
function rawOf(content: FramedContent): string {
  switch (content.contentType) {
    case ContentType.application:
      return bytesToHex(content.applicationData);
    case ContentType.proposal:
      return bytesToHex(encode(proposalCodec, content.proposal));
    case ContentType.commit:
      return bytesToHex(encode(commitCodec, content.commit));
  }
}

type Kind = 'proposal' | 'commit' | 'application';

function bodyOf(c: Case, kind: Kind): FramedContentBody {
  switch (kind) {
    case 'proposal':
      return { contentType: ContentType.proposal, proposal: decode(proposalCodec, h(c.proposal)) };
    case 'commit':
      return { contentType: ContentType.commit, commit: decode(commitCodec, h(c.commit)) };
    case 'application':
      return { contentType: ContentType.application, applicationData: h(c.application) };
  }
}

async function sign(
  cs: CipherSuite,
  c: Case,
  gc: GroupContext,
  kind: Kind,
  wireFormat: typeof WireFormat.publicMessage | typeof WireFormat.privateMessage,
): Promise<AuthenticatedContent> {
  const content: FramedContent = {
    groupId: gc.groupId,
    epoch: gc.epoch,
    sender: { senderType: SenderType.member, leafIndex: SENDER },
    authenticatedData: new TextEncoder().encode('authenticated data'),
    ...bodyOf(c, kind),
  };
  return signFramedContent(cs, {
    wireFormat,
    content,
    groupContext: gc,
    signaturePrivateKey: h(c.signature_priv),
    // Any MAC-sized value: confirmation tags are checked by the key schedule, not here.
    ...(kind === 'commit' ? { confirmationTag: cs.hash.mac(h(c.membership_key), h(c.confirmed_transcript_hash)) } : {}),
  });
}

describe('message-protection vectors', () => {
  it('covers all seven suites', () => {
    expect(new Set(cases.map((c) => c.cipher_suite))).toEqual(new Set([1, 2, 3, 4, 5, 6, 7]));
  });

  cases.forEach((c, i) => {
    const cs = getCipherSuite(c.cipher_suite);
    const gc: GroupContext = {
      version: ProtocolVersion.mls10,
      cipherSuite: c.cipher_suite,
      groupId: h(c.group_id),
      epoch: BigInt(c.epoch),
      treeHash: h(c.tree_hash),
      confirmedTranscriptHash: h(c.confirmed_transcript_hash),
      extensions: [],
    };
    const sigPub = h(c.signature_pub);
    const memberKey = (leaf: LeafIndex) => (leaf === SENDER ? sigPub : undefined);
    const newTree = () => new SecretTree(cs, h(c.encryption_secret), 2);
    const pubParams = { groupContext: gc, membershipKey: h(c.membership_key), signatureKey: () => sigPub };

    for (const kind of ['proposal', 'commit'] as const) {
      it(`suite ${c.cipher_suite} case ${i} ${kind} PublicMessage`, async () => {
        const ac = await unprotectPublicMessage(cs, publicOf(c[`${kind}_pub`]), pubParams);
        expect(rawOf(ac.content)).toBe(c[kind]);

        const mine = protectPublicMessage(cs, await sign(cs, c, gc, kind, WireFormat.publicMessage), {
          groupContext: gc,
          membershipKey: h(c.membership_key),
        });
        const bytes = encode(mlsMessageCodec, { version: ProtocolVersion.mls10, wireFormat: WireFormat.publicMessage, publicMessage: mine });
        const back = await unprotectPublicMessage(cs, publicOf(bytesToHex(bytes)), pubParams);
        expect(rawOf(back.content)).toBe(c[kind]);
      });
    }

    it(`suite ${c.cipher_suite} case ${i} application as PublicMessage fails (V-PROT-1)`, async () => {
      const ac = await sign(cs, c, gc, 'application', WireFormat.publicMessage);
      expect(() => protectPublicMessage(cs, ac, { groupContext: gc, membershipKey: h(c.membership_key) })).toThrow(UsageError);
    });

    for (const kind of ['proposal', 'commit', 'application'] as const) {
      it(`suite ${c.cipher_suite} case ${i} ${kind} PrivateMessage`, async () => {
        const privParams = (tree: SecretTree) => ({
          groupContext: gc,
          secretTree: tree,
          senderDataSecret: h(c.sender_data_secret),
          memberSignatureKey: memberKey,
        });
        const ac = await unprotectPrivateMessage(cs, privateOf(c[`${kind}_priv`]), privParams(newTree()));
        expect(ac.content.sender).toEqual({ senderType: SenderType.member, leafIndex: SENDER });
        expect(rawOf(ac.content)).toBe(c[kind]);

        const senderTree = newTree();
        const mine = await protectPrivateMessage(cs, await sign(cs, c, gc, kind, WireFormat.privateMessage), {
          secretTree: senderTree,
          senderDataSecret: h(c.sender_data_secret),
          paddingLength: 7,
        });
        const bytes = encode(mlsMessageCodec, { version: ProtocolVersion.mls10, wireFormat: WireFormat.privateMessage, privateMessage: mine });
        const receiverTree = newTree();
        const back = await unprotectPrivateMessage(cs, privateOf(bytesToHex(bytes)), privParams(receiverTree));
        expect(rawOf(back.content)).toBe(c[kind]);
        // The generation is now consumed: a replay is rejected.
        await expect(unprotectPrivateMessage(cs, privateOf(bytesToHex(bytes)), privParams(receiverTree))).rejects.toThrow(/V-ST-2/);
      });
    }
  });
});
