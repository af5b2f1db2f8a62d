/**
 * Ratchet-tree nodes as they travel on the wire (RFC 9420 §7.1, §12.4.3.3):
 * ParentNode, the Node union, and `optional<Node> ratchet_tree<V>`, the body
 * of the ratchet_tree extension and the form a tree is exchanged in.
 *
 * The in-memory ratchet tree (resolution, hashes, ...) is `ratchet-tree.ts`;
 * this file only encodes and decodes.
 */
import type { Codec, Reader, Writer } from '../codec/codec.ts';
import { leafNodeCodec, type LeafNodeIn } from './leaf-node.ts';
import type { LeafIndex } from './tree-math.ts';

/** §7.1 ParentNode. */
export interface ParentNode {
  readonly encryptionKey: Uint8Array;
  readonly parentHash: Uint8Array;
  /** Leaves added below this node since it was last updated, ascending. */
  readonly unmergedLeaves: readonly LeafIndex[];
}

export const parentNodeCodec: Codec<ParentNode> = {
  encode(w, v) {
    w.opaque(v.encryptionKey);
    w.opaque(v.parentHash);
    w.vector(v.unmergedLeaves, (iw, leaf) => void iw.u32(leaf));
  },
  decode(r) {
    const encryptionKey = r.opaque();
    const parentHash = r.opaque();
    const unmergedLeaves = r.vector((ir) => ir.u32() as LeafIndex);
    return { encryptionKey, parentHash, unmergedLeaves };
  },
};

/** §12.4.3.3 NodeType (closed). */
export const NodeType = {
  leaf: 1,
  parent: 2,
} as const;
export type NodeType = (typeof NodeType)[keyof typeof NodeType];
const NODE_TYPES: ReadonlySet<number> = new Set(Object.values(NodeType));

/** §12.4.3.3 Node. */
export type Node =
  | { readonly nodeType: typeof NodeType.leaf; readonly leafNode: LeafNodeIn }
  | { readonly nodeType: typeof NodeType.parent; readonly parentNode: ParentNode };

export const nodeCodec: Codec<Node> = {
  encode(w, v) {
    w.u8(v.nodeType);
    if (v.nodeType === NodeType.leaf) leafNodeCodec.encode(w, v.leafNode);
    else parentNodeCodec.encode(w, v.parentNode);
  },
  decode(r) {
    // V-NODE-1 (§12.4.3.3): node_type must be leaf or parent.
    const nodeType = r.enumU8<NodeType>(NODE_TYPES, '[V-NODE-1] NodeType');
    if (nodeType === NodeType.leaf) return { nodeType, leafNode: leafNodeCodec.decode(r) };
    return { nodeType, parentNode: parentNodeCodec.decode(r) };
  },
};

/** A node slot of the array representation: `undefined` is a blank node. */
export type RatchetTreeNode = Node | undefined;

function writeOptionalNode(w: Writer, v: RatchetTreeNode): void {
  w.optional(v, nodeCodec.encode);
}

function readOptionalNode(r: Reader): RatchetTreeNode {
  return r.optional(nodeCodec.decode);
}

/**
 * `optional<Node> ratchet_tree<V>` in array order (leaf L at index 2L), as
 * sent: the sender drops trailing blanks and the receiver extends the list to
 * 2^(d+1)-1 entries (§12.4.3.3). This codec is the bare wire format; the
 * structural rules on a received tree (last node non-blank, node types by
 * position, size) are checked where the tree is built, in `ratchet-tree.ts`
 * (V-RT-1..3), so a tree is validated in exactly one place.
 */
export const ratchetTreeCodec: Codec<readonly RatchetTreeNode[]> = {
  encode(w, v) {
    w.vector(v, writeOptionalNode);
  },
  decode(r) {
    return r.vector(readOptionalNode);
  },
};
