/**
 * The labeled cryptographic operations MLS builds everything on
 * (RFC 9420 §5.1.2, §5.1.3, §5.2, §8): every derivation, signature and HPKE
 * encryption is domain-separated by a label prefixed with "MLS 1.0 ".
 *
 * Labels are passed as the RFC writes them, WITHOUT the "MLS 1.0 " prefix, and
 * the functions add it — except RefHash, whose label the RFC spells in full
 * ("MLS 1.0 KeyPackage Reference").
 */
import type { CipherSuite, HpkeCiphertext } from '../../crypto/provider.ts';
import { Writer } from '../codec/codec.ts';
import { CryptoError, UsageError } from '../errors.ts';

const utf8 = new TextEncoder();
const EMPTY = new Uint8Array(0);

/** "MLS 1.0 " + label, encoded once per label as `opaque label<V>`. */
const labelCache = new Map<string, Uint8Array>();
function mlsLabel(label: string): Uint8Array {
  let b = labelCache.get(label);
  if (b === undefined) {
    b = new Writer(label.length + 16).opaque(utf8.encode(`MLS 1.0 ${label}`)).finish();
    if (labelCache.size < 1024) labelCache.set(label, b);
  }
  return b;
}

/**
 * §5.1.3 ExpandWithLabel(Secret, Label, Context, Length) =
 *   KDF.Expand(Secret, KDFLabel, Length)
 *   struct { uint16 length; opaque label<V>; opaque context<V>; } KDFLabel;
 */
export function expandWithLabel(
  cs: CipherSuite,
  secret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > 0xffff) {
    throw new UsageError(`ExpandWithLabel: length ${length} is not a uint16`);
  }
  const l = mlsLabel(label);
  const w = new Writer(2 + l.length + 4 + context.length);
  w.u16(length).bytes(l).opaque(context);
  return cs.kdf.expand(secret, w.finish(), length);
}

/** §5.1.3 DeriveSecret(Secret, Label) = ExpandWithLabel(Secret, Label, "", KDF.Nh). */
export function deriveSecret(cs: CipherSuite, secret: Uint8Array, label: string): Uint8Array {
  return expandWithLabel(cs, secret, label, EMPTY, cs.kdf.size);
}

/** §9.1 DeriveTreeSecret(Secret, Label, Generation, Length): context is uint32 generation. */
export function deriveTreeSecret(
  cs: CipherSuite,
  secret: Uint8Array,
  label: string,
  generation: number,
  length: number,
): Uint8Array {
  if (!Number.isInteger(generation) || generation < 0 || generation > 0xffffffff) {
    throw new UsageError(`DeriveTreeSecret: generation ${generation} is not a uint32`);
  }
  const ctx = new Uint8Array(4);
  new DataView(ctx.buffer).setUint32(0, generation);
  return expandWithLabel(cs, secret, label, ctx, length);
}

/** struct { opaque label<V>; opaque content<V>; } SignContent (§5.1.2). */
function signContent(label: string, content: Uint8Array): Uint8Array {
  const l = mlsLabel(label);
  return new Writer(l.length + content.length + 4).bytes(l).opaque(content).finish();
}

/** §5.1.2 SignWithLabel(SignatureKey, Label, Content). */
export function signWithLabel(
  cs: CipherSuite,
  signaturePrivateKey: Uint8Array,
  label: string,
  content: Uint8Array,
): Promise<Uint8Array> {
  return cs.signature.sign(signaturePrivateKey, signContent(label, content));
}

/** §5.1.2 VerifyWithLabel: false for a bad signature or malformed key, never throws for those. */
export function verifyWithLabel(
  cs: CipherSuite,
  signaturePublicKey: Uint8Array,
  label: string,
  content: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  return cs.signature.verify(signaturePublicKey, signContent(label, content), signature);
}

/** struct { opaque label<V>; opaque context<V>; } EncryptContext (§5.1.3). */
function encryptContext(label: string, context: Uint8Array): Uint8Array {
  const l = mlsLabel(label);
  return new Writer(l.length + context.length + 4).bytes(l).opaque(context).finish();
}

/** §5.1.3 EncryptWithLabel: SealBase(pk, EncryptContext, "", plaintext). */
export function encryptWithLabel(
  cs: CipherSuite,
  publicKey: Uint8Array,
  label: string,
  context: Uint8Array,
  plaintext: Uint8Array,
): Promise<HpkeCiphertext> {
  return cs.hpke.seal(publicKey, encryptContext(label, context), EMPTY, plaintext);
}

/**
 * EncryptWithLabel of `plaintexts[i]` to `publicKeys[i]` under one label and
 * context, the context being hashed once (a Welcome encrypts GroupSecrets to
 * every new member with the whole encrypted GroupInfo as context).
 */
export function encryptWithLabelToMany(
  cs: CipherSuite,
  publicKeys: readonly Uint8Array[],
  label: string,
  context: Uint8Array,
  plaintexts: readonly Uint8Array[],
): Promise<HpkeCiphertext[]> {
  return cs.hpke.sealToMany(publicKeys, encryptContext(label, context), EMPTY, plaintexts);
}

/**
 * §5.1.3 DecryptWithLabel: OpenBase(kem_output, sk, EncryptContext, "", ct).
 * Throws CryptoError when the ciphertext or kem_output does not open.
 */
export async function decryptWithLabel(
  cs: CipherSuite,
  privateKey: Uint8Array,
  label: string,
  context: Uint8Array,
  kemOutput: Uint8Array,
  ciphertext: Uint8Array,
): Promise<Uint8Array> {
  const pt = await cs.hpke.open(privateKey, kemOutput, encryptContext(label, context), EMPTY, ciphertext);
  if (pt === null) throw new CryptoError('DecryptWithLabel', `HPKE open failed (label "${label}")`);
  return pt;
}

/** §5.2 RefHash(label, value) = Hash(struct { opaque label<V>; opaque value<V>; }). Label is used verbatim. */
export function refHash(cs: CipherSuite, label: string, value: Uint8Array): Uint8Array {
  const l = utf8.encode(label);
  return cs.hash.digest(new Writer(l.length + value.length + 8).opaque(l).opaque(value).finish());
}

/** §5.2 MakeKeyPackageRef(value) = RefHash("MLS 1.0 KeyPackage Reference", value). */
export function makeKeyPackageRef(cs: CipherSuite, keyPackageBytes: Uint8Array): Uint8Array {
  return refHash(cs, 'MLS 1.0 KeyPackage Reference', keyPackageBytes);
}

/** §5.2 MakeProposalRef(value) = RefHash("MLS 1.0 Proposal Reference", value), value an encoded AuthenticatedContent. */
export function makeProposalRef(cs: CipherSuite, authenticatedContentBytes: Uint8Array): Uint8Array {
  return refHash(cs, 'MLS 1.0 Proposal Reference', authenticatedContentBytes);
}
