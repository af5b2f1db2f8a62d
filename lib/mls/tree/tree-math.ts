/**
 * Left-balanced binary tree arithmetic on the array representation of a
 * ratchet tree (RFC 9420 §4.2, Appendix C).
 *
 * Leaves sit at even node indices (leaf `n` is node `2n`), parents at odd
 * ones; a node's level is its number of trailing one bits. RFC 9420 trees
 * always have a power-of-two number of leaves (§7.7: the tree grows by
 * doubling and is truncated back to a power of two), so every function here
 * assumes `nLeaves` is a power of two (or 0 where stated) and throws
 * `UsageError` otherwise. Everything is plain 32-bit integer arithmetic:
 * nothing allocates except the path lists.
 *
 * Leaf and node indices are branded so one cannot be passed for the other.
 */
import { UsageError } from '../errors.ts';

declare const leafBrand: unique symbol;
declare const nodeBrand: unique symbol;

/** Index of a leaf among the leaves (0, 1, 2, ...). */
export type LeafIndex = number & { readonly [leafBrand]: true };
/** Index of a node in the array representation (leaf n = node 2n). */
export type NodeIndex = number & { readonly [nodeBrand]: true };

/** Largest supported leaf count: node indices must stay below 2^31. */
export const MAX_LEAVES = 2 ** 30;

function checkIndex(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0 || n > 0x7ffffffe) throw new UsageError(`${what} out of range: ${n}`);
}

export function leafIndex(n: number): LeafIndex {
  checkIndex(n, 'leaf index');
  return n as LeafIndex;
}

export function nodeIndex(n: number): NodeIndex {
  checkIndex(n, 'node index');
  return n as NodeIndex;
}

export function toNodeIndex(leaf: LeafIndex): NodeIndex {
  return (leaf * 2) as NodeIndex;
}

export function toLeafIndex(node: NodeIndex): LeafIndex {
  if ((node & 1) !== 0) throw new UsageError(`node ${node} is not a leaf`);
  return (node >>> 1) as LeafIndex;
}

export function isLeaf(x: NodeIndex): boolean {
  return (x & 1) === 0;
}

/** True when `n` is a positive power of two. */
export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

function checkLeaves(nLeaves: number): void {
  if (!isPowerOfTwo(nLeaves) || nLeaves > MAX_LEAVES) {
    throw new UsageError(`leaf count must be a power of two, got ${nLeaves}`);
  }
}

/** Exponent of the largest power of two not above x (log2(0) = 0). */
export function log2(x: number): number {
  return x === 0 ? 0 : 31 - Math.clz32(x);
}

/** Leaves are level 0; a parent is one above its children. */
export function level(x: NodeIndex): number {
  // Number of trailing one bits of x.
  const inv = ~x;
  return 31 - Math.clz32(inv & -inv);
}

/** Number of array slots needed for `nLeaves` leaves. */
export function nodeWidth(nLeaves: number): number {
  if (nLeaves === 0) return 0;
  return 2 * (nLeaves - 1) + 1;
}

/** Number of leaves in a tree whose array has `width` slots (inverse of nodeWidth). */
export function leafWidth(width: number): number {
  return width === 0 ? 0 : (width + 1) / 2;
}

export function root(nLeaves: number): NodeIndex {
  checkLeaves(nLeaves);
  return ((1 << log2(nodeWidth(nLeaves))) - 1) as NodeIndex;
}

export function left(x: NodeIndex): NodeIndex {
  const k = level(x);
  if (k === 0) throw new UsageError(`leaf node ${x} has no children`);
  return (x ^ (1 << (k - 1))) as NodeIndex;
}

export function right(x: NodeIndex): NodeIndex {
  const k = level(x);
  if (k === 0) throw new UsageError(`leaf node ${x} has no children`);
  return (x ^ (3 << (k - 1))) as NodeIndex;
}

function checkInTree(x: NodeIndex, nLeaves: number): void {
  checkLeaves(nLeaves);
  if (x < 0 || x >= nodeWidth(nLeaves)) throw new UsageError(`node ${x} outside a tree of ${nLeaves} leaves`);
}

// Parent in a full tree, without validation (hot paths call it in loops).
function parentUnchecked(x: number): number {
  const k = level(x as NodeIndex);
  const b = (x >>> (k + 1)) & 1;
  return (x | (1 << k)) ^ (b << (k + 1));
}

export function parent(x: NodeIndex, nLeaves: number): NodeIndex {
  checkInTree(x, nLeaves);
  if (x === root(nLeaves)) throw new UsageError('root node has no parent');
  return parentUnchecked(x) as NodeIndex;
}

export function sibling(x: NodeIndex, nLeaves: number): NodeIndex {
  const p = parent(x, nLeaves);
  return x < p ? right(p) : left(p);
}

/** Ancestors of `x` from its parent up to the root (excluding `x`). */
export function directPath(x: NodeIndex, nLeaves: number): NodeIndex[] {
  checkInTree(x, nLeaves);
  const r = root(nLeaves);
  const d: NodeIndex[] = [];
  let y: number = x;
  while (y !== r) {
    y = parentUnchecked(y);
    d.push(y as NodeIndex);
  }
  return d;
}

/** Siblings of `x` and of each of its ancestors below the root, leaf to root. */
export function copath(x: NodeIndex, nLeaves: number): NodeIndex[] {
  checkInTree(x, nLeaves);
  const r = root(nLeaves);
  const c: NodeIndex[] = [];
  let y: number = x;
  while (y !== r) {
    const p = parentUnchecked(y);
    c.push((y < p ? p ^ (3 << (level(p as NodeIndex) - 1)) : p ^ (1 << (level(p as NodeIndex) - 1))) as NodeIndex);
    y = p;
  }
  return c;
}

/** The lowest node that is `x`, `y` or an ancestor of both. */
export function commonAncestor(x: NodeIndex, y: NodeIndex): NodeIndex {
  const lx = level(x) + 1;
  const ly = level(y) + 1;
  if (lx <= ly && x >>> ly === y >>> ly) return y;
  if (ly <= lx && x >>> lx === y >>> lx) return x;
  let xn: number = x;
  let yn: number = y;
  let k = 0;
  while (xn !== yn) {
    xn >>>= 1;
    yn >>>= 1;
    k++;
  }
  return ((xn << k) + (1 << (k - 1)) - 1) as NodeIndex;
}

/** True when `ancestor` is `x` itself or lies on the direct path of `x`. */
export function isAncestorOrSelf(ancestor: NodeIndex, x: NodeIndex): boolean {
  const l = level(ancestor) + 1;
  return level(x) < l && x >>> l === ancestor >>> l;
}

/** Leaf indices covered by the subtree under `x`: [first, end). */
export function leafRange(x: NodeIndex): [LeafIndex, LeafIndex] {
  const k = level(x);
  const first = (x >>> (k + 1)) << k;
  return [first as LeafIndex, (first + (1 << k)) as LeafIndex];
}
