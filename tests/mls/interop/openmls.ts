/**
 * OpenMLS, through Wire's `@wireapp/core-crypto` 10.3.0 (GPL-3.0,
 * devDependency: tests and benchmarks only, never imported from lib/), behind
 * a small member interface for the OpenMLS interop tests and the benchmark.
 * Like the ts-mls adapter it speaks only MLSMessage bytes; unlike it, it cannot
 * show its ratchet tree, leaf indices or epoch authenticator, and its state
 * cannot be forked: CoreCrypto keeps the group in its keystore.
 *
 * How CoreCrypto is driven (checked on 10.3.0):
 *  - every operation runs inside `transaction()`, against an in-memory
 *    keystore (`Database.inMemory()`);
 *  - a commit is not returned: it is handed to the transport callback
 *    (`sendCommitBundle`) and merged when that callback returns;
 *  - members are added by KeyPackage and removed by ClientId, not leaf index;
 *  - it makes no standalone proposals, but commits the ones it received
 *    (`commitPendingProposals`);
 *  - `KeyPackage` and `GroupInfo` take the bare structures, `Welcome` the
 *    MLSMessage; its commits and GroupInfos come out as MLSMessages, its
 *    KeyPackages bare. The adapter speaks MLSMessage on every edge.
 *  - identities are ClientIds `<uuid>:<hex device id>@<domain>`, and the
 *    basic credential's identity is that string.
 *
 * The module itself is passed in (`CoreCryptoModule`), so the same adapter
 * runs under Node (tests/support/core-crypto-node.ts) and in Chromium.
 */
import type * as CoreCryptoExports from '@wireapp/core-crypto/browser';
import type { ClientId, CommitBundle, ConversationId, CoreCrypto, CoreCryptoContext, CredentialRef } from '@wireapp/core-crypto/browser';
import { fromUtf8, type ProcessResult } from './member.ts';

/** The `@wireapp/core-crypto/browser` module, initialised (`initWasmModule`). */
export type CoreCryptoModule = typeof CoreCryptoExports;
type CC = CoreCryptoModule;

/** MLSMessage header (§6): version mls10 (1), then the wire format. */
const MLS10 = 1;
export const WIRE_FORMAT = { publicMessage: 1, privateMessage: 2, welcome: 3, groupInfo: 4, keyPackage: 5 } as const;

/** `body` as an MLSMessage of `wireFormat`. */
export function wrapMessage(wireFormat: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  out.set([0, MLS10, wireFormat >> 8, wireFormat & 0xff]);
  out.set(body, 4);
  return out;
}

/** The body of an MLSMessage of `wireFormat` (throws on any other). */
export function unwrapMessage(wireFormat: number, message: Uint8Array): Uint8Array {
  const version = ((message[0] ?? 0) << 8) | (message[1] ?? 0);
  const wf = ((message[2] ?? 0) << 8) | (message[3] ?? 0);
  if (message.length < 4 || version !== MLS10 || wf !== wireFormat) {
    throw new Error(`expected an MLSMessage of wire format ${wireFormat}, got version ${version} wire format ${wf}`);
  }
  return message.subarray(4);
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * A fresh Wire-form ClientId string, `<uuid>:<16 hex digits>@<domain>`. The
 * device id's first digit is non-zero, so the string is the same whether or
 * not leading zeros are written (CoreCrypto writes none).
 */
export function wireClientId(domain = 'interop.microchat.test'): string {
  const r = crypto.getRandomValues(new Uint8Array(8));
  r[0] = r[0]! | 0x10;
  return `${crypto.randomUUID()}:${hex(r)}@${domain}`;
}

/** CoreCrypto's ClientId for a `<uuid>:<hex device id>@<domain>` string. */
function parseClientId(cc: CC, identity: string): ClientId {
  const m = /^([0-9a-f-]{36}):([0-9a-f]{1,16})@(.+)$/.exec(identity);
  if (m === null) throw new Error(`not a Wire ClientId: ${identity}`);
  return new cc.ClientId(new cc.Uuid(m[1]!), cc.DeviceId.fromHexString(m[2]!.padStart(16, '0')), m[3]!);
}

/** Exporter label and context CoreCrypto's `exportSecretKey` uses (RFC 9420 §8.5). */
export const CORE_CRYPTO_EXPORTER = { label: 'exporter', context: new Uint8Array(0) } as const;

/** What one commit by an OpenMLS member put on the wire. */
export interface OpenMlsCommit {
  /** MLSMessage(PublicMessage) carrying the Commit. */
  readonly commit: Uint8Array;
  /** MLSMessage(Welcome), when it added members. */
  readonly welcome?: Uint8Array;
  /** MLSMessage(GroupInfo) of the new epoch (with external_pub and the full ratchet tree). */
  readonly groupInfo: Uint8Array;
}

export class OpenMlsMember {
  readonly impl = 'openmls' as const;
  private conversation: ConversationId | undefined;
  private latestGroupInfo: Uint8Array | undefined;
  private isActive = false;

  private constructor(
    private readonly cc: CC,
    private readonly core: CoreCrypto,
    private readonly credential: CredentialRef,
    readonly name: string,
    readonly suite: number,
    /** The ClientId string, also the identity of its basic credential. */
    readonly identity: string,
    private readonly outbox: CommitBundle[],
  ) {}

  static async create(cc: CC, name: string, suite: number): Promise<OpenMlsMember> {
    const identity = wireClientId();
    const clientId = parseClientId(cc, identity);
    const core = cc.CoreCrypto.new(await cc.Database.inMemory());
    // What CoreCrypto sends goes here; returning from the callback tells it the delivery service accepted it.
    const outbox: CommitBundle[] = [];
    const transport = {
      sendCommitBundle: async (bundle: CommitBundle) => {
        outbox.push(bundle);
      },
      prepareForTransport: async (secret: { data: Uint8Array }) => secret.data,
    };
    const credential = await core.transaction(async (ctx) => {
      await ctx.mlsInit(clientId, transport);
      return ctx.addCredential(cc.Credential.basic(cc.cipherSuiteFromU16(suite), clientId));
    });
    if (fromUtf8(clientId.copyBytes()) !== identity) throw new Error(`CoreCrypto writes ClientId ${identity} differently`);
    return new OpenMlsMember(cc, core, credential, name, suite, identity, outbox);
  }

  private current(): ConversationId {
    if (this.conversation === undefined) throw new Error(`${this.name} (openmls) is not in a group`);
    return this.conversation;
  }

  /** Runs `op` (which must make exactly one commit) and returns what it sent. */
  private async committed(op: (ctx: CoreCryptoContext) => Promise<unknown>): Promise<OpenMlsCommit> {
    this.outbox.length = 0;
    await this.core.transaction(op);
    const bundle = this.outbox.pop();
    if (bundle === undefined || this.outbox.length > 0) throw new Error(`${this.name} (openmls): expected one commit bundle`);
    this.latestGroupInfo = bundle.groupInfo.payload;
    return {
      commit: bundle.commit,
      ...(bundle.welcome === undefined ? {} : { welcome: bundle.welcome.serialize() }),
      groupInfo: bundle.groupInfo.payload,
    };
  }

  /** A fresh MLSMessage(KeyPackage); its private keys stay in the keystore for a later join. */
  async keyPackage(): Promise<Uint8Array> {
    const kp = await this.core.transaction((ctx) => ctx.generateKeyPackage(this.credential));
    return wrapMessage(WIRE_FORMAT.keyPackage, kp.serialize());
  }

  async createGroup(groupId: Uint8Array): Promise<void> {
    const id = new this.cc.ConversationId(groupId);
    await this.core.transaction((ctx) => ctx.createConversation(id, this.credential));
    this.conversation = id;
    this.isActive = true;
  }

  /** Adds the members of these MLSMessage(KeyPackage)s in one commit (no path: Add-only, §12.4). */
  add(keyPackages: readonly Uint8Array[]): Promise<OpenMlsCommit> {
    const kps = keyPackages.map((m) => new this.cc.KeyPackage(unwrapMessage(WIRE_FORMAT.keyPackage, m)));
    return this.committed((ctx) => ctx.addClientsToConversation(this.current(), kps));
  }

  /** Removes the members with these identities (ClientId strings) in one commit. */
  remove(identities: readonly string[]): Promise<OpenMlsCommit> {
    const ids = identities.map((s) => this.clientId(s));
    return this.committed((ctx) => ctx.removeClientsFromConversation(this.current(), ids));
  }

  /** An empty commit with a full path: a key update (§12.4). */
  update(): Promise<OpenMlsCommit> {
    return this.committed((ctx) => ctx.updateKeyingMaterial(this.current()));
  }

  /** Commits every proposal received in this epoch, by reference. */
  commitPending(): Promise<OpenMlsCommit> {
    return this.committed((ctx) => ctx.commitPendingProposals(this.current()));
  }

  async joinFromWelcome(welcome: Uint8Array): Promise<void> {
    const w = new this.cc.Welcome(welcome);
    this.conversation = await this.core.transaction((ctx) => ctx.processWelcomeMessage(w));
    this.isActive = true;
  }

  /** MLSMessage(GroupInfo) of the current epoch: CoreCrypto hands one out with each of its own commits only. */
  groupInfo(): Uint8Array {
    if (this.latestGroupInfo === undefined) throw new Error(`${this.name} (openmls) has no GroupInfo of its own (commit first)`);
    return this.latestGroupInfo;
  }

  /** Joins by external commit from an MLSMessage(GroupInfo); returns the commit to send. */
  async joinExternal(groupInfo: Uint8Array): Promise<Uint8Array> {
    const gi = new this.cc.GroupInfo(unwrapMessage(WIRE_FORMAT.groupInfo, groupInfo));
    this.outbox.length = 0;
    this.conversation = await this.core.transaction((ctx) => ctx.joinByExternalCommit(gi, this.credential));
    const bundle = this.outbox.pop();
    if (bundle === undefined) throw new Error(`${this.name} (openmls): the external join sent no commit`);
    this.latestGroupInfo = bundle.groupInfo.payload;
    this.isActive = true;
    return bundle.commit;
  }

  /** Processes an MLSMessage (handshake or application). */
  async process(message: Uint8Array): Promise<ProcessResult> {
    const r = await this.core.transaction((ctx) => ctx.decryptMessage(this.current(), message));
    if (r.tag === 'Text') return { kind: 'application', data: r.inner.plaintext };
    if (r.tag === 'Proposal') return { kind: 'proposal' };
    this.latestGroupInfo = undefined;
    if (!r.inner.isActive) {
      this.isActive = false;
      return { kind: 'commit', epoch: -1n };
    }
    return { kind: 'commit', epoch: await this.epoch() };
  }

  /** MLSMessage(PrivateMessage) with application data. */
  encrypt(data: Uint8Array): Promise<Uint8Array> {
    return this.core.transaction((ctx) => ctx.encryptMessage(this.current(), data));
  }

  epoch(): Promise<bigint> {
    return this.core.conversationEpoch(this.current());
  }

  /** The exporter secret (`CORE_CRYPTO_EXPORTER` label and context) of `length` bytes. */
  async exported(length: number): Promise<Uint8Array> {
    return (await this.core.exportSecretKey(this.current(), length)).copyBytes();
  }

  /** Identities of the members, sorted (CoreCrypto does not say which leaf is whose). */
  async memberIdentities(): Promise<string[]> {
    const ids = await this.core.getClientIds(this.current());
    return ids.map((id) => fromUtf8(id.copyBytes())).sort();
  }

  active(): boolean {
    return this.isActive;
  }

  private clientId(identity: string): ClientId {
    return parseClientId(this.cc, identity);
  }
}

/** An OpenMLS member named `name` for cipher suite `suite`, on the given (initialised) CoreCrypto module. */
export function openMlsMember(cc: CC, name: string, suite: number): Promise<OpenMlsMember> {
  return OpenMlsMember.create(cc, name, suite);
}
