/**
 * Delivery and read receipts between members, as pure functions.
 *
 * "Sent" means the relay has a message. "Delivered" means the device of
 * every member who was in the group when it was sent has it; "read" that
 * every one of them has read it. Both come from receipts: ordinary MLS
 * application messages (app-messages.ts, kind 'receipt') that go through the
 * sealed-sender path like any text, so the relay learns nothing it did not
 * already see (a post of a few hundred bytes to the queue).
 *
 * What a receipt can and cannot claim (its sender may be hostile):
 * - its sender is the MLS sender's leaf, never a field of the payload, so a
 *   member can only speak for their own device (V-RCPT-1);
 * - it counts only for members the message was sent to (the members at the
 *   time it was encrypted), so someone who joined later, or a removed member
 *   whose receipt arrives late, changes nothing (V-RCPT-2, V-RCPT-3);
 * - ids of messages we did not send are ignored (V-RCPT-4, in receipt-sender.ts);
 * - receipts are never answered with a receipt (only texts are receipted).
 *
 * Receipts are batched: ids waiting to be acknowledged are kept with the
 * conversation (persisted in the same transaction as the message that made
 * them due) and sent a moment later as one message per conversation, so a
 * burst of 50 messages costs each member one receipt, not 50.
 */

/** Who a message of ours was sent to, and who has acknowledged it (member ids). */
export interface ReceiptState {
  to: string[];
  delivered: string[];
  read: string[];
}

/** What the other members' receipts add to "sent". */
export type Delivery = 'delivered' | 'read';

/** Ids of other members' texts we still have to acknowledge, per conversation. */
export interface ReceiptsDue {
  delivered: string[];
  read: string[];
}

/** At most this many message ids in one receipt message (a bound the parser enforces too). */
export const MAX_RECEIPT_IDS = 200;
/** How long receipts wait for more messages before they go out. */
export const RECEIPT_DELAY_MS = 1500;
/** Read receipts name at most this many of the newest messages read at once; older ones stay "delivered". */
export const MAX_READ_AT_ONCE = 500;

export function newReceiptState(to: readonly string[]): ReceiptState {
  return { to: [...new Set(to)], delivered: [], read: [] };
}

/** The state a message of ours is in beyond "sent", if every recipient has acknowledged it. */
export function deliveryOf(r: ReceiptState | undefined): Delivery | undefined {
  if (r === undefined || r.to.length === 0) return undefined;
  const read = new Set(r.read);
  if (r.to.every((m) => read.has(m))) return 'read';
  const delivered = new Set([...r.delivered, ...r.read]);
  return r.to.every((m) => delivered.has(m)) ? 'delivered' : undefined;
}

/**
 * Count one member's receipt for one of our messages. `from` is the MLS
 * sender; `members` the group's members when the receipt was processed.
 * Returns the new state, or null when the receipt changes nothing or does
 * not count.
 */
export function applyReceipt(r: ReceiptState, from: string, kind: Delivery, members: ReadonlySet<string>): ReceiptState | null {
  // V-RCPT-2: only the members the message was sent to.
  if (!r.to.includes(from)) return null;
  // V-RCPT-3: a member who is no longer in the group is not counted.
  if (!members.has(from)) return null;
  if (kind === 'read') {
    if (r.read.includes(from)) return null;
    return { ...r, read: [...r.read, from], delivered: r.delivered.filter((m) => m !== from) };
  }
  if (r.delivered.includes(from) || r.read.includes(from)) return null;
  return { ...r, delivered: [...r.delivered, from] };
}

/** Add ids to what is due; a read receipt covers delivery too, so an id is never in both lists. */
export function addDue(due: ReceiptsDue | undefined, kind: Delivery, ids: readonly string[]): ReceiptsDue {
  const read = new Set(due?.read ?? []);
  const delivered = new Set(due?.delivered ?? []);
  for (const id of ids) {
    if (kind === 'read') {
      read.add(id);
      delivered.delete(id);
    } else if (!read.has(id)) {
      delivered.add(id);
    }
  }
  return { delivered: [...delivered], read: [...read] };
}

export function isDueEmpty(due: ReceiptsDue | undefined): boolean {
  return due === undefined || (due.delivered.length === 0 && due.read.length === 0);
}

/** One receipt message's worth of what is due: reads first (they say more), at most `max` ids in all. */
export function takeBatch(due: ReceiptsDue, max = MAX_RECEIPT_IDS): ReceiptsDue {
  const read = due.read.slice(0, max);
  const delivered = due.delivered.slice(0, max - read.length);
  return { delivered, read };
}

/** What stays due once `sent` went out (ids added meanwhile are kept). */
export function withoutBatch(due: ReceiptsDue | undefined, sent: ReceiptsDue): ReceiptsDue | undefined {
  if (due === undefined) return undefined;
  const gone = new Set([...sent.delivered, ...sent.read]);
  // A delivered id sent while a read for it became due meanwhile: the read still goes.
  const readSent = new Set(sent.read);
  const rest = { delivered: due.delivered.filter((id) => !gone.has(id)), read: due.read.filter((id) => !readSent.has(id)) };
  return isDueEmpty(rest) ? undefined : rest;
}
