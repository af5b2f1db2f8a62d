/**
 * Credentials (RFC 9420 §5.3): the identity a member asserts in its LeafNode.
 *
 * Only the two credential types this document defines can be parsed: the
 * `select` has no length prefix, so an unknown type leaves the rest of the
 * message unreadable. §13.5 also forbids GREASE in `credential_type` for that
 * reason, so an unknown type is a decode error (V-CRED-1), not something to skip.
 */
import type { Codec } from '../codec/codec.ts';

/** §5.3 / §17.5 "MLS Credential Types" values we understand. */
export const CredentialType = {
  basic: 1,
  x509: 2,
} as const;
export type CredentialType = (typeof CredentialType)[keyof typeof CredentialType];
const CREDENTIAL_TYPES: ReadonlySet<number> = new Set(Object.values(CredentialType));

export interface BasicCredential {
  readonly credentialType: typeof CredentialType.basic;
  /** Application-defined identity bytes. */
  readonly identity: Uint8Array;
}

export interface X509Credential {
  readonly credentialType: typeof CredentialType.x509;
  /**
   * DER certificates, end-entity first. Each is the RFC's
   * `struct { opaque cert_data<V>; } Certificate`, whose encoding is exactly
   * that of `opaque<V>`, so it is kept as the bare bytes.
   */
  readonly certificates: readonly Uint8Array[];
}

/** §5.3 Credential. */
export type Credential = BasicCredential | X509Credential;

export const credentialCodec: Codec<Credential> = {
  encode(w, v) {
    w.u16(v.credentialType);
    if (v.credentialType === CredentialType.basic) w.opaque(v.identity);
    else w.vector(v.certificates, (iw, cert) => void iw.opaque(cert));
  },
  decode(r) {
    // V-CRED-1 (§5.3, §13.5): credential_type must be one we can parse.
    const credentialType = r.enumU16<CredentialType>(CREDENTIAL_TYPES, '[V-CRED-1] CredentialType');
    if (credentialType === CredentialType.basic) {
      return { credentialType, identity: r.opaque() };
    }
    return { credentialType, certificates: r.vector((ir) => ir.opaque()) };
  },
};
