/**
 * What the other members write when a member resyncs (healing/rejoin.ts):
 * "Alice's device rejoined". The joiner's new leaf has the same signature key
 * as the leaf it removed (the engine checked that, V-EC-6), so it is the same
 * member id, name and `person` proof as before: no "joined", no "removed".
 */
import type { GroupState, MLSMessage } from '../../mls/group.ts';
import { ContentType, WireFormat } from '../../mls/framing/framing.ts';
import { memberLabels } from '../group-members.ts';
import { labelText } from '../member-names.ts';
import { memberIdOf } from '../safety-code.ts';
import { resyncNote } from './heal-text.ts';
import { resyncKindOf } from './resync-marker.ts';

/** The note for a resync Commit just applied (`after`); undefined for any other Commit. */
export function resyncNoteOf(message: MLSMessage, after: GroupState, names: Readonly<Record<string, string>> | undefined, selfName: string): string | undefined {
  const kind = resyncKindOf(message);
  if (kind === undefined || message.wireFormat !== WireFormat.publicMessage) return undefined;
  const content = message.publicMessage.content;
  const leaf = content.contentType === ContentType.commit ? content.commit.path?.leafNode : undefined;
  if (leaf === undefined) return undefined;
  const label = memberLabels(after, names, selfName).get(memberIdOf(leaf.signatureKey));
  return resyncNote(kind, label?.displayName ?? labelText(label));
}
