/**
 * LeafNode validation (RFC 9420 §7.3): the checks every member runs on a leaf
 * it receives in a KeyPackage, an Update, a Commit's UpdatePath or a ratchet
 * tree it joins with. Rule IDs V-LN-* are written at each check and in the
 * tests that exercise them.
 *
 * Credential validation proper (§5.3.1: is this identity acceptable?) is the
 * application's and arrives as an optional callback. One part of it is always
 * on: a member's replacement leaf keeps its credential identity (V-LN-12).
 */
import type { CipherSuite } from '../../crypto/provider.ts';
import { decode } from '../codec/codec.ts';
import { bytesEqual } from '../../bytes.ts';
import { CredentialType, type Credential } from './credential.ts';
import { verifyWithLabel } from '../keys/crypto-ops.ts';
import { ValidationError } from '../errors.ts';
import type { RuleId } from '../rules.ts';
import { ExtensionType, findExtension, requiredCapabilitiesCodec, type Extension, type RequiredCapabilities } from '../group/extensions.ts';
import { LeafNodeSource, encodeLeafNodeTbs, type LeafNode, type LeafNodeIn } from './leaf-node.ts';
import { ProposalType } from '../group/proposals.ts';
import type { TreeView } from './tree-view.ts';
import type { LeafIndex } from './tree-math.ts';

/** §7.2: extension types every client implements; they need not be listed in capabilities. */
export const DEFAULT_EXTENSION_TYPES: ReadonlySet<number> = new Set([
  ExtensionType.applicationId,
  ExtensionType.ratchetTree,
  ExtensionType.requiredCapabilities,
  ExtensionType.externalPub,
  ExtensionType.externalSenders,
]);

/** §7.2: proposal types every client implements. */
export const DEFAULT_PROPOSAL_TYPES: ReadonlySet<number> = new Set(Object.values(ProposalType));

/** The application's verdict on a credential (§5.3.1); return false to reject. */
export type CredentialValidator = (leaf: LeafNodeIn) => boolean;

export interface LeafValidationOptions {
  /** Seconds since the Unix epoch; when given, a key_package leaf's lifetime must cover it (V-LN-5). */
  readonly now?: bigint;
  /** Longest acceptable `not_after - not_before`, in seconds (§7.2, application policy). */
  readonly maxLifetime?: bigint;
  readonly validateCredential?: CredentialValidator;
}

/** The group-side facts a leaf is checked against. */
export interface LeafValidationContext extends LeafValidationOptions {
  /** The source the leaf must have where it appeared (V-LN-6). */
  readonly expectedSource: LeafNodeSource;
  /** GroupContext extensions in force (their required_capabilities, V-LN-3). */
  readonly groupExtensions: readonly Extension[];
  /** `requiredCapabilitiesOf(groupExtensions)`, when the caller already decoded it (many leaves, one group). */
  readonly requiredCapabilities?: RequiredCapabilities | undefined;
}

/** §13.4: a list of extensions MUST NOT hold two of the same type. */
export function checkDistinctExtensionTypes(extensions: readonly Extension[], rule: RuleId, where: string): void {
  const seen = new Set<number>();
  for (const e of extensions) {
    if (seen.has(e.extensionType)) throw new ValidationError(rule, `${where} has two extensions of type ${e.extensionType}`);
    seen.add(e.extensionType);
  }
}

/** §13.4: `capabilities` lists every non-default extension type among `extensions`. */
export function supportsExtensions(capabilities: { readonly extensions: readonly number[] }, extensions: readonly Extension[]): number | undefined {
  for (const e of extensions) {
    if (!DEFAULT_EXTENSION_TYPES.has(e.extensionType) && !capabilities.extensions.includes(e.extensionType)) return e.extensionType;
  }
  return undefined;
}

/** The required_capabilities extension of a GroupContext, if any. */
export function requiredCapabilitiesOf(extensions: readonly Extension[]): RequiredCapabilities | undefined {
  const ext = findExtension(extensions, ExtensionType.requiredCapabilities);
  return ext === undefined ? undefined : decode(requiredCapabilitiesCodec, ext.extensionData);
}

/**
 * V-LN-3 (§7.3, §11.1): the leaf supports every extension, proposal and
 * credential type the group requires. Default types are implicitly supported.
 */
export function checkRequiredCapabilities(leaf: LeafNodeIn, required: RequiredCapabilities | undefined, rule: RuleId = 'V-LN-3'): void {
  if (required === undefined) return;
  const caps = leaf.capabilities;
  for (const t of required.extensionTypes) {
    if (!DEFAULT_EXTENSION_TYPES.has(t) && !caps.extensions.includes(t)) {
      throw new ValidationError(rule, `leaf does not support required extension type ${t}`);
    }
  }
  for (const t of required.proposalTypes) {
    if (!DEFAULT_PROPOSAL_TYPES.has(t) && !caps.proposals.includes(t)) {
      throw new ValidationError(rule, `leaf does not support required proposal type ${t}`);
    }
  }
  for (const t of required.credentialTypes) {
    if (!caps.credentials.includes(t)) throw new ValidationError(rule, `leaf does not support required credential type ${t}`);
  }
}

/**
 * The checks on a leaf that need neither the tree nor a signature:
 * source, capabilities, lifetime, extensions (V-LN-2..7).
 */
export function checkLeafNodeContent(leaf: LeafNodeIn, ctx: LeafValidationContext): void {
  // V-LN-6 (§7.3): leaf_node_source matches where the leaf appeared.
  if (leaf.leafNodeSource !== ctx.expectedSource) {
    throw new ValidationError('V-LN-6', `leaf_node_source ${leaf.leafNodeSource}, expected ${ctx.expectedSource}`);
  }
  // V-LN-2 (§5.3.1): the application accepts the credential.
  if (ctx.validateCredential !== undefined && !ctx.validateCredential(leaf)) {
    throw new ValidationError('V-LN-2', 'credential rejected by the application');
  }
  checkRequiredCapabilities(leaf, 'requiredCapabilities' in ctx ? ctx.requiredCapabilities : requiredCapabilitiesOf(ctx.groupExtensions));
  // V-LN-4 (§7.2): the leaf's own credential type is among its capabilities.
  if (!leaf.capabilities.credentials.includes(leaf.credential.credentialType)) {
    throw new ValidationError('V-LN-4', `credential type ${leaf.credential.credentialType} missing from capabilities`);
  }
  if (leaf.leafNodeSource === LeafNodeSource.keyPackage) {
    const { notBefore, notAfter } = leaf.lifetime;
    // V-LN-5 (§7.3): the lifetime covers now, and is not longer than policy allows.
    if (ctx.now !== undefined && (ctx.now < notBefore || ctx.now > notAfter)) {
      throw new ValidationError('V-LN-5', `leaf lifetime [${notBefore}, ${notAfter}] does not cover ${ctx.now}`);
    }
    if (ctx.maxLifetime !== undefined && notAfter - notBefore > ctx.maxLifetime) {
      throw new ValidationError('V-LN-5', 'leaf lifetime longer than the allowed maximum');
    }
  }
  // V-LN-7 (§7.2, §7.3): every non-default extension is listed in capabilities.extensions.
  const unlisted = supportsExtensions(leaf.capabilities, leaf.extensions);
  if (unlisted !== undefined) throw new ValidationError('V-LN-7', `leaf extension ${unlisted} not listed in its capabilities`);
  // V-LN-11 (§13.4): no extension type twice.
  checkDistinctExtensionTypes(leaf.extensions, 'V-LN-11', 'LeafNode');
}

/**
 * The bytes that name a member: a basic credential's identity; for X.509
 * (which we do not parse) the end-entity certificate. Opaque either way: the
 * application decides what they hold (a pseudonym, an account id...).
 */
export function credentialIdentity(credential: Credential): Uint8Array {
  return credential.credentialType === CredentialType.basic ? credential.identity : (credential.certificates[0] ?? new Uint8Array(0));
}

/** Whether two credentials name the same member (same type, same identity bytes). */
export function sameIdentity(a: Credential, b: Credential): boolean {
  return a.credentialType === b.credentialType && bytesEqual(credentialIdentity(a), credentialIdentity(b));
}

/**
 * V-LN-12 (§5.3.1): a member's replacement leaf (Update proposal or a
 * Commit's UpdatePath) keeps its credential identity. §5.3.1 asks the AS to
 * check that a new credential is "valid as a successor" to the old one; we
 * never accept a change, so a member cannot take another member's name while
 * keeping its seat (and its signature key, by which members are told apart).
 */
export function checkIdentityContinuity(current: LeafNodeIn, next: LeafNodeIn, leafIndex: LeafIndex): void {
  if (!sameIdentity(current.credential, next.credential)) {
    throw new ValidationError('V-LN-12', `leaf ${leafIndex}: a member's credential identity cannot change`);
  }
}

/**
 * An HPKE public key someone else chose has the KEM's length (RFC 9180 §7.1,
 * Npk). Every later UpdatePath encrypts to the keys in the tree, so one key
 * no one can encrypt to would stop every member from committing.
 */
export function checkPublicKeySize(suite: CipherSuite, key: Uint8Array, rule: RuleId, what: string): void {
  if (key.length !== suite.hpke.publicKeySize) {
    throw new ValidationError(rule, `${what} has ${key.length} bytes, the suite's KEM public keys ${suite.hpke.publicKeySize}`);
  }
}

/** `checkPublicKeySize`, and the key is one the KEM can encrypt to (on the curve, not of small order): one DH. */
export async function checkUsablePublicKey(suite: CipherSuite, key: Uint8Array, rule: RuleId, what: string): Promise<void> {
  checkPublicKeySize(suite, key, rule, what);
  if (!(await suite.hpke.acceptsPublicKey(key))) throw new ValidationError(rule, `${what} is not a key anyone can encrypt to`);
}

/** V-LN-1 (§7.3): the leaf's signature verifies under its own signature_key. */
export async function verifyLeafNodeSignature(
  suite: CipherSuite,
  leaf: LeafNodeIn,
  groupId: Uint8Array,
  leafIndex: LeafIndex,
): Promise<void> {
  const tbs = encodeLeafNodeTbs(leaf, { groupId, leafIndex });
  if (!(await verifyWithLabel(suite, leaf.signatureKey, 'LeafNodeTBS', tbs, leaf.signature))) {
    throw new ValidationError('V-LN-1', `leaf ${leafIndex}: LeafNode signature does not verify`);
  }
}

/**
 * The §7.3 checks that compare leaves with the rest of the tree, run on a
 * tree that already contains them (so leaves added by the same Commit are
 * checked against each other too):
 *  - V-LN-8: signature_key and encryption_key unique among members;
 *  - V-LN-9: each changed leaf's credential type is supported by every
 *    member, and each changed leaf supports every credential type in use.
 * Cost: O(N) per changed leaf, with a 32-bit prefix filter before comparing bytes.
 */
export function checkLeavesAgainstTree(tree: TreeView<LeafNodeIn>, changed: readonly LeafIndex[]): void {
  if (changed.length === 0) return;
  const changedSet = new Set<number>(changed);
  const prefix = (b: Uint8Array): number => (b.length >= 4 ? ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) : -1 - b.length);
  const sigPrefixes = new Map<number, LeafIndex[]>();
  const encPrefixes = new Map<number, LeafIndex[]>();
  const changedCredTypes = new Set<number>();
  for (const i of changed) {
    const leaf = tree.leaf(i);
    if (leaf === undefined) continue;
    push(sigPrefixes, prefix(leaf.signatureKey), i);
    push(encPrefixes, prefix(leaf.encryptionKey), i);
    changedCredTypes.add(leaf.credential.credentialType);
  }
  const inUse = new Set<number>();
  for (let j = 0; j < tree.leafCount; j++) {
    const other = tree.leaf(j as LeafIndex);
    if (other === undefined) continue;
    inUse.add(other.credential.credentialType);
    for (const i of sigPrefixes.get(prefix(other.signatureKey)) ?? []) {
      if (i !== j && bytesEqual(tree.leaf(i)!.signatureKey, other.signatureKey)) {
        throw new ValidationError('V-LN-8', `leaf ${i} reuses the signature key of leaf ${j}`);
      }
    }
    for (const i of encPrefixes.get(prefix(other.encryptionKey)) ?? []) {
      if (i !== j && bytesEqual(tree.leaf(i)!.encryptionKey, other.encryptionKey)) {
        throw new ValidationError('V-LN-8', `leaf ${i} reuses the encryption key of leaf ${j}`);
      }
    }
    if (!changedSet.has(j)) {
      for (const t of changedCredTypes) {
        if (!other.capabilities.credentials.includes(t)) {
          throw new ValidationError('V-LN-9', `member ${j} does not support credential type ${t}`);
        }
      }
    }
  }
  for (const i of changed) {
    const leaf = tree.leaf(i);
    if (leaf === undefined) continue;
    for (const t of inUse) {
      if (!leaf.capabilities.credentials.includes(t)) {
        throw new ValidationError('V-LN-9', `leaf ${i} does not support credential type ${t} used in the group`);
      }
    }
  }
}

/**
 * Whether `next` changes nothing V-LN-8/V-LN-9 look at besides the encryption
 * key (same signature key, credential type and supported credentials): a
 * committer's re-signed path leaf usually does, and its new encryption key is
 * already checked against the whole tree by V-UP-6, so it can skip the O(N) scan.
 */
export function sameMembershipFacts(prev: LeafNodeIn | undefined, next: LeafNodeIn | undefined): boolean {
  if (prev === undefined || next === undefined) return false;
  const a = prev.capabilities.credentials;
  const b = next.capabilities.credentials;
  return (
    bytesEqual(prev.signatureKey, next.signatureKey) &&
    prev.credential.credentialType === next.credential.credentialType &&
    a.length === b.length &&
    a.every((t, i) => b[i] === t)
  );
}

function push(m: Map<number, LeafIndex[]>, k: number, v: LeafIndex): void {
  const list = m.get(k);
  if (list === undefined) m.set(k, [v]);
  else list.push(v);
}

/**
 * @internal The one `LeafNodeIn -> LeafNode` step, for a leaf that passed
 * §7.3 (V-LN-*) where it is received: an Update applied (`applyProposalList`,
 * after its checks are awaited, or with its signature verified when its
 * proposal was received and cached, §12.4), an UpdatePath's leaf
 * (`processCommit`, once its signature verified). A received tree's leaves
 * become trusted with the tree (`validateTree`). Nothing else calls it.
 */
export function validatedLeafNode(leaf: LeafNodeIn): LeafNode {
  return leaf as LeafNode;
}
