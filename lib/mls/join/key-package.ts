/**
 * KeyPackage (RFC 9420 §10): a signed, pre-published bundle that lets others
 * add a client to a group asynchronously. KeyPackageTBS is what the signature
 * covers; KeyPackageRef (a hash of the whole encoded KeyPackage) is computed
 * by `makeKeyPackageRef` in crypto-ops.
 *
 * Untrusted in, trusted out:
 *
 *   bytes from others --keyPackageCodec.decode--> KeyPackageIn   (untrusted)
 *   KeyPackageIn --validateKeyPackage (§10.1)--> KeyPackage       (trusted)
 *   generateKeyPackage -------------------------> KeyPackage       (ours)
 *
 * Only a `KeyPackage` is added to a group's tree and welcomed
 * (`AppliedProposals.added`, `welcome-create.ts`).
 */
import type { Codec, Reader, Writer } from '../codec/codec.ts';
import { extensionsCodec, type Extension } from '../group/extensions.ts';
import { leafNodeCodec, type LeafNode, type LeafNodeIn } from '../tree/leaf-node.ts';
import { ProtocolVersion, readProtocolVersion } from '../framing/protocol-version.ts';

/** §10 KeyPackageTBS: every KeyPackage field above the signature. */
export interface KeyPackageTBS {
  readonly version: ProtocolVersion;
  readonly cipherSuite: number;
  readonly initKey: Uint8Array;
  readonly leafNode: LeafNodeIn;
  readonly extensions: readonly Extension[];
}

/** §10 KeyPackage as decoded (an Add proposal, a KeyPackage message): nothing about it is checked yet. */
export interface KeyPackageIn extends KeyPackageTBS {
  /** SignWithLabel(., "KeyPackageTBS", KeyPackageTBS) */
  readonly signature: Uint8Array;
}

declare const validKeyPackage: unique symbol;

/**
 * §10 KeyPackage that is ours (`generateKeyPackage`) or passed §10.1
 * validation (`validateKeyPackage`, then `validatedKeyPackage` in
 * key-package-gen.ts). A brand, so a `KeyPackageIn` cannot stand for one.
 */
export type KeyPackage = KeyPackageIn & { readonly leafNode: LeafNode; readonly [validKeyPackage]: true };

/** §5.2 `opaque HashReference<V>` naming a KeyPackage. */
export type KeyPackageRef = Uint8Array;

function encodeTbs(w: Writer, v: KeyPackageTBS): void {
  w.u16(v.version);
  w.u16(v.cipherSuite);
  w.opaque(v.initKey);
  leafNodeCodec.encode(w, v.leafNode);
  extensionsCodec.encode(w, v.extensions);
}

function decodeTbs(r: Reader): KeyPackageTBS {
  const version = readProtocolVersion(r);
  const cipherSuite = r.u16();
  const initKey = r.opaque();
  const leafNode = leafNodeCodec.decode(r);
  const extensions = extensionsCodec.decode(r);
  return { version, cipherSuite, initKey, leafNode, extensions };
}

export const keyPackageTbsCodec: Codec<KeyPackageTBS> = {
  encode(w, v) {
    // Only the TBS fields, even when handed a whole KeyPackage.
    encodeTbs(w, v);
  },
  decode: decodeTbs,
};

export const keyPackageCodec: Codec<KeyPackageIn> = {
  encode(w, v) {
    encodeTbs(w, v);
    w.opaque(v.signature);
  },
  decode(r) {
    const tbs = decodeTbs(r);
    const signature = r.opaque();
    return { ...tbs, signature };
  },
};

export { ProtocolVersion };
