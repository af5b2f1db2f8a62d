/**
 * Commit (RFC 9420 §12.4): the proposals being applied, inline or by
 * reference, and an optional UpdatePath.
 */
import type { Codec } from '../codec/codec.ts';
import { proposalOrRefCodec, type ProposalOrRef } from './proposals.ts';
import { updatePathCodec, type UpdatePath } from '../tree/update-path.ts';

export interface Commit {
  readonly proposals: readonly ProposalOrRef[];
  /** Absent when the Commit does not need a path (§12.4, "path required"). */
  readonly path?: UpdatePath;
}

export const commitCodec: Codec<Commit> = {
  encode(w, v) {
    w.vector(v.proposals, proposalOrRefCodec.encode);
    w.optional(v.path, updatePathCodec.encode);
  },
  decode(r) {
    const proposals = r.vector(proposalOrRefCodec.decode);
    const path = r.optional(updatePathCodec.decode);
    return path === undefined ? { proposals } : { proposals, path };
  },
};
