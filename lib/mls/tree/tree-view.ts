/**
 * The read-only half of the public ratchet tree (RFC 9420 §4.1, §7): an array
 * of optional nodes (leaves at even node indices, parents at odd ones), with
 * blank nodes, unmerged leaves, resolutions, filtered direct paths, the tree
 * hash (§7.8) and the parent hash (§7.9). `RatchetTreeIn` (a tree received
 * from others), `RatchetTree` (a trusted one) and `TreeDraft` (a tree being
 * changed) all read through it; `ratchet-tree.ts` says how each is made.
 *
 * Performance: each tree keeps a node-indexed cache of tree hashes. A change
 * invalidates only the changed node and its direct path, so after an Update,
 * a Remove or a merged UpdatePath, the new root hash costs O(log N) hash
 * computations (the rest comes from the cache, shared by reference with the
 * previous tree).
 *
 * Private keys are not here: TreeKEM state lives in `treekem.ts`.
 */
import type { CipherSuite } from '../../crypto/provider.ts';
import { Writer, encode } from '../codec/codec.ts';
import { bytesEqual } from '../../bytes.ts';
import { UsageError } from '../errors.ts';
import { leafNodeCodec, type LeafNode, type LeafNodeIn } from './leaf-node.ts';
import {
  NodeType,
  parentNodeCodec,
  ratchetTreeCodec,
  type Node,
  type ParentNode,
  type RatchetTreeNode,
} from './tree-node.ts';
import { isLeaf, leafRange, level, nodeWidth, root, toNodeIndex, type LeafIndex, type NodeIndex } from './tree-math.ts';

/**
 * One reused writer for the tree hash inputs: a joiner hashes every node of
 * the tree (2,047 at N=1,024), and a fresh buffer plus a copy of each input
 * was a visible share of that. Hashing does not re-enter (the digest is
 * synchronous and encodes nothing), and the input is wiped after each use.
 */
let treeHashWriter: Writer | undefined;
function hashInputWriter(): Writer {
  return (treeHashWriter ??= new Writer(1024));
}

// Small index helpers (array slots for parents: node x ↦ (x - 1) / 2).

export const parentSlot = (x: number): number => (x - 1) >>> 1;

/** The parent of node `x` (callers stop at the root). */
export function parentOf(x: number): number {
  const k = level(x as NodeIndex);
  const b = (x >>> (k + 1)) & 1;
  return (x | (1 << k)) ^ (b << (k + 1));
}

/** The arrays behind a tree: leaves, parents and the tree-hash cache. */
export interface TreeParts<L extends LeafNodeIn = LeafNode> {
  readonly leaves: (L | undefined)[];
  readonly parents: (ParentNode | undefined)[];
  readonly hashes: (Uint8Array | undefined)[];
}

// ---------------------------------------------------------------------------

/** A read-only view shared by `RatchetTreeIn`, `RatchetTree` and `TreeDraft`. */
export abstract class TreeView<L extends LeafNodeIn = LeafNode> {
  /** Leaves indexed by leaf index; length is a power of two. */
  protected leaves: (L | undefined)[];
  /** Parents indexed by (nodeIndex - 1) / 2; length = leaves - 1. */
  protected parents: (ParentNode | undefined)[];
  /** Tree hash per node index, filled lazily, invalidated along changed paths. */
  protected hashes: (Uint8Array | undefined)[];

  protected constructor(
    readonly suite: CipherSuite,
    leaves: (L | undefined)[],
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

  leaf(i: LeafIndex): L | undefined {
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

  private leafHash(i: number, leaf: LeafNodeIn | undefined): Uint8Array {
    // TreeHashInput { node_type = leaf(1); LeafNodeHashInput { uint32 leaf_index; optional<LeafNode> } }
    const w = hashInputWriter();
    try {
      w.u8(NodeType.leaf).u32(i);
      if (leaf === undefined) w.u8(0);
      else {
        w.u8(1);
        leafNodeCodec.encode(w, leaf);
      }
      return this.suite.hash.digest(w.view());
    } finally {
      w.reset();
    }
  }

  private parentHashInputHash(p: ParentNode | undefined, l: Uint8Array, r: Uint8Array): Uint8Array {
    // TreeHashInput { node_type = parent(2); ParentNodeHashInput { optional<ParentNode>; left_hash<V>; right_hash<V> } }
    const w = hashInputWriter();
    try {
      w.u8(NodeType.parent);
      if (p === undefined) w.u8(0);
      else {
        w.u8(1);
        parentNodeCodec.encode(w, p);
      }
      w.opaque(l).opaque(r);
      return this.suite.hash.digest(w.view());
    } finally {
      w.reset();
    }
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

  /** The arrays of `tree`, for a subclass that builds another kind of tree from them. */
  protected static partsOf<L extends LeafNodeIn>(tree: TreeView<L>): TreeParts<L> {
    return { leaves: tree.leaves, parents: tree.parents, hashes: tree.hashes };
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
