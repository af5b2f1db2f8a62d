/**
 * ts-mls 1.6.4 (an independent RFC 9420 implementation, devDependency) behind
 * the `InteropMember` interface. Used only by the interop tests and the
 * benchmark; never imported from lib/.
 *
 * ts-mls 1.6.4 departs from RFC 9420 in two places that interop hits; the
 * adapter bridges them at the edge, without touching ts-mls itself, so that
 * every byte our engine sees is RFC-conformant (our engine is not relaxed):
 *  - P-256/P-384/P-521 signature public keys come out of ts-mls' keygen
 *    compressed (33 bytes for P-256); §5.1.1 requires the uncompressed point
 *    (`UncompressedPointRepresentation`). The adapter generates the key pair
 *    itself through ts-mls and publishes the uncompressed form (ts-mls signs
 *    with the private key and verifies either form). See `ecdsaUncompressed`.
 *  - The external_pub GroupInfo extension (§12.4.3.2) is `struct { HPKEPublicKey
 *    external_pub; }`, i.e. an opaque<V> with a length prefix; ts-mls writes
 *    and reads the bare key. The adapter length-prefixes (and re-signs) the
 *    GroupInfo ts-mls exports, and lets ts-mls read a conformant one by
 *    stripping the prefix when ts-mls imports that exact key.
 * `tests/mls/interop/ts-mls-quirks.test.ts` pins both departures, so the shims
 * can go when ts-mls fixes them, and two more that no adapter can bridge
 * (a commit_secret derivation and an over-strict tree check on join, see
 * `tsMlsRejectsTree`); the interop histories steer around those two.
 */
import {
  acceptAll,
  createApplicationMessage,
  createCommit,
  createProposal,
  createGroup,
  createGroupInfoWithExternalPubAndRatchetTree,
  decodeMlsMessage,
  defaultCapabilities,
  defaultLifetime,
  emptyPskIndex,
  encodeMlsMessage,
  getCiphersuiteImpl,
  joinGroup,
  joinGroupExternal,
  mlsExporter,
  processMessage,
  type CiphersuiteImpl,
  type CiphersuiteName,
  type ClientState,
  type Credential,
  type KeyPackage,
  type MLSMessage,
  type PrivateKeyPackage,
  type Proposal,
} from 'ts-mls';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { getCiphersuiteFromId, type CiphersuiteId } from 'ts-mls/crypto/ciphersuite.js';
import { signGroupInfo } from 'ts-mls/groupInfo.js';
import { generateKeyPackageWithKey, makeKeyPackageRef } from 'ts-mls/keyPackage.js';
import { decodeRatchetTree, encodeRatchetTree } from 'ts-mls/ratchetTree.js';
import { directPath, leafToNodeIndex, leafWidth, toLeafIndex } from 'ts-mls/treemath.js';
import {
  fromUtf8,
  utf8,
  type CommitOptions,
  type CommitOutput,
  type InteropMember,
  type ProcessResult,
} from './member.ts';

const implCache = new Map<number, Promise<CiphersuiteImpl>>();

/** ts-mls' implementation of cipher suite `id` (built once per suite). */
export function peerSuite(id: number): Promise<CiphersuiteImpl> {
  let p = implCache.get(id);
  if (p === undefined) {
    p = getCiphersuiteImpl(getCiphersuiteFromId(id as CiphersuiteId));
    implCache.set(id, p);
  }
  return p;
}

/** §5.1.1: ECDSA signature keys are uncompressed points; ts-mls' keygen gives compressed ones. */
const ECDSA_CURVES: Record<number, typeof p256 | undefined> = { 2: p256, 5: p521, 7: p384 };

export function ecdsaUncompressed(suite: number, publicKey: Uint8Array): Uint8Array {
  const curve = ECDSA_CURVES[suite];
  return curve === undefined ? publicKey : curve.Point.fromBytes(publicKey).toBytes(false);
}

/** RFC 9420 §2.1.2 variable-length integer prefix. */
export function varintPrefix(n: number): Uint8Array {
  if (n < 0x40) return new Uint8Array([n]);
  if (n < 0x4000) return new Uint8Array([0x40 | (n >> 8), n & 0xff]);
  return new Uint8Array([0x80 | (n >>> 24), (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
}

/** The body of an opaque<V>, or undefined when `bytes` is not exactly one. */
export function unprefixOpaque(bytes: Uint8Array): Uint8Array | undefined {
  const first = bytes[0];
  if (first === undefined) return undefined;
  const width = 1 << (first >> 6);
  if (width > 4 || bytes.length < width) return undefined;
  let n = first & 0x3f;
  for (let i = 1; i < width; i++) n = (n << 8) | bytes[i]!;
  return bytes.length === width + n ? bytes.subarray(width) : undefined;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Whether ts-mls 1.6.4 will refuse to join a group with this (encoded) ratchet
 * tree because of its over-strict unmerged-leaves check (`validateRatchetTree`
 * in clientState.js): for an unmerged leaf L of a parent P it requires every
 * non-blank node on L's WHOLE direct path (also above P) to carry an
 * unmerged_leaves list EQUAL to P's, where RFC 9420 §12.4.3.1 only asks the
 * non-blank nodes BETWEEN L and P to also list L. A valid tree fails this as
 * soon as a member is added below a non-blank node that is not on the
 * committer's path. Same loop as ts-mls, on the decoded tree.
 */
export function tsMlsRejectsTree(treeBytes: Uint8Array): boolean {
  const decoded = decodeRatchetTree(treeBytes, 0);
  if (decoded === undefined) throw new Error('ts-mls could not decode the ratchet tree');
  const tree = decoded[0];
  for (const n of tree) {
    if (n?.nodeType !== 'parent') continue;
    const mine = n.parent.unmergedLeaves;
    for (const unmerged of mine) {
      for (const x of directPath(leafToNodeIndex(toLeafIndex(unmerged)), leafWidth(tree.length))) {
        const other = tree[x];
        if (other?.nodeType === 'parent' && !sameNumbers(other.parent.unmergedLeaves, mine)) return true;
      }
    }
  }
  return false;
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function decodeMessage(bytes: Uint8Array): MLSMessage {
  const decoded = decodeMlsMessage(bytes, 0);
  if (decoded === undefined || decoded[1] !== bytes.length) throw new Error('ts-mls could not decode the MLSMessage');
  return decoded[0];
}

interface PendingKeyPackage {
  readonly publicPackage: KeyPackage;
  readonly privatePackage: PrivateKeyPackage;
  readonly ref: Uint8Array;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

class PeerMember implements InteropMember {
  readonly impl = 'ts-mls' as const;
  private state: ClientState | undefined;
  private readonly pending: PendingKeyPackage[];

  constructor(
    readonly name: string,
    readonly suite: number,
    private readonly cs: CiphersuiteImpl,
    state?: ClientState,
    pending: PendingKeyPackage[] = [],
  ) {
    this.state = state;
    this.pending = [...pending];
  }

  private get credential(): Credential {
    return { credentialType: 'basic', identity: utf8(this.name) };
  }

  private current(): ClientState {
    if (this.state === undefined) throw new Error(`${this.name} (ts-mls) is not in a group`);
    return this.state;
  }

  private async newKeyPackage(): Promise<PendingKeyPackage> {
    const { signKey, publicKey } = await this.cs.signature.keygen();
    const signatureKeyPair = { signKey, publicKey: ecdsaUncompressed(this.suite, publicKey) };
    const kp = await generateKeyPackageWithKey(this.credential, defaultCapabilities(), defaultLifetime, [], signatureKeyPair, this.cs);
    const ref = await makeKeyPackageRef(kp.publicPackage, this.cs.hash);
    return { ...kp, ref };
  }

  async keyPackage(): Promise<Uint8Array> {
    const kp = await this.newKeyPackage();
    this.pending.push(kp);
    return encodeMlsMessage({ version: 'mls10', wireformat: 'mls_key_package', keyPackage: kp.publicPackage });
  }

  async createGroup(groupId: Uint8Array): Promise<void> {
    const kp = await this.newKeyPackage();
    this.state = await createGroup(groupId, kp.publicPackage, kp.privatePackage, [], this.cs);
  }

  async commit(options: CommitOptions = {}): Promise<CommitOutput> {
    const proposals: Proposal[] = [];
    for (const bytes of options.adds ?? []) {
      const m = decodeMessage(bytes);
      if (m.wireformat !== 'mls_key_package') throw new Error('expected an MLSMessage(KeyPackage)');
      proposals.push({ proposalType: 'add', add: { keyPackage: m.keyPackage } });
    }
    for (const removed of options.removes ?? []) proposals.push({ proposalType: 'remove', remove: { removed } });
    const result = await createCommit(
      { state: this.current(), cipherSuite: this.cs },
      {
        extraProposals: proposals,
        ratchetTreeExtension: options.ratchetTreeInWelcome ?? true,
        wireAsPublicMessage: options.publicMessage ?? false,
      },
    );
    this.state = result.newState;
    const welcome =
      result.welcome === undefined
        ? undefined
        : encodeMlsMessage({ version: 'mls10', wireformat: 'mls_welcome', welcome: result.welcome });
    return { commit: encodeMlsMessage(result.commit), ...(welcome === undefined ? {} : { welcome }) };
  }

  async proposeRemove(leaf: number): Promise<Uint8Array> {
    const r = await createProposal(this.current(), false, { proposalType: 'remove', remove: { removed: leaf } }, this.cs);
    this.state = r.newState;
    return encodeMlsMessage(r.message);
  }

  async joinFromWelcome(welcomeBytes: Uint8Array, ratchetTree?: Uint8Array): Promise<void> {
    const m = decodeMessage(welcomeBytes);
    if (m.wireformat !== 'mls_welcome') throw new Error('expected an MLSMessage(Welcome)');
    const kp = this.pending.find((p) => m.welcome.secrets.some((s) => sameBytes(s.newMember, p.ref)));
    if (kp === undefined) throw new Error(`${this.name}: the Welcome is for none of our KeyPackages`);
    let tree;
    if (ratchetTree !== undefined) {
      const decoded = decodeRatchetTree(ratchetTree, 0);
      if (decoded === undefined) throw new Error('ts-mls could not decode the ratchet tree');
      tree = decoded[0];
    }
    this.state = await joinGroup(m.welcome, kp.publicPackage, kp.privatePackage, emptyPskIndex, this.cs, tree);
  }

  async groupInfo(): Promise<Uint8Array> {
    const state = this.current();
    const raw = await createGroupInfoWithExternalPubAndRatchetTree(state, [], this.cs);
    // external_pub as the RFC's opaque<V> (see the header), then sign again.
    const extensions = raw.extensions.map((e) =>
      e.extensionType === 'external_pub' ? { ...e, extensionData: concat(varintPrefix(e.extensionData.length), e.extensionData) } : e,
    );
    const tbs = { groupContext: raw.groupContext, extensions, confirmationTag: raw.confirmationTag, signer: raw.signer };
    const gi = await signGroupInfo(tbs, state.signaturePrivateKey, this.cs.signature);
    return encodeMlsMessage({ version: 'mls10', wireformat: 'mls_group_info', groupInfo: gi });
  }

  async joinExternal(groupInfoBytes: Uint8Array): Promise<Uint8Array> {
    const m = decodeMessage(groupInfoBytes);
    if (m.wireformat !== 'mls_group_info') throw new Error('expected an MLSMessage(GroupInfo)');
    const kp = await this.newKeyPackage();
    // ts-mls imports external_pub's extension_data as a bare key (see the header).
    const extData = m.groupInfo.extensions.find((e) => e.extensionType === 'external_pub')?.extensionData;
    const cs: CiphersuiteImpl = {
      ...this.cs,
      hpke: {
        ...this.cs.hpke,
        importPublicKey: (k) => {
          const body = extData !== undefined && sameBytes(k, extData) ? unprefixOpaque(k) : undefined;
          return this.cs.hpke.importPublicKey(body ?? k);
        },
      },
    };
    const { publicMessage, newState } = await joinGroupExternal(m.groupInfo, kp.publicPackage, kp.privatePackage, false, cs);
    this.state = newState;
    return encodeMlsMessage({ version: 'mls10', wireformat: 'mls_public_message', publicMessage });
  }

  async process(bytes: Uint8Array): Promise<ProcessResult> {
    const m = decodeMessage(bytes);
    if (m.wireformat !== 'mls_private_message' && m.wireformat !== 'mls_public_message') {
      throw new Error(`cannot process a ${m.wireformat}`);
    }
    const before = this.current().groupContext.epoch;
    const result = await processMessage(m, this.current(), emptyPskIndex, acceptAll, this.cs);
    this.state = result.newState;
    if (result.kind === 'applicationMessage') return { kind: 'application', data: result.message };
    // ts-mls reports proposals and commits alike; a commit is what moves the epoch (or removes us).
    const epoch = result.newState.groupContext.epoch;
    if (epoch === before && result.newState.groupActiveState.kind === 'active') return { kind: 'proposal' };
    return { kind: 'commit', epoch };
  }

  async encrypt(data: Uint8Array, authenticatedData?: Uint8Array): Promise<Uint8Array> {
    const r = await createApplicationMessage(this.current(), data, this.cs, authenticatedData);
    this.state = r.newState;
    return encodeMlsMessage({ version: 'mls10', wireformat: 'mls_private_message', privateMessage: r.privateMessage });
  }

  ratchetTree(): Uint8Array {
    return encodeRatchetTree(this.current().ratchetTree);
  }

  epoch(): bigint {
    return this.current().groupContext.epoch;
  }

  epochAuthenticator(): Uint8Array {
    return this.current().keySchedule.epochAuthenticator;
  }

  exporter(label: string, context: Uint8Array, length: number): Promise<Uint8Array> {
    return mlsExporter(this.current().keySchedule.exporterSecret, label, context, length, this.cs);
  }

  members(): (string | undefined)[] {
    const tree = this.current().ratchetTree;
    const out: (string | undefined)[] = [];
    for (let i = 0; i < tree.length; i += 2) {
      const n = tree[i];
      out.push(n?.nodeType === 'leaf' && n.leaf.credential.credentialType === 'basic' ? fromUtf8(n.leaf.credential.identity) : undefined);
    }
    while (out.length > 0 && out[out.length - 1] === undefined) out.pop();
    return out;
  }

  ownLeafIndex(): number {
    return this.current().privatePath.leafIndex;
  }

  active(): boolean {
    return this.state !== undefined && this.state.groupActiveState.kind === 'active';
  }

  fork(): InteropMember {
    return new PeerMember(this.name, this.suite, this.cs, this.state, this.pending);
  }
}

/** A ts-mls member named `name` (its basic credential identity) for cipher suite `suite`. */
export async function peerMember(name: string, suite: number): Promise<InteropMember> {
  const cs = await peerSuite(suite);
  return new PeerMember(name, suite, cs);
}

export type { CiphersuiteName };
