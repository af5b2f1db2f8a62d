/**
 * The state one member keeps for one group (RFC 9420 §8, §9, §12), as an
 * immutable value: every group operation takes a `GroupState` and returns a
 * new one, sharing unchanged parts (the ratchet tree's nodes and hash cache,
 * secrets) by reference. Nothing here is mutated after construction; the one
 * stateful object inside, the secret tree, is copied before any key is
 * consumed (`withSecretTree`).
 *
 * `encodeGroupState` / `decodeGroupState` give a versioned byte form that
 * restores exactly (encode(decode(b)) == b), for IndexedDB.
 *
 *   GroupState
 *   ├── context            GroupContext of the current epoch (+ its encoding)
 *   ├── tree               public ratchet tree
 *   ├── ownLeaf, treeKeys  our leaf and the HPKE private keys we hold in the tree
 *   ├── signaturePrivateKey
 *   ├── keys               epoch secrets except encryption_secret
 *   ├── secretTree         per-sender ratchets rooted at encryption_secret (§9)
 *   ├── interimTranscriptHash, confirmationTag
 *   ├── pendingProposals   proposals received this epoch, by reference
 *   ├── pastEpochs         bounded: keys to read late application messages
 *   ├── resumptionPsks     bounded: resumption_psk of recent epochs
 *   └── config             retention / skip bounds
 */
import type { CipherSuite } from '../../crypto/provider.ts';
import { getCipherSuite } from '../../crypto/suites.ts';
import { Reader, Writer, encode, type DecodeOptions } from '../codec/codec.ts';
import { DecodeError } from '../errors.ts';
import { groupContextCodec, type GroupContext } from './group-context.ts';
import { senderCodec, type Sender } from '../framing/framing.ts';
import type { EpochSecrets } from '../keys/key-schedule.ts';
import { proposalCodec, type Proposal } from './proposals.ts';
import { RatchetTree } from '../tree/ratchet-tree.ts';
import { SecretTree, type HashRatchetState, type SecretTreeState } from '../keys/secret-tree.ts';
import { TreeKemPrivate, type NodeKey } from '../tree/treekem.ts';
import type { LeafIndex, NodeIndex } from '../tree/tree-math.ts';

/** Epoch secrets the state keeps: all but encryption_secret, which seeds the secret tree (§9.2). */
export type EpochKeys = Omit<EpochSecrets, 'encryptionSecret'>;

/** Bounds and policies of a group member, all configurable. */
export interface GroupConfig {
  /** Largest forward jump in one sender's ratchet accepted from one message (§9.2). */
  readonly maxForwardSkip: number;
  /** Keys of skipped generations kept per ratchet for out-of-order messages. */
  readonly maxRetainedKeys: number;
  /** Past epochs whose application keys are kept for late messages (§14.1 "Delayed and Reordered"). */
  readonly maxPastEpochs: number;
  /** resumption_psk values kept for recent epochs (§8.6). */
  readonly maxResumptionPsks: number;
}

export const DEFAULT_GROUP_CONFIG: GroupConfig = Object.freeze({
  maxForwardSkip: 1024,
  maxRetainedKeys: 128,
  maxPastEpochs: 2,
  maxResumptionPsks: 8,
});

/** A proposal received (or sent) in the current epoch, cached by its ProposalRef (§12.1). */
export interface PendingProposal {
  readonly ref: Uint8Array;
  readonly proposal: Proposal;
  readonly sender: Sender;
}

/**
 * Signature keys by leaf index of one epoch. A past epoch just keeps its
 * (immutable, shared) ratchet tree; a restored one keeps the bare keys.
 */
export interface EpochSigners {
  readonly leafCount: number;
  signatureKey(leaf: LeafIndex): Uint8Array | undefined;
}

function signersOfTree(tree: RatchetTree): EpochSigners {
  return { leafCount: tree.leafCount, signatureKey: (leaf) => (leaf < tree.leafCount ? tree.leaf(leaf)?.signatureKey : undefined) };
}

function signersOfList(keys: readonly (Uint8Array | undefined)[]): EpochSigners {
  return { leafCount: keys.length, signatureKey: (leaf) => keys[leaf] };
}

/** What is kept of a past epoch: enough to read its late application messages. */
export interface PastEpoch {
  readonly context: GroupContext;
  /** The members' signature keys in that epoch. */
  readonly signers: EpochSigners;
  readonly senderDataSecret: Uint8Array;
  readonly secretTree: SecretTree;
}

export interface GroupState {
  readonly suite: CipherSuite;
  readonly context: GroupContext;
  /** `groupContextCodec` encoding of `context` (key schedule, signatures). */
  readonly contextBytes: Uint8Array;
  readonly tree: RatchetTree;
  readonly ownLeaf: LeafIndex;
  readonly treeKeys: TreeKemPrivate;
  readonly signaturePrivateKey: Uint8Array;
  readonly keys: EpochKeys;
  readonly secretTree: SecretTree;
  readonly interimTranscriptHash: Uint8Array;
  /** Confirmation tag of the Commit that started this epoch (GroupInfo, §12.4.3). */
  readonly confirmationTag: Uint8Array;
  readonly pendingProposals: readonly PendingProposal[];
  /** Newest first. */
  readonly pastEpochs: readonly PastEpoch[];
  /** Newest first. */
  readonly resumptionPsks: readonly { readonly epoch: bigint; readonly psk: Uint8Array }[];
  readonly config: GroupConfig;
  /**
   * Leaf key pairs of Update proposals we sent this epoch: if another member
   * commits one, our leaf's private key becomes the matching one.
   */
  readonly pendingUpdateKeys: readonly NodeKey[];
  /** False once we were removed, or a ReInit was committed (§12.4.2: stop sending). */
  readonly active: boolean;
}

/** Everything needed to start holding a group at some epoch (creation, joining, a new epoch). */
export interface EpochStart {
  readonly suite: CipherSuite;
  readonly config: GroupConfig;
  readonly context: GroupContext;
  /** `groupContextCodec` encoding of `context`, if already at hand. */
  readonly contextBytes?: Uint8Array;
  readonly tree: RatchetTree;
  readonly ownLeaf: LeafIndex;
  readonly treeKeys: TreeKemPrivate;
  readonly signaturePrivateKey: Uint8Array;
  /** All epoch secrets; encryption_secret seeds the secret tree and is then wiped (§9.2). */
  readonly secrets: EpochSecrets;
  readonly interimTranscriptHash: Uint8Array;
  readonly confirmationTag: Uint8Array;
}

/** A fresh state with no history (no past epochs, no pending proposals). */
export function startEpoch(e: EpochStart): GroupState {
  const { encryptionSecret, ...keys } = e.secrets;
  const secretTree = new SecretTree(e.suite, encryptionSecret, e.tree.leafCount, {
    maxForwardSkip: e.config.maxForwardSkip,
    maxRetainedKeys: e.config.maxRetainedKeys,
  });
  encryptionSecret.fill(0);
  return Object.freeze({
    suite: e.suite,
    context: e.context,
    contextBytes: e.contextBytes ?? encode(groupContextCodec, e.context),
    tree: e.tree,
    ownLeaf: e.ownLeaf,
    treeKeys: e.treeKeys,
    signaturePrivateKey: e.signaturePrivateKey,
    keys,
    secretTree,
    interimTranscriptHash: e.interimTranscriptHash,
    confirmationTag: e.confirmationTag,
    pendingProposals: [],
    pastEpochs: [],
    resumptionPsks: [],
    config: e.config,
    pendingUpdateKeys: [],
    active: true,
  });
}

/** A copy of `state` with some fields replaced (never mutates `state`). */
export function withState(state: GroupState, changes: Partial<GroupState>): GroupState {
  return Object.freeze({ ...state, ...changes });
}

/** The state with a private copy of its secret tree, for an operation that will consume keys. */
export function withSecretTree(state: GroupState): { state: GroupState; secretTree: SecretTree } {
  const secretTree = state.secretTree.clone();
  return { state: withState(state, { secretTree }), secretTree };
}

/** The part of the current epoch kept once the group moves on. */
export function pastEpochOf(state: GroupState): PastEpoch {
  return {
    context: state.context,
    signers: signersOfTree(state.tree),
    senderDataSecret: state.keys.senderDataSecret,
    secretTree: state.secretTree,
  };
}

/** `pastEpochs` after moving to the next epoch: the current one pushed in front, bounded. */
export function retainEpoch(state: GroupState): readonly PastEpoch[] {
  if (state.config.maxPastEpochs === 0) return [];
  return [pastEpochOf(state), ...state.pastEpochs].slice(0, state.config.maxPastEpochs);
}

/** `resumptionPsks` after moving to the next epoch. */
export function retainResumptionPsk(state: GroupState): GroupState['resumptionPsks'] {
  const own = { epoch: state.context.epoch, psk: state.keys.resumptionPsk };
  return [own, ...state.resumptionPsks.filter((p) => p.epoch !== own.epoch)].slice(0, state.config.maxResumptionPsks);
}

// ---------------------------------------------------------------------------
// Serialization

/** Version of the byte form; bump on any layout change and keep a reader for old ones. */
export const GROUP_STATE_FORMAT_VERSION = 1;
const MAGIC = 0x4d43; // "MC"

const EPOCH_KEY_NAMES = [
  'senderDataSecret',
  'exporterSecret',
  'externalSecret',
  'confirmationKey',
  'membershipKey',
  'resumptionPsk',
  'epochAuthenticator',
  'initSecret',
] as const satisfies readonly (keyof EpochKeys)[];

function writeRatchet(w: Writer, r: HashRatchetState): void {
  w.u32(r.generation).opaque(r.secret);
  w.vector(r.retained, (iw, [g, key, nonce]) => void iw.u32(g).opaque(key).opaque(nonce));
}

function readRatchet(r: Reader): HashRatchetState {
  const generation = r.u32();
  const secret = r.opaque();
  const retained = r.vector((ir) => [ir.u32(), ir.opaque(), ir.opaque()] as const);
  return { generation, secret, retained };
}

function writeSecretTree(w: Writer, t: SecretTree): void {
  const s = t.toState();
  w.u32(s.nLeaves).u32(s.maxForwardSkip).u32(s.maxRetainedKeys);
  w.vector(s.nodes, (iw, [x, secret]) => void iw.u32(x).opaque(secret));
  w.vector(s.leaves, (iw, [leaf, rs]) => {
    iw.u32(leaf);
    writeRatchet(iw, rs.handshake);
    writeRatchet(iw, rs.application);
  });
}

function readSecretTree(cs: CipherSuite, r: Reader): SecretTree {
  const nLeaves = r.u32();
  const maxForwardSkip = r.u32();
  const maxRetainedKeys = r.u32();
  const nodes = r.vector((ir) => [ir.u32(), ir.opaque()] as const);
  const leaves = r.vector((ir) => [ir.u32(), { handshake: readRatchet(ir), application: readRatchet(ir) }] as const);
  const state: SecretTreeState = { nLeaves, maxForwardSkip, maxRetainedKeys, nodes, leaves };
  try {
    return SecretTree.fromState(cs, state);
  } catch (err) {
    throw new DecodeError('bad-value', 'stored secret tree is inconsistent', r.offset, { cause: err });
  }
}

function writeOptBytes(w: Writer, b: Uint8Array | undefined): void {
  w.optional(b, (iw, v) => void iw.opaque(v));
}

/** Versioned byte form of a group state. Contains secrets: store it encrypted at rest. */
export function encodeGroupState(s: GroupState): Uint8Array {
  const w = new Writer(4096);
  w.u16(MAGIC).u16(GROUP_STATE_FORMAT_VERSION).u16(s.suite.id);
  groupContextCodec.encode(w, s.context);
  w.opaque(s.tree.encode());
  w.u32(s.ownLeaf);
  // Public halves are the tree's keys at those nodes (TreeKemPrivate is kept consistent with the tree).
  w.vector(s.treeKeys.nodes(), (iw, x) => {
    iw.u32(x).opaque(s.treeKeys.privateKey(x)!).opaque(s.tree.encryptionKey(x) ?? new Uint8Array(0));
  });
  w.opaque(s.signaturePrivateKey);
  for (const name of EPOCH_KEY_NAMES) w.opaque(s.keys[name]);
  writeSecretTree(w, s.secretTree);
  w.opaque(s.interimTranscriptHash).opaque(s.confirmationTag);
  w.vector(s.pendingProposals, (iw, p) => {
    iw.opaque(p.ref);
    senderCodec.encode(iw, p.sender);
    proposalCodec.encode(iw, p.proposal);
  });
  w.vector(s.pastEpochs, (iw, e) => {
    groupContextCodec.encode(iw, e.context);
    const keys: (Uint8Array | undefined)[] = [];
    for (let i = 0; i < e.signers.leafCount; i++) keys.push(e.signers.signatureKey(i as LeafIndex));
    iw.vector(keys, writeOptBytes);
    iw.opaque(e.senderDataSecret);
    writeSecretTree(iw, e.secretTree);
  });
  w.vector(s.resumptionPsks, (iw, p) => void iw.u64(p.epoch).opaque(p.psk));
  const c = s.config;
  w.u32(c.maxForwardSkip).u32(c.maxRetainedKeys).u32(c.maxPastEpochs).u32(c.maxResumptionPsks);
  w.vector(s.pendingUpdateKeys, (iw, k) => void iw.opaque(k.privateKey).opaque(k.publicKey));
  w.u8(s.active ? 1 : 0);
  return w.finish();
}

/** Restore a state from `encodeGroupState` bytes. Throws DecodeError on anything malformed. */
export function decodeGroupState(bytes: Uint8Array, options?: DecodeOptions): GroupState {
  const r = new Reader(bytes, options);
  if (r.u16() !== MAGIC) throw new DecodeError('bad-value', 'not a MicroChat group state', 0);
  const version = r.u16();
  if (version !== GROUP_STATE_FORMAT_VERSION) {
    throw new DecodeError('bad-value', `unsupported group state format version ${version}`, 2);
  }
  const suiteId = r.u16();
  let suite: CipherSuite;
  try {
    suite = getCipherSuite(suiteId);
  } catch (err) {
    throw new DecodeError('bad-value', `unsupported cipher suite ${suiteId}`, 4, { cause: err });
  }
  const context = groupContextCodec.decode(r);
  const treeBytes = r.opaque();
  let tree: RatchetTree;
  try {
    tree = RatchetTree.decodeTrusted(suite, treeBytes, options);
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    throw new DecodeError('bad-value', 'stored ratchet tree is invalid', r.offset, { cause: err });
  }
  const ownLeaf = r.u32() as LeafIndex;
  const treeKeyList = r.vector((ir) => [ir.u32() as NodeIndex, { privateKey: ir.opaque(), publicKey: ir.opaque() }] as [NodeIndex, NodeKey]);
  const signaturePrivateKey = r.opaque();
  const raw = new Map<keyof EpochKeys, Uint8Array>(EPOCH_KEY_NAMES.map((name) => [name, r.opaque()]));
  // Each stored secret regains its branded type by the name it was stored under.
  const key = <K extends keyof EpochKeys>(name: K): EpochKeys[K] => raw.get(name) as EpochKeys[K];
  const keys: EpochKeys = {
    senderDataSecret: key('senderDataSecret'),
    exporterSecret: key('exporterSecret'),
    externalSecret: key('externalSecret'),
    confirmationKey: key('confirmationKey'),
    membershipKey: key('membershipKey'),
    resumptionPsk: key('resumptionPsk'),
    epochAuthenticator: key('epochAuthenticator'),
    initSecret: key('initSecret'),
  };
  const secretTree = readSecretTree(suite, r);
  const interimTranscriptHash = r.opaque();
  const confirmationTag = r.opaque();
  const pendingProposals = r.vector((ir): PendingProposal => {
    const ref = ir.opaque();
    const sender = senderCodec.decode(ir);
    const proposal = proposalCodec.decode(ir);
    return { ref, sender, proposal };
  });
  const pastEpochs = r.vector((ir): PastEpoch => {
    const ctx = groupContextCodec.decode(ir);
    const signatureKeys = ir.vector((jr) => jr.optional((kr) => kr.opaque()));
    const senderDataSecret = ir.opaque();
    return { context: ctx, signers: signersOfList(signatureKeys), senderDataSecret, secretTree: readSecretTree(suite, ir) };
  });
  const resumptionPsks = r.vector((ir) => ({ epoch: ir.u64(), psk: ir.opaque() }));
  const config: GroupConfig = {
    maxForwardSkip: r.u32(),
    maxRetainedKeys: r.u32(),
    maxPastEpochs: r.u32(),
    maxResumptionPsks: r.u32(),
  };
  const pendingUpdateKeys = r.vector((ir): NodeKey => ({ privateKey: ir.opaque(), publicKey: ir.opaque() }));
  const activeByte = r.u8();
  if (activeByte > 1) throw new DecodeError('bad-value', 'bad active flag', r.offset - 1);
  r.finish();
  if (context.cipherSuite !== suiteId) throw new DecodeError('bad-value', 'stored context suite differs from state suite');
  const leafEntry = treeKeyList.find(([x]) => x === 2 * ownLeaf);
  if (leafEntry === undefined) throw new DecodeError('bad-value', 'stored state has no private key for our leaf');
  const treeKeys = TreeKemPrivate.fromLeafKey(ownLeaf, leafEntry[1]).with(treeKeyList);
  try {
    treeKeys.checkConsistent(tree);
  } catch (err) {
    throw new DecodeError('bad-value', 'stored private keys do not match the stored tree', undefined, { cause: err });
  }
  return Object.freeze({
    suite,
    context,
    contextBytes: encode(groupContextCodec, context),
    tree,
    ownLeaf,
    treeKeys,
    signaturePrivateKey,
    keys,
    secretTree,
    interimTranscriptHash,
    confirmationTag,
    pendingProposals,
    pastEpochs,
    resumptionPsks,
    config,
    pendingUpdateKeys,
    active: activeByte === 1,
  });
}
