/**
 * Validating a ratchet tree received from others (RFC 9420 §12.4.3.1 "Verify
 * the integrity of the ratchet tree"): the one way a `RatchetTreeIn` becomes
 * the trusted `RatchetTree`. Joining by Welcome and by external Commit both
 * call `validateTree`, and so do the official tree-validation vectors.
 *
 *   RatchetTreeIn ──validateTree──▶ RatchetTree
 *     V-TREE-7  tree hash = the GroupContext's tree_hash
 *     V-TREE-1..4  unmerged leaves and parent keys (verifyStructure)
 *     V-PH-1    every parent node parent-hash valid (verifyParentHashes)
 *     V-TREE-5  every leaf signature (verifyLeafSignatures)
 *     V-LN-*    every leaf valid in this group (§7.3, leaf-node-validation.ts),
 *               V-LN-8 / V-LN-9 across the members
 *
 * The single checks are exported for tests that break one rule at a time.
 */
import { bytesEqual } from '../../bytes.ts';
import { ValidationError } from '../errors.ts';
import { verifyWithLabel } from '../keys/crypto-ops.ts';
import type { GroupContext } from '../group/group-context.ts';
import { LeafNodeSource, encodeLeafNodeTbs, type LeafNodeIn } from './leaf-node.ts';
import {
  checkLeafNodeContent,
  checkLeavesAgainstTree,
  requiredCapabilitiesOf,
  type LeafValidationOptions,
} from './leaf-node-validation.ts';
import { RatchetTree, type RatchetTreeIn } from './ratchet-tree.ts';
import type { ParentNode } from './tree-node.ts';
import { isLeaf, leafRange, left, right, type LeafIndex, type NodeIndex } from './tree-math.ts';
import { parentOf, type TreeView } from './tree-view.ts';

/** What a received tree is checked against: the GroupContext it claims to be the tree of. */
export type TreeExpectations = Pick<GroupContext, 'groupId' | 'treeHash' | 'extensions'>;

/**
 * §12.4.3.1: check a received tree against the GroupContext it comes with
 * and hand it back as a `RatchetTree`. Throws a ValidationError naming the
 * broken rule.
 */
export async function validateTree(
  received: RatchetTreeIn,
  context: TreeExpectations,
  options: LeafValidationOptions = {},
): Promise<RatchetTree> {
  // The N signature checks run off the main thread (WebCrypto) while the hashing checks run here.
  const signatures = verifyLeafSignatures(received, context.groupId);
  try {
    // V-TREE-7 (§12.4.3.1): the tree is the one the GroupContext commits to.
    if (!bytesEqual(received.treeHash(), context.treeHash)) {
      throw new ValidationError('V-TREE-7', 'ratchet tree hash does not match the GroupContext tree_hash');
    }
    verifyStructure(received);
    verifyParentHashes(received);
    const all: LeafIndex[] = [...received.memberIndices()];
    const required = requiredCapabilitiesOf(context.extensions);
    for (const i of all) {
      const leaf = received.leaf(i)!;
      checkLeafNodeContent(leaf, {
        ...options,
        expectedSource: leaf.leafNodeSource,
        groupExtensions: context.extensions,
        requiredCapabilities: required,
      });
    }
    checkLeavesAgainstTree(received, all);
  } catch (err) {
    await Promise.allSettled([signatures]);
    throw err;
  }
  await signatures;
  return RatchetTree.fromValidated(received);
}

/**
 * Structural checks on a received tree (§7.1, §12.4.3.1), besides parent
 * hashes and leaf validation: V-TREE-1..4.
 */
export function verifyStructure(tree: TreeView<LeafNodeIn>): void {
  const seenKeys = new Set<string>();
  const keyOf = (b: Uint8Array): string => {
    let s = '';
    for (const x of b) s += String.fromCharCode(x);
    return s;
  };
  for (const i of tree.memberIndices()) seenKeys.add(keyOf(tree.leaf(i)!.encryptionKey));
  for (let x = 1; x < tree.nodeCount; x += 2) {
    const p = tree.parentNode(x as NodeIndex);
    if (p === undefined) continue;
    const [first, end] = leafRange(x as NodeIndex);
    let prev = -1;
    for (const u of p.unmergedLeaves) {
      // V-TREE-1 (§7.1): unmerged_leaves MUST be sorted in increasing order.
      if (u <= prev) throw new ValidationError('V-TREE-1', `unmerged leaves of node ${x} not strictly increasing`);
      prev = u;
      // V-TREE-2 (§12.4.3.1): each entry is a non-blank leaf below the node.
      if (u < first || u >= end || tree.leaf(u) === undefined) {
        throw new ValidationError('V-TREE-2', `unmerged leaf ${u} of node ${x} is blank or not a descendant`);
      }
      // V-TREE-3 (§12.4.3.1): every non-blank node between the leaf and P lists it too.
      for (let y = parentOf(2 * u); y !== x; y = parentOf(y)) {
        const q = tree.parentNode(y as NodeIndex);
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
 * V-PH-1 (§7.9.2, §12.4.3.1): every non-blank parent node must be
 * parent-hash valid, i.e. exactly one descendant D chains to it: D is in
 * the resolution of one child C, D.parent_hash equals the parent hash of P
 * with copath child S (the other child), and P's unmerged leaves under C are
 * exactly the resolution of C without D.
 */
export function verifyParentHashes(tree: TreeView<LeafNodeIn>): void {
  for (let i = 1; i < tree.nodeCount; i += 2) {
    const x = i as NodeIndex;
    const p = tree.parentNode(x);
    if (p === undefined) continue;
    let valid = 0;
    for (const [c, s] of [
      [left(x), right(x)],
      [right(x), left(x)],
    ] as const) {
      const d = chainCandidate(tree, p, c);
      if (d === undefined) continue;
      const dHash = isLeaf(d) ? leafParentHash(tree.leaf((d >>> 1) as LeafIndex)!) : tree.parentNode(d)!.parentHash;
      if (dHash !== undefined && bytesEqual(dHash, tree.parentHashOf(x, s))) valid++;
    }
    if (valid !== 1) {
      throw new ValidationError('V-PH-1', `parent node ${x} is not parent-hash valid (${valid} chains)`);
    }
  }
}

function leafParentHash(leaf: LeafNodeIn): Uint8Array | undefined {
  return leaf.leafNodeSource === LeafNodeSource.commit ? leaf.parentHash : undefined;
}

/**
 * The only node D of resolution(C) that is not one of P's unmerged leaves,
 * if P's unmerged leaves under C are exactly resolution(C) minus D.
 */
function chainCandidate(tree: TreeView<LeafNodeIn>, p: ParentNode, c: NodeIndex): NodeIndex | undefined {
  const res = tree.resolution(c);
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
 * V-TREE-5 (§7.3, §12.4.3.1): the signature of every non-blank leaf verifies
 * under its own signature_key, with `groupId` and the leaf index as context
 * for update/commit leaves. All leaves are checked concurrently.
 */
export async function verifyLeafSignatures(tree: TreeView<LeafNodeIn>, groupId: Uint8Array): Promise<void> {
  const checks: Promise<boolean>[] = [];
  const indices: LeafIndex[] = [];
  for (const i of tree.memberIndices()) {
    const leaf = tree.leaf(i)!;
    const tbs = encodeLeafNodeTbs(leaf, { groupId, leafIndex: i });
    checks.push(verifyWithLabel(tree.suite, leaf.signatureKey, 'LeafNodeTBS', tbs, leaf.signature));
    indices.push(i);
  }
  const results = await Promise.all(checks);
  const bad = results.findIndex((ok) => !ok);
  if (bad >= 0) throw new ValidationError('V-TREE-5', `leaf ${indices[bad]} has an invalid signature`);
}
