/**
 * The healer: a conversation this device can no longer process rejoins by
 * resync (rejoin.ts) with its own ticket (rejoin-slots.ts), by itself. What
 * tells it a conversation is broken (docs/self-healing.md):
 *
 *   'state'    its stored group state does not open or decode
 *   'gap'      a delivery from a later epoch than ours: the Commits between
 *              never reached us (the relay expired them, or we refused one
 *              the others accepted)
 *   'mailbox'  the relay no longer knows the conversation's mailbox: its idle
 *              time ran out, and everything waiting in it (our missed
 *              Commits) expired with it
 *   'fork'     other members' messages at our epoch carry another epoch
 *              authenticator's tag than ours (fork-check.ts)
 *
 * Every attempt runs on its own, outside the delivery that reported it, so
 * one broken conversation never holds up the others. A failed attempt backs
 * off (backoff.ts, kept in the record across restarts); a report during the
 * wait arms one timer for its end; nothing retries without a report. So
 * there is never a loop: at most one attempt per conversation at a time, and
 * attempts spaced by a doubling wait.
 */
import { ChannelError } from '../../protocol/channel.ts';
import type { Conversations } from '../conversations.ts';
import { reportIfBug } from '../failure.ts';
import { afterFailure, BACKOFF_BASE_MS, BACKOFF_MAX_MS, waitBeforeAttempt, type HealBackoff } from './backoff.ts';

export type HealReason = 'state' | 'gap' | 'mailbox' | 'fork';

export interface HealerPorts {
  ticketFor(id: string): Uint8Array | undefined;
  rejoin(id: string, ticket: Uint8Array): Promise<void>;
}

export class Healer {
  private readonly running = new Set<string>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private stopped = false;
  /** Attempts started, by reason (read by tests and the benchmark; never persisted). */
  readonly attempts: { id: string; reason: HealReason; at: number }[] = [];

  constructor(
    private readonly c: Conversations,
    private readonly ports: HealerPorts,
    private readonly timing: { baseMs: number; maxMs: number; now?: () => number } = { baseMs: BACKOFF_BASE_MS, maxMs: BACKOFF_MAX_MS },
  ) {}

  /** The backoff's clock (a test may simulate hours of reports). */
  private now(): number {
    return (this.timing.now ?? Date.now)();
  }

  /** Something says this conversation is broken: heal it now, or when its backoff ends. Never throws. */
  report(id: string, reason: HealReason): void {
    if (this.stopped || this.running.has(id)) return;
    const meta = this.c.metas.get(id);
    if (meta === undefined || meta.status !== 'active') return;
    const wait = waitBeforeAttempt(meta.healBackoff, this.now(), this.timing.maxMs);
    if (wait > 0) {
      if (!this.timers.has(id)) {
        this.timers.set(
          id,
          setTimeout(() => {
            this.timers.delete(id);
            this.report(id, reason);
          }, wait),
        );
      }
      return;
    }
    this.running.add(id);
    this.attempts.push({ id, reason, at: this.now() });
    void this.attempt(id).finally(() => this.running.delete(id));
  }

  /** The conversations using this mailbox, reported as 'mailbox' (the relay said it does not know it). */
  mailboxGone(mailboxId: string): void {
    for (const m of this.c.metas.values()) if (m.mailbox?.mailboxId === mailboxId) this.report(m.id, 'mailbox');
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private async attempt(id: string): Promise<void> {
    // No ticket (a conversation from before slots, or none made yet): nothing to heal with; it backs off like a failure.
    const ticket = this.ports.ticketFor(id);
    let healed = false;
    if (ticket !== undefined) {
      try {
        await this.ports.rejoin(id, ticket);
        healed = true;
      } catch (err) {
        // A ChannelError is the expected "cannot now" (offline, slot gone, removed); anything else is logged if ours.
        if (!(err instanceof ChannelError)) reportIfBug('healing a conversation', err);
      }
    }
    const before = this.c.metas.get(id)?.healBackoff;
    await this.record(id, healed ? undefined : afterFailure(before, this.now(), this.timing.baseMs, this.timing.maxMs)).catch(() => undefined);
  }

  private async record(id: string, backoff: HealBackoff | undefined): Promise<void> {
    const c = this.c;
    await c.serial(async () => {
      const m = c.metas.get(id);
      if (m === undefined || (backoff === undefined && m.healBackoff === undefined)) return;
      const { healBackoff: _old, ...rest } = m;
      await c.apply({ metas: [backoff === undefined ? rest : { ...rest, healBackoff: backoff }] });
    });
  }
}
