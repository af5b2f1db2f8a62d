/**
 * Welcome (RFC 9420 §12.4.3.1) and the GroupSecrets it carries, HPKE-encrypted
 * once per new member. Decrypting them and the GroupInfo is `welcome-join.ts`.
 */
import type { Codec } from '../codec/codec.ts';
import type { KeyPackageRef } from './key-package.ts';
import { preSharedKeyIdCodec, type PreSharedKeyId } from '../keys/psk.ts';
import { hpkeCiphertextCodec, type HPKECiphertext } from '../tree/update-path.ts';

/** §12.4.3.1 PathSecret. */
export interface PathSecret {
  readonly pathSecret: Uint8Array;
}

export const pathSecretCodec: Codec<PathSecret> = {
  encode: (w, v) => void w.opaque(v.pathSecret),
  decode: (r) => ({ pathSecret: r.opaque() }),
};

/** §12.4.3.1 GroupSecrets. */
export interface GroupSecrets {
  readonly joinerSecret: Uint8Array;
  /** The PathSecret for the lowest common ancestor of committer and joiner. */
  readonly pathSecret?: PathSecret;
  readonly psks: readonly PreSharedKeyId[];
}

export const groupSecretsCodec: Codec<GroupSecrets> = {
  encode(w, v) {
    w.opaque(v.joinerSecret);
    w.optional(v.pathSecret, pathSecretCodec.encode);
    w.vector(v.psks, preSharedKeyIdCodec.encode);
  },
  decode(r) {
    const joinerSecret = r.opaque();
    const pathSecret = r.optional(pathSecretCodec.decode);
    const psks = r.vector(preSharedKeyIdCodec.decode);
    return pathSecret === undefined ? { joinerSecret, psks } : { joinerSecret, pathSecret, psks };
  },
};

/** §12.4.3.1 EncryptedGroupSecrets. */
export interface EncryptedGroupSecrets {
  readonly newMember: KeyPackageRef;
  readonly encryptedGroupSecrets: HPKECiphertext;
}

export const encryptedGroupSecretsCodec: Codec<EncryptedGroupSecrets> = {
  encode(w, v) {
    w.opaque(v.newMember);
    hpkeCiphertextCodec.encode(w, v.encryptedGroupSecrets);
  },
  decode(r) {
    const newMember = r.opaque();
    const encryptedGroupSecrets = hpkeCiphertextCodec.decode(r);
    return { newMember, encryptedGroupSecrets };
  },
};

/** §12.4.3.1 Welcome. */
export interface Welcome {
  readonly cipherSuite: number;
  readonly secrets: readonly EncryptedGroupSecrets[];
  readonly encryptedGroupInfo: Uint8Array;
}

export const welcomeCodec: Codec<Welcome> = {
  encode(w, v) {
    w.u16(v.cipherSuite);
    w.vector(v.secrets, encryptedGroupSecretsCodec.encode);
    w.opaque(v.encryptedGroupInfo);
  },
  decode(r) {
    const cipherSuite = r.u16();
    const secrets = r.vector(encryptedGroupSecretsCodec.decode);
    const encryptedGroupInfo = r.opaque();
    return { cipherSuite, secrets, encryptedGroupInfo };
  },
};
