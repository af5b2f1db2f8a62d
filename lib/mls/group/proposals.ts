/**
 * Proposals (RFC 9420 §12.1) and ProposalOrRef (§12.4).
 *
 * The Proposal `select` has no length prefix, so a proposal type we do not
 * implement leaves the rest of the message unparseable; §13.5 forbids GREASE in
 * `proposal_type` for exactly that reason. An unknown type is therefore a
 * decode error (V-PROP-1). Which proposals are allowed where (e.g. by external
 * senders, §12.1.8) is checked when a Commit is validated, not here.
 */
import type { Codec } from '../codec/codec.ts';
import { extensionsCodec, type Extension } from './extensions.ts';
import { keyPackageCodec, type KeyPackageIn } from '../join/key-package.ts';
import { leafNodeCodec, type LeafNodeIn } from '../tree/leaf-node.ts';
import { preSharedKeyIdCodec, type PreSharedKeyId } from '../keys/psk.ts';
import type { LeafIndex } from '../tree/tree-math.ts';

/** §17.4 "MLS Proposal Types" defined by RFC 9420. */
export const ProposalType = {
  add: 1,
  update: 2,
  remove: 3,
  psk: 4,
  reinit: 5,
  externalInit: 6,
  groupContextExtensions: 7,
} as const;
export type ProposalType = (typeof ProposalType)[keyof typeof ProposalType];
const PROPOSAL_TYPES: ReadonlySet<number> = new Set(Object.values(ProposalType));

/** §12.1.1 Add. */
export interface Add {
  /** Validated where the Add is applied (V-KP-*, `applyProposalList`). */
  readonly keyPackage: KeyPackageIn;
}
/** §12.1.2 Update. */
export interface Update {
  /** Validated where the Update is applied (V-LN-*, `applyProposalList`). */
  readonly leafNode: LeafNodeIn;
}
/** §12.1.3 Remove. */
export interface Remove {
  readonly removed: LeafIndex;
}
/** §12.1.4 PreSharedKey. */
export interface PreSharedKey {
  readonly psk: PreSharedKeyId;
}
/** §12.1.5 ReInit. `version` may name a future protocol version. */
export interface ReInit {
  readonly groupId: Uint8Array;
  readonly version: number;
  readonly cipherSuite: number;
  readonly extensions: readonly Extension[];
}
/** §12.1.6 ExternalInit. */
export interface ExternalInit {
  readonly kemOutput: Uint8Array;
}
/** §12.1.7 GroupContextExtensions. */
export interface GroupContextExtensions {
  readonly extensions: readonly Extension[];
}

export const addCodec: Codec<Add> = {
  encode: (w, v) => keyPackageCodec.encode(w, v.keyPackage),
  decode: (r) => ({ keyPackage: keyPackageCodec.decode(r) }),
};
export const updateCodec: Codec<Update> = {
  encode: (w, v) => leafNodeCodec.encode(w, v.leafNode),
  decode: (r) => ({ leafNode: leafNodeCodec.decode(r) }),
};
export const removeCodec: Codec<Remove> = {
  encode: (w, v) => void w.u32(v.removed),
  decode: (r) => ({ removed: r.u32() as LeafIndex }),
};
export const preSharedKeyCodec: Codec<PreSharedKey> = {
  encode: (w, v) => preSharedKeyIdCodec.encode(w, v.psk),
  decode: (r) => ({ psk: preSharedKeyIdCodec.decode(r) }),
};
export const reInitCodec: Codec<ReInit> = {
  encode(w, v) {
    w.opaque(v.groupId);
    w.u16(v.version);
    w.u16(v.cipherSuite);
    extensionsCodec.encode(w, v.extensions);
  },
  decode(r) {
    const groupId = r.opaque();
    const version = r.u16();
    const cipherSuite = r.u16();
    const extensions = extensionsCodec.decode(r);
    return { groupId, version, cipherSuite, extensions };
  },
};
export const externalInitCodec: Codec<ExternalInit> = {
  encode: (w, v) => void w.opaque(v.kemOutput),
  decode: (r) => ({ kemOutput: r.opaque() }),
};
export const groupContextExtensionsCodec: Codec<GroupContextExtensions> = {
  encode: (w, v) => extensionsCodec.encode(w, v.extensions),
  decode: (r) => ({ extensions: extensionsCodec.decode(r) }),
};

/** §12.1 Proposal, tagged by `proposalType`; the body is named after its struct. */
export type Proposal =
  | { readonly proposalType: typeof ProposalType.add; readonly add: Add }
  | { readonly proposalType: typeof ProposalType.update; readonly update: Update }
  | { readonly proposalType: typeof ProposalType.remove; readonly remove: Remove }
  | { readonly proposalType: typeof ProposalType.psk; readonly psk: PreSharedKey }
  | { readonly proposalType: typeof ProposalType.reinit; readonly reInit: ReInit }
  | { readonly proposalType: typeof ProposalType.externalInit; readonly externalInit: ExternalInit }
  | {
      readonly proposalType: typeof ProposalType.groupContextExtensions;
      readonly groupContextExtensions: GroupContextExtensions;
    };

export const proposalCodec: Codec<Proposal> = {
  encode(w, v) {
    w.u16(v.proposalType);
    switch (v.proposalType) {
      case ProposalType.add:
        return addCodec.encode(w, v.add);
      case ProposalType.update:
        return updateCodec.encode(w, v.update);
      case ProposalType.remove:
        return removeCodec.encode(w, v.remove);
      case ProposalType.psk:
        return preSharedKeyCodec.encode(w, v.psk);
      case ProposalType.reinit:
        return reInitCodec.encode(w, v.reInit);
      case ProposalType.externalInit:
        return externalInitCodec.encode(w, v.externalInit);
      case ProposalType.groupContextExtensions:
        return groupContextExtensionsCodec.encode(w, v.groupContextExtensions);
    }
  },
  decode(r) {
    // V-PROP-1 (§12.1, §13.5): proposal_type must be one we can parse.
    const proposalType = r.enumU16<ProposalType>(PROPOSAL_TYPES, '[V-PROP-1] ProposalType');
    switch (proposalType) {
      case ProposalType.add:
        return { proposalType, add: addCodec.decode(r) };
      case ProposalType.update:
        return { proposalType, update: updateCodec.decode(r) };
      case ProposalType.remove:
        return { proposalType, remove: removeCodec.decode(r) };
      case ProposalType.psk:
        return { proposalType, psk: preSharedKeyCodec.decode(r) };
      case ProposalType.reinit:
        return { proposalType, reInit: reInitCodec.decode(r) };
      case ProposalType.externalInit:
        return { proposalType, externalInit: externalInitCodec.decode(r) };
      case ProposalType.groupContextExtensions:
        return { proposalType, groupContextExtensions: groupContextExtensionsCodec.decode(r) };
    }
  },
};

/** §5.2 `opaque HashReference<V>` naming a proposal (MakeProposalRef). */
export type ProposalRef = Uint8Array;

/** §12.4 ProposalOrRefType (closed). */
export const ProposalOrRefType = {
  proposal: 1,
  reference: 2,
} as const;
export type ProposalOrRefType = (typeof ProposalOrRefType)[keyof typeof ProposalOrRefType];
const PROPOSAL_OR_REF_TYPES: ReadonlySet<number> = new Set(Object.values(ProposalOrRefType));

/** §12.4 ProposalOrRef. */
export type ProposalOrRef =
  | { readonly type: typeof ProposalOrRefType.proposal; readonly proposal: Proposal }
  | { readonly type: typeof ProposalOrRefType.reference; readonly reference: ProposalRef };

export const proposalOrRefCodec: Codec<ProposalOrRef> = {
  encode(w, v) {
    w.u8(v.type);
    if (v.type === ProposalOrRefType.proposal) proposalCodec.encode(w, v.proposal);
    else w.opaque(v.reference);
  },
  decode(r) {
    // V-POR-1 (§12.4): ProposalOrRefType must be proposal or reference.
    const type = r.enumU8<ProposalOrRefType>(PROPOSAL_OR_REF_TYPES, '[V-POR-1] ProposalOrRefType');
    if (type === ProposalOrRefType.proposal) return { type, proposal: proposalCodec.decode(r) };
    return { type, reference: r.opaque() };
  },
};
