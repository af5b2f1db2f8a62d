/**
 * Disappearing messages (issue #20, docs/rich-messages.md), as pure functions.
 *
 * A conversation's timer (`ConversationMeta.disappearAfter`, seconds; any
 * member sets it with a JSON 'timer' message, app-messages.ts) puts an
 * absolute expiry into every text sent under it: the MIMI content's
 * `expires` (draft §3.1 {3}). A received content's expiry, absolute or
 * relative (counted from when it reached us), is honoured whatever our own
 * timer says. Each device keeps, sealed in the conversation's metadata, the
 * seqs of its messages still to expire (`expiring`), and deletes their
 * records from IndexedDB when due (chat-store.ts `deleteMessages`): deleted,
 * not hidden.
 */
import type { Expiration } from '../content/types.ts';
import type { DISAPPEAR_AFTER } from '../protocol/rich-messages.ts';
import type { ConversationMeta } from './chat-store.ts';

/** The timer's choices in seconds (off, 5 minutes, 1 hour, 1 day, 1 week): the view contract's DISAPPEAR_AFTER. */
export type TimerSeconds = (typeof DISAPPEAR_AFTER)[number];

/** §9: an expiry more than a year away is not believed; it is held to a year. */
const MAX_AHEAD_MS = 366 * 86_400_000;

/** The `expires` for a text we send now (absolute Unix seconds, §3.1), or null when the timer is off. */
export function expiryToSend(meta: ConversationMeta, now: number): Expiration | null {
  const after = meta.disappearAfter;
  return after === undefined || after <= 0 ? null : { relative: false, time: Math.ceil(now / 1000) + after };
}

/** When a message with this `expires` is deleted here (ms), received or sent at `now`. */
export function expiresAt(e: Expiration, now: number): number {
  const at = e.relative ? now + e.time * 1000 : e.time * 1000;
  return Math.min(at, now + MAX_AHEAD_MS);
}

/** Remember that message `seq` goes at `at` (edits the metadata copy it is given). */
export function scheduleExpiry(next: ConversationMeta, seq: number, at: number): void {
  next.expiring = [...(next.expiring ?? []), { seq, at }];
}

/** The seqs due by `now`, and the metadata without them; null when none is due. */
export function dueExpiries(meta: ConversationMeta, now: number): { seqs: number[]; next: ConversationMeta } | null {
  const list = meta.expiring ?? [];
  const due = list.filter((e) => e.at <= now);
  if (due.length === 0) return null;
  const left = list.filter((e) => e.at > now);
  const { expiring: _e, lastMessage: _l, ...rest } = meta;
  // The list preview may quote an expired text: it goes too (the next message brings a new one).
  const next: ConversationMeta = left.length === 0 ? rest : { ...rest, expiring: left };
  return { seqs: due.map((e) => e.seq), next };
}

/** The earliest expiry of any of these conversations (ms), if any. */
export function nextExpiry(metas: Iterable<ConversationMeta>): number | undefined {
  let min: number | undefined;
  for (const m of metas) for (const e of m.expiring ?? []) if (min === undefined || e.at < min) min = e.at;
  return min;
}
