/**
 * Our MLS engine (lib/mls/group.ts façade) behind the `InteropMember`
 * interface, speaking only MLSMessage bytes like the ts-mls peer.
 */
import { getCipherSuite } from '../../../lib/crypto/suites.ts';
import type { CipherSuite } from '../../../lib/crypto/provider.ts';
import { bytesEqual } from '../../../lib/bytes.ts';
import { CredentialType } from '../../../lib/mls/tree/credential.ts';
import type { Capabilities } from '../../../lib/mls/tree/leaf-node.ts';
import { WireFormat } from '../../../lib/mls/framing/framing.ts';
import {
  createCommit,
  createGroup,
  decodeMessage,
  defaultCapabilities,
  encodeMessage,
  epochAuthenticator,
  exportGroupInfo,
  exportSecret,
  generateIdentity,
  generateKeyPackage,
  joinByExternalCommit,
  joinFromWelcome,
  processMessage,
  proposeRemove,
  sendApplicationMessage,
  type GeneratedKeyPackage,
  type GroupState,
  type SigningIdentity,
} from '../../../lib/mls/group.ts';
import { ProposalType, type Proposal } from '../../../lib/mls/group/proposals.ts';
import { ProtocolVersion } from '../../../lib/mls/framing/protocol-version.ts';
import { RatchetTreeIn } from '../../../lib/mls/tree/ratchet-tree.ts';
import type { LeafIndex } from '../../../lib/mls/tree/tree-math.ts';
import {
  fromUtf8,
  utf8,
  type CommitOptions,
  type CommitOutput,
  type InteropMember,
  type ProcessResult,
} from './member.ts';

/**
 * Engine settings a peer needs that MicroChat itself does not use (they are
 * all RFC 9420 options, not departures from it):
 *  - `credentialTypes`: the credential types our leaves list in their
 *    capabilities (§7.2; default basic only). OpenMLS in CoreCrypto wants
 *    basic and x509 in every leaf, though we only ever present basic.
 *  - `publicHandshake`: send proposals and commits as PublicMessage (§6.2,
 *    both wire formats are allowed for handshakes; MicroChat encrypts them).
 *    CoreCrypto accepts handshake messages only as PublicMessage.
 *  - `identity`: the basic credential's identity, when it is not the name
 *    (CoreCrypto needs Wire's `<uuid>:<hex device id>@<domain>` form).
 */
export interface OurMemberOptions {
  readonly credentialTypes?: readonly number[];
  readonly publicHandshake?: boolean;
  readonly identity?: string;
}

class OurMember implements InteropMember {
  readonly impl = 'ours' as const;
  private state: GroupState | undefined;
  private readonly pending: GeneratedKeyPackage[];

  constructor(
    readonly name: string,
    private readonly cs: CipherSuite,
    private readonly identity: SigningIdentity,
    private readonly options: OurMemberOptions = {},
    state?: GroupState,
    pending: readonly GeneratedKeyPackage[] = [],
  ) {
    this.state = state;
    this.pending = [...pending];
  }

  /** Capabilities for our leaves: the defaults, with the credential types asked for. */
  private capabilities(): { capabilities?: Capabilities } {
    const types = this.options.credentialTypes;
    return types === undefined ? {} : { capabilities: defaultCapabilities(this.cs, { credentials: [...types] as CredentialType[] }) };
  }

  private handshakeFormat(publicMessage: boolean | undefined) {
    return publicMessage === true || this.options.publicHandshake === true ? WireFormat.publicMessage : WireFormat.privateMessage;
  }

  get suite(): number {
    return this.cs.id;
  }

  private current(): GroupState {
    if (this.state === undefined) throw new Error(`${this.name} (ours) is not in a group`);
    return this.state;
  }

  async keyPackage(): Promise<Uint8Array> {
    const kp = await generateKeyPackage(this.cs, this.identity, this.capabilities());
    this.pending.push(kp);
    return encodeMessage({ version: ProtocolVersion.mls10, wireFormat: WireFormat.keyPackage, keyPackage: kp.keyPackage });
  }

  async createGroup(groupId: Uint8Array): Promise<void> {
    this.state = await createGroup(this.cs, this.identity, { groupId, ...this.capabilities() });
  }

  async commit(options: CommitOptions = {}): Promise<CommitOutput> {
    const proposals: Proposal[] = [];
    for (const bytes of options.adds ?? []) {
      const m = decodeMessage(bytes);
      if (m.wireFormat !== WireFormat.keyPackage) throw new Error('expected an MLSMessage(KeyPackage)');
      proposals.push({ proposalType: ProposalType.add, add: { keyPackage: m.keyPackage } });
    }
    for (const removed of options.removes ?? []) {
      proposals.push({ proposalType: ProposalType.remove, remove: { removed: removed as LeafIndex } });
    }
    // Ask for a GroupInfo only when a Welcome needs one (it costs an O(N) tree encoding).
    const welcomeOptions = proposals.some((p) => p.proposalType === ProposalType.add)
      ? { groupInfo: { ratchetTree: options.ratchetTreeInWelcome ?? true } }
      : {};
    const r = await createCommit(this.current(), {
      proposals,
      ...welcomeOptions,
      ...(options.path === undefined ? {} : { path: options.path }),
      wireFormat: this.handshakeFormat(options.publicMessage),
    });
    this.state = r.state;
    return { commit: encodeMessage(r.commit), ...(r.welcome === undefined ? {} : { welcome: encodeMessage(r.welcome) }) };
  }

  async proposeRemove(leaf: number): Promise<Uint8Array> {
    const r = await proposeRemove(this.current(), leaf as LeafIndex, { wireFormat: this.handshakeFormat(false) });
    this.state = r.state;
    return encodeMessage(r.message);
  }

  async joinFromWelcome(welcomeBytes: Uint8Array, ratchetTree?: Uint8Array): Promise<void> {
    const m = decodeMessage(welcomeBytes);
    if (m.wireFormat !== WireFormat.welcome) throw new Error('expected an MLSMessage(Welcome)');
    const kp = this.pending.find((p) => m.welcome.secrets.some((s) => bytesEqual(s.newMember, p.ref)));
    if (kp === undefined) throw new Error(`${this.name}: the Welcome is for none of our KeyPackages`);
    this.state = await joinFromWelcome(m, kp.keyPackage, kp.privateKeys, {
      ...(ratchetTree === undefined ? {} : { ratchetTree: RatchetTreeIn.decode(this.cs, ratchetTree) }),
    });
  }

  async groupInfo(): Promise<Uint8Array> {
    return encodeMessage(await exportGroupInfo(this.current()));
  }

  async joinExternal(groupInfoBytes: Uint8Array): Promise<Uint8Array> {
    const r = await joinByExternalCommit(decodeMessage(groupInfoBytes), this.identity, this.capabilities());
    this.state = r.state;
    return encodeMessage(r.commit);
  }

  async process(bytes: Uint8Array): Promise<ProcessResult> {
    const r = await processMessage(this.current(), bytes);
    this.state = r.state;
    if (r.kind === 'application') return { kind: 'application', data: r.data, authenticatedData: r.authenticatedData };
    if (r.kind === 'commit') return { kind: 'commit', epoch: r.state.context.epoch };
    return { kind: 'proposal' };
  }

  async encrypt(data: Uint8Array, authenticatedData?: Uint8Array): Promise<Uint8Array> {
    const r = await sendApplicationMessage(this.current(), data, authenticatedData === undefined ? {} : { authenticatedData });
    this.state = r.state;
    return encodeMessage(r.message);
  }

  ratchetTree(): Uint8Array {
    return this.current().tree.encode();
  }

  epoch(): bigint {
    return this.current().context.epoch;
  }

  epochAuthenticator(): Uint8Array {
    return epochAuthenticator(this.current());
  }

  async exporter(label: string, context: Uint8Array, length: number): Promise<Uint8Array> {
    return exportSecret(this.current(), label, context, length);
  }

  members(): (string | undefined)[] {
    const tree = this.current().tree;
    const out: (string | undefined)[] = [];
    for (let i = 0; i < tree.leafCount; i++) {
      const leaf = tree.leaf(i as LeafIndex);
      out.push(leaf !== undefined && leaf.credential.credentialType === CredentialType.basic ? fromUtf8(leaf.credential.identity) : undefined);
    }
    while (out.length > 0 && out[out.length - 1] === undefined) out.pop();
    return out;
  }

  ownLeafIndex(): number {
    return this.current().ownLeaf;
  }

  active(): boolean {
    return this.state !== undefined && this.state.active;
  }

  fork(): InteropMember {
    return new OurMember(this.name, this.cs, this.identity, this.options, this.state, this.pending);
  }
}

/** One of our members named `name` (its basic credential identity unless `options.identity`) for cipher suite `suite`. */
export async function ourMember(name: string, suite: number, options: OurMemberOptions = {}): Promise<InteropMember> {
  const cs = getCipherSuite(suite);
  return new OurMember(name, cs, await generateIdentity(cs, utf8(options.identity ?? name)), options);
}
