/**
 * UpdatePath (RFC 9420 §7.6): the new leaf and, for each node of the sender's
 * filtered direct path, its new public key and the path secret HPKE-encrypted
 * to that node's copath resolution. Producing and consuming it is `treekem.ts`.
 */
import { vectorCodec, type Codec } from '../codec/codec.ts';
import { leafNodeCodec, type LeafNodeIn } from './leaf-node.ts';

/** §7.6 HPKECiphertext (also used by EncryptedGroupSecrets). */
export interface HPKECiphertext {
  readonly kemOutput: Uint8Array;
  readonly ciphertext: Uint8Array;
}

export const hpkeCiphertextCodec: Codec<HPKECiphertext> = {
  encode(w, v) {
    w.opaque(v.kemOutput);
    w.opaque(v.ciphertext);
  },
  decode(r) {
    const kemOutput = r.opaque();
    const ciphertext = r.opaque();
    return { kemOutput, ciphertext };
  },
};

const hpkeCiphertextsCodec: Codec<readonly HPKECiphertext[]> = vectorCodec(hpkeCiphertextCodec);

/** §7.6 UpdatePathNode. */
export interface UpdatePathNode {
  readonly encryptionKey: Uint8Array;
  /** One ciphertext per node of the copath child's resolution, in order. */
  readonly encryptedPathSecret: readonly HPKECiphertext[];
}

export const updatePathNodeCodec: Codec<UpdatePathNode> = {
  encode(w, v) {
    w.opaque(v.encryptionKey);
    hpkeCiphertextsCodec.encode(w, v.encryptedPathSecret);
  },
  decode(r) {
    const encryptionKey = r.opaque();
    const encryptedPathSecret = hpkeCiphertextsCodec.decode(r);
    return { encryptionKey, encryptedPathSecret };
  },
};

/** §7.6 UpdatePath. */
export interface UpdatePath {
  /** Validated where the path is merged (V-LN-*, V-UP-*, `processCommit`). */
  readonly leafNode: LeafNodeIn;
  readonly nodes: readonly UpdatePathNode[];
}

export const updatePathCodec: Codec<UpdatePath> = {
  encode(w, v) {
    leafNodeCodec.encode(w, v.leafNode);
    w.vector(v.nodes, updatePathNodeCodec.encode);
  },
  decode(r) {
    const leafNode = leafNodeCodec.decode(r);
    const nodes = r.vector(updatePathNodeCodec.decode);
    return { leafNode, nodes };
  },
};
