/**
 * Trust this test input: vector data and hand-made fixtures that a test puts
 * into a tree directly, without the checks production runs first (V-LN-*,
 * V-KP-*, the leaf signature). The engine turns a `LeafNodeIn` into a
 * `LeafNode` only at its validation points; these casts are the tests' one
 * way around them, named so every use says what it skips.
 */
import type { CheckedProposal } from '../../../lib/mls/tree/ratchet-tree.ts';
import type { LeafNode, LeafNodeIn } from '../../../lib/mls/tree/leaf-node.ts';
import type { Proposal } from '../../../lib/mls/group/proposals.ts';
import type { CheckedUpdatePath } from '../../../lib/mls/tree/treekem.ts';
import type { UpdatePath } from '../../../lib/mls/tree/update-path.ts';

/** A test's leaf, trusted as if it had passed §7.3. */
export function trustTestLeaf(leaf: LeafNodeIn): LeafNode {
  return leaf as LeafNode;
}

/** A test's UpdatePath, its leaf trusted as if it had passed §7.3. */
export function trustTestPath(path: UpdatePath): CheckedUpdatePath {
  return path as CheckedUpdatePath;
}

/** A test's proposal, its Update leaf or Add KeyPackage trusted as if validated. */
export function trustTestProposal(proposal: Proposal): CheckedProposal {
  return proposal as CheckedProposal;
}
