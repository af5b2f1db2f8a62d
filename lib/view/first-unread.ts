/**
 * Where the "New messages" divider goes when a conversation is opened: above
 * the first text from someone else after the background's "read up to"
 * marker (ConversationSummary.readUpTo), taken when the conversation opened.
 * Conversations read before the marker existed count back `unread` texts.
 */
import type { MessageView } from '../protocol/channel.ts';

export interface UnreadAtOpen {
  unread: number;
  readUpTo?: number | undefined;
}

export interface FirstUnread {
  /** The message the divider goes above; undefined when there is none (or it is not loaded). */
  id: string | undefined;
  /** Whether the loaded messages reach back far enough to know (otherwise read older pages first). */
  complete: boolean;
}

const fromOthers = (m: MessageView): boolean => m.kind === 'text' && !m.sender.self;

export function firstUnread(messages: readonly MessageView[], at: UnreadAtOpen, hasOlder: boolean): FirstUnread {
  if (at.unread <= 0) return { id: undefined, complete: true };
  const marker = at.readUpTo;
  if (marker !== undefined) {
    const first = messages.find((m) => m.seq > marker && fromOthers(m));
    const oldest = messages[0];
    // Every message after the marker is loaded when the oldest loaded one is at or before it.
    const complete = !hasOlder || (oldest !== undefined && oldest.seq <= marker + 1);
    return { id: first?.id, complete };
  }
  let left = at.unread;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (!fromOthers(m)) continue;
    if (--left === 0) return { id: m.id, complete: true };
  }
  // Fewer texts loaded than were unread: the first loaded one, once nothing older remains.
  return { id: hasOlder ? undefined : messages.find(fromOthers)?.id, complete: !hasOlder };
}
