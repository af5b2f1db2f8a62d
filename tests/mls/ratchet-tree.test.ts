/**
 * Ratchet tree (RFC 9420 §4.1, §7.7–§7.9, §12.1): property tests over random
 * group histories (cached tree hash equals a fresh one, parent hashes stay
 * valid, inputs are never mutated), the O(log N) hashing cost of an update,
 * and one test per validation rule ID.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CipherSuite, HashProvider } from '../../lib/crypto/provider.ts';
import { getCipherSuite } from '../../lib/crypto/suites.ts';
import { encode } from '../../lib/mls/codec/codec.ts';
import { bytesToHex, hexToBytes } from '../../lib/bytes.ts';
import { DecodeError, ValidationError } from '../../lib/mls/errors.ts';
import { LeafNodeSource, type LeafNode } from '../../lib/mls/tree/leaf-node.ts';
import { trustTestLeaf } from './support/trust-test-input.ts';
import { checkLeavesAgainstTree } from '../../lib/mls/tree/leaf-node-validation.ts';
import { RatchetTree, RatchetTreeIn, type TreeDraft } from '../../lib/mls/tree/ratchet-tree.ts';
import { validateTree, verifyLeafSignatures, verifyParentHashes, verifyStructure } from '../../lib/mls/tree/tree-validation.ts';
import { NodeType, ratchetTreeCodec, type ParentNode, type RatchetTreeNode } from '../../lib/mls/tree/tree-node.ts';
import { leafIndex, leafRange, nodeIndex, toNodeIndex, type LeafIndex } from '../../lib/mls/tree/tree-math.ts';

const suite = getCipherSuite(1);

function fakeLeaf(key: Uint8Array, source: 'update' | 'commit' = 'update', parentHash: Uint8Array = new Uint8Array(0)): LeafNode {
  const base = {
    encryptionKey: key,
    signatureKey: key,
    credential: { credentialType: 1 as const, identity: key },
    capabilities: { versions: [1], cipherSuites: [1], extensions: [], proposals: [], credentials: [1] },
    extensions: [],
    signature: new Uint8Array(0),
  };
  return trustTestLeaf(source === 'update'
    ? { ...base, leafNodeSource: LeafNodeSource.update }
    : { ...base, leafNodeSource: LeafNodeSource.commit, parentHash });
}

let keyCounter = 0;
function freshKey(): Uint8Array {
  const k = new Uint8Array(32);
  new DataView(k.buffer).setUint32(0, ++keyCounter);
  k[31] = 0x5a;
  return k;
}

/** A commit with a path from `sender`: random node keys, parent hashes chained, leaf re-set. */
function commitPath(d: TreeDraft, sender: LeafIndex): void {
  const n = d.filteredDirectPath(sender).length;
  const ph = d.mergePathKeys(
    sender,
    Array.from({ length: n }, () => freshKey()),
  );
  d.setLeaf(sender, fakeLeaf(freshKey(), 'commit', ph));
}

function freshHash(t: RatchetTree): string {
  return bytesToHex(RatchetTreeIn.decode(t.suite, t.encode()).treeHash());
}

type Op =
  | { kind: 'add' }
  | { kind: 'remove'; pick: number }
  | { kind: 'update'; pick: number }
  | { kind: 'commit'; pick: number; adds: number; removePick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.constant<Op>({ kind: 'add' }), weight: 3 },
  { arbitrary: fc.nat().map<Op>((pick) => ({ kind: 'remove', pick })), weight: 2 },
  { arbitrary: fc.nat().map<Op>((pick) => ({ kind: 'update', pick })), weight: 1 },
  {
    arbitrary: fc
      .tuple(fc.nat(), fc.nat({ max: 3 }), fc.nat())
      .map<Op>(([pick, adds, removePick]) => ({ kind: 'commit', pick, adds, removePick })),
    weight: 3,
  },
);

function members(t: RatchetTree | TreeDraft): LeafIndex[] {
  return [...t.memberIndices()];
}

describe('ratchet tree: random group histories', () => {
  it('cached tree hash = fresh tree hash; parent hashes and structure stay valid; inputs unchanged', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 25 }), (ops) => {
        let tree = RatchetTree.create(suite, fakeLeaf(freshKey()));
        for (const op of ops) {
          const snapshot = bytesToHex(tree.encode());
          const hashBefore = bytesToHex(tree.treeHash());
          const d = tree.edit();
          const ms = members(d);
          if (op.kind === 'add') d.addLeaf(fakeLeaf(freshKey()));
          else if (op.kind === 'remove' && ms.length > 1) d.removeLeaf(ms[op.pick % ms.length]!);
          else if (op.kind === 'update') d.updateLeaf(ms[op.pick % ms.length]!, fakeLeaf(freshKey()));
          else if (op.kind === 'commit') {
            const sender = ms[op.pick % ms.length]!;
            const others = ms.filter((m) => m !== sender);
            if (others.length > 0 && op.removePick % 2 === 0) d.removeLeaf(others[op.removePick % others.length]!);
            for (let i = 0; i < op.adds; i++) d.addLeaf(fakeLeaf(freshKey()));
            commitPath(d, sender);
          }
          const next = d.done();
          // Immutability: the old tree and its hash are untouched.
          expect(bytesToHex(tree.encode())).toBe(snapshot);
          expect(bytesToHex(tree.treeHash())).toBe(hashBefore);
          expect(bytesToHex(next.treeHash())).toBe(freshHash(next));
          verifyParentHashes(next);
          verifyStructure(next);
          tree = next;
        }
        // Round trip through the ratchet_tree extension.
        const again = RatchetTreeIn.decode(suite, tree.encode());
        expect(bytesToHex(again.encode())).toBe(bytesToHex(tree.encode()));
      }),
      { numRuns: 60 },
    );
  });

  it('resolution of the root lists every member exactly once', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 20 }), (ops) => {
        let tree = RatchetTree.create(suite, fakeLeaf(freshKey()));
        for (const op of ops) {
          const d = tree.edit();
          const ms = members(d);
          if (op.kind === 'add') d.addLeaf(fakeLeaf(freshKey()));
          else if (op.kind === 'remove' && ms.length > 1) d.removeLeaf(ms[op.pick % ms.length]!);
          else if (op.kind === 'commit') commitPath(d, ms[op.pick % ms.length]!);
          tree = d.done();
        }
        // Every member is covered by exactly one resolution entry: its own leaf,
        // or a parent above it that does not list it as unmerged.
        const res = tree.resolution(tree.rootIndex);
        for (const m of tree.memberIndices()) {
          const covering = res.filter((x) => {
            if (x % 2 === 0) return x === toNodeIndex(m);
            const [first, end] = leafRange(x);
            return m >= first && m < end && !tree.parentNode(x)!.unmergedLeaves.includes(m);
          });
          expect(covering.length).toBe(1);
        }
        expect(new Set(res).size).toBe(res.length);
      }),
      { numRuns: 60 },
    );
  });

  it('truncates to the smallest power of two above the rightmost member (§12.1.3)', () => {
    let tree = RatchetTree.create(suite, fakeLeaf(freshKey()));
    const d = tree.edit();
    for (let i = 1; i < 9; i++) d.addLeaf(fakeLeaf(freshKey()));
    tree = d.done();
    expect(tree.leafCount).toBe(16);
    tree = tree.withRemovedLeaf(leafIndex(8));
    expect(tree.leafCount).toBe(8);
    tree = tree.withRemovedLeaf(leafIndex(5)).withRemovedLeaf(leafIndex(6)).withRemovedLeaf(leafIndex(7));
    expect(tree.leafCount).toBe(8);
    tree = tree.withRemovedLeaf(leafIndex(4));
    expect(tree.leafCount).toBe(4);
    expect(bytesToHex(tree.treeHash())).toBe(freshHash(tree));
    // The leftmost blank leaf is reused first.
    const { tree: t2, leafIndex: at } = tree.withRemovedLeaf(leafIndex(1)).withAddedLeaf(fakeLeaf(freshKey()));
    expect(at).toBe(1);
    expect(bytesToHex(t2.treeHash())).toBe(freshHash(t2));
  });
});

describe('ratchet tree: cost of an update', () => {
  function countingSuite(): { cs: CipherSuite; count: () => number; reset: () => void } {
    let n = 0;
    const inner = suite.hash;
    const hash: HashProvider = {
      size: inner.size,
      digest: (d) => {
        n++;
        return inner.digest(d);
      },
      mac: (k, d) => inner.mac(k, d),
    };
    const cs: CipherSuite = { ...suite, hash };
    return { cs, count: () => n, reset: () => void (n = 0) };
  }

  it('an Update, a Remove and a merged path at N=1024 cost O(log N) hashes', () => {
    const { cs, count, reset } = countingSuite();
    const d = RatchetTree.create(cs, fakeLeaf(freshKey())).edit();
    for (let i = 1; i < 1024; i++) d.addLeaf(fakeLeaf(freshKey()));
    for (let i = 0; i < 1024; i += 37) commitPath(d, leafIndex(i));
    let tree = d.done();
    tree.treeHash();
    const logN = 10;

    reset();
    tree = tree.withUpdatedLeaf(leafIndex(500), fakeLeaf(freshKey()));
    tree.treeHash();
    expect(count()).toBeLessThanOrEqual(logN + 1);

    reset();
    tree = tree.withRemovedLeaf(leafIndex(77));
    tree.treeHash();
    expect(count()).toBeLessThanOrEqual(logN + 1);

    reset();
    const d2 = tree.edit();
    commitPath(d2, leafIndex(300));
    tree = d2.done();
    tree.treeHash();
    // Parent hashes along the path + tree hashes along the path (+ rare cold copath subtrees).
    expect(count()).toBeLessThanOrEqual(3 * (logN + 1));
    expect(bytesToHex(tree.treeHash())).toBe(freshHash(tree));
  });
});

// ---------------------------------------------------------------------------
// Validation rules, each exercised by name.

interface TreeValidationCase {
  cipher_suite: number;
  tree: string;
  group_id: string;
}
const validation = JSON.parse(
  readFileSync(new URL('../vectors/data/tree-validation.json', import.meta.url), 'utf8'),
) as TreeValidationCase[];
// Suite 1, case 13: 8 leaves, leaf 5 unmerged at nodes 7 and 11.
const unmergedCase = validation[13]!;

function nodesOf(c: TreeValidationCase): RatchetTreeNode[] {
  return RatchetTreeIn.decode(getCipherSuite(c.cipher_suite), hexToBytes(c.tree)).toNodes();
}

function withParent(nodes: RatchetTreeNode[], x: number, change: (p: ParentNode) => ParentNode): RatchetTreeNode[] {
  const out = nodes.slice();
  const n = out[x];
  if (n?.nodeType !== NodeType.parent) throw new Error(`fixture: node ${x} is not a parent`);
  out[x] = { nodeType: NodeType.parent, parentNode: change(n.parentNode) };
  return out;
}

describe('ratchet tree validation rules', () => {
  it('fixture is the expected shape', () => {
    const nodes = nodesOf(unmergedCase);
    expect(nodes[7]?.nodeType === NodeType.parent && nodes[7].parentNode.unmergedLeaves).toEqual([5]);
    expect(nodes[11]?.nodeType === NodeType.parent && nodes[11].parentNode.unmergedLeaves).toEqual([5]);
  });

  it('a received tree is a RatchetTree only once validateTree has checked it', async () => {
    const received = RatchetTreeIn.decode(suite, hexToBytes(unmergedCase.tree));
    // @ts-expect-error a RatchetTreeIn cannot stand where a trusted RatchetTree is needed
    const unchecked: RatchetTree = received;
    expect(unchecked).not.toBeInstanceOf(RatchetTree);
    const expected = { groupId: hexToBytes(unmergedCase.group_id), treeHash: received.treeHash(), extensions: [] };
    const trusted: RatchetTree = await validateTree(received, expected);
    expect(trusted).toBeInstanceOf(RatchetTree);
    expect(bytesToHex(trusted.encode())).toBe(unmergedCase.tree);
  });

  it('V-RT-1: an empty tree or one ending in a blank node is rejected', () => {
    expect(() => RatchetTreeIn.fromNodes(suite, [])).toThrow(/V-RT-1/);
    const nodes = nodesOf(unmergedCase);
    expect(() => RatchetTreeIn.fromNodes(suite, [...nodes, undefined, undefined])).toThrow(/V-RT-1/);
    // On the wire: a trailing blank fails to decode.
    const wire = encode(ratchetTreeCodec, [...nodes, undefined]);
    expect(() => RatchetTreeIn.decode(suite, wire)).toThrow(/V-RT-1/);
    expect(() => RatchetTreeIn.decode(suite, encode(ratchetTreeCodec, []))).toThrow(/V-RT-1/);
  });

  it('V-RT-2: a parent at a leaf position is rejected', () => {
    const nodes = nodesOf(unmergedCase);
    const swapped = nodes.slice();
    swapped[0] = nodes[1];
    expect(() => RatchetTreeIn.fromNodes(suite, swapped)).toThrow(/V-RT-2/);
  });

  it('V-RT-3: a tree above the size cap is rejected', () => {
    expect(() => RatchetTreeIn.fromNodes(suite, nodesOf(unmergedCase), 4)).toThrow(/V-RT-3/);
  });

  it('V-TREE-1: unmerged leaves out of order', () => {
    const t = RatchetTreeIn.fromNodes(
      suite,
      withParent(nodesOf(unmergedCase), 7, (p) => ({ ...p, unmergedLeaves: [leafIndex(5), leafIndex(4)] })),
    );
    expect(() => verifyStructure(t)).toThrow(/V-TREE-1/);
  });

  it('V-TREE-2: an unmerged leaf that is not a descendant', () => {
    const t = RatchetTreeIn.fromNodes(
      suite,
      withParent(nodesOf(unmergedCase), 11, (p) => ({ ...p, unmergedLeaves: [leafIndex(1), leafIndex(5)] })),
    );
    expect(() => verifyStructure(t)).toThrow(/V-TREE-2/);
  });

  it('V-TREE-2: an unmerged leaf that is blank', () => {
    // Leaf 7 (node 14) is blank and lies under node 7.
    const nodes = nodesOf(unmergedCase);
    const t = RatchetTreeIn.fromNodes(
      suite,
      withParent(nodes, 7, (p) => ({ ...p, unmergedLeaves: [leafIndex(5), leafIndex(7)] })),
    );
    expect(t.leaf(leafIndex(7))).toBeUndefined();
    expect(() => verifyStructure(t)).toThrow(/V-TREE-2/);
  });

  it('V-TREE-3: an intermediate non-blank node misses the unmerged leaf', () => {
    const t = RatchetTreeIn.fromNodes(
      suite,
      withParent(nodesOf(unmergedCase), 11, (p) => ({ ...p, unmergedLeaves: [] })),
    );
    expect(() => verifyStructure(t)).toThrow(/V-TREE-3/);
  });

  it('V-TREE-4: a parent key that appears in another node', () => {
    const nodes = nodesOf(unmergedCase);
    const key = nodes[1]?.nodeType === NodeType.parent ? nodes[1].parentNode.encryptionKey : new Uint8Array();
    const t = RatchetTreeIn.fromNodes(suite, withParent(nodes, 5, (p) => ({ ...p, encryptionKey: key })));
    expect(() => verifyStructure(t)).toThrow(/V-TREE-4/);
  });

  it('V-TREE-5: a leaf with a bad signature', async () => {
    const nodes = nodesOf(unmergedCase);
    const leaf = nodes[4];
    if (leaf?.nodeType !== NodeType.leaf) throw new Error('fixture');
    const sig = leaf.leafNode.signature.slice();
    sig[0]! ^= 1;
    nodes[4] = { nodeType: NodeType.leaf, leafNode: { ...leaf.leafNode, signature: sig } };
    const t = RatchetTreeIn.fromNodes(suite, nodes);
    await expect(verifyLeafSignatures(t, hexToBytes(unmergedCase.group_id))).rejects.toThrow(/V-TREE-5/);
    // With the right group ID, the untouched tree passes.
    await verifyLeafSignatures(RatchetTreeIn.decode(suite, hexToBytes(unmergedCase.tree)), hexToBytes(unmergedCase.group_id));
  });

  it('V-LN-8 (was V-TREE-6): two members with the same signature or encryption key', () => {
    const nodes = nodesOf(unmergedCase);
    const a = nodes[0];
    const b = nodes[2];
    if (a?.nodeType !== NodeType.leaf || b?.nodeType !== NodeType.leaf) throw new Error('fixture');
    const sameSig = nodes.slice();
    sameSig[2] = { nodeType: NodeType.leaf, leafNode: { ...b.leafNode, signatureKey: a.leafNode.signatureKey } };
    const withSameSig = RatchetTreeIn.fromNodes(suite, sameSig);
    expect(() => checkLeavesAgainstTree(withSameSig, [...withSameSig.memberIndices()])).toThrow(/V-LN-8/);
    const sameEnc = nodes.slice();
    sameEnc[2] = { nodeType: NodeType.leaf, leafNode: { ...b.leafNode, encryptionKey: a.leafNode.encryptionKey } };
    const withSameEnc = RatchetTreeIn.fromNodes(suite, sameEnc);
    expect(() => checkLeavesAgainstTree(withSameEnc, [...withSameEnc.memberIndices()])).toThrow(/V-LN-8/);
    const t = RatchetTreeIn.fromNodes(suite, nodes);
    expect(t.findLeafBySignatureKey(b.leafNode.signatureKey)).toBe(1);
    expect(t.findNodeByEncryptionKey(b.leafNode.encryptionKey)).toBe(2);
    expect(t.findNodeByEncryptionKey(freshKey())).toBeUndefined();
  });

  it('V-TREE-7: a tree whose hash is not the GroupInfo tree_hash', async () => {
    const t = RatchetTreeIn.decode(suite, hexToBytes(unmergedCase.tree));
    const groupId = hexToBytes(unmergedCase.group_id);
    await validateTree(t, { groupId, treeHash: t.treeHash(), extensions: [] });
    const wrong = t.treeHash().slice();
    wrong[0]! ^= 1;
    await expect(validateTree(t, { groupId, treeHash: wrong, extensions: [] })).rejects.toThrow(/V-TREE-7/);
  });

  it('hostile tree bytes fail only with typed errors', () => {
    const seeds = validation.filter((c) => c.cipher_suite === 1).map((c) => hexToBytes(c.tree));
    fc.assert(
      fc.property(
        fc.nat({ max: seeds.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (which, edits) => {
          const bytes = seeds[which]!.slice();
          for (const [pos, v] of edits) bytes[pos % bytes.length] = v;
          try {
            const t = RatchetTreeIn.decode(suite, bytes);
            t.treeHash();
            verifyStructure(t);
            checkLeavesAgainstTree(t, [...t.memberIndices()]);
            verifyParentHashes(t);
          } catch (err) {
            if (!(err instanceof DecodeError) && !(err instanceof ValidationError)) throw err;
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('V-PH-1: a tampered parent_hash breaks the chain', () => {
    for (const c of validation.slice(0, 14)) {
      const nodes = nodesOf(c);
      const x = nodes.findIndex((n, i) => i % 2 === 1 && n !== undefined);
      if (x < 0) continue;
      const bad = withParent(nodes, x, (p) => ({ ...p, encryptionKey: p.encryptionKey.map((b, i) => (i === 0 ? b ^ 1 : b)) }));
      expect(() => verifyParentHashes(RatchetTreeIn.fromNodes(suite, bad))).toThrow(/V-PH-1/);
    }
    // Dropping an unmerged leaf also breaks it (the resolution condition).
    const bad = withParent(nodesOf(unmergedCase), 7, (p) => ({ ...p, unmergedLeaves: [] }));
    expect(() => verifyParentHashes(RatchetTreeIn.fromNodes(suite, bad))).toThrow(/V-PH-1/);
  });

  it('V-REM-1: removing a blank or missing leaf', () => {
    const t = RatchetTree.decodeTrusted(suite, hexToBytes(unmergedCase.tree));
    expect(() => t.withRemovedLeaf(leafIndex(7))).toThrow(/V-REM-1/);
    expect(() => t.withRemovedLeaf(leafIndex(99))).toThrow(/V-REM-1/);
  });

  it('V-UPD-1: updating a blank leaf', () => {
    const t = RatchetTree.decodeTrusted(suite, hexToBytes(unmergedCase.tree));
    expect(() => t.withUpdatedLeaf(leafIndex(7), fakeLeaf(freshKey()))).toThrow(/V-UPD-1/);
  });

  it('V-UP-1: a path of the wrong length cannot be merged', () => {
    const t = RatchetTree.decodeTrusted(suite, hexToBytes(unmergedCase.tree));
    expect(() => t.edit().mergePathKeys(leafIndex(0), [freshKey()])).toThrow(/V-UP-1/);
  });

  it('resolution and filtered direct path match RFC 9420 §4.1 figures', () => {
    // Figure "A Complete Tree with Five Members": A B _ _ E F G _ with blanks U, V, Z.
    const d = RatchetTree.create(suite, fakeLeaf(freshKey())).edit();
    for (let i = 1; i < 8; i++) d.addLeaf(fakeLeaf(freshKey()));
    for (const i of [2, 3, 7]) d.removeLeaf(leafIndex(i));
    expect(d.leafCount).toBe(8);
    for (const x of [1, 9, 11, 7]) d.setParent(nodeIndex(x), { encryptionKey: freshKey(), parentHash: new Uint8Array(), unmergedLeaves: [] });
    // T=1, X=9, Y=11, W=7; U=3, V=5, Z=13 blank.
    expect(d.filteredDirectPath(leafIndex(0))).toEqual([1, 7]);
    expect(d.filteredDirectPath(leafIndex(1))).toEqual([1, 7]);
    expect(d.filteredDirectPath(leafIndex(4))).toEqual([9, 11, 7]);
    expect(d.filteredDirectPath(leafIndex(5))).toEqual([9, 11, 7]);
    expect(d.filteredDirectPath(leafIndex(6))).toEqual([11, 7]);
    expect(d.resolution(nodeIndex(3))).toEqual([1]);
    expect(d.resolution(nodeIndex(13))).toEqual([12]);
    expect(d.resolution(nodeIndex(5))).toEqual([]);
  });
});
