/**
 * The inbox's part for MIMI content (inbox.ts calls it; pure like the rest
 * of the inbox). A text, a reply or an unshowable content becomes a new
 * message record here; a reaction, unlike, edit or delete becomes a claim on
 * the record it names (`Outcome.rich`), which the chat service applies once
 * it has read that record (rich-messages.ts, by the rules of rich-record.ts).
 */
import type { Expiration } from '../content/types.ts';
import type { ConversationMeta, MessageRecord } from './chat-store.ts';
import { preview } from './conversations.ts';
import { expiresAt, scheduleExpiry } from './disappearing.ts';
import { unarchiveOnMessage } from './list-placement.ts';
import type { IncomingContent } from './mimi-wire.ts';
import { attachmentRecord } from './attachment-record.ts';
import { addDue } from './receipts.ts';
import { keepMentions, type KnownAs } from './mentions.ts';
import type { RichClaim } from './rich-record.ts';
import * as text from './text.ts';

/** Who sent a message, as the inbox worked it out from the MLS sender. */
export interface Speaker {
  senderId: string;
  sender: MessageRecord['sender'];
  /** How the conversation list names them ("You" for our own devices). */
  senderName: string;
  /** One of our own devices. */
  mine: boolean;
}

/**
 * A new text from a member: the record, and what it does to the conversation
 * (activity, preview, unread, a delivery receipt due). Returns the record when
 * it is someone else's (to notify), undefined for our own devices' texts.
 */
export function newText(rec: MessageRecord, who: Speaker, now: number, next: ConversationMeta, records: MessageRecord[]): MessageRecord | undefined {
  records.push(rec);
  next.lastActivity = now;
  next.lastMessage = { preview: preview(rec.text), senderName: who.senderName, fromSelf: who.mine };
  if (who.mine) return undefined;
  // Our device has it: the sender will hear so in our next receipt (never for a receipt).
  next.receiptsDue = addDue(next.receiptsDue, 'delivered', [rec.id]);
  next.unread++;
  unarchiveOnMessage(next, now);
  return rec;
}

/**
 * R-RICH-7: when this device deletes a text it received (ms since the epoch),
 * or undefined for never. The content's own expiry counts (draft §3.1; a
 * sender may choose a shorter life for their words), but while the
 * conversation has a timer never later than that long after arrival: a
 * member cannot keep a text longer than everyone agreed by leaving the
 * expiry out, putting it far ahead, or writing in the old JSON format, which
 * has no expiry at all. The timer is the one in force when the text is
 * processed, in the queue order every member shares.
 */
export function receivedExpiry(expires: Expiration | undefined, disappearAfter: number | undefined, now: number): number | undefined {
  const bySender = expires === undefined ? undefined : expiresAt(expires, now);
  if (disappearAfter === undefined || disappearAfter <= 0) return bySender;
  const byTimer = now + disappearAfter * 1000;
  return bySender === undefined ? byTimer : Math.min(bySender, byTimer);
}

/** A MIMI content from a member: a new record (returned as `newText` does), or a claim for the caller. */
export function contentMessage(
  content: IncomingContent,
  who: Speaker,
  now: number,
  next: ConversationMeta,
  records: MessageRecord[],
  out: { rich?: RichClaim },
  /** Who is a member now, who is us, and by what names (mentions.ts M-1, M-3, M-5); without it, no mention is kept. */
  people?: { isMember: (id: string) => boolean; isSelf: (id: string) => boolean; knownAs: (id: string) => KnownAs | undefined },
): MessageRecord | undefined {
  const i = content.intent;
  if (i.kind === 'text' || i.kind === 'unshowable' || i.kind === 'attachment') {
    const rec: MessageRecord = {
      id: content.id,
      conversationId: next.id,
      seq: next.nextSeq++,
      kind: 'text',
      // A file's text is its (safe) name: what the conversation list and quotes show of it.
      text: i.kind === 'text' ? i.text : i.kind === 'attachment' ? i.file.name : text.CANT_SHOW,
      sender: who.sender,
      // MIMI content carries no send time (the draft leaves time to the hub): the time it reached us.
      sentAt: now,
      status: 'received',
      ...(i.kind !== 'unshowable' && i.inReplyTo !== undefined ? { inReplyTo: i.inReplyTo } : {}),
      ...(i.kind === 'attachment' ? { attachment: attachmentRecord(i.file) } : {}),
      ...(i.kind === 'unshowable' ? { unshowable: true } : {}),
      ...(i.kind === 'text' && people !== undefined ? keepMentions(i.mentions, people.isMember, people.isSelf, { text: i.text, knownAs: people.knownAs }) : {}),
    };
    const at = receivedExpiry(content.expires, next.disappearAfter, now);
    if (at !== undefined) scheduleExpiry(next, rec.seq, at);
    return newText(rec, who, now, next, records);
  }
  out.rich = { id: content.id, intent: i, from: { memberId: who.senderId, displayName: who.sender.displayName, self: who.mine }, at: now };
  return undefined;
}
