/**
 * Extensions (RFC 9420 §13) and the bodies of the extensions this document
 * defines: application_id (§5.3.3), required_capabilities (§11.1),
 * external_pub (§12.4.3.2) and external_senders (§12.1.8.1). The ratchet_tree
 * extension's body lives with the tree nodes in `tree-node.ts`.
 *
 * Extension types form an open registry and unknown extensions MUST be
 * ignored in KeyPackages, GroupInfos and LeafNodes (§13.3), so an Extension
 * decodes with any type and keeps its data opaque; whether a type is supported
 * is decided where the extension list is validated, not here.
 */
import { vectorCodec, type Codec, type Reader, type Writer } from '../codec/codec.ts';
import { credentialCodec, type Credential } from '../tree/credential.ts';

/** §17.3 "MLS Extension Types" defined by RFC 9420. */
export const ExtensionType = {
  applicationId: 0x0001,
  ratchetTree: 0x0002,
  requiredCapabilities: 0x0003,
  externalPub: 0x0004,
  externalSenders: 0x0005,
} as const;
/** Any uint16: the registry is open and GREASE values appear on the wire. */
export type ExtensionType = number;

/** §13 Extension. */
export interface Extension {
  readonly extensionType: ExtensionType;
  readonly extensionData: Uint8Array;
}

export const extensionCodec: Codec<Extension> = {
  encode(w, v) {
    w.u16(v.extensionType);
    w.opaque(v.extensionData);
  },
  decode(r) {
    const extensionType = r.u16();
    const extensionData = r.opaque();
    return { extensionType, extensionData };
  },
};

/** `Extension extensions<V>`, the form every struct carries them in. */
export const extensionsCodec: Codec<readonly Extension[]> = vectorCodec(extensionCodec);

/** The first extension of `type`, if any. */
export function findExtension(extensions: readonly Extension[], type: ExtensionType): Extension | undefined {
  return extensions.find((e) => e.extensionType === type);
}

/** §5.3.3 `opaque application_id<V>`. */
export const applicationIdCodec: Codec<Uint8Array> = {
  encode: (w, v) => void w.opaque(v),
  decode: (r) => r.opaque(),
};

/** §11.1 RequiredCapabilities. Values are open registries, kept as numbers. */
export interface RequiredCapabilities {
  readonly extensionTypes: readonly number[];
  readonly proposalTypes: readonly number[];
  readonly credentialTypes: readonly number[];
}

const u16Item = (w: Writer, v: number): void => void w.u16(v);
const readU16 = (r: Reader): number => r.u16();

export const requiredCapabilitiesCodec: Codec<RequiredCapabilities> = {
  encode(w, v) {
    w.vector(v.extensionTypes, u16Item);
    w.vector(v.proposalTypes, u16Item);
    w.vector(v.credentialTypes, u16Item);
  },
  decode(r) {
    const extensionTypes = r.vector(readU16);
    const proposalTypes = r.vector(readU16);
    const credentialTypes = r.vector(readU16);
    return { extensionTypes, proposalTypes, credentialTypes };
  },
};

/** §12.4.3.2 ExternalPub. */
export interface ExternalPub {
  readonly externalPub: Uint8Array;
}

export const externalPubCodec: Codec<ExternalPub> = {
  encode: (w, v) => void w.opaque(v.externalPub),
  decode: (r) => ({ externalPub: r.opaque() }),
};

/** §12.1.8.1 ExternalSender. */
export interface ExternalSender {
  readonly signatureKey: Uint8Array;
  readonly credential: Credential;
}

export const externalSenderCodec: Codec<ExternalSender> = {
  encode(w, v) {
    w.opaque(v.signatureKey);
    credentialCodec.encode(w, v.credential);
  },
  decode(r) {
    const signatureKey = r.opaque();
    const credential = credentialCodec.decode(r);
    return { signatureKey, credential };
  },
};

/** `ExternalSender external_senders<V>`, the external_senders extension body. */
export const externalSendersCodec: Codec<readonly ExternalSender[]> = vectorCodec(externalSenderCodec);
