/**
 * Making and checking KeyPackages (RFC 9420 §10, §10.1): a client generates
 * an init key pair, a leaf encryption key pair and a signed leaf, and signs
 * the whole package; a member that receives one (to add its owner) validates
 * it against the group before use.
 *
 * The private half (`KeyPackagePrivate`) stays with the client: it is what
 * joining from a Welcome needs.
 */
import type { CipherSuite } from '../../crypto/provider.ts';
import { encode } from '../codec/codec.ts';
import { bytesEqual } from '../../bytes.ts';
import { makeKeyPackageRef, signWithLabel, verifyWithLabel } from '../keys/crypto-ops.ts';
import type { Credential } from '../tree/credential.ts';
import { CredentialType } from '../tree/credential.ts';
import { ValidationError } from '../errors.ts';
import type { Extension } from '../group/extensions.ts';
import { keyPackageCodec, keyPackageTbsCodec, type KeyPackage, type KeyPackageIn } from './key-package.ts';
import { LeafNodeSource, encodeLeafNodeTbs, type Capabilities, type LeafNode, type LeafNodeContent } from '../tree/leaf-node.ts';
import { checkDistinctExtensionTypes, checkLeafNodeContent, checkPublicKeySize, supportsExtensions, type LeafValidationOptions } from '../tree/leaf-node-validation.ts';
import { ProtocolVersion } from '../framing/protocol-version.ts';

/** The secrets behind a KeyPackage; never leaves the client. */
export interface KeyPackagePrivate {
  readonly initPrivateKey: Uint8Array;
  readonly encryptionPrivateKey: Uint8Array;
  readonly signaturePrivateKey: Uint8Array;
}

export interface GeneratedKeyPackage {
  readonly keyPackage: KeyPackage;
  readonly privateKeys: KeyPackagePrivate;
  /** MakeKeyPackageRef of the encoded package (§5.2). */
  readonly ref: Uint8Array;
}

/** A signature key pair plus the credential it speaks for: a client's identity in groups. */
export interface SigningIdentity {
  readonly credential: Credential;
  readonly signaturePublicKey: Uint8Array;
  readonly signaturePrivateKey: Uint8Array;
}

/** Capabilities of this implementation for `suite`: mls10, the suite, basic credentials. */
export function defaultCapabilities(suite: CipherSuite, extra: Partial<Capabilities> = {}): Capabilities {
  return {
    versions: extra.versions ?? [ProtocolVersion.mls10],
    cipherSuites: extra.cipherSuites ?? [suite.id],
    extensions: extra.extensions ?? [],
    proposals: extra.proposals ?? [],
    credentials: extra.credentials ?? [CredentialType.basic],
  };
}

/** A basic-credential identity with a fresh signature key pair. */
export async function generateIdentity(suite: CipherSuite, identity: Uint8Array): Promise<SigningIdentity> {
  const kp = await suite.signature.generateKeyPair();
  return {
    credential: { credentialType: CredentialType.basic, identity },
    signaturePublicKey: kp.publicKey,
    signaturePrivateKey: kp.privateKey,
  };
}

export interface GenerateKeyPackageOptions {
  readonly capabilities?: Capabilities;
  /** Seconds since the Unix epoch; default: now - 1h .. now + 90 days. */
  readonly lifetime?: { readonly notBefore: bigint; readonly notAfter: bigint };
  readonly leafExtensions?: readonly Extension[];
  readonly extensions?: readonly Extension[];
}

const nowSeconds = (): bigint => BigInt(Math.floor(Date.now() / 1000));

/** §10: generate a fresh KeyPackage (new init and leaf key pairs) for `identity`. */
export async function generateKeyPackage(
  suite: CipherSuite,
  identity: SigningIdentity,
  options: GenerateKeyPackageOptions = {},
): Promise<GeneratedKeyPackage> {
  const [initKp, leafKp] = await Promise.all([suite.hpke.generateKeyPair(), suite.hpke.generateKeyPair()]);
  const now = nowSeconds();
  const content: LeafNodeContent = {
    encryptionKey: leafKp.publicKey,
    signatureKey: identity.signaturePublicKey,
    credential: identity.credential,
    capabilities: options.capabilities ?? defaultCapabilities(suite),
    leafNodeSource: LeafNodeSource.keyPackage,
    lifetime: options.lifetime ?? { notBefore: now - 3600n, notAfter: now + 90n * 86400n },
    extensions: options.leafExtensions ?? [],
  };
  const leafSig = await signWithLabel(suite, identity.signaturePrivateKey, 'LeafNodeTBS', encodeLeafNodeTbs(content));
  // Ours, signed just now: trusted without a check.
  const leafNode = { ...content, signature: leafSig } as LeafNode;
  const tbs = {
    version: ProtocolVersion.mls10,
    cipherSuite: suite.id,
    initKey: initKp.publicKey,
    leafNode,
    extensions: options.extensions ?? [],
  };
  const signature = await signWithLabel(suite, identity.signaturePrivateKey, 'KeyPackageTBS', encode(keyPackageTbsCodec, tbs));
  // Ours, made just now: trusted without a check.
  const keyPackage = { ...tbs, signature } as KeyPackage;
  return {
    keyPackage,
    privateKeys: {
      initPrivateKey: initKp.privateKey,
      encryptionPrivateKey: leafKp.privateKey,
      signaturePrivateKey: identity.signaturePrivateKey,
    },
    ref: makeKeyPackageRef(suite, encode(keyPackageCodec, keyPackage)),
  };
}

export interface KeyPackageValidationContext extends LeafValidationOptions {
  readonly suite: CipherSuite;
  /** The group's protocol version and GroupContext extensions. */
  readonly version: number;
  readonly groupExtensions: readonly Extension[];
}

/**
 * §10.1 KeyPackage validation (signatures checked concurrently):
 *  - V-KP-1: cipher suite and version match the group;
 *  - V-KP-2: the leaf is a valid key_package leaf (§7.3, rules V-LN-*);
 *  - V-KP-3: the KeyPackage signature verifies under the leaf's signature key;
 *  - V-KP-4: leaf encryption_key differs from init_key;
 *  - V-KP-5: the leaf supports every GroupContext extension (§13.4);
 *  - V-KP-6: KeyPackage extensions listed in capabilities, none twice;
 *  - V-KP-7: init_key and leaf encryption_key are keys the KEM can encrypt to
 *    (length here; on the curve and not of small order with the signatures).
 * Uniqueness against the group's tree is checked once the leaf is placed
 * (V-LN-8/9 in `checkLeavesAgainstTree`).
 */
export async function validateKeyPackage(kp: KeyPackageIn, ctx: KeyPackageValidationContext): Promise<void> {
  checkKeyPackageContent(kp, ctx);
  const [leafOk, kpOk, initOk, leafKeyOk] = await Promise.all([
    verifyWithLabel(ctx.suite, kp.leafNode.signatureKey, 'LeafNodeTBS', encodeLeafNodeTbs(kp.leafNode), kp.leafNode.signature),
    verifyWithLabel(ctx.suite, kp.leafNode.signatureKey, 'KeyPackageTBS', encode(keyPackageTbsCodec, kp), kp.signature),
    ctx.suite.hpke.acceptsPublicKey(kp.initKey),
    ctx.suite.hpke.acceptsPublicKey(kp.leafNode.encryptionKey),
  ]);
  if (!leafOk) throw new ValidationError('V-KP-2', '[V-LN-1] KeyPackage leaf signature does not verify');
  if (!kpOk) throw new ValidationError('V-KP-3', 'KeyPackage signature does not verify');
  // V-KP-7: both are keys the KEM can encrypt to (on the curve, not of small order).
  if (!initOk || !leafKeyOk) throw new ValidationError('V-KP-7', `KeyPackage ${initOk ? 'leaf encryption_key' : 'init_key'} is not a key anyone can encrypt to`);
}

/** The §10.1 checks of `validateKeyPackage` short of its two signatures (V-KP-1, 2, 4, 5, 6). */
export function checkKeyPackageContent(kp: KeyPackageIn, ctx: KeyPackageValidationContext): void {
  if (kp.cipherSuite !== ctx.suite.id || kp.version !== ctx.version) {
    throw new ValidationError('V-KP-1', `KeyPackage suite ${kp.cipherSuite}/version ${kp.version} does not match the group`);
  }
  // V-KP-2: §10.1 also asks that the leaf advertise the group's suite and version.
  if (!kp.leafNode.capabilities.cipherSuites.includes(ctx.suite.id) || !kp.leafNode.capabilities.versions.includes(kp.version)) {
    throw new ValidationError('V-KP-2', 'KeyPackage leaf does not list the group cipher suite / version in its capabilities');
  }
  try {
    checkLeafNodeContent(kp.leafNode, { ...ctx, expectedSource: LeafNodeSource.keyPackage });
  } catch (err) {
    if (err instanceof ValidationError) throw new ValidationError('V-KP-2', `invalid KeyPackage leaf: ${err.message}`, { cause: err });
    throw err;
  }
  // V-KP-5 (§13.4): the new member supports every extension of the GroupContext.
  const unsupported = supportsExtensions(kp.leafNode.capabilities, ctx.groupExtensions);
  if (unsupported !== undefined) throw new ValidationError('V-KP-5', `KeyPackage does not support group extension ${unsupported}`);
  // V-KP-6 (§10, §13.4): KeyPackage extensions are listed in capabilities and not repeated.
  checkDistinctExtensionTypes(kp.extensions, 'V-KP-6', 'KeyPackage');
  const unlisted = supportsExtensions(kp.leafNode.capabilities, kp.extensions);
  if (unlisted !== undefined) throw new ValidationError('V-KP-6', `KeyPackage extension ${unlisted} not listed in capabilities`);
  if (bytesEqual(kp.leafNode.encryptionKey, kp.initKey)) {
    throw new ValidationError('V-KP-4', 'KeyPackage init_key equals the leaf encryption_key');
  }
  // V-KP-7: init_key and the leaf's encryption_key are public keys of the suite's KEM.
  checkPublicKeySize(ctx.suite, kp.initKey, 'V-KP-7', 'KeyPackage init_key');
  checkPublicKeySize(ctx.suite, kp.leafNode.encryptionKey, 'V-KP-7', 'KeyPackage leaf encryption_key');
}

/**
 * @internal The one `KeyPackageIn -> KeyPackage` step, for a KeyPackage that
 * passed §10.1: `validateKeyPackage` (awaited by the caller together with the
 * other signature checks of a Commit, `applyProposalList`), or
 * `checkKeyPackageContent` when its signatures were verified as its proposal
 * was received (a cached proposal, §12.4). Nothing else calls it.
 */
export function validatedKeyPackage(kp: KeyPackageIn): KeyPackage {
  return kp as KeyPackage;
}
