/**
 * TreeKEM (RFC 9420 §7.4–§7.6): path secrets and node key pairs, creating an
 * UpdatePath (fresh keys along the committer's filtered direct path, each path
 * secret HPKE-encrypted to the resolution of the copath child) and processing
 * a received one (merge its public keys, decrypt the one path secret meant for
 * us, derive the rest, check it against the public keys).
 *
 *   path_secret[0]  (random, or decrypted by a recipient)
 *        │ DeriveSecret(., "path")
 *   path_secret[1] ... path_secret[n-1]   one per filtered-direct-path node
 *        │
 *   path_secret[n] = commit_secret
 *
 *   node_priv[i], node_pub[i] = KEM.DeriveKeyPair(DeriveSecret(path_secret[i], "node"))
 *
 * The public tree is `ratchet-tree.ts`; this module adds the private side
 * (`TreeKemPrivate`: the node private keys one member holds).
 */
import type { CipherSuite, KeyPair } from '../../crypto/provider.ts';
import { bytesEqual } from '../../bytes.ts';
import { decryptWithLabel, deriveSecret, encryptWithLabelToMany, signWithLabel } from '../keys/crypto-ops.ts';
import { CryptoError, UsageError, ValidationError } from '../errors.ts';
import { LeafNodeSource, encodeLeafNodeTbs, type LeafNode, type LeafNodeContent, type LeafNodeIn } from './leaf-node.ts';
import type { RatchetTree, TreeDraft } from './ratchet-tree.ts';
import type { TreeView } from './tree-view.ts';
import { isAncestorOrSelf, toNodeIndex, type LeafIndex, type NodeIndex } from './tree-math.ts';
import { type HPKECiphertext, type UpdatePath, type UpdatePathNode } from './update-path.ts';

/** One node key a member holds: the private key and the public key it belongs to. */
export interface NodeKey {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/**
 * The private keys a member holds for tree nodes (its leaf and some of its
 * ancestors). Immutable: updates return a new value.
 */
export class TreeKemPrivate {
  private constructor(
    readonly leafIndex: LeafIndex,
    private readonly keys: ReadonlyMap<number, NodeKey>,
  ) {}

  static fromLeafKey(leafIndex: LeafIndex, leafKey: NodeKey): TreeKemPrivate {
    return new TreeKemPrivate(leafIndex, new Map([[toNodeIndex(leafIndex) as number, leafKey]]));
  }

  /**
   * Private state from a leaf key plus known path secrets (e.g. the one in a
   * Welcome's GroupSecrets, §12.4.3.1: it and every secret derived above it
   * up the filtered direct path).
   */
  static async fromPathSecrets(
    suite: CipherSuite,
    leafIndex: LeafIndex,
    leafKey: NodeKey,
    pathSecrets: readonly { readonly node: NodeIndex; readonly pathSecret: Uint8Array }[],
  ): Promise<TreeKemPrivate> {
    const keys = new Map<number, NodeKey>([[toNodeIndex(leafIndex), leafKey]]);
    const pairs = await Promise.all(pathSecrets.map((p) => deriveNodeKeyPair(suite, p.pathSecret)));
    pathSecrets.forEach((p, i) => keys.set(p.node, pairs[i]!));
    return new TreeKemPrivate(leafIndex, keys);
  }

  /**
   * A joiner's private state (§12.4.3.1): its leaf key plus the path secret
   * from the Welcome, which belongs to the lowest node of the committer's
   * filtered direct path above the joiner; the secrets of the nodes above it
   * on that path are derived. `tree` is the tree of the new epoch.
   */
  static async fromWelcomePathSecret(
    suite: CipherSuite,
    tree: RatchetTree,
    leafIndex: LeafIndex,
    leafKey: NodeKey,
    committer: LeafIndex,
    pathSecret: Uint8Array,
  ): Promise<TreeKemPrivate> {
    const me = toNodeIndex(leafIndex);
    const path = tree.filteredDirectPath(committer);
    const at = path.findIndex((x) => isAncestorOrSelf(x, me));
    if (at < 0) throw new ValidationError('V-TK-2', `no node of leaf ${committer}'s filtered direct path is above leaf ${leafIndex}`);
    const secrets = pathSecretChain(suite, pathSecret, path.length - at - 1);
    const state = await TreeKemPrivate.fromPathSecrets(
      suite,
      leafIndex,
      leafKey,
      secrets.map((s, i) => ({ node: path[at + i]!, pathSecret: s })),
    );
    // The derived public keys must be the ones in the tree (V-TK-1).
    state.checkConsistent(tree);
    return state;
  }

  privateKey(x: NodeIndex): Uint8Array | undefined {
    return this.keys.get(x)?.privateKey;
  }

  /** Node indices we hold a key for. */
  nodes(): NodeIndex[] {
    return [...this.keys.keys()].sort((a, b) => a - b) as NodeIndex[];
  }

  /**
   * V-TK-1 (§7.4, tree invariant): every node we hold a key for is non-blank
   * in `tree`, carries our public key, and is our leaf or one of its ancestors.
   */
  checkConsistent(tree: TreeView): void {
    const me = toNodeIndex(this.leafIndex);
    for (const [x, k] of this.keys) {
      const pub = x < tree.nodeCount ? tree.encryptionKey(x as NodeIndex) : undefined;
      if (pub === undefined || !bytesEqual(pub, k.publicKey)) {
        throw new ValidationError('V-TK-1', `private key for node ${x} does not match the tree`);
      }
      if (!isAncestorOrSelf(x as NodeIndex, me)) {
        throw new ValidationError('V-TK-1', `private key for node ${x}, which is not above leaf ${this.leafIndex}`);
      }
    }
  }

  /** Drop keys whose node is now blank or carries another public key (§7.5: delete outdated keys). */
  prune(tree: TreeView): TreeKemPrivate {
    const keys = new Map<number, NodeKey>();
    for (const [x, k] of this.keys) {
      const pub = x < tree.nodeCount ? tree.encryptionKey(x as NodeIndex) : undefined;
      if (pub !== undefined && bytesEqual(pub, k.publicKey)) keys.set(x, k);
    }
    return new TreeKemPrivate(this.leafIndex, keys);
  }

  /** A copy with `updates` set (and nodes in `drop` removed first). */
  with(updates: Iterable<[NodeIndex, NodeKey]>, drop: Iterable<NodeIndex> = []): TreeKemPrivate {
    const keys = new Map(this.keys);
    for (const x of drop) keys.delete(x);
    for (const [x, k] of updates) keys.set(x, k);
    return new TreeKemPrivate(this.leafIndex, keys);
  }
}

/** path_secret[n+1] = DeriveSecret(path_secret[n], "path") (§7.4). */
export function nextPathSecret(suite: CipherSuite, pathSecret: Uint8Array): Uint8Array {
  return deriveSecret(suite, pathSecret, 'path');
}

/** node_priv, node_pub = KEM.DeriveKeyPair(DeriveSecret(path_secret, "node")) (§7.4). */
export async function deriveNodeKeyPair(suite: CipherSuite, pathSecret: Uint8Array): Promise<KeyPair> {
  const nodeSecret = deriveSecret(suite, pathSecret, 'node');
  try {
    return await suite.hpke.deriveKeyPair(nodeSecret);
  } finally {
    nodeSecret.fill(0);
  }
}

/** `count + 1` chained path secrets from `first`; the last is the commit secret. */
function pathSecretChain(suite: CipherSuite, first: Uint8Array, count: number): Uint8Array[] {
  const out = [first];
  for (let i = 0; i < count; i++) out.push(nextPathSecret(suite, out[i]!));
  return out;
}

/**
 * §7.5 step 4: the committer's new leaf: source `commit`, the new encryption
 * key, the computed parent hash, re-signed over LeafNodeTBS with the group ID
 * and leaf index. `base` supplies the credential, capabilities, extensions
 * and signature key (the application may change those too).
 */
export async function signCommitLeafNode(
  suite: CipherSuite,
  base: LeafNode | LeafNodeContent,
  encryptionKey: Uint8Array,
  parentHash: Uint8Array,
  signaturePrivateKey: Uint8Array,
  groupId: Uint8Array,
  leafIndex: LeafIndex,
): Promise<LeafNode> {
  const content: LeafNodeContent = {
    encryptionKey,
    signatureKey: base.signatureKey,
    credential: base.credential,
    capabilities: base.capabilities,
    extensions: base.extensions,
    leafNodeSource: LeafNodeSource.commit,
    parentHash,
  };
  const tbs = encodeLeafNodeTbs(content, { groupId, leafIndex });
  const signature = await signWithLabel(suite, signaturePrivateKey, 'LeafNodeTBS', tbs);
  // Ours, signed just now: trusted without a check.
  return { ...content, signature } as LeafNode;
}

export interface CreateUpdatePathOptions {
  readonly suite: CipherSuite;
  /** The tree after this Commit's proposals were applied. */
  readonly tree: RatchetTree;
  readonly sender: LeafIndex;
  /** Leaves added by this Commit: excluded from every resolution we encrypt to (§7.6). */
  readonly newMembers?: Iterable<number>;
  /** Build and sign the sender's new leaf (see `signCommitLeafNode`). */
  readonly signLeaf: (encryptionKey: Uint8Array, parentHash: Uint8Array) => Promise<LeafNode>;
  /** The encoded provisional GroupContext for the new tree hash (§12.4.1). */
  readonly groupContext: (treeHash: Uint8Array) => Uint8Array;
  /** Fixed randomness, for tests only. */
  readonly leafKeyPair?: KeyPair;
  readonly firstPathSecret?: Uint8Array;
}

export interface CreatedUpdatePath {
  readonly updatePath: CheckedUpdatePath;
  /** The tree with the path merged and the new leaf set. */
  readonly tree: RatchetTree;
  readonly commitSecret: Uint8Array;
  /** The sender's private state: new leaf key and keys on its filtered direct path. */
  readonly privateKeys: TreeKemPrivate;
  /** Path secret per filtered-direct-path node (for new members' Welcome, §12.4.3.1). */
  readonly pathSecrets: ReadonlyMap<NodeIndex, Uint8Array>;
  /** The encoded provisional GroupContext used for encryption. */
  readonly groupContext: Uint8Array;
}

/**
 * Create an UpdatePath for `sender` (§7.4–§7.6, §12.4.1): fresh leaf key,
 * path secrets along the filtered direct path, parent hashes, the signed
 * leaf, and one ciphertext per node of each copath child's resolution
 * (new members excluded), all under the provisional GroupContext.
 */
export async function createUpdatePath(opts: CreateUpdatePathOptions): Promise<CreatedUpdatePath> {
  const { suite, tree, sender } = opts;
  const exclude = new Set(opts.newMembers ?? []);
  const path = tree.pathWithCopath(sender, true);
  const first = opts.firstPathSecret ?? suite.randomBytes(suite.kdf.size);
  const secrets = pathSecretChain(suite, first, path.length);
  const [leafKey, nodeKeys] = await Promise.all([
    opts.leafKeyPair ?? suite.hpke.generateKeyPair(),
    Promise.all(path.map((_, i) => deriveNodeKeyPair(suite, secrets[i]!))),
  ]);

  const draft = tree.edit();
  const leafParentHash = draft.mergePathKeys(
    sender,
    nodeKeys.map((k) => k.publicKey),
  );
  const leafNode = await opts.signLeaf(leafKey.publicKey, leafParentHash);
  // V-PH-2 also binds our own leaf: it must carry the parent hash we computed.
  checkCommitLeaf(leafNode, leafParentHash, leafKey.publicKey);
  draft.setLeaf(sender, leafNode);
  const newTree = draft.done();
  const groupContext = opts.groupContext(newTree.treeHash());

  const nodes: UpdatePathNode[] = await Promise.all(
    path.map(async ({ copathChild }, i): Promise<UpdatePathNode> => {
      const targets = tree.resolution(copathChild, exclude);
      // One EncryptContext (and HPKE info hash) per copath node for all of its
      // resolution: up to N-1 recipients in a blank tree.
      const encryptedPathSecret: HPKECiphertext[] = await encryptWithLabelToMany(
        suite,
        targets.map((t) => tree.encryptionKey(t)!),
        'UpdatePathNode',
        groupContext,
        targets.map(() => secrets[i]!),
      );
      return { encryptionKey: nodeKeys[i]!.publicKey, encryptedPathSecret };
    }),
  );

  const pathSecrets = new Map<NodeIndex, Uint8Array>();
  path.forEach((e, i) => pathSecrets.set(e.node, secrets[i]!));
  const privateKeys = TreeKemPrivate.fromLeafKey(sender, leafKey).with(path.map((e, i) => [e.node, nodeKeys[i]!]));
  return {
    updatePath: { leafNode, nodes },
    tree: newTree,
    commitSecret: secrets[path.length]!,
    privateKeys,
    pathSecrets,
    groupContext,
  };
}

function checkCommitLeaf(leaf: LeafNodeIn, expectedParentHash: Uint8Array, expectedKey?: Uint8Array): void {
  // V-UP-4 (§7.3, §12.4.2): the UpdatePath leaf_node_source MUST be commit.
  if (leaf.leafNodeSource !== LeafNodeSource.commit) {
    throw new ValidationError('V-UP-4', 'UpdatePath leaf node source is not commit');
  }
  // V-PH-2 (§7.9.2): the leaf's parent_hash MUST equal the recomputed one.
  if (!bytesEqual(leaf.parentHash, expectedParentHash)) {
    throw new ValidationError('V-PH-2', 'UpdatePath leaf parent_hash does not match the tree');
  }
  if (expectedKey !== undefined && !bytesEqual(leaf.encryptionKey, expectedKey)) {
    throw new UsageError('signed leaf does not carry the new encryption key');
  }
}

/**
 * Merge a received UpdatePath into the tree (§7.5 "merges UpdatePath into the
 * tree", §12.4.2). `tree` is the tree after this Commit's proposals. Checks:
 *  - V-UP-1: one UpdatePathNode per filtered-direct-path node;
 *  - V-UP-4: the new leaf has source `commit`;
 *  - V-UP-5: its encryption key differs from the committer's current one;
 *  - V-UP-6: no public key of the UpdatePath already appears in the tree;
 *  - V-PH-2: the leaf's parent_hash matches the recomputed chain.
 * Leaf-node validation (signature, capabilities, ...) is the caller's: the
 * returned draft still has the committer's old leaf, and the caller sets the
 * path's leaf once it is checked (so the merge can run beside the signature
 * check, `processCommit`). `mergeUpdatePath` does both for a checked path.
 */
export function mergeUpdatePathKeys(tree: RatchetTree, sender: LeafIndex, updatePath: UpdatePath): TreeDraft {
  // An external joiner commits from a blank leaf (§12.4.3.2): nothing to compare with.
  const current = tree.leaf(sender);
  if (current !== undefined && bytesEqual(current.encryptionKey, updatePath.leafNode.encryptionKey)) {
    throw new ValidationError('V-UP-5', 'UpdatePath leaf reuses the committer\'s encryption key');
  }
  // V-UP-6 (§12.4.2): none of the new public keys may already be in the tree.
  // The scan is O(N) but allocation-free: a 32-bit prefix filter, then a full compare.
  const fresh = [updatePath.leafNode.encryptionKey, ...updatePath.nodes.map((n) => n.encryptionKey)];
  const prefix = (b: Uint8Array): number => (b.length >= 4 ? ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) : -1 - b.length);
  const prefixes = new Set(fresh.map(prefix));
  fresh.forEach((k, i) => {
    for (let j = 0; j < i; j++) {
      if (bytesEqual(k, fresh[j]!)) throw new ValidationError('V-UP-6', 'UpdatePath repeats a public key');
    }
  });
  for (let x = 0; x < tree.nodeCount; x++) {
    const pub = tree.encryptionKey(x as NodeIndex);
    if (pub === undefined || !prefixes.has(prefix(pub))) continue;
    if (fresh.some((k) => bytesEqual(k, pub))) {
      throw new ValidationError('V-UP-6', `UpdatePath public key already used by node ${x}`);
    }
  }
  const draft = tree.edit();
  const parentHash = draft.mergePathKeys(
    sender,
    updatePath.nodes.map((n) => n.encryptionKey),
  );
  checkCommitLeaf(updatePath.leafNode, parentHash);
  return draft;
}

/** An UpdatePath whose leaf is trusted: ours (`createUpdatePath`), or one whose leaf passed §7.3. */
export type CheckedUpdatePath = UpdatePath & { readonly leafNode: LeafNode };

/** `mergeUpdatePathKeys`, then the path's (checked) leaf into the tree. */
export function mergeUpdatePath(tree: RatchetTree, sender: LeafIndex, updatePath: CheckedUpdatePath): RatchetTree {
  const draft = mergeUpdatePathKeys(tree, sender, updatePath);
  draft.setLeaf(sender, updatePath.leafNode);
  return draft.done();
}

export interface DecryptedUpdatePath {
  /** The path secret we decrypted (at the lowest common filtered-path node). */
  readonly pathSecret: Uint8Array;
  readonly node: NodeIndex;
  readonly commitSecret: Uint8Array;
  /** Our private state after the update: old keys on the sender's path replaced. */
  readonly privateKeys: TreeKemPrivate;
}

/**
 * Decrypt our path secret from a merged UpdatePath (§7.5 "decrypts the path
 * secrets"). `tree` is the tree returned by `mergeUpdatePath`;
 * `groupContext` the encoded provisional GroupContext (with its tree hash).
 *  - V-UP-2: each encrypted_path_secret, at every node of the path, has one
 *    entry per node of the copath child's resolution;
 *  - V-UP-3: the public keys derived from the path secrets equal the UpdatePath's.
 */
export async function decryptUpdatePath(opts: {
  readonly suite: CipherSuite;
  readonly tree: RatchetTree;
  readonly sender: LeafIndex;
  readonly updatePath: UpdatePath;
  readonly newMembers?: Iterable<number>;
  readonly groupContext: Uint8Array;
  readonly me: TreeKemPrivate;
}): Promise<DecryptedUpdatePath> {
  const { suite, tree, sender, updatePath, me } = opts;
  if (me.leafIndex === sender) throw new UsageError('cannot decrypt our own UpdatePath');
  const exclude = new Set(opts.newMembers ?? []);
  const path = tree.pathWithCopath(sender, true);
  if (path.length !== updatePath.nodes.length) {
    throw new ValidationError('V-UP-1', `update path has ${updatePath.nodes.length} nodes, filtered direct path has ${path.length}`);
  }
  const myNode = toNodeIndex(me.leafIndex);
  const at = path.findIndex((e) => isAncestorOrSelf(e.copathChild, myNode));
  if (at < 0) throw new UsageError(`leaf ${me.leafIndex} is not below the sender's filtered direct path`);
  // V-UP-2 (§7.6, §12.4.2): every node's count is checked, not only ours, so that
  // every member rejects a malformed path alike and the group cannot split over it.
  let resolution: NodeIndex[] = [];
  path.forEach(({ copathChild }, i) => {
    const r = tree.resolution(copathChild, exclude);
    const count = updatePath.nodes[i]!.encryptedPathSecret.length;
    if (count !== r.length) {
      throw new ValidationError('V-UP-2', `${count} ciphertexts for node ${copathChild}, whose resolution has ${r.length}`);
    }
    if (i === at) resolution = r;
  });
  const { copathChild } = path[at]!;
  const upNode = updatePath.nodes[at]!;
  const slot = resolution.findIndex((x) => me.privateKey(x) !== undefined);
  if (slot < 0) throw new CryptoError('TreeKEM', `no private key for the resolution of node ${copathChild}`);
  const ct = upNode.encryptedPathSecret[slot]!;
  const pathSecret = await decryptWithLabel(
    suite,
    me.privateKey(resolution[slot]!)!,
    'UpdatePathNode',
    opts.groupContext,
    ct.kemOutput,
    ct.ciphertext,
  );
  const secrets = pathSecretChain(suite, pathSecret, path.length - at);
  const derived = await Promise.all(secrets.slice(0, -1).map((s) => deriveNodeKeyPair(suite, s)));
  derived.forEach((k, i) => {
    if (!bytesEqual(k.publicKey, updatePath.nodes[at + i]!.encryptionKey)) {
      throw new ValidationError('V-UP-3', `derived public key for node ${path[at + i]!.node} does not match the UpdatePath`);
    }
  });
  // Every key on the sender's direct path is outdated; we now hold the new ones from `at` up.
  const drop: NodeIndex[] = [];
  for (const x of me.nodes()) if (x !== myNode && isAncestorOrSelf(x, toNodeIndex(sender))) drop.push(x);
  const privateKeys = me.with(
    derived.map((k, i) => [path[at + i]!.node, k] as [NodeIndex, NodeKey]),
    drop,
  );
  const commitSecret = secrets[secrets.length - 1]!;
  // Derived path secrets are spent once their key pairs exist (§7.5: delete them).
  for (let i = 1; i < secrets.length - 1; i++) secrets[i]!.fill(0);
  return { pathSecret, node: path[at]!.node, commitSecret, privateKeys };
}
