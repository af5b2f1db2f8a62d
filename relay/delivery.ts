/**
 * Store-until-delivered messaging.
 *
 *   queue id Q (opaque, known to group members)   relay keeps H(Q) only
 *   queue capability C (current members only)      relay keeps H(Q, C) only
 *        │ send(Q, C, token, ciphertext[, rotateTo])   │
 *        ▼                                             ▼
 *   one stored message ──▶ a delivery per mailbox registered to H(Q)
 *                               │ push (WebSocket) / fetch (HTTP)
 *                               ▼
 *                          ack(mailbox, id) removes that delivery only;
 *                          the message goes with its last delivery.
 *
 * Mailboxes are anonymous read capabilities (id + secret, secret stored as a
 * hash); they are not tied to accounts. A Welcome goes straight to one
 * mailbox. Messages get random ids (clients drop duplicates: delivery is at
 * least once) and keep per-queue order. Unacknowledged messages expire, and
 * so does a mailbox nobody reads (no fetch, subscription or ack) for the
 * message TTL, with everything still waiting for it.
 *
 * Q alone grants nothing: registering, unregistering, posting and deleting
 * also present C, which members derive from the current MLS epoch
 * (MLS-Exporter, RFC 9420 §8.5). A Commit is posted with C and
 * rotateTo = H(Q, C') for the next epoch's C', and the store swaps the hash in
 * the same operation that stores the Commit, so a removed member's C stops
 * working the moment the Commit that removed them is in the queue's order. A
 * wrong C is answered like an unknown queue; the previous one gets
 * `stale_capability` (the caller has a Commit to process first). Because the
 * whole group shares C, presenting it says nothing about who sends.
 */

import { sha256 } from '@noble/hashes/sha2.js';
import type { RelayConfig } from './config.ts';
import { ErrorCode, RelayError, notFound } from './errors.ts';
import { randomBytes, randomId, toB64 } from '../lib/bytes.ts';
import { readBytes, type EncodedBytes } from './encoding.ts';
import type { WakeBus } from './bus.ts';
import { Metrics } from './metrics.ts';
import { PushFrame, toWire } from './wire.ts';
import type { RelayStore, SpendResult, StorageCaps, StoredMessage } from './store.ts';
import type { Token, TokenAuthority } from './tokens.ts';

const enc = new TextEncoder();
const QUEUE_LABEL = enc.encode('microchat queue v1');

export function hashQueueId(queueId: Uint8Array): string {
  const buf = new Uint8Array(QUEUE_LABEL.length + queueId.length);
  buf.set(QUEUE_LABEL);
  buf.set(queueId, QUEUE_LABEL.length);
  return toB64(sha256(buf));
}

const CAPABILITY_LABEL = enc.encode('microchat queue capability v1');

/**
 * H(Q, C) as the relay keeps it and as clients send `rotateTo` (the client's
 * copy is lib/background/queue-capability.ts). C has a fixed length, so
 * label ‖ Q ‖ C is unambiguous.
 */
export function hashCapability(queueId: Uint8Array, capability: Uint8Array): string {
  const buf = new Uint8Array(CAPABILITY_LABEL.length + queueId.length + capability.length);
  buf.set(CAPABILITY_LABEL);
  buf.set(queueId, CAPABILITY_LABEL.length);
  buf.set(capability, CAPABILITY_LABEL.length + queueId.length);
  return toB64(sha256(buf));
}

/** The queue capability C (32 bytes), presented with every queue operation. */
export function readCapability(b: Record<string, unknown>): Uint8Array {
  return readBytes(b, 'cap', { min: 32, max: 32 });
}

/** A Commit's H(Q, C') for the next epoch, as the base64url text the store keeps; null when absent. */
export function readRotateTo(b: Record<string, unknown>): string | null {
  if (b.rotateTo === undefined) return null;
  readBytes(b, 'rotateTo', { min: 32, max: 32 });
  return b.rotateTo as string;
}

export function hashMailboxSecret(secret: Uint8Array): string {
  return toB64(sha256(secret));
}

/** A live connection that wants pushes for some mailboxes. */
export interface Subscriber {
  push(mailboxId: string, frame: PushFrame): void;
}

/** Mailboxes whose idle expiry this instance last wrote (so a busy mailbox costs one write per hour, not one per read). */
const SEEN_CACHE_MAX = 100_000;
/** Most messages one resync reads for one mailbox (a queue's pending cap, several queues' worth). */
const RESYNC_MAX_PER_MAILBOX = 50_000;

export class Delivery {
  private readonly subscribers = new Map<string, Set<Subscriber>>();
  private readonly seenUntil = new Map<string, number>();
  /** Per locally subscribed mailbox: resolves once the bus delivers its wake-ups here. */
  private readonly watching = new Map<string, Promise<void>>();

  constructor(
    private readonly store: RelayStore,
    private readonly tokens: TokenAuthority,
    private readonly config: RelayConfig,
    private readonly now: () => number,
    /** Wake-ups between relay instances (LocalBus when there is only this one). */
    private readonly bus: WakeBus,
    /** Aggregate counters only (relay/metrics.ts); a private instance when the caller keeps none. */
    private readonly metrics: Metrics = new Metrics(),
  ) {
    bus.connect(
      (mailboxIds, frame) => this.dispatch(mailboxIds, frame),
      () => this.resync(),
      metrics,
    );
  }

  /** Expiry rounded up to the hour (or the TTL if shorter), so it says little about when a message came. */
  private expiresAt(): number {
    const ttl = this.config.messageTtlSeconds;
    const grain = Math.max(1, Math.min(3600, ttl));
    return Math.ceil((this.now() + ttl) / grain) * grain;
  }

  private get caps(): StorageCaps {
    return {
      maxMessagesPerScope: this.config.maxPendingMessagesPerQueue,
      maxBytesPerScope: this.config.maxPendingBytesPerQueue,
      maxTotalBytes: this.config.maxStoredBytes,
    };
  }

  /**
   * The mailbox is being read: it lives another message TTL. The idle expiry
   * is rounded like message expiries, so what is stored says little about
   * when it was last read.
   */
  private async seen(mailboxId: string): Promise<void> {
    const until = this.expiresAt();
    if (this.seenUntil.get(mailboxId) === until) return;
    if (this.seenUntil.size >= SEEN_CACHE_MAX) this.seenUntil.clear();
    await this.store.touchMailbox(mailboxId, until);
    this.seenUntil.set(mailboxId, until);
  }

  /** Mailboxes subscribed here are being read even when nothing arrives: keep them alive (before each sweep). */
  async keepSubscribedAlive(): Promise<void> {
    for (const mailboxId of [...this.subscribers.keys()]) await this.seen(mailboxId);
  }

  private unwrap<T>(r: SpendResult<T>, full = 'limit reached'): T {
    if (r.ok) return r.value;
    if (r.reason === 'spent') throw new RelayError(ErrorCode.tokenSpent, 'token already spent');
    if (r.reason === 'full') throw new RelayError(ErrorCode.capacity, full);
    if (r.reason === 'stale') throw new RelayError(ErrorCode.staleCapability, 'the queue capability rotated: process pending messages first');
    throw notFound();
  }

  async createMailbox(token: Token): Promise<{ mailboxId: string; secret: string }> {
    const spend = await this.tokens.verify(token);
    const mailboxId = randomId();
    const secret = randomBytes(32);
    this.unwrap(await this.store.createMailbox(spend, mailboxId, hashMailboxSecret(secret), this.expiresAt()));
    this.metrics.inc('tokenSpends');
    return { mailboxId, secret: toB64(secret) };
  }

  /** Proves the caller holds the mailbox; a wrong secret and an unknown mailbox look the same. */
  async openMailbox(mailboxId: string, secret: Uint8Array): Promise<void> {
    const stored = await this.store.getMailboxSecretHash(mailboxId);
    const given = hashMailboxSecret(secret);
    if (stored === null || stored.length !== given.length) throw notFound();
    let diff = 0;
    for (let i = 0; i < given.length; i++) diff |= given.charCodeAt(i) ^ stored.charCodeAt(i);
    if (diff !== 0) throw notFound();
  }

  async deleteMailbox(mailboxId: string, secret: Uint8Array): Promise<void> {
    await this.openMailbox(mailboxId, secret);
    await this.store.deleteMailbox(mailboxId);
  }

  async register(queueId: Uint8Array, capability: Uint8Array, mailboxId: string, secret: Uint8Array): Promise<void> {
    await this.openMailbox(mailboxId, secret);
    const r = await this.store.registerMailbox(
      hashQueueId(queueId),
      hashCapability(queueId, capability),
      mailboxId,
      this.config.maxMailboxesPerQueue,
      this.config.maxQueuesPerMailbox,
    );
    this.unwrap(r, 'too many mailboxes on this queue, or queues on this mailbox');
  }

  /** Any current member may detach a mailbox (its own, or a removed member's: the remover does that). */
  async unregister(queueId: Uint8Array, capability: Uint8Array, mailboxId: string): Promise<void> {
    this.unwrap(await this.store.unregisterMailbox(hashQueueId(queueId), hashCapability(queueId, capability), mailboxId));
  }

  async deleteQueue(queueId: Uint8Array, capability: Uint8Array): Promise<void> {
    this.unwrap(await this.store.deleteQueue(hashQueueId(queueId), hashCapability(queueId, capability)));
  }

  /** `rotateTo`: H(Q, C') of the next epoch, when the payload is a Commit. */
  async send(queueId: Uint8Array, capability: Uint8Array, token: Token, payload: EncodedBytes, rotateTo: string | null = null): Promise<string> {
    this.checkPayload(payload);
    // Before the token is spent: a refused send costs the client nothing but a retry.
    this.bus.admit();
    const spend = await this.tokens.verify(token);
    const messageId = randomId();
    const mailboxes = this.unwrap(
      await this.store.postToQueue(
        spend,
        hashQueueId(queueId),
        hashCapability(queueId, capability),
        { messageId, payload: payload.bytes, expiresAt: this.expiresAt() },
        rotateTo,
        this.caps,
      ),
      'storage limit reached: too much pending on this queue or on the relay',
    );
    this.metrics.inc('tokenSpends');
    this.metrics.inc('messagesStored');
    this.notify(mailboxes, { messageId, payload: payload.bytes, kind: 'group' }, payload.text);
    return messageId;
  }

  async sendWelcome(mailboxId: string, token: Token, payload: EncodedBytes): Promise<string> {
    this.checkPayload(payload);
    this.bus.admit();
    const spend = await this.tokens.verify(token);
    const messageId = randomId();
    this.unwrap(
      await this.store.postToMailbox(spend, mailboxId, { messageId, payload: payload.bytes, expiresAt: this.expiresAt() }, this.caps),
      'storage limit reached: too much pending for this mailbox or on the relay',
    );
    this.metrics.inc('tokenSpends');
    this.metrics.inc('messagesStored');
    this.notify([mailboxId], { messageId, payload: payload.bytes, kind: 'welcome' }, payload.text);
    return messageId;
  }

  private checkPayload(payload: EncodedBytes): void {
    if (payload.bytes.length > this.config.maxMessageBytes) {
      throw new RelayError(ErrorCode.tooLarge, `message above ${this.config.maxMessageBytes} bytes`);
    }
  }

  async fetch(mailboxId: string, secret: Uint8Array, limit: number): Promise<StoredMessage[]> {
    await this.openMailbox(mailboxId, secret);
    await this.seen(mailboxId);
    const messages = await this.store.fetchMailbox(mailboxId, Math.min(limit, this.config.fetchBatchMax), this.now());
    this.metrics.inc('messagesDelivered', messages.length);
    return messages;
  }

  /** Pending messages of a mailbox whose secret was already checked (WebSocket subscription). */
  async pending(mailboxId: string): Promise<StoredMessage[]> {
    await this.seen(mailboxId);
    const messages = await this.store.fetchMailbox(mailboxId, this.config.fetchBatchMax, this.now());
    this.metrics.inc('messagesDelivered', messages.length);
    return messages;
  }

  async ack(mailboxId: string, secret: Uint8Array | null, messageIds: string[]): Promise<number> {
    if (secret !== null) await this.openMailbox(mailboxId, secret);
    await this.seen(mailboxId);
    const removed = await this.store.ack(mailboxId, messageIds);
    this.metrics.inc('messagesAcked', removed);
    return removed;
  }

  /**
   * Push this mailbox's messages to `sub` from now on. Resolves once wake-ups
   * from every relay instance reach this one, so reading what is pending
   * after it misses nothing (a message may come twice; clients drop
   * duplicates by id).
   */
  async subscribe(mailboxId: string, sub: Subscriber): Promise<void> {
    let set = this.subscribers.get(mailboxId);
    if (set === undefined) {
      set = new Set();
      this.subscribers.set(mailboxId, set);
      this.watching.set(mailboxId, this.bus.watch(mailboxId));
    }
    set.add(sub);
    try {
      await this.watching.get(mailboxId);
    } catch (err) {
      this.unsubscribe(mailboxId, sub);
      throw err;
    }
  }

  unsubscribe(mailboxId: string, sub: Subscriber): void {
    const set = this.subscribers.get(mailboxId);
    if (set === undefined) return;
    set.delete(sub);
    if (set.size === 0) {
      this.subscribers.delete(mailboxId);
      this.watching.delete(mailboxId);
      this.bus.unwatch(mailboxId);
    }
  }

  /** After the store committed a message: wake every subscriber of these mailboxes, on any instance. */
  private notify(mailboxes: string[], stored: StoredMessage, payloadText: string): void {
    if (mailboxes.length === 0) return;
    // Alone, skip encoding a message nobody here is listening for (offline recipients).
    if (!this.bus.crossInstance && !mailboxes.some((mb) => this.subscribers.has(mb))) return;
    this.bus.publish(mailboxes, toWire(stored, payloadText));
  }

  private dispatch(mailboxIds: readonly string[], frame: PushFrame): void {
    for (const mb of mailboxIds) {
      const set = this.subscribers.get(mb);
      if (set === undefined) continue;
      for (const sub of set) sub.push(mb, frame);
      this.metrics.inc('messagesDelivered', set.size);
    }
  }

  /**
   * Wake-ups may have been lost (the bus reconnected, or another instance
   * dropped some): push everything pending to local subscribers again, one
   * mailbox at a time so a large relay does not flood the store.
   *
   * Everything, not one page: a resync that pushed only the first
   * fetchBatchMax messages left the rest of a busy mailbox waiting for the
   * client's next fetch or reconnect (one cause of the "stalled rounds" of
   * #23: under the saturating bench a subscriber cut off by Redis resynced
   * mailboxes with more than a page pending). The store has no cursor, so
   * each further read asks for one page more than was pushed and skips what
   * was; messages acknowledged meanwhile simply drop out.
   */
  private async resync(): Promise<void> {
    for (const mailboxId of [...this.subscribers.keys()]) {
      const pushed = new Set<string>();
      for (let limit = this.config.fetchBatchMax; ; limit = pushed.size + this.config.fetchBatchMax) {
        const pending = await this.store.fetchMailbox(mailboxId, limit, this.now());
        const set = this.subscribers.get(mailboxId);
        if (set === undefined) break;
        for (const m of pending) {
          if (pushed.has(m.messageId)) continue;
          pushed.add(m.messageId);
          const frame = new PushFrame(toWire(m));
          for (const sub of set) sub.push(mailboxId, frame);
          this.metrics.inc('messagesDelivered', set.size);
        }
        if (pending.length < limit || limit >= RESYNC_MAX_PER_MAILBOX) break;
      }
    }
  }
}
