/**
 * The small interface both sides of the interop tests and the MLS benchmark
 * speak: one group member, driven only with wire bytes (MLSMessage encodings,
 * RFC 9420 §6), so nothing but the protocol is shared between the two
 * implementations. `ours.ts` wraps our engine behind it, `peer.ts` wraps ts-mls.
 *
 * A member is mutable for convenience (it holds its current group state), but
 * both engines are immutable underneath, so `fork()` is cheap and lets a
 * benchmark repeat an operation from the very same state.
 */

export type ProcessResult =
  | { readonly kind: 'commit'; readonly epoch: bigint }
  | { readonly kind: 'proposal' }
  | {
      readonly kind: 'application';
      readonly data: Uint8Array;
      /** The message's authenticated_data, when the implementation reports it (ts-mls does not). */
      readonly authenticatedData?: Uint8Array;
    };

export interface CommitOptions {
  /** MLSMessage(KeyPackage) encodings to add. */
  readonly adds?: readonly Uint8Array[];
  /** Leaf indices to remove. */
  readonly removes?: readonly number[];
  /** Put the ratchet_tree extension in the Welcome's GroupInfo (default true). */
  readonly ratchetTreeInWelcome?: boolean;
  /** Send the Commit as a PublicMessage (default: PrivateMessage). */
  readonly publicMessage?: boolean;
  /** Leave the UpdatePath out where §12.4 allows it (only our adapter honours it; default: a path). */
  readonly path?: boolean;
}

export interface CommitOutput {
  /** MLSMessage(PublicMessage | PrivateMessage) carrying the Commit. */
  readonly commit: Uint8Array;
  /** MLSMessage(Welcome), when the commit added members. */
  readonly welcome?: Uint8Array;
}

export interface InteropMember {
  readonly impl: 'ours' | 'ts-mls';
  readonly name: string;
  readonly suite: number;
  /** A fresh MLSMessage(KeyPackage); its private keys are kept for a later join. */
  keyPackage(): Promise<Uint8Array>;
  createGroup(groupId: Uint8Array): Promise<void>;
  /**
   * Commit the given proposals by value, together with every proposal received
   * (or sent) in this epoch, by reference (§12.4).
   */
  commit(options?: CommitOptions): Promise<CommitOutput>;
  /** A standalone Remove proposal (a PrivateMessage); `leaf` is our own to leave the group. */
  proposeRemove(leaf: number): Promise<Uint8Array>;
  /** Join from an MLSMessage(Welcome); `ratchetTree` is the encoded tree when the Welcome has no extension. */
  joinFromWelcome(welcome: Uint8Array, ratchetTree?: Uint8Array): Promise<void>;
  /** MLSMessage(GroupInfo) with the external_pub and ratchet_tree extensions (§12.4.3.2). */
  groupInfo(): Promise<Uint8Array>;
  /** Join by external commit from an MLSMessage(GroupInfo); returns the commit to send. */
  joinExternal(groupInfo: Uint8Array): Promise<Uint8Array>;
  /** Process an MLSMessage (handshake or application). */
  process(message: Uint8Array): Promise<ProcessResult>;
  /** MLSMessage(PrivateMessage) with application data. */
  encrypt(data: Uint8Array, authenticatedData?: Uint8Array): Promise<Uint8Array>;
  /** Encoded ratchet tree (`optional<Node> ratchet_tree<V>`) of the current epoch. */
  ratchetTree(): Uint8Array;
  epoch(): bigint;
  epochAuthenticator(): Uint8Array;
  exporter(label: string, context: Uint8Array, length: number): Promise<Uint8Array>;
  /** Identities by leaf index (undefined for blank leaves). */
  members(): (string | undefined)[];
  ownLeafIndex(): number;
  /** Still a member (false once removed). */
  active(): boolean;
  /** A new member object at the same state (states are immutable, so this is cheap). */
  fork(): InteropMember;
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
export const fromUtf8 = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Leaf index of the member named `name` as `viewer` sees the tree. */
export function leafOf(viewer: InteropMember, name: string): number {
  const i = viewer.members().indexOf(name);
  if (i < 0) throw new Error(`${viewer.name} does not see ${name} in the group`);
  return i;
}
