/**
 * A resync Commit (an external Commit that removes the joiner's own old leaf,
 * RFC 9420 §12.4.3.2) says in its authenticated_data why it was made, so the
 * members can word it: a device that healed itself, or an account restored
 * on a new device. The marker is in clear (an external Commit is a
 * PublicMessage), like the Remove and ExternalInit beside it: the relay can
 * tell a resync from a join either way; the kind adds one bit.
 *
 *   authenticated_data = "microchat resync v1" || kind (1 byte: 1 heal, 2 restore)
 */
import { SenderType, WireFormat, type MLSMessage } from '../../mls/framing/framing.ts';
import { ProposalOrRefType, ProposalType } from '../../mls/group/proposals.ts';
import { ContentType } from '../../mls/framing/framing.ts';

export type ResyncKind = 'heal' | 'restore';

const LABEL = new TextEncoder().encode('microchat resync v1');
const KINDS: readonly ResyncKind[] = ['heal', 'restore'];

export function resyncMarker(kind: ResyncKind): Uint8Array {
  const out = new Uint8Array(LABEL.length + 1);
  out.set(LABEL);
  out[LABEL.length] = KINDS.indexOf(kind) + 1;
  return out;
}

/**
 * The kind of a resync Commit: undefined for anything that is not an external
 * Commit carrying a Remove. A resync without (or with an unknown) marker, from
 * another client, reads as 'heal'. Which leaf the Remove may name is the
 * engine's check (V-EC-6: only the joiner's own, same credential and key).
 */
export function resyncKindOf(message: MLSMessage): ResyncKind | undefined {
  if (message.wireFormat !== WireFormat.publicMessage) return undefined;
  const content = message.publicMessage.content;
  if (content.sender.senderType !== SenderType.newMemberCommit || content.contentType !== ContentType.commit) return undefined;
  const removes = content.commit.proposals.some((p) => p.type === ProposalOrRefType.proposal && p.proposal.proposalType === ProposalType.remove);
  if (!removes) return undefined;
  const ad = content.authenticatedData;
  const marked = ad.length === LABEL.length + 1 && LABEL.every((b, i) => ad[i] === b);
  return marked && ad[LABEL.length] === 2 ? 'restore' : 'heal';
}
