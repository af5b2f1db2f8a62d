/**
 * Delivery and read receipts (receipts.ts has the rules): what we owe is kept
 * with the conversation and sent a moment later in one batch; what others
 * claim is counted only for our own texts.
 */
import { randomId } from '../bytes.ts';
import type { ConversationMeta, MessageRecord } from './chat-store.ts';
import type { Conversations } from './conversations.ts';
import type { ReceiptClaims } from './inbox.ts';
import type { Outbox } from './outbox.ts';
import { addDue, applyReceipt, isDueEmpty, MAX_READ_AT_ONCE, RECEIPT_DELAY_MS, takeBatch, withoutBatch } from './receipts.ts';

export class ReceiptSender {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly retries = new Map<string, number>();

  constructor(
    private readonly c: Conversations,
    private readonly outbox: Outbox,
  ) {}

  readReceipts(): boolean {
    return this.c.deps.readReceipts?.() ?? true;
  }

  /** The person read the conversation to its end: move the "read up to" marker, and owe read receipts. */
  async markRead(id: string): Promise<void> {
    const c = this.c;
    const due = await c.serial(async () => {
      const meta = c.meta(id);
      if (meta.unread === 0) return false;
      const next: ConversationMeta = { ...meta, unread: 0, readSeq: meta.nextSeq - 1 };
      const readIds = meta.status === 'active' && this.readReceipts() ? await this.newlyRead(meta) : [];
      if (readIds.length > 0) next.receiptsDue = addDue(meta.receiptsDue, 'read', readIds);
      await c.apply({ metas: [next] });
      return readIds.length > 0;
    });
    if (due) this.soon(id);
  }

  /** Ids of the texts from others the person has just read (since the marker), newest at most MAX_READ_AT_ONCE. */
  private async newlyRead(meta: ConversationMeta): Promise<string[]> {
    const from = meta.readSeq;
    const span = from === undefined ? MAX_READ_AT_ONCE : Math.min(MAX_READ_AT_ONCE, meta.nextSeq - 1 - from);
    if (span <= 0) return [];
    const { messages } = await this.c.store.page(meta.id, null, span);
    const texts = messages.filter((m) => m.kind === 'text' && !m.sender.self && (from === undefined || m.seq > from));
    // No marker yet (a conversation from before it existed): the last `unread` texts are the new ones.
    return (from === undefined ? texts.slice(-meta.unread) : texts).map((m) => m.id);
  }

  /**
   * Another member's receipt: count it for each of OUR texts it names.
   * V-RCPT-4: an id that is not one of our texts (unknown, someone else's, a
   * system line) is ignored.
   */
  async count(id: string, r: ReceiptClaims): Promise<MessageRecord[]> {
    const out: MessageRecord[] = [];
    for (const [messageId, kind] of r.claims) {
      // An id we cannot read a record for is one we never sent: ignored like any unknown id.
      const rec = await this.c.store.message(id, messageId).catch(() => undefined);
      if (rec === undefined || !rec.sender.self || rec.kind !== 'text' || rec.receipts === undefined) continue;
      const counted = applyReceipt(rec.receipts, r.from, kind, r.members);
      if (counted !== null) out.push({ ...rec, receipts: counted });
    }
    return out;
  }

  /** Send what is due a moment from now: whatever else arrives meanwhile goes in the same receipt. */
  soon(id: string, delay = RECEIPT_DELAY_MS): void {
    if (this.c.closed || this.timers.has(id)) return;
    this.timers.set(
      id,
      setTimeout(() => {
        this.timers.delete(id);
        this.send(id).then(
          () => this.retries.delete(id),
          () => {
            // A Commit still being confirmed, or no tokens: try a few more times, then wait for the next message.
            const n = (this.retries.get(id) ?? 0) + 1;
            this.retries.set(id, n);
            if (n <= 5) this.soon(id, RECEIPT_DELAY_MS * 2 ** n);
            else this.retries.delete(id);
          },
        );
      }, delay),
    );
  }

  /**
   * Cancel the receipts due to go out a moment from now (they stay due in the store). A service
   * that is stopped or closed must not send from a timer: another instance (the next unlock, the
   * next worker) may own the group state by then, and a late send from this one would reuse its
   * sender generations, so the others would drop that member's next message.
   */
  cancelTimers(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  /** One receipt message for what is due in a conversation (more follow if it does not fit). */
  private async send(id: string): Promise<void> {
    const meta = this.c.metas.get(id);
    if (meta?.status !== 'active' || isDueEmpty(meta.receiptsDue)) return;
    // Read receipts turned off since they became due: say delivered only.
    const owed = (m: ConversationMeta): ConversationMeta['receiptsDue'] =>
      m.receiptsDue === undefined || this.readReceipts() ? m.receiptsDue : { delivered: [...m.receiptsDue.delivered, ...m.receiptsDue.read], read: [] };
    const batch = takeBatch(owed(meta)!);
    await this.outbox.sendApp(id, { v: 1, t: 'receipt', id: randomId(), at: Date.now(), ...batch }, (m) => {
      const rest = withoutBatch(owed(m), batch);
      if (rest === undefined) delete m.receiptsDue;
      else m.receiptsDue = rest;
      return undefined;
    });
    if (!isDueEmpty(this.c.metas.get(id)?.receiptsDue)) this.soon(id);
  }
}
