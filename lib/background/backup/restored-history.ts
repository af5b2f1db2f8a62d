/**
 * A restored conversation's history (issue #19): the restore keeps each
 * conversation's backed-up messages in the linked-history stash
 * (linking/history-port.ts) until the conversation is here; once it is
 * rejoined they are stored in it, in one transaction, and the stash is
 * dropped. A device linked by Welcome does the same at its join
 * (join-by-welcome.ts).
 */
import type { Conversations } from '../conversations.ts';
import { dropLinkedHistory, historyMessages, linkedHistory } from '../linking/history-port.ts';

export async function keepHandedHistory(c: Conversations, id: string): Promise<number> {
  return c.serial(async () => {
    const records = await linkedHistory(c.deps.db, c.deps.vault, id);
    if (records.length === 0) return 0;
    const meta = { ...c.meta(id) };
    // Numbered from the conversation's next seq: the records keep their ids, so a record stored twice is one message.
    const messages = historyMessages(meta, records);
    await c.apply({ metas: [meta], messages });
    await dropLinkedHistory(c.deps.db, id);
    return messages.length;
  });
}
