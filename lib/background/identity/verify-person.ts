/**
 * Marking a person verified (or not) from a conversation's members list:
 * the person key names an identity key some member here proved; what is
 * kept is personId → that identity key (verified-people.ts), so the mark
 * holds in every conversation and breaks when their identity key changes.
 */
import { ChannelError, ErrorCode } from '../../protocol/channel.ts';
import type { Conversations } from '../conversations.ts';
import { memberIds } from '../group-members.ts';
import * as text from '../text.ts';
import { LEAF_PREFIX, personIdOf } from './people.ts';

export async function setVerified(c: Conversations, id: string, personKey: string, verified: boolean): Promise<void> {
  const people = c.deps.people;
  if (people === undefined) throw new ChannelError(ErrorCode.Forbidden, text.NO_PROOF);
  const meta = c.activeMeta(id);
  if (personKey.startsWith(LEAF_PREFIX)) throw new ChannelError(ErrorCode.InvalidInput, text.NO_PROOF);
  if (personKey === people.own.identityKey) throw new ChannelError(ErrorCode.InvalidInput, text.VERIFY_SELF);
  const personId = personIdOf(meta, memberIds(await c.group(id)), personKey);
  if (personId === undefined) throw new ChannelError(ErrorCode.NotFound, text.NO_SUCH_PERSON);
  if (verified) await people.verified.verify(personId, personKey);
  else await people.verified.unverify(personId);
  c.deps.onSummaries();
}
