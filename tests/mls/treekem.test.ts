/**
 * TreeKEM (RFC 9420 §7.4–§7.6, §12.4.2): one test per validation rule on a
 * received UpdatePath, and random group histories over real crypto where
 * every member (including joiners via their Welcome path secret) must reach
 * the committer's commit secret.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getCipherSuite } from '../../lib/crypto/suites.ts';
import type { CipherSuite } from '../../lib/crypto/provider.ts';
import { decode, encode } from '../../lib/mls/codec/codec.ts';
import { bytesToHex, hexToBytes } from '../../lib/bytes.ts';
import { CryptoError } from '../../lib/mls/errors.ts';
import { groupContextCodec } from '../../lib/mls/group/group-context.ts';
import { LeafNodeSource, type LeafNode, type LeafNodeIn } from '../../lib/mls/tree/leaf-node.ts';
import { RatchetTree } from '../../lib/mls/tree/ratchet-tree.ts';
import { verifyParentHashes, verifyStructure } from '../../lib/mls/tree/tree-validation.ts';
import { isAncestorOrSelf, leafIndex, nodeIndex, toNodeIndex, type LeafIndex } from '../../lib/mls/tree/tree-math.ts';
import {
  TreeKemPrivate,
  createUpdatePath,
  decryptUpdatePath,
  mergeUpdatePath,
  signCommitLeafNode,
  type CheckedUpdatePath,
} from '../../lib/mls/tree/treekem.ts';
import { updatePathCodec, type UpdatePath } from '../../lib/mls/tree/update-path.ts';
import { trustTestLeaf, trustTestPath } from './support/trust-test-input.ts';

interface TreeKemCase {
  cipher_suite: number;
  group_id: string;
  epoch: number;
  confirmed_transcript_hash: string;
  ratchet_tree: string;
  leaves_private: { index: number; encryption_priv: string; path_secrets: { node: number; path_secret: string }[] }[];
  update_paths: { sender: number; update_path: string }[];
}

const cases = JSON.parse(
  readFileSync(new URL('../vectors/data/treekem.json', import.meta.url), 'utf8'),
) as TreeKemCase[];

// Suite 1, a 5-member tree.
const c = cases.find((x) => x.cipher_suite === 1 && x.leaves_private.length === 5)!;
const suite = getCipherSuite(1);
const tree = RatchetTree.decodeTrusted(suite, hexToBytes(c.ratchet_tree));
const up0 = c.update_paths[0]!;
const sender = leafIndex(up0.sender);
const path0 = trustTestPath(decode(updatePathCodec, hexToBytes(up0.update_path)));

function gcFor(treeHash: Uint8Array, cs: CipherSuite = suite, groupId = hexToBytes(c.group_id)): Uint8Array {
  return encode(groupContextCodec, {
    version: 1,
    cipherSuite: cs.id,
    groupId,
    epoch: BigInt(c.epoch),
    treeHash,
    confirmedTranscriptHash: hexToBytes(c.confirmed_transcript_hash),
    extensions: [],
  });
}

async function privateOf(i: number): Promise<TreeKemPrivate> {
  const lp = c.leaves_private.find((l) => l.index === i)!;
  const li = leafIndex(i);
  return TreeKemPrivate.fromPathSecrets(
    suite,
    li,
    { privateKey: hexToBytes(lp.encryption_priv), publicKey: tree.leaf(li)!.encryptionKey },
    lp.path_secrets.map((p) => ({ node: nodeIndex(p.node), pathSecret: hexToBytes(p.path_secret) })),
  );
}

function receiver(): number {
  return c.leaves_private.find((l) => l.index !== up0.sender)!.index;
}

function withLeaf(p: UpdatePath, leafNode: LeafNodeIn): CheckedUpdatePath {
  return trustTestPath({ ...p, leafNode });
}

describe('treekem: rules on a received UpdatePath', () => {
  it('the unmodified path merges and decrypts', async () => {
    const merged = mergeUpdatePath(tree, sender, path0);
    const out = await decryptUpdatePath({
      suite,
      tree: merged,
      sender,
      updatePath: path0,
      groupContext: gcFor(merged.treeHash()),
      me: await privateOf(receiver()),
    });
    expect(out.commitSecret.length).toBe(suite.kdf.size);
  });

  it('V-PH-2: a leaf whose parent_hash does not match', () => {
    const leaf = path0.leafNode;
    if (leaf.leafNodeSource !== LeafNodeSource.commit) throw new Error('fixture');
    const bad = leaf.parentHash.slice();
    bad[0]! ^= 1;
    expect(() => mergeUpdatePath(tree, sender, withLeaf(path0, { ...leaf, parentHash: bad }))).toThrow(/V-PH-2/);
  });

  it('V-UP-1: a path with a node missing', () => {
    expect(() => mergeUpdatePath(tree, sender, { ...path0, nodes: path0.nodes.slice(1) })).toThrow(/V-UP-1/);
  });

  it('V-UP-2: a node whose ciphertext count differs from the resolution', async () => {
    const merged = mergeUpdatePath(tree, sender, path0);
    const me = await privateOf(receiver());
    const nodes = path0.nodes.map((n) => ({ ...n, encryptedPathSecret: [...n.encryptedPathSecret, n.encryptedPathSecret[0]!] }));
    await expect(
      decryptUpdatePath({ suite, tree: merged, sender, updatePath: { ...path0, nodes }, groupContext: gcFor(merged.treeHash()), me }),
    ).rejects.toThrow(/V-UP-2/);
  });

  it('V-UP-3: a public key that does not match the path secret', async () => {
    const merged = mergeUpdatePath(tree, sender, path0);
    const root = path0.nodes.length - 1;
    const nodes = path0.nodes.map((n, i) =>
      i === root ? { ...n, encryptionKey: tree.leaf(sender)!.encryptionKey } : n,
    );
    await expect(
      decryptUpdatePath({
        suite,
        tree: merged,
        sender,
        updatePath: { ...path0, nodes },
        groupContext: gcFor(merged.treeHash()),
        me: await privateOf(receiver()),
      }),
    ).rejects.toThrow(/V-UP-3/);
  });

  it('V-UP-4: a leaf whose source is not commit', () => {
    const { leafNode } = path0;
    const update: LeafNodeIn = {
      encryptionKey: leafNode.encryptionKey,
      signatureKey: leafNode.signatureKey,
      credential: leafNode.credential,
      capabilities: leafNode.capabilities,
      extensions: leafNode.extensions,
      signature: leafNode.signature,
      leafNodeSource: LeafNodeSource.update,
    };
    expect(() => mergeUpdatePath(tree, sender, withLeaf(path0, update))).toThrow(/V-UP-4/);
  });

  it('V-UP-5: a leaf that keeps the committer\'s encryption key', () => {
    const leafNode = { ...path0.leafNode, encryptionKey: tree.leaf(sender)!.encryptionKey };
    expect(() => mergeUpdatePath(tree, sender, withLeaf(path0, leafNode))).toThrow(/V-UP-5/);
  });

  it('V-UP-6: a path key already in the tree, or repeated', () => {
    const other = tree.leaf(leafIndex(receiver()))!.encryptionKey;
    const nodes = path0.nodes.map((n, i) => (i === 0 ? { ...n, encryptionKey: other } : n));
    expect(() => mergeUpdatePath(tree, sender, { ...path0, nodes })).toThrow(/V-UP-6/);
    const repeated = path0.nodes.map((n) => ({ ...n, encryptionKey: path0.leafNode.encryptionKey }));
    expect(() => mergeUpdatePath(tree, sender, { ...path0, nodes: repeated })).toThrow(/V-UP-6/);
  });

  it('a tampered ciphertext or the wrong group context fails as a CryptoError', async () => {
    const merged = mergeUpdatePath(tree, sender, path0);
    const me = await privateOf(receiver());
    const wrongGc = gcFor(new Uint8Array(32));
    await expect(
      decryptUpdatePath({ suite, tree: merged, sender, updatePath: path0, groupContext: wrongGc, me }),
    ).rejects.toThrow(CryptoError);
  });

  it('V-TK-1: a private state that does not match the tree', async () => {
    const lp = c.leaves_private.find((l) => l.path_secrets.length > 0)!;
    const li = leafIndex(lp.index);
    const bad = await TreeKemPrivate.fromPathSecrets(
      suite,
      li,
      { privateKey: hexToBytes(lp.encryption_priv), publicKey: tree.leaf(li)!.encryptionKey },
      lp.path_secrets.map((p) => ({ node: nodeIndex(p.node), pathSecret: new Uint8Array(32).fill(7) })),
    );
    expect(() => bad.checkConsistent(tree)).toThrow(/V-TK-1/);
    (await privateOf(lp.index)).checkConsistent(tree);
  });

  it('V-TK-2: a Welcome path secret from a committer whose filtered direct path is not above our leaf', async () => {
    // Leaves A B _ _: A's filtered direct path is node 1 only (node 3's other child has an empty resolution).
    const d = RatchetTree.create(suite, tree.leaf(leafIndex(0))!).edit();
    d.addLeaf(tree.leaf(leafIndex(1))!);
    d.addLeaf(tree.leaf(leafIndex(2))!);
    d.setLeaf(leafIndex(2), undefined);
    const small = d.done();
    expect(small.filteredDirectPath(leafIndex(0))).toEqual([1]);
    const lp = c.leaves_private.find((l) => l.index === 2)!;
    const leafKey = { privateKey: hexToBytes(lp.encryption_priv), publicKey: tree.leaf(leafIndex(2))!.encryptionKey };
    await expect(
      TreeKemPrivate.fromWelcomePathSecret(suite, small, leafIndex(2), leafKey, leafIndex(0), new Uint8Array(suite.kdf.size)),
    ).rejects.toThrow(/V-TK-2/);
  });

  it('inputs are not mutated by merge and decrypt', async () => {
    const bytes = hexToBytes(up0.update_path);
    const treeBefore = bytesToHex(tree.encode());
    const p = decode(updatePathCodec, bytes);
    const merged = mergeUpdatePath(tree, sender, trustTestPath(p));
    await decryptUpdatePath({ suite, tree: merged, sender, updatePath: p, groupContext: gcFor(merged.treeHash()), me: await privateOf(receiver()) });
    expect(bytesToHex(encode(updatePathCodec, p))).toBe(up0.update_path);
    expect(bytesToHex(tree.encode())).toBe(treeBefore);
  });
});

// ---------------------------------------------------------------------------
// Random histories over real crypto: adds (joiners get their Welcome path
// secret), removes and commits; everyone must agree on the commit secret.

interface Member {
  sigPriv: Uint8Array;
  priv: TreeKemPrivate;
}

async function freshLeaf(cs: CipherSuite): Promise<{ leaf: LeafNode; encPriv: Uint8Array; sigPriv: Uint8Array }> {
  const [enc, sig] = await Promise.all([cs.hpke.generateKeyPair(), cs.signature.generateKeyPair()]);
  const leaf = trustTestLeaf({
    encryptionKey: enc.publicKey,
    signatureKey: sig.publicKey,
    credential: { credentialType: 1, identity: sig.publicKey.slice(0, 8) },
    capabilities: { versions: [1], cipherSuites: [cs.id], extensions: [], proposals: [], credentials: [1] },
    extensions: [],
    leafNodeSource: LeafNodeSource.update,
    signature: new Uint8Array(0),
  });
  return { leaf, encPriv: enc.privateKey, sigPriv: sig.privateKey };
}

describe('treekem: random histories (suite 1)', () => {
  it('every member and every joiner derives the committer\'s commit secret', async () => {
    const cs = getCipherSuite(1);
    const groupId = new Uint8Array([1, 2, 3]);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 3 }), fc.nat({ max: 2 })), { minLength: 1, maxLength: 6 }),
        async (steps) => {
          const first = await freshLeaf(cs);
          let t = RatchetTree.create(cs, first.leaf);
          const members = new Map<number, Member>([
            [0, { sigPriv: first.sigPriv, priv: TreeKemPrivate.fromLeafKey(leafIndex(0), { privateKey: first.encPriv, publicKey: first.leaf.encryptionKey }) }],
          ]);
          for (const [pick, adds, removes] of steps) {
            const ids = [...members.keys()];
            const committer = leafIndex(ids[pick % ids.length]!);
            const d = t.edit();
            // Removes (never the committer), then adds.
            const removable = ids.filter((i) => i !== committer);
            for (let r = 0; r < Math.min(removes, removable.length); r++) {
              const victim = removable[(pick + r) % removable.length]!;
              if (d.leaf(leafIndex(victim)) === undefined) continue;
              d.removeLeaf(leafIndex(victim));
              members.delete(victim);
            }
            const joiners: { at: LeafIndex; encPriv: Uint8Array; sigPriv: Uint8Array; leaf: LeafNode }[] = [];
            for (let a = 0; a < adds; a++) {
              const j = await freshLeaf(cs);
              joiners.push({ at: d.addLeaf(j.leaf), ...j });
            }
            const afterProposals = d.done();
            for (const [id, m] of members) members.set(id, { ...m, priv: m.priv.prune(afterProposals) });
            const newMembers = joiners.map((j) => j.at);
            const base = afterProposals.leaf(committer)!;
            const created = await createUpdatePath({
              suite: cs,
              tree: afterProposals,
              sender: committer,
              newMembers,
              signLeaf: (k, ph) => signCommitLeafNode(cs, base, k, ph, members.get(committer)!.sigPriv, groupId, committer),
              groupContext: (th) => gcFor(th, cs, groupId),
            });
            // Receivers process the wire form.
            const wire = decode(updatePathCodec, encode(updatePathCodec, created.updatePath));
            const merged = mergeUpdatePath(afterProposals, committer, trustTestPath(wire));
            expect(bytesToHex(merged.treeHash())).toBe(bytesToHex(created.tree.treeHash()));
            verifyParentHashes(merged);
            verifyStructure(merged);
            const gc = gcFor(merged.treeHash(), cs, groupId);
            for (const [id, m] of members) {
              if (id === committer) {
                members.set(id, { ...m, priv: created.privateKeys });
                continue;
              }
              const out = await decryptUpdatePath({ suite: cs, tree: merged, sender: committer, updatePath: wire, newMembers, groupContext: gc, me: m.priv });
              expect(bytesToHex(out.commitSecret)).toBe(bytesToHex(created.commitSecret));
              out.privateKeys.checkConsistent(merged);
              members.set(id, { ...m, priv: out.privateKeys });
            }
            // Joiners: the path secret of the lowest filtered-direct-path node above them.
            for (const j of joiners) {
              const fdp = merged.filteredDirectPath(committer);
              const node = fdp.find((x) => created.pathSecrets.has(x) && isAncestorOrSelf(x, toNodeIndex(j.at)))!;
              const priv = await TreeKemPrivate.fromWelcomePathSecret(
                cs,
                merged,
                j.at,
                { privateKey: j.encPriv, publicKey: j.leaf.encryptionKey },
                committer,
                created.pathSecrets.get(node)!,
              );
              members.set(j.at, { sigPriv: j.sigPriv, priv });
            }
            t = merged;
          }
        },
      ),
      { numRuns: 8 },
    );
  });
});

