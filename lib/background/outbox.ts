/**
 * Sending application messages.
 *
 * A message is encrypted at once (advancing the ratchet), and the new state,
 * the message (status 'sending') and the ciphertext in the outbox are written
 * in one transaction; the outbox is flushed whenever the relay is reachable.
 * A ciphertext is never produced twice for one ratchet generation: a message
 * encrypted in an epoch the group has left is encrypted again in the new one
 * (outbox-refresh.ts), never sent twice.
 */
import { encodeMessage, sendApplicationMessage } from '../mls/group.ts';
import { forkTagData } from './healing/fork-check.ts';
import { fromB64 } from '../bytes.ts';
import { ChannelError, ErrorCode, type MessageView } from '../protocol/channel.ts';
import { encodeAppMessage, type AppMessage } from './app-messages.ts';
import { contentId, type OutgoingContent } from './mimi-wire.ts';
import type { ConversationMeta, MessageRecord, OutboxEntry, Transition } from './chat-store.ts';
import { isStale, unreachable } from './chat-errors.ts';
import { capOf, hashOf, toView, type Conversations } from './conversations.ts';
import type { EpochSync } from './epoch-sync.ts';
import { classify, isTryAgain } from './failure.ts';
import { memberIds, memberLabels, ownMemberId } from './group-members.ts';
import { reencryptStale } from './outbox-refresh.ts';
import { queueCapability } from './queue-capability.ts';
import { sendTimings } from './send-timing.ts';
import * as text from './text.ts';

/** Adds a visible message for what is sent (or changes one: an edit, a reaction), and may edit the metadata copy it is given. */
export type Recorder = (
  meta: ConversationMeta,
  messageId: string,
  self: MessageRecord['sender'],
  others: string[],
) => MessageRecord | undefined | Promise<MessageRecord | undefined>;

/** How long to wait before sending again after the relay said `try_again` (plus up to as much jitter, so senders spread out). */
export const TRY_AGAIN_MS = 500;

/**
 * What becomes of an outbox entry the relay did not take: kept queued (for
 * the next flush), sent again shortly (`retry`), encrypted again, or failed with why.
 */
export function afterFailure(err: unknown, canReencrypt: boolean): 'keep' | 'retry' | 'reencrypt' | { error: string } {
  const f = classify(err);
  if (f.relayCode === undefined) {
    // Not the relay's answer: the wallet has no session or tokens right now (keep it queued), or a fault of ours.
    return f.kind === 'bug' ? { error: text.NOT_SENT } : 'keep';
  }
  if (unreachable(err)) return 'keep';
  // The relay is busy for a moment: nothing was stored, nothing spent; no reconnect will come to flush again.
  // (The retry takes a fresh token all the same: one the relay has seen must not pay for another send, which
  // may be for another conversation — the relay could link the two.)
  if (isTryAgain(err)) return 'retry';
  // Encrypted in an epoch the group has left: encrypt it again once we are in the new one.
  if (isStale(err)) return canReencrypt ? 'reencrypt' : { error: text.CHANGED_BEFORE_SENT };
  if (f.relayCode === 'not_found') return { error: text.QUEUE_GONE };
  return { error: text.refusedMessage(f.relayCode) };
}

export class Outbox {
  private flushing: Promise<void> | undefined;
  private flushAgain = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly c: Conversations,
    private readonly epochs: EpochSync,
  ) {}

  /**
   * Encrypt one application message and persist it (state + record + outbox)
   * in one transaction, then flush the outbox. `record` may add a visible
   * message and edit the metadata copy it is given.
   */
  async sendApp(id: string, app: AppMessage | OutgoingContent, record?: Recorder): Promise<void> {
    const c = this.c;
    // §12.4 (V-APP-1): proposals we have seen must be committed before we send.
    if ((await c.group(id)).pendingProposals.length > 0) await this.epochs.commitPending(id);
    const queued = performance.now();
    await c.serial(async () => {
      sendTimings.add('wait', performance.now() - queued);
      const meta = { ...c.activeMeta(id) };
      const state = await c.group(id);
      // MIMI content as it is (mimi-wire.ts); bookkeeping as a JSON AppMessage.
      const plain = app.t === 'content' ? app.bytes : encodeAppMessage(app);
      const sent = await sendTimings.time('encrypt', () => sendApplicationMessage(state, plain, { authenticatedData: forkTagData(state) }));
      const payload = encodeMessage(sent.message);
      const own = ownMemberId(state);
      const selfName = c.deps.identity().displayName;
      const label = memberLabels(state, meta.names, selfName).get(own);
      const self = { memberId: own, displayName: selfName, self: true, ...(label?.tag === undefined ? {} : { tag: label.tag }) };
      const others = memberIds(state).filter((m) => m !== own);
      const messageId = app.t === 'content' ? contentId(own, id, app) : app.id;
      const rec = await record?.(meta, messageId, self, others);
      // A receipt is bookkeeping, not activity: it must not move the conversation up the list.
      if (app.t !== 'receipt') meta.lastActivity = Date.now();
      const persisting = performance.now();
      await c.apply({
        metas: [meta],
        groups: [{ id, state: sent.state }],
        ...(rec === undefined ? {} : { messages: [rec] }),
        outboxPut: [{ messageId, conversationId: id, createdAt: Date.now(), payload, queue: fromB64(meta.queue)!, cap: queueCapability(state), app: plain }],
        seen: [hashOf(payload)],
      });
      sendTimings.add('persist', performance.now() - persisting);
    });
    void this.flush();
  }

  /** Post everything waiting in the outbox, oldest first; stops at the first network failure. */
  flush(): Promise<void> {
    if (this.flushing !== undefined) {
      this.flushAgain = true;
      return this.flushing;
    }
    this.flushing = (async () => {
      // Each post is recorded (sent or failed) in order while the next one is on its way; every record
      // lands before the outbox is read again and before this flush ends, so nothing is posted twice.
      const recording: Promise<void>[] = [];
      try {
        do {
          this.flushAgain = false;
          const entries = (await this.c.store.outbox()).filter((e) => e.failed !== true);
          for (const e of entries) {
            const posted = await this.post(e);
            if (posted === false) return;
            recording.push(posted.recorded);
          }
          await Promise.all(recording.splice(0));
        } while (this.flushAgain);
      } finally {
        await Promise.all(recording);
      }
    })()
      // What is not sent stays in the outbox, and the next flush (a send, reconnecting, an epoch) tries again.
      .catch(() => undefined)
      .finally(() => {
        this.flushing = undefined;
      });
    return this.flushing;
  }

  /** Send one outbox entry; false when it stays queued for later, otherwise the recording of the outcome. */
  private async post(e: OutboxEntry): Promise<false | { recorded: Promise<void> }> {
    let error: string | undefined;
    try {
      const meta = this.c.metas.get(e.conversationId);
      const cap = e.cap ?? (meta === undefined ? undefined : capOf(meta));
      if (cap === undefined) throw new Error('no queue capability');
      await sendTimings.time('relay', () => this.c.deps.wallet().spend((token) => sendTimings.time('http', () => this.c.deps.api().send(e.queue, cap, token, e.payload))));
    } catch (err) {
      const next = afterFailure(err, e.app !== undefined);
      if (next === 'keep') return false;
      if (next === 'retry') {
        this.retrySoon();
        return false;
      }
      if (next === 'reencrypt') {
        void this.refresh(e.conversationId);
        return false;
      }
      error = next.error;
    }
    const posted = performance.now();
    const recorded = this.c.serial(async () => {
      // A record deleted meanwhile (the conversation was) has no status to show; the outbox entry is settled anyway.
      const rec = await this.c.store.message(e.conversationId, e.messageId).catch(() => undefined);
      const updated: MessageRecord | undefined =
        rec === undefined ? undefined : error === undefined ? { ...rec, status: 'sent' } : { ...rec, status: 'failed', error };
      const t: Transition = { ...(updated === undefined ? {} : { messages: [updated] }) };
      if (error === undefined) t.outboxDelete = [e.messageId];
      else t.outboxPut = [{ ...e, failed: true }];
      await this.c.apply(t);
      sendTimings.add('status', performance.now() - posted);
    });
    return { recorded };
  }

  /** One flush a moment from now (however many entries were told to try again). */
  private retrySoon(): void {
    if (this.retryTimer !== undefined) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.flush();
    }, TRY_AGAIN_MS * (1 + Math.random()));
  }

  async retry(id: string, messageId: string): Promise<MessageView> {
    return this.c.serial(async () => {
      const rec = await this.c.store.message(id, messageId);
      if (rec === undefined) throw new ChannelError(ErrorCode.NotFound, text.NO_SUCH_MESSAGE);
      if (rec.status !== 'failed') return toView(rec);
      const entry = (await this.c.store.outbox()).find((e) => e.messageId === messageId);
      if (entry === undefined) throw new ChannelError(ErrorCode.NotFound, text.CANNOT_RESEND);
      const again: MessageRecord = { ...rec, status: 'sending' };
      delete again.error;
      await this.c.apply({ messages: [again], outboxPut: [{ ...entry, failed: false }] });
      void Promise.resolve().then(() => this.flush());
      return toView(again);
    });
  }

  /** Encrypt again, in our current epoch, what waits in the outbox from an older one (outbox-refresh.ts); then send it. */
  async refresh(id: string): Promise<void> {
    const c = this.c;
    const changed = await c
      .serial(async () => {
        if (!c.isActive(id)) return false;
        const state = await c.group(id);
        const entries = (await c.store.outbox()).filter((e) => e.conversationId === id);
        const r = await reencryptStale(state, queueCapability(state), entries);
        if (r === null) return false;
        await c.apply({ groups: [{ id, state: r.state }], outboxPut: r.entries, seen: r.entries.map((e) => hashOf(e.payload)) });
        return true;
      })
      // Left as they are, the old copies are tried again at the next epoch or flush.
      .catch(() => false);
    // After a flush under way (it may be posting the old copies): a new one then sends the new ones.
    if (changed) void (this.flushing ?? Promise.resolve()).then(() => this.flush());
  }
}
