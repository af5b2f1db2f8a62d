/**
 * GroupInfo (RFC 9420 §12.4.3): what a joiner needs to know about the group,
 * signed by the member at leaf `signer`. GroupInfoTBS is what that signature
 * covers. Unknown extensions in GroupInfo.extensions MUST be ignored (§12.4.3),
 * so they decode as opaque Extensions.
 */
import type { Codec, Reader, Writer } from '../codec/codec.ts';
import { extensionsCodec, type Extension } from '../group/extensions.ts';
import { groupContextCodec, type GroupContext } from '../group/group-context.ts';
import type { LeafIndex } from '../tree/tree-math.ts';

/** §12.4.3 GroupInfoTBS: every GroupInfo field above the signature. */
export interface GroupInfoTBS {
  readonly groupContext: GroupContext;
  readonly extensions: readonly Extension[];
  readonly confirmationTag: Uint8Array;
  readonly signer: LeafIndex;
}

/** §12.4.3 GroupInfo. */
export interface GroupInfo extends GroupInfoTBS {
  /** SignWithLabel(., "GroupInfoTBS", GroupInfoTBS) */
  readonly signature: Uint8Array;
}

function encodeTbs(w: Writer, v: GroupInfoTBS): void {
  groupContextCodec.encode(w, v.groupContext);
  extensionsCodec.encode(w, v.extensions);
  w.opaque(v.confirmationTag);
  w.u32(v.signer);
}

function decodeTbs(r: Reader): GroupInfoTBS {
  const groupContext = groupContextCodec.decode(r);
  const extensions = extensionsCodec.decode(r);
  const confirmationTag = r.opaque();
  const signer = r.u32() as LeafIndex;
  return { groupContext, extensions, confirmationTag, signer };
}

export const groupInfoTbsCodec: Codec<GroupInfoTBS> = {
  encode(w, v) {
    // Only the TBS fields, even when handed a whole GroupInfo.
    encodeTbs(w, v);
  },
  decode: decodeTbs,
};

export const groupInfoCodec: Codec<GroupInfo> = {
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
