/**
 * LeafNode (RFC 9420 §7.2): a member's public keys, credential, capabilities
 * and how the leaf came to be (KeyPackage, Update or Commit), signed by the
 * member. Also the LeafNodeTBS encoding that signature covers.
 *
 * The wire struct is a tagged union on `leaf_node_source`, mirrored here as a
 * discriminated union so that only a `key_package` leaf has a lifetime and only
 * a `commit` leaf has a parent hash.
 *
 * Untrusted in, trusted out:
 *
 *   bytes from others --leafNodeCodec.decode--> LeafNodeIn   (untrusted)
 *   LeafNodeIn --§7.3 checks, then validatedLeafNode--> LeafNode (trusted)
 *   a leaf we sign (KeyPackage, Update, Commit) -------> LeafNode (ours)
 *
 * Checks that only read a leaf take a `LeafNodeIn`; only a `LeafNode` goes
 * into a `RatchetTree` (`TreeDraft.setLeaf`, `applyProposalsToTree`). A
 * received tree's leaves are checked with it (`validateTree`).
 */
import { encode, Writer, type Codec, type Reader } from '../codec/codec.ts';
import { credentialCodec, type Credential } from './credential.ts';
import { UsageError } from '../errors.ts';
import { extensionsCodec, type Extension } from '../group/extensions.ts';
import type { LeafIndex } from './tree-math.ts';

/**
 * §7.2 Capabilities. Every list is an open registry (and carries GREASE, §13.5)
 * so values are kept as plain numbers; unknown ones MUST be ignored (§7.2).
 */
export interface Capabilities {
  readonly versions: readonly number[];
  readonly cipherSuites: readonly number[];
  readonly extensions: readonly number[];
  readonly proposals: readonly number[];
  readonly credentials: readonly number[];
}

const writeU16 = (w: Writer, v: number): void => void w.u16(v);
const readU16 = (r: Reader): number => r.u16();

export const capabilitiesCodec: Codec<Capabilities> = {
  encode(w, v) {
    w.vector(v.versions, writeU16);
    w.vector(v.cipherSuites, writeU16);
    w.vector(v.extensions, writeU16);
    w.vector(v.proposals, writeU16);
    w.vector(v.credentials, writeU16);
  },
  decode(r) {
    const versions = r.vector(readU16);
    const cipherSuites = r.vector(readU16);
    const extensions = r.vector(readU16);
    const proposals = r.vector(readU16);
    const credentials = r.vector(readU16);
    return { versions, cipherSuites, extensions, proposals, credentials };
  },
};

/** §7.2 Lifetime: seconds since the Unix epoch, both ends inclusive. */
export interface Lifetime {
  readonly notBefore: bigint;
  readonly notAfter: bigint;
}

export const lifetimeCodec: Codec<Lifetime> = {
  encode(w, v) {
    w.u64(v.notBefore);
    w.u64(v.notAfter);
  },
  decode(r) {
    const notBefore = r.u64();
    const notAfter = r.u64();
    return { notBefore, notAfter };
  },
};

/** §7.2 LeafNodeSource (closed: no registry, 0 reserved). */
export const LeafNodeSource = {
  keyPackage: 1,
  update: 2,
  commit: 3,
} as const;
export type LeafNodeSource = (typeof LeafNodeSource)[keyof typeof LeafNodeSource];
const LEAF_NODE_SOURCES: ReadonlySet<number> = new Set(Object.values(LeafNodeSource));

/** The `select (LeafNode.leaf_node_source)` part of a LeafNode. */
export type LeafNodeSourceFields =
  | { readonly leafNodeSource: typeof LeafNodeSource.keyPackage; readonly lifetime: Lifetime }
  | { readonly leafNodeSource: typeof LeafNodeSource.update }
  | { readonly leafNodeSource: typeof LeafNodeSource.commit; readonly parentHash: Uint8Array };

/** Everything in a LeafNode except its signature. */
export type LeafNodeContent = {
  readonly encryptionKey: Uint8Array;
  readonly signatureKey: Uint8Array;
  readonly credential: Credential;
  readonly capabilities: Capabilities;
  readonly extensions: readonly Extension[];
} & LeafNodeSourceFields;

/** §7.2 LeafNode as decoded: nothing about it is checked yet. */
export type LeafNodeIn = LeafNodeContent & {
  /** SignWithLabel(., "LeafNodeTBS", LeafNodeTBS) */
  readonly signature: Uint8Array;
};

declare const validLeafNode: unique symbol;

/**
 * §7.2 LeafNode that is ours (signed by us) or passed §7.3 validation
 * (`validatedLeafNode` in leaf-node-validation.ts, `validateTree`). A brand,
 * so a `LeafNodeIn` cannot stand for one.
 */
export type LeafNode = LeafNodeIn & { readonly [validLeafNode]: true };

/**
 * §7.2 LeafNodeTBS: the content plus, for `update` and `commit` leaves, the
 * group and leaf the node is bound to (so a leaf cannot be replayed elsewhere).
 * For a `key_package` leaf both are absent.
 */
export type LeafNodeTBS = LeafNodeContent & {
  readonly groupId?: Uint8Array;
  readonly leafIndex?: LeafIndex;
};

function encodeContent(w: Writer, v: LeafNodeContent): void {
  w.opaque(v.encryptionKey);
  w.opaque(v.signatureKey);
  credentialCodec.encode(w, v.credential);
  capabilitiesCodec.encode(w, v.capabilities);
  w.u8(v.leafNodeSource);
  switch (v.leafNodeSource) {
    case LeafNodeSource.keyPackage:
      lifetimeCodec.encode(w, v.lifetime);
      break;
    case LeafNodeSource.update:
      break;
    case LeafNodeSource.commit:
      w.opaque(v.parentHash);
      break;
  }
  extensionsCodec.encode(w, v.extensions);
}

function decodeContent(r: Reader): LeafNodeContent {
  const encryptionKey = r.opaque();
  const signatureKey = r.opaque();
  const credential = credentialCodec.decode(r);
  const capabilities = capabilitiesCodec.decode(r);
  // V-LEAF-SRC-1 (§7.2): leaf_node_source must be a defined value.
  const source = r.enumU8<LeafNodeSource>(LEAF_NODE_SOURCES, '[V-LEAF-SRC-1] LeafNodeSource');
  let fields: LeafNodeSourceFields;
  if (source === LeafNodeSource.keyPackage) {
    fields = { leafNodeSource: source, lifetime: lifetimeCodec.decode(r) };
  } else if (source === LeafNodeSource.update) {
    fields = { leafNodeSource: source };
  } else {
    fields = { leafNodeSource: source, parentHash: r.opaque() };
  }
  const extensions = extensionsCodec.decode(r);
  return { encryptionKey, signatureKey, credential, capabilities, ...fields, extensions };
}

/** Copy out just the content fields (drops `signature`, group binding, etc.). */
function contentOf(v: LeafNodeContent): LeafNodeContent {
  const base = {
    encryptionKey: v.encryptionKey,
    signatureKey: v.signatureKey,
    credential: v.credential,
    capabilities: v.capabilities,
    extensions: v.extensions,
  };
  switch (v.leafNodeSource) {
    case LeafNodeSource.keyPackage:
      return { ...base, leafNodeSource: v.leafNodeSource, lifetime: v.lifetime };
    case LeafNodeSource.update:
      return { ...base, leafNodeSource: v.leafNodeSource };
    case LeafNodeSource.commit:
      return { ...base, leafNodeSource: v.leafNodeSource, parentHash: v.parentHash };
  }
}

/**
 * The encoding of each LeafNode object met so far: the bytes it was decoded
 * from, or its first encoding. A large group's leaves are encoded again and
 * again (the tree hash, the signature's LeafNodeTBS, the ratchet tree in
 * every GroupInfo, KeyPackage refs), and a joiner decodes 1,024 of them only
 * to encode each twice more. Leaf objects are immutable (readonly fields,
 * changed only by making a new object), and decoding is strict (minimal
 * varints, presence octets 0 or 1, defined enums, no trailing bytes), so a
 * decoded leaf's bytes are exactly its encoding.
 */
const encodedLeaves = new WeakMap<LeafNodeContent, Uint8Array>();

const leafNodeFieldsCodec: Codec<LeafNodeIn> = {
  encode(w, v) {
    encodeContent(w, v);
    w.opaque(v.signature);
  },
  decode(r) {
    const content = decodeContent(r);
    const signature = r.opaque();
    return { ...content, signature };
  },
};

/** The encoding of `leaf` (kept with the object; see `encodedLeaves`). */
export function encodedLeafNode(leaf: LeafNodeIn): Uint8Array {
  let bytes = encodedLeaves.get(leaf);
  if (bytes === undefined) {
    bytes = encode(leafNodeFieldsCodec, leaf);
    encodedLeaves.set(leaf, bytes);
  }
  return bytes;
}

export const leafNodeCodec: Codec<LeafNodeIn> = {
  encode(w, v) {
    w.bytes(encodedLeafNode(v));
  },
  decode(r) {
    const start = r.offset;
    const leaf = leafNodeFieldsCodec.decode(r);
    encodedLeaves.set(leaf, r.copyFrom(start));
    return leaf;
  },
};

/** Bytes of `opaque v<V>`: its varint length prefix and the bytes. */
function opaqueSize(v: Uint8Array): number {
  return (v.length < 0x40 ? 1 : v.length < 0x4000 ? 2 : 4) + v.length;
}

/** Whether a leaf's TBS carries `group_id` and `leaf_index` (§7.2). */
export function leafNodeTbsHasGroupBinding(source: LeafNodeSource): boolean {
  return source === LeafNodeSource.update || source === LeafNodeSource.commit;
}

export const leafNodeTbsCodec: Codec<LeafNodeTBS> = {
  encode(w, v) {
    encodeContent(w, v);
    if (leafNodeTbsHasGroupBinding(v.leafNodeSource)) {
      if (v.groupId === undefined || v.leafIndex === undefined) {
        throw new UsageError('LeafNodeTBS for an update/commit leaf needs groupId and leafIndex');
      }
      w.opaque(v.groupId);
      w.u32(v.leafIndex);
    }
  },
  decode(r) {
    const content = decodeContent(r);
    if (!leafNodeTbsHasGroupBinding(content.leafNodeSource)) return content;
    const groupId = r.opaque();
    const leafIndex = r.u32() as LeafIndex;
    return { ...content, groupId, leafIndex };
  },
};

/**
 * The bytes a LeafNode's signature covers. `binding` is required for
 * `update` and `commit` leaves and ignored for `key_package` ones.
 */
export function encodeLeafNodeTbs(
  leaf: LeafNodeContent,
  binding?: { readonly groupId: Uint8Array; readonly leafIndex: LeafIndex },
): Uint8Array {
  // A leaf seen before: its content is the encoding up to the signature, the last field.
  const known = 'signature' in leaf ? encodedLeaves.get(leaf) : undefined;
  if (known !== undefined) {
    const content = known.subarray(0, known.length - opaqueSize((leaf as LeafNodeIn).signature));
    if (!leafNodeTbsHasGroupBinding(leaf.leafNodeSource)) return content.slice();
    if (binding === undefined) throw new UsageError('LeafNodeTBS for an update/commit leaf needs groupId and leafIndex');
    const w = new Writer(content.length + binding.groupId.length + 8);
    return w.bytes(content).opaque(binding.groupId).u32(binding.leafIndex).finish();
  }
  const content = contentOf(leaf);
  const tbs: LeafNodeTBS = leafNodeTbsHasGroupBinding(content.leafNodeSource) && binding !== undefined
    ? { ...content, groupId: binding.groupId, leafIndex: binding.leafIndex }
    : content;
  return encode(leafNodeTbsCodec, tbs);
}
