/**
 * What a backup keeps of a conversation beyond its rejoin material, read and
 * put back through the chat's conversations (issue #19):
 *
 *   names    the display names members announced (member id → name): a
 *            device that rejoins by resync hears no announcement again, and
 *            the other members keep their leaves, so their ids still match
 *   history  the restore keeps each conversation's backed-up messages in the
 *            linked-history stash (linking/history-port.ts) until the
 *            conversation is here; once rejoined they are stored in it, in one
 *            transaction, and the stash is dropped (a device linked by
 *            Welcome does the same at its join, join-by-welcome.ts)
 */
import type { Conversations } from '../conversations.ts';
import { dropLinkedHistory, historyMessages, linkedHistory } from '../linking/history-port.ts';

export class RestoredConversations {
  constructor(private readonly c: Conversations) {}

  /** The names members announced in this conversation (undefined when none, or not here). */
  names(id: string): Record<string, string> | undefined {
    try {
      const names = this.c.meta(id).names;
      return names === undefined || Object.keys(names).length === 0 ? undefined : { ...names };
    } catch {
      return undefined;
    }
  }

  /** The conversation is back: its kept history and the names from the backup (announced ones win). */
  async settle(id: string, names: Readonly<Record<string, string>> | undefined): Promise<number> {
    return this.c.serial(async () => {
      const records = await linkedHistory(this.c.deps.db, this.c.deps.vault, id);
      const current = this.c.meta(id);
      if (records.length === 0 && names === undefined) return 0;
      const meta = { ...current, ...(names === undefined ? {} : { names: { ...names, ...current.names } }) };
      // Numbered from the conversation's next seq; the records keep their ids.
      const messages = historyMessages(meta, records);
      await this.c.apply({ metas: [meta], messages });
      if (records.length > 0) await dropLinkedHistory(this.c.deps.db, id);
      return messages.length;
    });
  }
}
