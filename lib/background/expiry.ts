/**
 * Disappearing messages in the chat service (disappearing.ts has the rules):
 * setting a conversation's timer, and deleting each message from IndexedDB
 * when it is due, on every device: a timer armed for the earliest expiry,
 * and a sweep whenever the service opens (a worker that slept through an
 * expiry deletes at once when it wakes).
 */
import { randomId } from '../bytes.ts';
import { MAX_EXPIRED_SEQS } from '../protocol/rich-messages.ts';
import { dueExpiries, nextExpiry, type TimerSeconds } from './disappearing.ts';
import { systemMessage, type Conversations } from './conversations.ts';
import type { Outbox } from './outbox.ts';
import * as text from './text.ts';

/** A timer further than this is re-armed on the way (setTimeout's range, and clocks that jump). */
const MAX_WAIT_MS = 60 * 60 * 1000;

export class Expiry {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly c: Conversations,
    private readonly outbox: Outbox,
  ) {}

  /** Set the conversation's timer for everyone (0: off); said as a system message on every device. */
  async setTimer(id: string, seconds: TimerSeconds): Promise<void> {
    await this.outbox.sendApp(id, { v: 1, t: 'timer', id: randomId(), at: Date.now(), seconds }, (meta) => {
      if (seconds === 0) delete meta.disappearAfter;
      else meta.disappearAfter = seconds;
      return systemMessage(meta, text.youSetTimer(seconds));
    });
  }

  /**
   * Delete every message due by `now`, one transaction per conversation, and tell the views which
   * (ExpiredEvent: they drop them at once); then arm for the next.
   */
  async sweep(now = Date.now()): Promise<number> {
    let deleted = 0;
    for (const id of [...this.c.metas.keys()]) {
      deleted += await this.c.serial(async () => {
        const meta = this.c.metas.get(id);
        const due = meta === undefined ? null : dueExpiries(meta, now);
        if (due === null) return 0;
        const seqs = [...new Set(due.seqs)].sort((a, b) => a - b);
        const next = { ...due.next, unread: Math.max(0, due.next.unread - (await this.unreadAmong(id, seqs, due.next.readSeq))) };
        await this.c.apply({ metas: [next], deleteMessages: seqs.map((seq) => ({ conversationId: id, seq })) });
        for (let i = 0; i < seqs.length; i += MAX_EXPIRED_SEQS) this.c.deps.onExpired?.(id, seqs.slice(i, i + MAX_EXPIRED_SEQS));
        return seqs.length;
      });
    }
    this.arm();
    return deleted;
  }

  /** How many of these messages count as unread (someone else's, after the read mark): the count drops with them. */
  private async unreadAmong(id: string, seqs: readonly number[], readSeq: number | undefined): Promise<number> {
    let n = 0;
    for (const seq of seqs) {
      if (readSeq !== undefined && seq <= readSeq) continue;
      // A record that does not open counts as read: the count only ever goes down to what is left.
      const { messages } = await this.c.store.page(id, seq + 1, 1).catch(() => ({ messages: [] }));
      const rec = messages[0];
      if (rec !== undefined && rec.seq === seq && rec.kind !== 'system' && !rec.sender.self) n++;
    }
    return n;
  }

  /** (Re)arm the timer for the earliest expiry of any conversation. */
  arm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const at = nextExpiry(this.c.metas.values());
    if (at === undefined || this.c.closed) return;
    const wait = Math.min(Math.max(at - Date.now(), 0), MAX_WAIT_MS);
    // Best effort: a failed sweep is tried again by the next arm (a send, a delivery, a wake).
    this.timer = setTimeout(() => void this.sweep().catch(() => undefined), wait);
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
