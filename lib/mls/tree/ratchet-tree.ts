/**
 * How a ratchet tree (RFC 9420 §4.1, §7) is made, in three kinds that read
 * alike (`TreeView`) but are not interchangeable:
 *
 *   bytes / nodes from others --RatchetTreeIn.decode/fromNodes--> RatchetTreeIn   (untrusted)
 *   RatchetTreeIn --validateTree (tree-validation.ts)-----------> RatchetTree     (trusted)
 *   RatchetTree --edit()--> TreeDraft --done()-----------------> RatchetTree
 *
 * Only `validateTree` turns a received tree into a `RatchetTree` (besides
 * `decodeTrusted`, for our own stored state), so code that takes a
 * `RatchetTree` never sees one nobody checked. A `RatchetTree` is
 * immutable by API: every change goes through a `TreeDraft`, which copies the
 * node arrays once (O(N) pointer copies, cheap next to a hash) and can apply
 * a whole proposal list (§12.1, §12.3) or merge an UpdatePath (§7.5, §7.9)
 * before `done()` hands back a new tree.
 */
import type { CipherSuite } from '../../crypto/provider.ts';
import { decode, type DecodeOptions } from '../codec/codec.ts';
import { UsageError, ValidationError } from '../errors.ts';
import { ProposalType, type Proposal } from '../group/proposals.ts';
import type { LeafNode, LeafNodeIn } from './leaf-node.ts';
import { NodeType, ratchetTreeCodec, type ParentNode, type RatchetTreeNode } from './tree-node.ts';
import { isLeaf, nodeWidth, type LeafIndex, type NodeIndex, MAX_LEAVES } from './tree-math.ts';
import { TreeView, parentHashInput, parentOf, parentSlot } from './tree-view.ts';

/** Largest tree (in leaves) accepted from the network. */
export const DEFAULT_MAX_TREE_LEAVES = 1 << 16;

export type TreeDecodeOptions = DecodeOptions & { readonly maxLeaves?: number };

/**
 * A ratchet tree as received from others (a GroupInfo's ratchet_tree
 * extension, or given out of band): the right shape (V-RT-1..3), nothing
 * more. It can be read and hashed, never changed nor used as a group's tree;
 * `validateTree` checks it and hands back the `RatchetTree`.
 */
export class RatchetTreeIn extends TreeView<LeafNodeIn> {
  private constructor(suite: CipherSuite, leaves: (LeafNodeIn | undefined)[], parents: (ParentNode | undefined)[]) {
    super(suite, leaves, parents, []);
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
  ): RatchetTreeIn {
    if (nodes.length === 0) throw new ValidationError('V-RT-1', 'ratchet tree is empty');
    if (nodes[nodes.length - 1] === undefined) {
      throw new ValidationError('V-RT-1', 'ratchet tree ends with a blank node');
    }
    let n = 1;
    while (nodeWidth(n) < nodes.length) n *= 2;
    // V-RT-3: no larger than we accept (local policy, and tree math's own bound).
    if (n > Math.min(maxLeaves, MAX_LEAVES)) throw new ValidationError('V-RT-3', `ratchet tree of ${n} leaves is too large`);
    const leaves: (LeafNodeIn | undefined)[] = new Array<LeafNodeIn | undefined>(n).fill(undefined);
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
    return new RatchetTreeIn(suite, leaves, parents);
  }

  /** Decode a ratchet_tree extension body (`optional<Node> ratchet_tree<V>`). */
  static decode(suite: CipherSuite, bytes: Uint8Array, options?: TreeDecodeOptions): RatchetTreeIn {
    return RatchetTreeIn.fromNodes(suite, decode(ratchetTreeCodec, bytes, options), options?.maxLeaves);
  }
}

/** An immutable ratchet tree. Change it with `edit()`. */
export class RatchetTree extends TreeView {
  /** Brand: a RatchetTree is made by `create`, `TreeDraft.done`, `validateTree` or `decodeTrusted`. */
  private declare readonly trusted: true;

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
   * @internal The last step of `validateTree`, and nothing else: the tree
   * `received` has passed every check a joiner runs (§12.4.3.1).
   */
  static fromValidated(received: RatchetTreeIn): RatchetTree {
    const { leaves, parents, hashes } = TreeView.partsOf(received);
    // Every leaf passed §7.3 with the tree (V-LN-*, V-TREE-*): trusted from here on.
    return new RatchetTree(received.suite, leaves as (LeafNode | undefined)[], parents, hashes);
  }

  /**
   * A tree from bytes we trust without validating them again: our own group
   * state (`decodeGroupState`), whose tree was validated or built by us before
   * it was stored. Never for bytes from the network: those go through
   * `RatchetTreeIn.decode` and `validateTree`.
   */
  static decodeTrusted(suite: CipherSuite, bytes: Uint8Array, options?: TreeDecodeOptions): RatchetTree {
    const { leaves, parents } = TreeView.partsOf(RatchetTreeIn.decode(suite, bytes, options));
    // Leaves we checked (or made) before we stored them.
    return new RatchetTree(suite, leaves as (LeafNode | undefined)[], parents, []);
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
 * A proposal whose leaves passed validation: an Update's leaf (V-LN-*) and an
 * Add's KeyPackage leaf (V-KP-*) are trusted `LeafNode`s. Only these change a
 * tree (`applyProposalList` makes them once its checks have passed).
 */
export type CheckedProposal =
  | Exclude<Proposal, { readonly proposalType: typeof ProposalType.update | typeof ProposalType.add }>
  | { readonly proposalType: typeof ProposalType.update; readonly update: { readonly leafNode: LeafNode } }
  | { readonly proposalType: typeof ProposalType.add; readonly add: { readonly keyPackage: { readonly leafNode: LeafNode } } };

/**
 * The tree part of applying a Commit's proposal list (§12.3): every Update,
 * then every Remove, then the Adds in list order. Other proposal types do
 * not touch the tree and are skipped. Returns the leaves the Adds filled, in
 * order (they are the "new members" excluded from UpdatePath resolutions).
 */
export function applyProposalsToTree(
  draft: TreeDraft,
  proposals: readonly { readonly proposal: CheckedProposal; readonly sender: LeafIndex }[],
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

