/**
 * Two places where ts-mls 1.6.4 departs from RFC 9420, pinned so that the
 * shims in `peer.ts` are known to be needed (and can be dropped once ts-mls
 * fixes them), and to show that our engine does not accept the departures:
 *  - §5.1.1: ECDSA signature public keys are uncompressed points; ts-mls'
 *    P-256 keygen yields 33-byte compressed ones, in its default KeyPackages;
 *  - §12.4.3.2: external_pub's extension_data is `struct { HPKEPublicKey
 *    external_pub; }` (an opaque<V>); ts-mls writes the bare key;
 *  - §12.4.1/§12.4.2: commit_secret is `path_secret[n+1]`, derived once from
 *    the last path secret of the UpdatePath. ts-mls (`getCommitSecret` in
 *    pathSecrets.js) walks from the last path node up to the root and derives
 *    once more from the root's secret; when the root is not on the committer's
 *    filtered direct path (§4.1.2: the whole other half of the tree is blank)
 *    that is one DeriveSecret too many, so its key schedule diverges. Not
 *    bridgeable in an adapter: the interop history avoids that tree shape
 *    (`rootOffFilteredPath`) and this test pins the disagreement both ways;
 *  - §12.4.3.1: a joiner checks that the non-blank nodes BETWEEN an unmerged
 *    leaf and the parent listing it also list it. ts-mls checks every node on
 *    the leaf's whole direct path and wants equal lists, so it refuses valid
 *    trees (its own included) once a member is added under a non-blank node
 *    off the committer's path. The history gives such joins to our members
 *    (`tsMlsRejectsTree`).
 */
import { describe, expect, it } from 'vitest';
import {
  createGroup,
  createGroupInfoWithExternalPubAndRatchetTree,
  defaultCapabilities,
  defaultLifetime,
  encodeMlsMessage,
  generateKeyPackage,
} from 'ts-mls';
import { MlsError } from '../../../lib/mls/errors.ts';
import { ourMember } from './ours.ts';
import { ecdsaUncompressed, peerMember, peerSuite, tsMlsRejectsTree, unprefixOpaque, varintPrefix } from './peer.ts';
import { utf8, type InteropMember } from './member.ts';
import { expectAgreement, rootOffFilteredPath } from './scenario.ts';

/**
 * A group of four (leaves 0..3, implementations alternating from `first`)
 * where the member at leaf 2 removes leaves 0 and 1: the left half is then
 * blank, so the root drops out of leaf 2's filtered direct path. Returns the
 * committer, the member at leaf 3 and the commit.
 */
async function rootOffPathCommit(committer: 'ours' | 'ts-mls'): Promise<{ c: InteropMember; d: InteropMember; commit: Uint8Array }> {
  const other = committer === 'ours' ? 'ts-mls' : 'ours';
  const make = (name: string, impl: 'ours' | 'ts-mls'): Promise<InteropMember> => (impl === 'ours' ? ourMember(name, 1) : peerMember(name, 1));
  const [a, b, c, d] = await Promise.all([make('a', other), make('b', committer), make('c', committer), make('d', other)]);
  await a.createGroup(utf8('root off the filtered path'));
  const add = await a.commit({ adds: [await b.keyPackage(), await c.keyPackage(), await d.keyPackage()] });
  for (const m of [b, c, d]) await m.joinFromWelcome(add.welcome!);
  await expectAgreement([a, b, c, d]);
  expect(c.ownLeafIndex()).toBe(2);
  expect(rootOffFilteredPath(c, [0, 1])).toBe(true);
  const { commit } = await c.commit({ removes: [0, 1] });
  return { c, d, commit };
}

describe('ts-mls 1.6.4 departures from RFC 9420', () => {
  it('suite 2: ts-mls KeyPackages carry a compressed P-256 signature key, which our engine refuses to add', async () => {
    const cs = await peerSuite(2);
    const kp = await generateKeyPackage({ credentialType: 'basic', identity: utf8('p') }, defaultCapabilities(), defaultLifetime, [], cs);
    expect(kp.publicPackage.leafNode.signaturePublicKey.length).toBe(33);
    expect(ecdsaUncompressed(2, kp.publicPackage.leafNode.signaturePublicKey).length).toBe(65);
    const bytes = encodeMlsMessage({ version: 'mls10', wireformat: 'mls_key_package', keyPackage: kp.publicPackage });
    const alice = await ourMember('alice', 2);
    await alice.createGroup(utf8('quirk group'));
    await expect(alice.commit({ adds: [bytes] })).rejects.toBeInstanceOf(MlsError);
    expect(alice.epoch()).toBe(0n);
  });

  it('suite 1: ts-mls writes external_pub as the bare key, which our external join refuses', async () => {
    const cs = await peerSuite(1);
    const kp = await generateKeyPackage({ credentialType: 'basic', identity: utf8('p') }, defaultCapabilities(), defaultLifetime, [], cs);
    const state = await createGroup(utf8('quirk group'), kp.publicPackage, kp.privatePackage, [], cs);
    const gi = await createGroupInfoWithExternalPubAndRatchetTree(state, [], cs);
    const ext = gi.extensions.find((e) => e.extensionType === 'external_pub');
    expect(ext?.extensionData.length).toBe(32); // X25519 key, no length prefix
    const dave = await ourMember('dave', 1);
    const bytes = encodeMlsMessage({ version: 'mls10', wireformat: 'mls_group_info', groupInfo: gi });
    await expect(dave.joinExternal(bytes)).rejects.toBeInstanceOf(MlsError);
    expect(dave.active()).toBe(false);
  });

  it('a ts-mls commit whose filtered direct path misses the root carries a commit_secret one derivation too far: we reject it', async () => {
    const { c, d, commit } = await rootOffPathCommit('ts-mls');
    expect(d.impl).toBe('ours');
    await expect(d.process(commit)).rejects.toBeInstanceOf(MlsError); // confirmation tag mismatch
    expect(d.epoch()).toBe(1n);
    expect(c.epoch()).toBe(2n);
  });

  it('our commit whose filtered direct path misses the root (RFC commit_secret) is rejected by ts-mls', async () => {
    const { c, d, commit } = await rootOffPathCommit('ours');
    expect(d.impl).toBe('ts-mls');
    await expect(d.process(commit)).rejects.toThrow(/confirmation tag/);
    expect(c.epoch()).toBe(2n);
  });

  it('the same commit is accepted across implementations while the root stays on the filtered path', async () => {
    // Control: removing only leaf 1 leaves leaf 0 in the left half.
    for (const committer of ['ours', 'ts-mls'] as const) {
      const other = committer === 'ours' ? 'ts-mls' : 'ours';
      const make = (name: string, impl: 'ours' | 'ts-mls'): Promise<InteropMember> =>
        impl === 'ours' ? ourMember(name, 1) : peerMember(name, 1);
      const [a, b, c, d] = await Promise.all([make('a', other), make('b', committer), make('c', committer), make('d', other)]);
      await a.createGroup(utf8('root on the filtered path'));
      const add = await a.commit({ adds: [await b.keyPackage(), await c.keyPackage(), await d.keyPackage()] });
      for (const m of [b, c, d]) await m.joinFromWelcome(add.welcome!);
      expect(rootOffFilteredPath(c, [1])).toBe(false);
      const { commit } = await c.commit({ removes: [1] });
      for (const m of [a, d]) await m.process(commit);
      await expectAgreement([a, c, d]);
    }
  });

  // Leaves a(0) b(1) c(2) d(3) f(4). f removes b (blanking b's direct path); a commits, which sets
  // node 3 (over leaves 0..3) and the root but not node 1 (its copath child, leaf 1, is blank);
  // f adds e at leaf 1 (node 3 and the root list leaf 1 as unmerged) and commits again, which
  // refreshes the root (no unmerged leaves) but not node 3. Valid per §12.4.3.1; ts-mls refuses it.
  for (const impl of ['ours', 'ts-mls'] as const) {
    it(`a valid tree with an unmerged leaf under a node off the committer's path (built by ${impl}): ts-mls refuses to join, we join`, async () => {
      const make = (name: string): Promise<InteropMember> => (impl === 'ours' ? ourMember(name, 1) : peerMember(name, 1));
      const [a, b, c, d, f] = await Promise.all([make('a'), make('b'), make('c'), make('d'), make('f')]);
      await a.createGroup(utf8('unmerged leaves'));
      const add = await a.commit({ adds: await Promise.all([b, c, d, f].map((m) => m.keyPackage())) });
      for (const m of [b, c, d, f]) await m.joinFromWelcome(add.welcome!);
      expect(f.ownLeafIndex()).toBe(4);
      const group = [a, c, d, f];
      const send = async (sender: InteropMember, commit: Uint8Array): Promise<void> => {
        for (const m of group) if (m !== sender) await m.process(commit);
      };
      const rm = await f.commit({ removes: [1] });
      await send(f, rm.commit);
      await send(a, (await a.commit()).commit);
      const e = await ourMember('e', 1);
      const addE = await f.commit({ adds: [await e.keyPackage()] });
      await send(f, addE.commit);
      await e.joinFromWelcome(addE.welcome!);
      expect(e.ownLeafIndex()).toBe(1);
      group.push(e);
      await send(f, (await f.commit()).commit);
      await expectAgreement(group);

      expect(tsMlsRejectsTree(f.ratchetTree())).toBe(true);
      const groupInfo = await f.groupInfo();
      const theirs = await peerMember('g', 1);
      await expect(theirs.joinExternal(groupInfo)).rejects.toThrow(/unmerged_leaves/);
      const mine = await ourMember('g', 1);
      const ext = await mine.joinExternal(groupInfo);
      await send(mine, ext);
      group.push(mine);
      await expectAgreement(group);
    });
  }

  it('the opaque<V> helpers of the shim round-trip and refuse a wrong length', () => {
    for (const n of [0, 1, 32, 63, 64, 65, 133, 16383, 16384]) {
      const body = new Uint8Array(n).fill(7);
      const prefixed = new Uint8Array([...varintPrefix(n), ...body]);
      expect(unprefixOpaque(prefixed)).toEqual(body);
      expect(unprefixOpaque(prefixed.subarray(0, prefixed.length - 1))).toBeUndefined();
    }
  });
});
