/**
 * What a person can do to one message (issue #20: reply, react, edit, delete
 * for everyone), decided from what the background sent. The background
 * refuses anything not allowed anyway (docs/rich-messages.md, R-RICH-*); the
 * view only avoids offering what would be refused: actions on system lines,
 * on messages from before MIMI content (their ids are not MIMI ids), on a
 * deleted or unshowable message, or on one not sent yet.
 */
import type { MessageView } from '../protocol/channel.ts';
import { isEmoji, RICH_MESSAGE_ID, type QuoteView } from '../protocol/rich-messages.ts';

/** The callbacks a message's toolbar, chips and quote call; the conversation view implements them. */
export interface MessageActions {
  reply(message: MessageView): void;
  react(message: MessageView, emoji: string): void;
  unreact(message: MessageView, emoji: string): void;
  edit(message: MessageView): void;
  deleteForEveryone(message: MessageView): void;
  showVersions(message: MessageView): void;
  /** Scroll to the message a reply quotes. */
  openQuote(quote: QuoteView): void;
}

/** The emoji the picker offers first. */
export const COMMON_EMOJI = ['👍', '❤️', '😂', '😮', '😢', '🙏'] as const;

/** Reply to it or react to it: a text with a MIMI id, on the relay already, not deleted or unshowable. */
export function canRespond(m: MessageView): boolean {
  return (
    m.kind === 'text' &&
    RICH_MESSAGE_ID.test(m.id) &&
    m.deleted !== true &&
    m.unshowable !== true &&
    m.status !== 'sending' &&
    m.status !== 'failed'
  );
}

/** Edit it or delete it for everyone: all of the above, and we sent it. */
export function canChange(m: MessageView): boolean {
  return canRespond(m) && m.sender.self;
}

/**
 * Edit it: one we can change that is a text. A file message has no words of its own to edit (its
 * text is the file's name) and its file part is never changed by an edit (R-RICH-8): no Edit on it.
 */
export function canEdit(m: MessageView): boolean {
  return canChange(m) && m.attachment === undefined;
}

/** The whole first grapheme of what was typed when it is exactly one emoji, else null. */
export function oneEmoji(typed: string): string | null {
  const s = typed.trim();
  if (s === '') return null;
  const graphemes = [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(s)];
  if (graphemes.length !== 1) return null;
  // The same test as the channel's validator, so the view never sends what it would refuse.
  return isEmoji(s) ? s : null;
}

/** A short preview of a text for the composer's "Replying to" line: its first line, at most `max` characters. */
export function preview(text: string, max = 80): string {
  const line = text.split('\n', 1)[0]!.trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

/** What the composer is doing besides writing a new message: replying to one, or editing one of ours. */
export type ComposerContext =
  | { kind: 'reply'; messageId: string; name: string; preview: string }
  | { kind: 'edit'; messageId: string; text: string };
