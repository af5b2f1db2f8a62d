/**
 * Receipt validation of the group layer: every rule ID that a hostile member
 * or outsider can trigger has a rejection test here, and each rejected
 * message leaves the receiver's serialized state byte-identical.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { getCipherSuite } from '../../lib/crypto/suites.ts';
import { encode } from '../../lib/mls/codec/codec.ts';
import { signWithLabel } from '../../lib/mls/keys/crypto-ops.ts';
import { ExtensionType, requiredCapabilitiesCodec } from '../../lib/mls/group/extensions.ts';
import { WireFormat, type MLSMessage } from '../../lib/mls/framing/framing.ts';
import {
  createCommit,
  encodeMessage,
  exportGroupInfo,
  generateIdentity,
  generateKeyPackage,
  joinByExternalCommit,
  joinFromWelcome,
  processMessage,
  proposeUpdate,
  type GroupState,
} from '../../lib/mls/group.ts';
import { keyPackageTbsCodec } from '../../lib/mls/join/key-package.ts';
import { protectPublicMessage, signFramedContent } from '../../lib/mls/framing/message-protection.ts';
import { ProposalOrRefType, ProposalType, type Proposal, type ProposalOrRef } from '../../lib/mls/group/proposals.ts';
import { PskType } from '../../lib/mls/keys/psk.ts';
import type { LeafIndex } from '../../lib/mls/tree/tree-math.ts';
import { deliverAll, expectRejected, forgeCommit, makeGroup, utf8 } from './group-fixture.ts';

const byValue = (proposal: Proposal): ProposalOrRef => ({ type: ProposalOrRefType.proposal, proposal });
const remove = (i: number): Proposal => ({ proposalType: ProposalType.remove, remove: { removed: i as LeafIndex } });

for (const suiteId of [1, 2, 3, 4, 5, 6, 7]) {
  describe(`group receipt validation suite ${suiteId}`, () => {
    let g: GroupState[];
    beforeAll(async () => {
      g = await makeGroup(suiteId, 4);
    });

    it(`suite ${suiteId} V-CM-3: a Commit with exactly one Remove and no path is rejected (GHSA-gwp3-968w-m7gv)`, async () => {
      const msg = await forgeCommit(g[0]!, { proposals: [byValue(remove(3))] });
      await expectRejected(g[1]!, 'V-CM-3', (s) => processMessage(s, encodeMessage(msg)));
    });

    it(`suite ${suiteId} V-CM-3: a Commit with exactly one Update (by reference) and no path is rejected`, async () => {
      const upd = await proposeUpdate(g[2]!, { wireFormat: WireFormat.publicMessage });
      const [a, b] = await deliverAll([g[0]!, g[1]!], upd.message);
      const msg = await forgeCommit(a!, { proposals: [{ type: ProposalOrRefType.reference, reference: upd.ref }] });
      await expectRejected(b!, 'V-CM-3', (s) => processMessage(s, encodeMessage(msg)));
    });

    it(`suite ${suiteId} V-CM-3: an empty Commit without a path is rejected`, async () => {
      const msg = await forgeCommit(g[0]!, { proposals: [] });
      await expectRejected(g[1]!, 'V-CM-3', (s) => processMessage(s, encodeMessage(msg)));
    });

    it(`suite ${suiteId} V-CM-3: a GroupContextExtensions Commit without a path is rejected`, async () => {
      const msg = await forgeCommit(g[0]!, {
        proposals: [byValue({ proposalType: ProposalType.groupContextExtensions, groupContextExtensions: { extensions: [] } })],
      });
      await expectRejected(g[1]!, 'V-CM-3', (s) => processMessage(s, encodeMessage(msg)));
    });

    it(`suite ${suiteId} V-CM-5: confirmation tags of the wrong length are rejected (GHSA-8x3w-qj7j-gqhf class)`, async () => {
      const kp = await generateKeyPackage(g[0]!.suite, await generateIdentity(g[0]!.suite, utf8.encode('x')));
      const commit = { proposals: [byValue({ proposalType: ProposalType.add, add: { keyPackage: kp.keyPackage } } as Proposal)] };
      for (const len of [0, 1, g[0]!.suite.hash.size - 1, g[0]!.suite.hash.size + 1]) {
        const msg = await forgeCommit(g[0]!, commit, { tag: new Uint8Array(len) });
        await expectRejected(g[1]!, 'V-CM-5', (s) => processMessage(s, encodeMessage(msg)));
        const priv = await forgeCommit(g[0]!, commit, { tag: new Uint8Array(len), wireFormat: WireFormat.privateMessage });
        await expectRejected(g[1]!, 'V-CM-5', (s) => processMessage(s, encodeMessage(priv)));
      }
    });

    it(`suite ${suiteId} V-CM-4: a wrong confirmation tag of the right length is rejected`, async () => {
      const kp = await generateKeyPackage(g[0]!.suite, await generateIdentity(g[0]!.suite, utf8.encode('y')));
      const msg = await forgeCommit(g[0]!, {
        proposals: [byValue({ proposalType: ProposalType.add, add: { keyPackage: kp.keyPackage } })],
      });
      await expectRejected(g[1]!, 'V-CM-4', (s) => processMessage(s, encodeMessage(msg)));
    });

    it(`suite ${suiteId} V-RCV-3: membership tags of the wrong length are rejected; V-PROT-2 a wrong tag`, async () => {
      const real = await createCommit(g[0]!, { wireFormat: WireFormat.publicMessage });
      if (real.commit.wireFormat !== WireFormat.publicMessage) throw new Error('expected a PublicMessage');
      const pm = real.commit.publicMessage;
      const n = g[0]!.suite.hash.size;
      for (const len of [0, n - 1, n + 1, 2 * n]) {
        const bad: MLSMessage = { ...real.commit, publicMessage: { ...pm, membershipTag: new Uint8Array(len) } };
        await expectRejected(g[1]!, 'V-RCV-3', (s) => processMessage(s, encodeMessage(bad)));
      }
      const wrong: MLSMessage = { ...real.commit, publicMessage: { ...pm, membershipTag: new Uint8Array(n) } };
      await expectRejected(g[1]!, 'V-PROT-2', (s) => processMessage(s, encodeMessage(wrong)));
    });
  });
}

describe('group receipt validation, rules (suite 1)', () => {
  let g: GroupState[];
  beforeAll(async () => {
    g = await makeGroup(1, 4);
  });
  const cs = getCipherSuite(1);

  async function kpFor(name: string) {
    return generateKeyPackage(cs, await generateIdentity(cs, utf8.encode(name)));
  }

  it('suite 1 V-PL-2: a Commit removing its committer is rejected', async () => {
    const msg = await forgeCommit(g[0]!, { proposals: [byValue(remove(0))] });
    await expectRejected(g[1]!, 'V-PL-2', (s) => processMessage(s, encodeMessage(msg)));
  });

  it('suite 1 V-PL-1: a Commit carrying the committer\'s own Update is rejected', async () => {
    const leaf = g[0]!.tree.leaf(0 as LeafIndex)!;
    const msg = await forgeCommit(g[0]!, {
      proposals: [byValue({ proposalType: ProposalType.update, update: { leafNode: leaf } })],
    });
    await expectRejected(g[1]!, 'V-PL-1', (s) => processMessage(s, encodeMessage(msg)));
  });

  it('suite 1 V-PL-3: two Removes of the same leaf are rejected', async () => {
    const msg = await forgeCommit(g[0]!, { proposals: [byValue(remove(2)), byValue(remove(2))] });
    await expectRejected(g[1]!, 'V-PL-3', (s) => processMessage(s, encodeMessage(msg)));
  });

  it('suite 1 V-PL-5: two GroupContextExtensions are rejected', async () => {
    const gce: Proposal = { proposalType: ProposalType.groupContextExtensions, groupContextExtensions: { extensions: [] } };
    const msg = await forgeCommit(g[0]!, { proposals: [byValue(gce), byValue(gce)] });
    await expectRejected(g[1]!, 'V-PL-5', (s) => processMessage(s, encodeMessage(msg)));
  });

  it('suite 1 V-PL-6: a ReInit with another proposal is rejected', async () => {
    const reinit: Proposal = {
      proposalType: ProposalType.reinit,
      reInit: { groupId: utf8.encode('new'), version: 1, cipherSuite: 1, extensions: [] },
    };
    const msg = await forgeCommit(g[0]!, { proposals: [byValue(reinit), byValue(remove(3))] });
    await expectRejected(g[1]!, 'V-PL-6', (s) => processMessage(s, encodeMessage(msg)));
  });

  it('suite 1 V-PL-7: an ExternalInit in a regular Commit is rejected', async () => {
    const msg = await forgeCommit(g[0]!, {
      proposals: [byValue({ proposalType: ProposalType.externalInit, externalInit: { kemOutput: new Uint8Array(32) } })],
    });
    await expectRejected(g[1]!, 'V-PL-7', (s) => processMessage(s, encodeMessage(msg)));
  });

  it('suite 1 V-PL-4: the same PSK twice is rejected', async () => {
    const psk: Proposal = {
      proposalType: ProposalType.psk,
      psk: { psk: { psktype: PskType.external, pskId: utf8.encode('k'), pskNonce: new Uint8Array(32) } },
    };
    const msg = await forgeCommit(g[0]!, { proposals: [byValue(psk), byValue(psk)] });
    await expectRejected(g[1]!, 'V-PL-4', (s) => processMessage(s, encodeMessage(msg)));
  });

  it('suite 1 V-PSK-7: a PSK the receiver does not hold is rejected', async () => {
    const psk: Proposal = {
      proposalType: ProposalType.psk,
      psk: { psk: { psktype: PskType.external, pskId: utf8.encode('unknown'), pskNonce: new Uint8Array(32) } },
    };
    const msg = await forgeCommit(g[0]!, { proposals: [byValue(psk)] });
    await expectRejected(g[1]!, 'V-PSK-7', (s) => processMessage(s, encodeMessage(msg)));
  });

  it('suite 1 V-CM-1: a reference to an unknown proposal is rejected', async () => {
    const msg = await forgeCommit(g[0]!, { proposals: [{ type: ProposalOrRefType.reference, reference: new Uint8Array(32) }] });
    await expectRejected(g[1]!, 'V-CM-1', (s) => processMessage(s, encodeMessage(msg)));
  });

  it('suite 1 V-REM-1: a Remove of a blank or absent leaf is rejected', async () => {
    for (const leaf of [4, 7, 1000]) {
      const real = await forgeCommit(g[0]!, { proposals: [byValue(remove(leaf))] });
      await expectRejected(g[1]!, 'V-REM-1', (s) => processMessage(s, encodeMessage(real)));
    }
  });

  it('suite 1 V-LN-8: adding a client already in the group (same signature key) is rejected', async () => {
    const kp = await generateKeyPackage(cs, {
      credential: g[2]!.tree.leaf(2 as LeafIndex)!.credential,
      signaturePublicKey: g[2]!.tree.leaf(2 as LeafIndex)!.signatureKey,
      signaturePrivateKey: g[2]!.signaturePrivateKey,
    });
    await expectRejected(g[0]!, 'V-LN-8', (s) =>
      createCommit(s, { proposals: [{ proposalType: ProposalType.add, add: { keyPackage: kp.keyPackage } }] }),
    );
    const msg = await forgeCommit(g[0]!, { proposals: [byValue({ proposalType: ProposalType.add, add: { keyPackage: kp.keyPackage } })] });
    await expectRejected(g[1]!, 'V-LN-8', (s) => processMessage(s, encodeMessage(msg)));
  });

  it('suite 1 V-LN-8: two Adds of the same client are rejected', async () => {
    const id = await generateIdentity(cs, utf8.encode('twice'));
    const [a, b] = await Promise.all([generateKeyPackage(cs, id), generateKeyPackage(cs, id)]);
    const msg = await forgeCommit(g[0]!, {
      proposals: [a!, b!].map((kp) => byValue({ proposalType: ProposalType.add, add: { keyPackage: kp.keyPackage } })),
    });
    await expectRejected(g[1]!, 'V-LN-8', (s) => processMessage(s, encodeMessage(msg)));
  });

  it('suite 1 V-KP-3: an Add whose KeyPackage signature is bad is rejected; V-KP-1 wrong suite; V-KP-4 init key = leaf key', async () => {
    const kp = (await kpFor('bad')).keyPackage;
    const badSig = { ...kp, signature: kp.signature.map((b, i) => (i === 0 ? b ^ 1 : b)) };
    let msg = await forgeCommit(g[0]!, { proposals: [byValue({ proposalType: ProposalType.add, add: { keyPackage: badSig } })] });
    await expectRejected(g[1]!, 'V-KP-3', (s) => processMessage(s, encodeMessage(msg)));

    const otherSuite = { ...kp, cipherSuite: 3 };
    msg = await forgeCommit(g[0]!, { proposals: [byValue({ proposalType: ProposalType.add, add: { keyPackage: otherSuite } })] });
    await expectRejected(g[1]!, 'V-KP-1', (s) => processMessage(s, encodeMessage(msg)));

    // Re-signed with init_key = the leaf's encryption key.
    const id = await generateIdentity(cs, utf8.encode('same-keys'));
    const gen = await generateKeyPackage(cs, id);
    const tbs = { ...gen.keyPackage, initKey: gen.keyPackage.leafNode.encryptionKey };
    const sameKeys = { ...tbs, signature: await signWithLabel(cs, id.signaturePrivateKey, 'KeyPackageTBS', encode(keyPackageTbsCodec, tbs)) };
    msg = await forgeCommit(g[0]!, { proposals: [byValue({ proposalType: ProposalType.add, add: { keyPackage: sameKeys } })] });
    await expectRejected(g[1]!, 'V-KP-4', (s) => processMessage(s, encodeMessage(msg)));
  });

  it('suite 1 V-GCE-1: required capabilities some member lacks are rejected', async () => {
    const ext = {
      extensionType: ExtensionType.requiredCapabilities,
      extensionData: encode(requiredCapabilitiesCodec, { extensionTypes: [0xff00], proposalTypes: [], credentialTypes: [] }),
    };
    await expectRejected(g[0]!, 'V-GCE-1', (s) =>
      createCommit(s, { proposals: [{ proposalType: ProposalType.groupContextExtensions, groupContextExtensions: { extensions: [ext] } }] }),
    );
  });

  it('suite 1 V-UP-1 / V-PH-2 / V-LN-1: tampered UpdatePaths are rejected', async () => {
    const real = await createCommit(g[0]!, { wireFormat: WireFormat.publicMessage });
    if (real.commit.wireFormat !== WireFormat.publicMessage) throw new Error('expected PublicMessage');
    const content = real.commit.publicMessage.content;
    if (content.contentType !== 3) throw new Error('expected commit');
    const path = content.commit.path!;
    // One UpdatePathNode too few.
    let msg = await forgeCommit(g[0]!, { proposals: [], path: { ...path, nodes: path.nodes.slice(1) } });
    await expectRejected(g[1]!, 'V-UP-1', (s) => processMessage(s, encodeMessage(msg)));
    // Leaf with a wrong parent hash (and so also a stale signature).
    const leaf = path.leafNode;
    if (leaf.leafNodeSource !== 3) throw new Error('expected commit leaf');
    msg = await forgeCommit(g[0]!, { proposals: [], path: { ...path, leafNode: { ...leaf, parentHash: new Uint8Array(leaf.parentHash.length) } } });
    await expect(processMessage(g[1]!, encodeMessage(msg))).rejects.toThrow(/V-PH-2|V-LN-1/);
    // Leaf with a broken signature.
    msg = await forgeCommit(g[0]!, {
      proposals: [],
      path: { ...path, leafNode: { ...leaf, signature: leaf.signature.map((b, i) => (i === 0 ? b ^ 1 : b)) } },
    });
    await expectRejected(g[1]!, 'V-LN-1', (s) => processMessage(s, encodeMessage(msg)));
  });

  it('suite 1 V-CM-2: our own Commit coming back is refused', async () => {
    const real = await createCommit(g[0]!);
    await expectRejected(g[0]!, 'V-CM-2', (s) => processMessage(s, encodeMessage(real.commit)));
  });

  it('suite 1 V-RCV-2: a Commit for another epoch is rejected; V-RCV-1 another group', async () => {
    const real = await createCommit(g[0]!, { wireFormat: WireFormat.publicMessage });
    const [next] = await deliverAll([g[1]!], real.commit);
    await expectRejected(next!, 'V-RCV-2', (s) => processMessage(s, encodeMessage(real.commit)));
    if (real.commit.wireFormat !== WireFormat.publicMessage) throw new Error('expected PublicMessage');
    const other: MLSMessage = {
      ...real.commit,
      publicMessage: { ...real.commit.publicMessage, content: { ...real.commit.publicMessage.content, groupId: utf8.encode('other') } },
    };
    await expectRejected(g[1]!, 'V-RCV-1', (s) => processMessage(s, encodeMessage(other)));
  });

  it('suite 1 V-PROT-3: a Commit with a forged signature is rejected', async () => {
    const real = await createCommit(g[0]!, { wireFormat: WireFormat.publicMessage });
    if (real.commit.wireFormat !== WireFormat.publicMessage) throw new Error('expected PublicMessage');
    const pm = real.commit.publicMessage;
    // Claim another sender: the signature no longer verifies (and the tag was computed for leaf 0).
    const forged: MLSMessage = {
      ...real.commit,
      publicMessage: { ...pm, auth: { ...pm.auth, signature: pm.auth.signature.map((b, i) => (i === 3 ? b ^ 0x10 : b)) } },
    };
    await expect(processMessage(g[1]!, encodeMessage(forged))).rejects.toThrow(/V-PROT-[23]/);
  });

  it('suite 1 V-EC-2/V-EC-3/V-EC-4/V-EC-5: malformed external Commits are rejected', async () => {
    const gi = await exportGroupInfo(g[0]!);
    const dave = await generateIdentity(cs, utf8.encode('dave'));
    const ext = await joinByExternalCommit(gi, dave);
    if (ext.commit.wireFormat !== WireFormat.publicMessage) throw new Error('expected PublicMessage');
    const pm = ext.commit.publicMessage;
    if (pm.content.contentType !== 3) throw new Error('expected commit');
    const commit = pm.content.commit;
    const variants: [string, typeof commit][] = [
      ['V-EC-2', { ...commit, proposals: commit.proposals.filter((p) => p.type === 1 && p.proposal.proposalType !== ProposalType.externalInit) }],
      ['V-EC-4', { ...commit, proposals: [...commit.proposals, byValue({ proposalType: ProposalType.groupContextExtensions, groupContextExtensions: { extensions: [] } })] }],
      ['V-EC-5', { proposals: commit.proposals }],
      ['V-EC-3', { ...commit, proposals: [...commit.proposals, byValue(remove(1)), byValue(remove(2))] }],
    ];
    for (const [rule, c] of variants) {
      // Re-signed by the joiner, so the rule (not the signature) is what rejects it.
      const ac = await signFramedContent(cs, {
        wireFormat: WireFormat.publicMessage,
        content: { ...pm.content, commit: c },
        groupContext: g[1]!.context,
        signaturePrivateKey: dave.signaturePrivateKey,
        confirmationTag: new Uint8Array(cs.hash.size),
      });
      const msg: MLSMessage = { ...ext.commit, publicMessage: protectPublicMessage(cs, ac, { groupContext: g[1]!.context }) };
      await expectRejected(g[1]!, rule, (s) => processMessage(s, encodeMessage(msg)));
    }
    // The genuine one is accepted.
    const ok = await processMessage(g[1]!, encodeMessage(ext.commit));
    expect(ok.kind).toBe('commit');
  });

  it('suite 1 V-JOIN-1/V-TREE-7 (was V-JOIN-2)/V-JOIN-3: bad trees and foreign KeyPackages are refused on join', async () => {
    const kp = await kpFor('joiner');
    const add = await createCommit(g[0]!, {
      proposals: [{ proposalType: ProposalType.add, add: { keyPackage: kp.keyPackage } }],
      groupInfo: { ratchetTree: false },
    });
    await expect(joinFromWelcome(add.welcome!, kp.keyPackage, kp.privateKeys)).rejects.toThrow('V-JOIN-1');
    await expect(joinFromWelcome(add.welcome!, kp.keyPackage, kp.privateKeys, { ratchetTree: g[0]!.tree })).rejects.toThrow(
      /V-TREE-7|V-WEL-7/,
    );
    const ok = await joinFromWelcome(add.welcome!, kp.keyPackage, kp.privateKeys, { ratchetTree: add.state.tree.toNodes() });
    expect(ok.ownLeaf).toBe(4);
    await expect(
      joinFromWelcome(add.welcome!, kp.keyPackage, kp.privateKeys, {
        ratchetTree: add.state.tree.toNodes(),
        existingGroupIds: [g[0]!.context.groupId],
      }),
    ).rejects.toThrow('V-JOIN-5');
    const other = await kpFor('not-added');
    await expect(joinFromWelcome(add.welcome!, other.keyPackage, other.privateKeys)).rejects.toThrow('V-WEL-2');
  });
});
