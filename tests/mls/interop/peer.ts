/**
 * ts-mls 1.6.4 (an independent RFC 9420 implementation, devDependency) behind
 * the `InteropMember` interface. Used only by the interop tests and the
 * benchmark; never imported from lib/.
 */
import {
  acceptAll,
  createApplicationMessage,
  createCommit,
  createGroup,
  createGroupInfoWithExternalPubAndRatchetTree,
  decodeMlsMessage,
  defaultCapabilities,
  defaultLifetime,
  emptyPskIndex,
  encodeMlsMessage,
  generateKeyPackage,
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
import { getCiphersuiteFromId, type CiphersuiteId } from 'ts-mls/crypto/ciphersuite.js';
import { makeKeyPackageRef } from 'ts-mls/keyPackage.js';
import { decodeRatchetTree, encodeRatchetTree } from 'ts-mls/ratchetTree.js';
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
    const kp = await generateKeyPackage(this.credential, defaultCapabilities(), defaultLifetime, [], this.cs);
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
      { extraProposals: proposals, ratchetTreeExtension: options.ratchetTreeInWelcome ?? true },
    );
    this.state = result.newState;
    const welcome =
      result.welcome === undefined
        ? undefined
        : encodeMlsMessage({ version: 'mls10', wireformat: 'mls_welcome', welcome: result.welcome });
    return { commit: encodeMlsMessage(result.commit), ...(welcome === undefined ? {} : { welcome }) };
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
    const gi = await createGroupInfoWithExternalPubAndRatchetTree(this.current(), [], this.cs);
    return encodeMlsMessage({ version: 'mls10', wireformat: 'mls_group_info', groupInfo: gi });
  }

  async joinExternal(groupInfoBytes: Uint8Array): Promise<Uint8Array> {
    const m = decodeMessage(groupInfoBytes);
    if (m.wireformat !== 'mls_group_info') throw new Error('expected an MLSMessage(GroupInfo)');
    const kp = await this.newKeyPackage();
    const { publicMessage, newState } = await joinGroupExternal(m.groupInfo, kp.publicPackage, kp.privatePackage, false, this.cs);
    this.state = newState;
    return encodeMlsMessage({ version: 'mls10', wireformat: 'mls_public_message', publicMessage });
  }

  async process(bytes: Uint8Array): Promise<ProcessResult> {
    const m = decodeMessage(bytes);
    if (m.wireformat !== 'mls_private_message' && m.wireformat !== 'mls_public_message') {
      throw new Error(`cannot process a ${m.wireformat}`);
    }
    const result = await processMessage(m, this.current(), emptyPskIndex, acceptAll, this.cs);
    this.state = result.newState;
    if (result.kind === 'applicationMessage') return { kind: 'application', data: result.message };
    return { kind: 'commit', epoch: result.newState.groupContext.epoch };
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
