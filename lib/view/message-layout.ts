/** Layout decisions for the message history that do not need the DOM: grouping runs of one sender, collapsing long text. */
import type { MessageView } from '@/lib/protocol/channel.ts';
import { sameDay } from './format.ts';

/** A message this long (characters) or with this many lines is shown collapsed, with "Read more". */
export const COLLAPSE_CHARS = 600;
export const COLLAPSE_LINES = 12;

/** A gap this long starts a new run even for the same sender, so a reply hours later shows the name again. */
export const GROUP_GAP_MS = 5 * 60_000;

export function isLong(text: string): boolean {
  if (text.length > COLLAPSE_CHARS) return true;
  let lines = 1;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) {
    if (++lines > COLLAPSE_LINES) return true;
  }
  return false;
}

/** True when `m` continues a run of text messages by the same sender (same day, within the gap): its name is not repeated. */
export function continuesRun(previous: MessageView | undefined, m: MessageView): boolean {
  if (previous === undefined) return false;
  if (previous.kind !== 'text' || m.kind !== 'text') return false;
  if (previous.sender.memberId !== m.sender.memberId) return false;
  // History copied from a linked device carries no member ids (''): tell its senders apart by who they are shown as.
  if (previous.sender.self !== m.sender.self || previous.sender.displayName !== m.sender.displayName) return false;
  if (!sameDay(previous.sentAt, m.sentAt)) return false;
  return m.sentAt - previous.sentAt < GROUP_GAP_MS && m.sentAt >= previous.sentAt;
}
