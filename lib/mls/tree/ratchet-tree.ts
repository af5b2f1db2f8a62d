/**
 * The public ratchet tree (RFC 9420 §4.1, §7): an array of optional nodes
 * (leaves at even node indices, parents at odd ones), with blank nodes,
 * unmerged leaves, resolutions, filtered direct paths, the tree-shaped part of
 * applying Add / Update / Remove proposals (§12.1) and of merging an
 * UpdatePath (§7.5), the tree hash (§7.8) and the parent hash (§7.9).
 *
 * A `RatchetTree` is immutable by API: every change goes through a
 * `TreeDraft` (`tree.edit()`), which copies the node arrays once and can
 * apply a whole proposal list before `done()` hands back a new tree.
 *
 * Performance: each tree keeps a node-indexed cache of tree hashes. A change
 * invalidates only the changed node and its direct path, so after an Update,
 * a Remove or a merged UpdatePath, the new root hash costs O(log N) hash
 * computations (the rest comes from the cache, shared by reference with the
 * previous tree). Copying the arrays is O(N) pointer copies, which is cheap
 * next to a hash; nothing else is whole-tree per operation.
 *
 * Private keys are not here: TreeKEM state lives in `treekem.ts`.
 */
import type { CipherSuite } from '../../crypto/provider.ts';
import { Writer, decode, encode, type DecodeOptions } from '../codec/codec.ts';
import { bytesEqual, bytesToHex } from '../../bytes.ts';
import { UsageError, ValidationError } from '../errors.ts';
import { verifyWithLabel } from '../keys/crypto-ops.ts';
import { ProposalType, type Proposal } from '../group/proposals.ts';
import { LeafNodeSource, encodeLeafNodeTbs, leafNodeCodec, type LeafNode } from './leaf-node.ts';
import {
  NodeType,
  parentNodeCodec,
  ratchetTreeCodec,
  type Node,
  type ParentNode,
  type RatchetTreeNode,
} from './tree-node.ts';
import {
  isLeaf,
  leafRange,
  left,
  level,
  nodeWidth,
  right,
  root,
  toNodeIndex,
  type LeafIndex,
  type NodeIndex,
  MAX_LEAVES,
} from './tree-math.ts';

/** Largest tree (in leaves) accepted from the network. */
export const DEFAULT_MAX_TREE_LEAVES = 1 << 16;

// ---------------------------------------------------------------------------
// Small index helpers (array slots for parents: node x ↦ (x - 1) / 2).

const parentSlot = (x: number): number => (x - 1) >>> 1;

function parentOf(x: number): number {
  const k = level(x as NodeIndex);
  const b = (x >>> (k + 1)) & 1;
  return (x | (1 << k)) ^ (b << (k + 1));
}

function leafParentHash(leaf: LeafNode): Uint8Array | undefined {
  return leaf.leafNodeSource === LeafNodeSource.commit ? leaf.parentHash : undefined;
}

// ---------------------------------------------------------------------------

/** A read-only view shared by `RatchetTree` and `TreeDraft`. */
export abstract class TreeView {
  /** Leaves indexed by leaf index; length is a power of two. */
  protected leaves: (LeafNode | undefined)[];
  /** Parents indexed by (nodeIndex - 1) / 2; length = leaves - 1. */
  protected parents: (ParentNode | undefined)[];
  /** Tree hash per node index, filled lazily, invalidated along changed paths. */
  protected hashes: (Uint8Array | undefined)[];

  protected constructor(
    readonly suite: CipherSuite,
    leaves: (LeafNode | undefined)[],
    parents: (ParentNode | undefined)[],
    hashes: (Uint8Array | undefined)[],
  ) {
    this.leaves = leaves;
    this.parents = parents;
    this.hashes = hashes;
  }

  /** Number of leaves (a power of two). */
  get leafCount(): number {
    return this.leaves.length;
  }

  /** Number of nodes in the array representation. */
  get nodeCount(): number {
    return nodeWidth(this.leaves.length);
  }

  get rootIndex(): NodeIndex {
    return root(this.leaves.length);
  }

  leaf(i: LeafIndex): LeafNode | undefined {
    return this.leaves[i];
  }

  /** The parent node at node index `x` (odd), or undefined when blank. */
  parentNode(x: NodeIndex): ParentNode | undefined {
    if (isLeaf(x)) throw new UsageError(`node ${x} is a leaf`);
    return this.parents[parentSlot(x)];
  }

  /** The node at `x` in the ratchet_tree `Node` form, undefined when blank. */
  node(x: NodeIndex): Node | undefined {
    this.checkNode(x);
    if (isLeaf(x)) {
      const leafNode = this.leaves[x >>> 1];
      return leafNode === undefined ? undefined : { nodeType: NodeType.leaf, leafNode };
    }
    const parentNode = this.parents[parentSlot(x)];
    return parentNode === undefined ? undefined : { nodeType: NodeType.parent, parentNode };
  }

  isBlank(x: NodeIndex): boolean {
    return isLeaf(x) ? this.leaves[x >>> 1] === undefined : this.parents[parentSlot(x)] === undefined;
  }

  /** The HPKE public key at a non-blank node. */
  encryptionKey(x: NodeIndex): Uint8Array | undefined {
    return isLeaf(x) ? this.leaves[x >>> 1]?.encryptionKey : this.parents[parentSlot(x)]?.encryptionKey;
  }

  protected checkNode(x: number): void {
    if (!Number.isInteger(x) || x < 0 || x >= this.nodeCount) {
      throw new UsageError(`node ${x} outside a tree of ${this.leaves.length} leaves`);
    }
  }

  protected checkLeaf(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.leaves.length) {
      throw new UsageError(`leaf ${i} outside a tree of ${this.leaves.length} leaves`);
    }
  }

  /** Leaf indices of non-blank leaves, in order. */
  *memberIndices(): IterableIterator<LeafIndex> {
    for (let i = 0; i < this.leaves.length; i++) if (this.leaves[i] !== undefined) yield i as LeafIndex;
  }

  /** Index of the leftmost blank leaf, or undefined when the tree is full. */
  leftmostBlankLeaf(): LeafIndex | undefined {
    const i = this.leaves.indexOf(undefined);
    return i < 0 ? undefined : (i as LeafIndex);
  }

  /**
   * Resolution of node `x` (§4.1.1): the non-blank nodes covering its subtree,
   * left first; a non-blank parent contributes itself then its unmerged
   * leaves. Leaves in `exclude` are left out (new members of the current
   * Commit, §7.6 / §12.4.1).
   */
  resolution(x: NodeIndex, exclude?: ReadonlySet<number>): NodeIndex[] {
    this.checkNode(x);
    const out: NodeIndex[] = [];
    this.resolveInto(x, out, exclude);
    return out;
  }

  private resolveInto(x: number, out: NodeIndex[], exclude: ReadonlySet<number> | undefined): void {
    if ((x & 1) === 0) {
      const i = x >>> 1;
      if (this.leaves[i] !== undefined && !exclude?.has(i)) out.push(x as NodeIndex);
      return;
    }
    const p = this.parents[parentSlot(x)];
    if (p !== undefined) {
      out.push(x as NodeIndex);
      for (const u of p.unmergedLeaves) if (!exclude?.has(u)) out.push((u * 2) as NodeIndex);
      return;
    }
    const k = level(x as NodeIndex);
    this.resolveInto(x ^ (1 << (k - 1)), out, exclude);
    this.resolveInto(x ^ (3 << (k - 1)), out, exclude);
  }

  /** True when the resolution of `x` is empty, i.e. its whole subtree is blank. */
  private resolutionEmpty(x: number): boolean {
    if ((x & 1) === 0) return this.leaves[x >>> 1] === undefined;
    if (this.parents[parentSlot(x)] !== undefined) return false;
    const k = level(x as NodeIndex);
    return this.resolutionEmpty(x ^ (1 << (k - 1))) && this.resolutionEmpty(x ^ (3 << (k - 1)));
  }

  /**
   * Direct path of a leaf, each node paired with its copath child, leaf to
   * root. `filtered` drops the nodes whose copath child has an empty
   * resolution (§4.1.2).
   */
  pathWithCopath(leaf: LeafIndex, filtered: boolean): { node: NodeIndex; copathChild: NodeIndex }[] {
    this.checkLeaf(leaf);
    const r = this.rootIndex;
    const out: { node: NodeIndex; copathChild: NodeIndex }[] = [];
    let x: number = toNodeIndex(leaf);
    while (x !== r) {
      const p = parentOf(x);
      const k = level(p as NodeIndex);
      const s = x < p ? p ^ (3 << (k - 1)) : p ^ (1 << (k - 1));
      if (!filtered || !this.resolutionEmpty(s)) out.push({ node: p as NodeIndex, copathChild: s as NodeIndex });
      x = p;
    }
    return out;
  }

  /** Filtered direct path of a leaf (§4.1.2), leaf to root. */
  filteredDirectPath(leaf: LeafIndex): NodeIndex[] {
    return this.pathWithCopath(leaf, true).map((e) => e.node);
  }

  // -------------------------------------------------------------------------
  // Tree hash (§7.8)

  /** Tree hash of the whole tree (the root's). */
  treeHash(): Uint8Array {
    return this.nodeTreeHash(this.rootIndex);
  }

  /** Tree hash of the subtree headed by `x`, from the cache when valid. */
  nodeTreeHash(x: NodeIndex): Uint8Array {
    this.checkNode(x);
    return this.hashAt(x);
  }

  private hashAt(x: number): Uint8Array {
    const cached = this.hashes[x];
    if (cached !== undefined) return cached;
    let h: Uint8Array;
    if ((x & 1) === 0) {
      h = this.leafHash(x >>> 1, this.leaves[x >>> 1]);
    } else {
      const k = level(x as NodeIndex);
      const l = this.hashAt(x ^ (1 << (k - 1)));
      const r = this.hashAt(x ^ (3 << (k - 1)));
      h = this.parentHashInputHash(this.parents[parentSlot(x)], l, r);
    }
    this.hashes[x] = h;
    return h;
  }

  private leafHash(i: number, leaf: LeafNode | undefined): Uint8Array {
    // TreeHashInput { node_type = leaf(1); LeafNodeHashInput { uint32 leaf_index; optional<LeafNode> } }
    const w = new Writer(leaf === undefined ? 8 : 512);
    w.u8(NodeType.leaf).u32(i);
    if (leaf === undefined) w.u8(0);
    else {
      w.u8(1);
      leafNodeCodec.encode(w, leaf);
    }
    return this.suite.hash.digest(w.finish());
  }

  private parentHashInputHash(p: ParentNode | undefined, l: Uint8Array, r: Uint8Array): Uint8Array {
    // TreeHashInput { node_type = parent(2); ParentNodeHashInput { optional<ParentNode>; left_hash<V>; right_hash<V> } }
    const w = new Writer(256);
    w.u8(NodeType.parent);
    if (p === undefined) w.u8(0);
    else {
      w.u8(1);
      parentNodeCodec.encode(w, p);
    }
    w.opaque(l).opaque(r);
    return this.suite.hash.digest(w.finish());
  }

  /**
   * Tree hash of `x` as if the leaves in `removed` were blank and absent
   * from every unmerged_leaves list: the "original sibling tree hash" of
   * §7.9. Subtrees that contain none of those leaves come from the cache.
   */
  treeHashWithout(x: NodeIndex, removed: readonly number[]): Uint8Array {
    this.checkNode(x);
    return this.hashWithout(x, removed);
  }

  private hashWithout(x: number, removed: readonly number[]): Uint8Array {
    const [first, end] = leafRange(x as NodeIndex);
    const inside = removed.filter((u) => u >= first && u < end);
    if (inside.length === 0) return this.hashAt(x);
    if ((x & 1) === 0) return this.leafHash(x >>> 1, undefined);
    const k = level(x as NodeIndex);
    const l = this.hashWithout(x ^ (1 << (k - 1)), inside);
    const r = this.hashWithout(x ^ (3 << (k - 1)), inside);
    const p = this.parents[parentSlot(x)];
    const pruned =
      p === undefined ? undefined : { ...p, unmergedLeaves: p.unmergedLeaves.filter((u) => !inside.includes(u)) };
    return this.parentHashInputHash(pruned, l, r);
  }

  // -------------------------------------------------------------------------
  // Parent hash (§7.9)

  /**
   * Parent hash of parent node `p` with copath child `s`:
   * Hash(ParentHashInput { encryption_key; parent_hash<V>; original_sibling_tree_hash<V> }).
   */
  parentHashOf(p: NodeIndex, s: NodeIndex): Uint8Array {
    const node = this.parentNode(p);
    if (node === undefined) throw new UsageError(`parent hash of blank node ${p}`);
    const osth = this.treeHashWithout(s, node.unmergedLeaves);
    return parentHashInput(this.suite, node.encryptionKey, node.parentHash, osth);
  }

  /**
   * V-PH-1 (§7.9.2, §12.4.3.1): every non-blank parent node must be
   * parent-hash valid, i.e. exactly one descendant D chains to it: D is in
   * the resolution of one child C, D.parent_hash equals the parent hash of P
   * with copath child S (the other child), and P's unmerged leaves under C are
   * exactly the resolution of C without D.
   */
  verifyParentHashes(): void {
    for (let slot = 0; slot < this.parents.length; slot++) {
      const p = this.parents[slot];
      if (p === undefined) continue;
      const x = (2 * slot + 1) as NodeIndex;
      let valid = 0;
      for (const [c, s] of [
        [left(x), right(x)],
        [right(x), left(x)],
      ] as const) {
        const d = this.chainCandidate(p, c);
        if (d === undefined) continue;
        const dHash = isLeaf(d) ? leafParentHash(this.leaves[d >>> 1]!) : this.parents[parentSlot(d)]!.parentHash;
        if (dHash !== undefined && bytesEqual(dHash, this.parentHashOf(x, s))) valid++;
      }
      if (valid !== 1) {
        throw new ValidationError('V-PH-1', `parent node ${x} is not parent-hash valid (${valid} chains)`);
      }
    }
  }

  /**
   * The only node D of resolution(C) that is not one of P's unmerged leaves,
   * if P's unmerged leaves under C are exactly resolution(C) minus D.
   */
  private chainCandidate(p: ParentNode, c: NodeIndex): NodeIndex | undefined {
    const res = this.resolution(c);
    const [first, end] = leafRange(c);
    const unmergedUnderC: readonly number[] = p.unmergedLeaves.filter((u) => u >= first && u < end);
    let d: NodeIndex | undefined;
    let merged = 0;
    for (const n of res) {
      if (isLeaf(n) && unmergedUnderC.includes(n >>> 1)) merged++;
      else if (d === undefined) d = n;
      else return undefined;
    }
    if (d === undefined || merged !== unmergedUnderC.length) return undefined;
    return d;
  }

  /**
   * Structural checks a joiner runs on a received tree (§7.1, §12.4.3.1),
   * besides parent hashes and leaf validation.
   */
  verifyStructure(): void {
    const seenKeys = new Set<string>();
    const keyOf = (b: Uint8Array): string => {
      let s = '';
      for (const x of b) s += String.fromCharCode(x);
      return s;
    };
    for (let i = 0; i < this.leaves.length; i++) {
      const leaf = this.leaves[i];
      if (leaf !== undefined) seenKeys.add(keyOf(leaf.encryptionKey));
    }
    for (let slot = 0; slot < this.parents.length; slot++) {
      const p = this.parents[slot];
      if (p === undefined) continue;
      const x = 2 * slot + 1;
      const [first, end] = leafRange(x as NodeIndex);
      let prev = -1;
      for (const u of p.unmergedLeaves) {
        // V-TREE-1 (§7.1): unmerged_leaves MUST be sorted in increasing order.
        if (u <= prev) throw new ValidationError('V-TREE-1', `unmerged leaves of node ${x} not strictly increasing`);
        prev = u;
        // V-TREE-2 (§12.4.3.1): each entry is a non-blank leaf below the node.
        if (u < first || u >= end || this.leaves[u] === undefined) {
          throw new ValidationError('V-TREE-2', `unmerged leaf ${u} of node ${x} is blank or not a descendant`);
        }
        // V-TREE-3 (§12.4.3.1): every non-blank node between the leaf and P lists it too.
        for (let y = parentOf(2 * u); y !== x; y = parentOf(y)) {
          const q = this.parents[parentSlot(y)];
          if (q !== undefined && !q.unmergedLeaves.includes(u)) {
            throw new ValidationError('V-TREE-3', `node ${y} between leaf ${u} and node ${x} does not list it as unmerged`);
          }
        }
      }
      // V-TREE-4 (§12.4.3.1): a parent's encryption key appears in no other node.
      const k = keyOf(p.encryptionKey);
      if (seenKeys.has(k)) throw new ValidationError('V-TREE-4', `encryption key of node ${x} appears in another node`);
      seenKeys.add(k);
    }
  }

  /**
   * V-TREE-5 (§7.3, §12.4.3.1): the signature of every non-blank leaf verifies
   * under its own signature_key, with `groupId` and the leaf index as context
   * for update/commit leaves. All leaves are checked concurrently.
   */
  async verifyLeafSignatures(groupId: Uint8Array): Promise<void> {
    const checks: Promise<boolean>[] = [];
    const indices: number[] = [];
    for (let i = 0; i < this.leaves.length; i++) {
      const leaf = this.leaves[i];
      if (leaf === undefined) continue;
      const tbs = encodeLeafNodeTbs(leaf, { groupId, leafIndex: i as LeafIndex });
      checks.push(verifyWithLabel(this.suite, leaf.signatureKey, 'LeafNodeTBS', tbs, leaf.signature));
      indices.push(i);
    }
    const results = await Promise.all(checks);
    const bad = results.findIndex((ok) => !ok);
    if (bad >= 0) throw new ValidationError('V-TREE-5', `leaf ${indices[bad]} has an invalid signature`);
  }

  /**
   * V-TREE-6 (§7.3): signature_key and encryption_key are each unique among
   * the members. (Parent keys are covered by V-TREE-4.)
   */
  verifyLeafKeysUnique(): void {
    const sig = new Set<string>();
    const enc = new Set<string>();
    for (let i = 0; i < this.leaves.length; i++) {
      const leaf = this.leaves[i];
      if (leaf === undefined) continue;
      const s = bytesToHex(leaf.signatureKey);
      const e = bytesToHex(leaf.encryptionKey);
      if (sig.has(s)) throw new ValidationError('V-TREE-6', `leaf ${i} repeats another member's signature key`);
      if (enc.has(e)) throw new ValidationError('V-TREE-6', `leaf ${i} repeats another member's encryption key`);
      sig.add(s);
      enc.add(e);
    }
  }

  /** The member whose leaf carries `signatureKey`, if any (for §7.3 uniqueness on Add/Update). */
  findLeafBySignatureKey(signatureKey: Uint8Array): LeafIndex | undefined {
    for (let i = 0; i < this.leaves.length; i++) {
      const leaf = this.leaves[i];
      if (leaf !== undefined && bytesEqual(leaf.signatureKey, signatureKey)) return i as LeafIndex;
    }
    return undefined;
  }

  /** The node (leaf or parent) carrying `encryptionKey`, if any. */
  findNodeByEncryptionKey(encryptionKey: Uint8Array): NodeIndex | undefined {
    for (let x = 0; x < this.nodeCount; x++) {
      const k = this.encryptionKey(x as NodeIndex);
      if (k !== undefined && bytesEqual(k, encryptionKey)) return x as NodeIndex;
    }
    return undefined;
  }

  /**
   * Everything a joiner checks on a received ratchet tree (§12.4.3.1) that
   * is about the tree itself:
   *  - V-TREE-7: its root tree hash equals the GroupInfo's tree_hash;
   *  - V-PH-1: every non-blank parent node is parent-hash valid;
   *  - V-TREE-1..4: unmerged-leaf lists and unique parent keys;
   *  - V-TREE-5: every leaf signature verifies;
   *  - V-TREE-6: member keys are unique.
   * The rest of LeafNode validation (credential, capabilities, lifetime) is
   * per leaf and belongs to the caller.
   */
  async verifyForJoin(groupId: Uint8Array, treeHash: Uint8Array): Promise<void> {
    if (!bytesEqual(this.treeHash(), treeHash)) {
      throw new ValidationError('V-TREE-7', 'ratchet tree hash does not match the GroupInfo tree_hash');
    }
    this.verifyStructure();
    this.verifyLeafKeysUnique();
    this.verifyParentHashes();
    await this.verifyLeafSignatures(groupId);
  }

  // -------------------------------------------------------------------------
  // ratchet_tree extension (§12.4.3.3)

  /** Nodes in array order, with trailing blank nodes dropped. */
  toNodes(): RatchetTreeNode[] {
    const out: RatchetTreeNode[] = [];
    for (let x = 0; x < this.nodeCount; x++) out.push(this.node(x as NodeIndex));
    while (out.length > 0 && out[out.length - 1] === undefined) out.pop();
    return out;
  }

  /** Encoded `optional<Node> ratchet_tree<V>`, without trailing blanks. */
  encode(): Uint8Array {
    return encode(ratchetTreeCodec, this.toNodes());
  }
}

/** Hash(ParentHashInput) (§7.9). */
export function parentHashInput(
  suite: CipherSuite,
  encryptionKey: Uint8Array,
  parentHash: Uint8Array,
  originalSiblingTreeHash: Uint8Array,
): Uint8Array {
  const w = new Writer(64 + encryptionKey.length + parentHash.length + originalSiblingTreeHash.length);
  w.opaque(encryptionKey).opaque(parentHash).opaque(originalSiblingTreeHash);
  return suite.hash.digest(w.finish());
}

/** An immutable ratchet tree. Change it with `edit()`. */
export class RatchetTree extends TreeView {
  private constructor(
    suite: CipherSuite,
    leaves: (LeafNode | undefined)[],
    parents: (ParentNode | undefined)[],
    hashes: (Uint8Array | undefined)[],
  ) {
    super(suite, leaves, parents, hashes);
  }

  /** @internal used by TreeDraft.done(). */
  static fromParts(
    suite: CipherSuite,
    leaves: (LeafNode | undefined)[],
    parents: (ParentNode | undefined)[],
    hashes: (Uint8Array | undefined)[],
  ): RatchetTree {
    return new RatchetTree(suite, leaves, parents, hashes);
  }

  /** A one-member tree (group creation, §11). */
  static create(suite: CipherSuite, leaf: LeafNode): RatchetTree {
    return new RatchetTree(suite, [leaf], [], []);
  }

  /**
   * Build a tree from the node list of a ratchet_tree extension.
   * V-RT-1 (§12.4.3.3): the list must be non-empty and its last node non-blank.
   * V-RT-2: leaves at even positions, parents at odd ones.
   * The list is extended with blanks to the next 2^(d+1) - 1 length.
   */
  static fromNodes(
    suite: CipherSuite,
    nodes: readonly RatchetTreeNode[],
    maxLeaves: number = DEFAULT_MAX_TREE_LEAVES,
  ): RatchetTree {
    if (nodes.length === 0) throw new ValidationError('V-RT-1', 'ratchet tree is empty');
    if (nodes[nodes.length - 1] === undefined) {
      throw new ValidationError('V-RT-1', 'ratchet tree ends with a blank node');
    }
    let n = 1;
    while (nodeWidth(n) < nodes.length) n *= 2;
    if (n > Math.min(maxLeaves, MAX_LEAVES)) throw new ValidationError('V-RT-3', `ratchet tree of ${n} leaves is too large`);
    const leaves: (LeafNode | undefined)[] = new Array<LeafNode | undefined>(n).fill(undefined);
    const parents: (ParentNode | undefined)[] = new Array<ParentNode | undefined>(n - 1).fill(undefined);
    nodes.forEach((node, x) => {
      if (node === undefined) return;
      if (x % 2 === 0) {
        if (node.nodeType !== NodeType.leaf) throw new ValidationError('V-RT-2', `node ${x} must be a leaf`);
        leaves[x / 2] = node.leafNode;
      } else {
        if (node.nodeType !== NodeType.parent) throw new ValidationError('V-RT-2', `node ${x} must be a parent`);
        parents[parentSlot(x)] = node.parentNode;
      }
    });
    return new RatchetTree(suite, leaves, parents, []);
  }

  /** Decode a ratchet_tree extension body (`optional<Node> ratchet_tree<V>`). */
  static decode(suite: CipherSuite, bytes: Uint8Array, options?: DecodeOptions & { maxLeaves?: number }): RatchetTree {
    return RatchetTree.fromNodes(suite, decode(ratchetTreeCodec, bytes, options), options?.maxLeaves);
  }

  /** Start a batch of changes; the tree itself stays unchanged. */
  edit(): TreeDraft {
    return TreeDraft.of(this.suite, this.leaves.slice(), this.parents.slice(), this.hashes.slice());
  }

  /** Add one leaf (§12.1.1): convenience for `edit().addLeaf(...)`. */
  withAddedLeaf(leaf: LeafNode): { tree: RatchetTree; leafIndex: LeafIndex } {
    const d = this.edit();
    const leafIndex = d.addLeaf(leaf);
    return { tree: d.done(), leafIndex };
  }

  withUpdatedLeaf(i: LeafIndex, leaf: LeafNode): RatchetTree {
    const d = this.edit();
    d.updateLeaf(i, leaf);
    return d.done();
  }

  withRemovedLeaf(i: LeafIndex): RatchetTree {
    const d = this.edit();
    d.removeLeaf(i);
    return d.done();
  }
}

/**
 * A mutable working copy of a tree. Every mutation invalidates the cached
 * tree hashes of exactly the changed nodes and their ancestors.
 */
export class TreeDraft extends TreeView {
  private finished = false;

  private constructor(
    suite: CipherSuite,
    leaves: (LeafNode | undefined)[],
    parents: (ParentNode | undefined)[],
    hashes: (Uint8Array | undefined)[],
  ) {
    super(suite, leaves, parents, hashes);
  }

  /** @internal */
  static of(
    suite: CipherSuite,
    leaves: (LeafNode | undefined)[],
    parents: (ParentNode | undefined)[],
    hashes: (Uint8Array | undefined)[],
  ): TreeDraft {
    return new TreeDraft(suite, leaves, parents, hashes);
  }

  private live(): void {
    if (this.finished) throw new UsageError('tree draft already finished');
  }

  /** Forget cached hashes of `x` and every ancestor. */
  private invalidate(x: number): void {
    const r = this.rootIndex;
    this.hashes[x] = undefined;
    while (x !== r) {
      x = parentOf(x);
      this.hashes[x] = undefined;
    }
  }

  setLeaf(i: LeafIndex, leaf: LeafNode | undefined): void {
    this.live();
    this.checkLeaf(i);
    this.leaves[i] = leaf;
    this.invalidate(2 * i);
  }

  setParent(x: NodeIndex, node: ParentNode | undefined): void {
    this.live();
    this.checkNode(x);
    if (isLeaf(x)) throw new UsageError(`node ${x} is a leaf`);
    this.parents[parentSlot(x)] = node;
    this.invalidate(x);
  }

  /** Blank every parent on the direct path of leaf `i`. */
  blankDirectPath(i: LeafIndex): void {
    this.live();
    this.checkLeaf(i);
    const r = this.rootIndex;
    let x = 2 * i;
    this.hashes[x] = undefined;
    while (x !== r) {
      x = parentOf(x);
      this.parents[parentSlot(x)] = undefined;
      this.hashes[x] = undefined;
    }
  }

  /** Double the tree: the old tree becomes the left subtree of a new blank root (§7.7). */
  extend(): void {
    this.live();
    const n = this.leaves.length;
    if (2 * n > MAX_LEAVES) throw new UsageError('tree too large');
    for (let i = 0; i < n; i++) this.leaves.push(undefined);
    for (let i = 0; i < n; i++) this.parents.push(undefined);
    // Existing node indices keep their meaning, so their cached hashes stay valid.
  }

  /** Halve the tree while its right half has no non-blank leaf (§7.7, §12.1.3). */
  truncate(): void {
    this.live();
    for (;;) {
      const n = this.leaves.length;
      if (n <= 1) return;
      for (let i = n / 2; i < n; i++) if (this.leaves[i] !== undefined) return;
      this.leaves.length = n / 2;
      this.parents.length = n / 2 - 1;
      if (this.hashes.length > nodeWidth(n / 2)) this.hashes.length = nodeWidth(n / 2);
    }
  }

  /**
   * Add (§12.1.1): place `leaf` at the leftmost blank leaf (extending the
   * tree when full) and list it as unmerged at each non-blank ancestor.
   */
  addLeaf(leaf: LeafNode): LeafIndex {
    this.live();
    let i = this.leftmostBlankLeaf();
    if (i === undefined) {
      i = this.leaves.length as LeafIndex;
      this.extend();
    }
    const r = this.rootIndex;
    let x = 2 * i;
    while (x !== r) {
      x = parentOf(x);
      const p = this.parents[parentSlot(x)];
      if (p !== undefined) this.parents[parentSlot(x)] = { ...p, unmergedLeaves: insertSorted(p.unmergedLeaves, i) };
    }
    this.setLeaf(i, leaf);
    return i;
  }

  /** Update (§12.1.2): replace the sender's leaf and blank its direct path. */
  updateLeaf(i: LeafIndex, leaf: LeafNode): void {
    this.live();
    this.checkLeaf(i);
    // V-UPD-1 (§12.1.2): the Update's sender must occupy a non-blank leaf.
    if (this.leaves[i] === undefined) throw new ValidationError('V-UPD-1', `update for blank leaf ${i}`);
    this.leaves[i] = leaf;
    this.blankDirectPath(i);
  }

  /** Remove (§12.1.3): blank the leaf and its direct path, then truncate. */
  removeLeaf(i: LeafIndex): void {
    this.live();
    // V-REM-1 (§12.1.3): `removed` must identify a non-blank leaf.
    if (!Number.isInteger(i) || i < 0 || i >= this.leaves.length || this.leaves[i] === undefined) {
      throw new ValidationError('V-REM-1', `remove of blank or missing leaf ${i}`);
    }
    this.leaves[i] = undefined;
    this.blankDirectPath(i);
    this.truncate();
  }

  /**
   * Merge the public part of an UpdatePath from leaf `sender` (§7.5, §7.9):
   * blank the direct path, set each filtered-direct-path node to the new
   * key with no unmerged leaves, and chain the parent hashes from the root
   * down. Returns the parent hash the sender's new LeafNode must carry. The
   * caller sets the leaf itself (after signing it, or after checking V-PH-2).
   *
   * `keys` are the new encryption keys in filtered-direct-path order.
   */
  mergePathKeys(sender: LeafIndex, keys: readonly Uint8Array[]): Uint8Array {
    this.live();
    const path = this.pathWithCopath(sender, true);
    // V-UP-1 (§7.6): one UpdatePathNode per node of the filtered direct path.
    if (path.length !== keys.length) {
      throw new ValidationError('V-UP-1', `update path has ${keys.length} nodes, filtered direct path has ${path.length}`);
    }
    this.blankDirectPath(sender);
    let ph: Uint8Array = new Uint8Array(0);
    for (let j = path.length - 1; j >= 0; j--) {
      const { node, copathChild } = path[j]!;
      const encryptionKey = keys[j]!;
      this.parents[parentSlot(node)] = { encryptionKey, parentHash: ph, unmergedLeaves: [] };
      // With no unmerged leaves, the original sibling tree hash is the current one.
      ph = parentHashInput(this.suite, encryptionKey, ph, this.nodeTreeHash(copathChild));
    }
    return ph;
  }

  /** Freeze the draft into a tree. The draft cannot be used afterwards. */
  done(): RatchetTree {
    this.live();
    this.finished = true;
    return RatchetTree.fromParts(this.suite, this.leaves, this.parents, this.hashes);
  }
}

/**
 * The tree part of applying a Commit's proposal list (§12.3): every Update,
 * then every Remove, then the Adds in list order. Other proposal types do
 * not touch the tree and are skipped. Returns the leaves the Adds filled, in
 * order (they are the "new members" excluded from UpdatePath resolutions).
 */
export function applyProposalsToTree(
  draft: TreeDraft,
  proposals: readonly { readonly proposal: Proposal; readonly sender: LeafIndex }[],
): LeafIndex[] {
  for (const { proposal, sender } of proposals) {
    if (proposal.proposalType === ProposalType.update) draft.updateLeaf(sender, proposal.update.leafNode);
  }
  for (const { proposal } of proposals) {
    if (proposal.proposalType === ProposalType.remove) draft.removeLeaf(proposal.remove.removed);
  }
  const added: LeafIndex[] = [];
  for (const { proposal } of proposals) {
    if (proposal.proposalType === ProposalType.add) added.push(draft.addLeaf(proposal.add.keyPackage.leafNode));
  }
  return added;
}

function insertSorted(list: readonly LeafIndex[], v: LeafIndex): LeafIndex[] {
  const out: LeafIndex[] = [];
  let placed = false;
  for (const u of list) {
    if (!placed && v < u) {
      out.push(v);
      placed = true;
    }
    if (u !== v) out.push(u);
  }
  if (!placed) out.push(v);
  return out;
}

