/**
 * Disappearing messages in the chat service (disappearing.ts has the rules):
 * setting a conversation's timer, and deleting each message from IndexedDB
 * when it is due, on every device: a timer armed for the earliest expiry,
 * and a sweep whenever the service opens (a worker that slept through an
 * expiry deletes at once when it wakes).
 */
import { randomId } from '../bytes.ts';
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

  /** Delete every message due by `now`, one transaction per conversation; then arm for the next. */
  async sweep(now = Date.now()): Promise<number> {
    let deleted = 0;
    for (const id of [...this.c.metas.keys()]) {
      deleted += await this.c.serial(async () => {
        const meta = this.c.metas.get(id);
        const due = meta === undefined ? null : dueExpiries(meta, now);
        if (due === null) return 0;
        await this.c.apply({ metas: [due.next], deleteMessages: due.seqs.map((seq) => ({ conversationId: id, seq })) });
        return due.seqs.length;
      });
    }
    this.arm();
    return deleted;
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
