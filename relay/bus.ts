/**
 * The wake-up bus: how a relay instance that stored a message tells every
 * instance with a live subscriber for one of its mailboxes to push it now.
 *
 *   instance A                       Redis                        instance B
 *   store.postToQueue(...) commits ─────────────────────────────▶ (message durable)
 *   bus.publish([m1..mk], msg) ──▶ PUBLISH <prefix>wake:mi ──▶ B watches m2 → push to its sockets
 *   (A pushes to its own sockets directly, without a round trip)
 *
 * A wake-up is only a hint: it is sent after the store committed the
 * message, so losing one (Redis restarting, a subscriber connection dropping,
 * Redis cutting a slow subscriber off) delays a push but loses nothing — the
 * message stays pending until acknowledged, a reconnecting client fetches it,
 * and this instance re-pushes everything pending to its sockets whenever its
 * subscriber connection comes back (`resync`).
 *
 * Two implementations: `LocalBus` (one relay process, the default; dispatch
 * in process) and `RedisBus` (several relays sharing one Redis, pub/sub).
 */

import { Buffer } from 'node:buffer';
import { createClient } from 'redis';
import { PushFrame, type WireMessage } from './wire.ts';
import { ErrorCode, RelayError } from './errors.ts';

/** Delivery's side: push `frame` to the local sockets subscribed to these mailboxes. */
export type WakeHandler = (mailboxIds: readonly string[], frame: PushFrame) => void;

export interface WakeBus {
  /** Whether other relay processes may hold subscribers (false: every subscriber is in this process). */
  readonly crossInstance: boolean;
  /**
   * Where wake-ups go (Delivery), and what to do after wake-ups may have been
   * missed (re-push everything pending to local subscribers). Set once, before start().
   */
  connect(handler: WakeHandler, resync: () => Promise<void>): void;
  start(): Promise<void>;
  /**
   * Announce a message the store has already committed. Never throws and is
   * not awaited by the sender: the message is durable whether or not the
   * wake-up arrives.
   */
  publish(mailboxIds: readonly string[], message: WireMessage): void;
  /** Resolves once wake-ups for the mailbox reach this instance (so a fetch after it misses nothing). */
  watch(mailboxId: string): Promise<void>;
  /** This instance no longer has a subscriber for the mailbox. */
  unwatch(mailboxId: string): void;
  close(): Promise<void>;
}

/** One relay process: every subscriber is local, dispatch is a function call. */
export class LocalBus implements WakeBus {
  readonly crossInstance = false;
  private handler: WakeHandler = () => {};

  connect(handler: WakeHandler): void {
    this.handler = handler;
  }

  async start(): Promise<void> {}

  publish(mailboxIds: readonly string[], message: WireMessage): void {
    this.handler(mailboxIds, new PushFrame(message));
  }

  async watch(): Promise<void> {}

  unwatch(): void {}

  async close(): Promise<void> {}
}

export interface RedisBusOptions {
  url: string;
  /** Key prefix shared with the store (default `mc:`); channels are `<prefix>wake:<mailboxId>`. */
  prefix: string;
  log: (line: string) => void;
}

/**
 * Publishes one message to many channels in one round trip, sending the
 * payload to Redis once (a fan-out to 50 mailboxes should not upload 50
 * copies of up to 11 KiB). Channels are arguments, not keys: PUBLISH touches
 * no key, and on Redis Cluster a keyless script may run on any node while a
 * classic PUBLISH reaches every node (see docs/scale-out.md).
 */
const PUBLISH_MANY = `
local n = 0
for i = 2, #ARGV do n = n + redis.call('PUBLISH', ARGV[i], ARGV[1]) end
return n
`;

/** Bytes of the random instance tag that prefixes every bus message (hex). */
const ORIGIN_HEX = 16;
/** After the subscriber reconnects: how often, and how far apart, to try re-pushing pending messages. */
const RESYNC_ATTEMPTS = 20;
const RESYNC_RETRY_MS = 500;
/** Wake-ups kept while Redis cannot take them, and how often to retry sending them. */
const BACKLOG_MAX_BYTES = 32 * 1024 * 1024;
const BACKLOG_RETRY_MS = 250;

type Client = ReturnType<typeof createClient>;

/**
 * Several relays on one Redis. Channel design: one channel per mailbox
 * (`<prefix>wake:<mailboxId>`), subscribed on demand while this instance has
 * a socket subscribed to that mailbox.
 *
 * Why per-mailbox channels rather than one shared channel: with one channel
 * every instance receives (and must parse and drop) every message of the
 * whole deployment, so adding instances adds load to all of them and the
 * total bus traffic grows with N × messages. With per-mailbox channels Redis
 * routes a wake-up only to the instances that hold a socket for that
 * mailbox; a PUBLISH to a channel nobody watches costs Redis one hash lookup.
 * The price is one SUBSCRIBE per watched mailbox (a hash entry in Redis and
 * here), paid once per socket subscription, not per message.
 *
 * Why the payload travels in the wake-up instead of an id to fetch: messages
 * are 1–11 KiB, and fetching would add a Redis round trip per recipient
 * instance per message (and load the store) to save bytes Redis forwards
 * anyway; with the payload inline, a remote push costs one network hop more
 * than a local one. Each bus message is `<origin tag><JSON {id, kind, payload}>`
 * with the payload already in the base64url the push frame carries, so the
 * receiving instance only re-wraps it; the tag lets an instance skip its own
 * messages (it has pushed them to its sockets already).
 */
export class RedisBus implements WakeBus {
  readonly crossInstance = true;
  private readonly origin: string;
  private readonly originBytes: Buffer;
  private readonly pub: Client;
  private readonly sub: Client;
  private handler: WakeHandler = () => {};
  private resync: () => Promise<void> = async () => {};
  /** Mailboxes Delivery wants; the Redis subscription follows this set through `ops`. */
  private readonly wanted = new Set<string>();
  private readonly subscribed = new Set<string>();
  /** Per mailbox, the tail of its SUBSCRIBE/UNSUBSCRIBE chain (so they apply in order). */
  private readonly ops = new Map<string, Promise<void>>();
  private scriptSha: string | undefined;
  /** Wake-ups waiting for Redis (each the arguments of one PUBLISH_MANY), oldest first. */
  private readonly backlog: string[][] = [];
  private backlogBytes = 0;
  private droppedWakeUps = false;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private flushing = false;
  /** The last well-formed bus message and its frame. */
  private last: { body: Buffer; frame: PushFrame } | undefined;
  private started = false;
  private closing = false;
  private readonly listener = (message: Buffer, channel: Buffer): void => this.onMessage(message, channel);

  constructor(private readonly options: RedisBusOptions) {
    const bytes = crypto.getRandomValues(new Uint8Array(ORIGIN_HEX / 2));
    this.origin = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    this.originBytes = Buffer.from(this.origin, 'latin1');
    // While Redis is away commands fail at once rather than queue: a wake-up
    // that cannot go now is not worth sending late (the resync covers it).
    this.pub = createClient({
      url: options.url,
      disableOfflineQueue: true,
      socket: { connectTimeout: 5_000 },
      commandOptions: { timeout: 5_000 },
    });
    this.sub = this.pub.duplicate();
    // node-redis emits 'error' on every failed (re)connect; without a listener that would crash the process.
    let pubDown = false;
    this.pub.on('error', () => {
      if (!pubDown && !this.closing) options.log('wake-up bus: publisher connection lost, reconnecting');
      pubDown = true;
    });
    this.pub.on('ready', () => {
      pubDown = false;
      this.flushSoon(0);
    });
    let subDown = false;
    this.sub.on('error', () => {
      if (!subDown && !this.closing) options.log('wake-up bus: subscriber connection lost, reconnecting');
      subDown = true;
    });
    // node-redis re-subscribes every channel on reconnect; wake-ups sent
    // meanwhile are gone, so push what is pending to local sockets again.
    this.sub.on('ready', () => {
      if (!subDown) return;
      subDown = false;
      if (this.closing) return;
      void this.resyncSoon();
    });
  }

  /** Re-push pending messages, retrying while the store is still reconnecting (or Redis still loading its AOF). */
  private async resyncSoon(): Promise<void> {
    for (let attempt = 0; attempt < RESYNC_ATTEMPTS && !this.closing; attempt++) {
      try {
        await this.resync();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, RESYNC_RETRY_MS));
      }
    }
    if (!this.closing) this.options.log('wake-up bus: resync after reconnect failed; clients get pending messages on their next fetch');
  }

  private channel(mailboxId: string): string {
    return `${this.options.prefix}wake:${mailboxId}`;
  }

  connect(handler: WakeHandler, resync: () => Promise<void>): void {
    this.handler = handler;
    this.resync = resync;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await Promise.all([this.pub.connect(), this.sub.connect()]);
    this.scriptSha = await this.pub.scriptLoad(PUBLISH_MANY);
  }

  publish(mailboxIds: readonly string[], message: WireMessage): void {
    if (mailboxIds.length === 0) return;
    // Local sockets first, without waiting for Redis.
    this.handler(mailboxIds, new PushFrame(message));
    const body = this.origin + JSON.stringify({ id: message.id, kind: message.kind, payload: message.payload });
    const args = [body, ...mailboxIds.map((m) => this.channel(m))];
    if (this.backlog.length > 0) {
      // Keep order behind wake-ups still waiting for Redis.
      this.enqueue(args);
      return;
    }
    this.publishMany(args).catch(() => this.enqueue(args));
  }

  /**
   * A wake-up that could not be published is kept and sent once Redis takes
   * it: another instance whose subscription outlived the outage would
   * otherwise never hear of a message stored meanwhile (its own resync ran
   * when its subscriber reconnected, maybe before this message was stored).
   * Bounded: beyond BACKLOG_MAX_BYTES wake-ups are dropped (the messages are
   * stored; clients get them on their next subscribe).
   */
  private enqueue(args: string[]): void {
    if (this.closing) return;
    const bytes = args.reduce((n, a) => n + a.length, 0);
    if (this.backlogBytes + bytes > BACKLOG_MAX_BYTES) {
      if (!this.droppedWakeUps) this.options.log('wake-up bus: backlog full, dropping wake-ups until Redis is back');
      this.droppedWakeUps = true;
      return;
    }
    this.backlog.push(args);
    this.backlogBytes += bytes;
    this.flushSoon(BACKLOG_RETRY_MS);
  }

  private flushSoon(delayMs: number): void {
    if (this.flushTimer !== undefined || this.flushing || this.backlog.length === 0 || this.closing) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, delayMs);
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      for (let args = this.backlog[0]; args !== undefined && !this.closing; args = this.backlog[0]) {
        await this.publishMany(args);
        this.backlog.shift();
        this.backlogBytes -= args.reduce((n, a) => n + a.length, 0);
      }
      this.droppedWakeUps = false;
    } catch {
      // Redis still away or loading: try again shortly (or when the connection is ready again).
    } finally {
      this.flushing = false;
    }
    this.flushSoon(BACKLOG_RETRY_MS);
  }

  private async publishMany(args: string[]): Promise<void> {
    if (this.closing) return;
    const sha = this.scriptSha;
    if (sha !== undefined) {
      try {
        await this.pub.evalSha(sha, { arguments: args });
        return;
      } catch (err) {
        // Redis restarted without its script cache: send the script itself (it is cached again).
        if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      }
    }
    await this.pub.eval(PUBLISH_MANY, { arguments: args });
  }

  async watch(mailboxId: string): Promise<void> {
    this.wanted.add(mailboxId);
    try {
      await this.sync(mailboxId);
    } catch (cause) {
      // Redis away: the client is told to try again, like any store operation then.
      throw new RelayError(ErrorCode.capacity, 'wake-ups unavailable, try again', { cause });
    }
  }

  unwatch(mailboxId: string): void {
    this.wanted.delete(mailboxId);
    this.sync(mailboxId).catch(() => {
      // The subscription stays until the connection drops; messages for it are ignored meanwhile.
    });
  }

  /** Bring the Redis subscription of one mailbox in line with `wanted`, after any earlier change. */
  private sync(mailboxId: string): Promise<void> {
    const prev = this.ops.get(mailboxId) ?? Promise.resolve();
    const next = prev
      .catch(() => {})
      .then(async () => {
        const want = this.wanted.has(mailboxId);
        if (want && !this.subscribed.has(mailboxId)) {
          await this.sub.subscribe(this.channel(mailboxId), this.listener, true);
          this.subscribed.add(mailboxId);
        } else if (!want && this.subscribed.has(mailboxId)) {
          this.subscribed.delete(mailboxId);
          try {
            await this.sub.unsubscribe(this.channel(mailboxId), this.listener, true);
          } catch (err) {
            // Still subscribed (Redis away): the next watch/unwatch of this mailbox tries again.
            this.subscribed.add(mailboxId);
            throw err;
          }
        }
      });
    this.ops.set(mailboxId, next);
    void next.finally(() => {
      if (this.ops.get(mailboxId) === next) this.ops.delete(mailboxId);
    }).catch(() => {});
    return next;
  }

  /** A wake-up from Redis. It comes from our own relays, but is parsed strictly all the same. */
  private onMessage(message: Buffer, channel: Buffer): void {
    // Our own wake-ups come back for mailboxes we watch too; we pushed those already.
    if (message.length > ORIGIN_HEX && message.subarray(0, ORIGIN_HEX).equals(this.originBytes)) return;
    const name = channel.toString('utf8');
    const prefix = this.channel('');
    if (!name.startsWith(prefix)) return;
    const mailboxId = name.slice(prefix.length);
    if (!this.wanted.has(mailboxId)) return;
    // One message to many mailboxes arrives as consecutive identical bus
    // messages (one per channel): parse it once, share the push frame.
    if (this.last !== undefined && message.equals(this.last.body)) {
      this.handler([mailboxId], this.last.frame);
      return;
    }
    const text = message.toString('utf8');
    if (text.length <= ORIGIN_HEX || text.startsWith(this.origin)) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text.slice(ORIGIN_HEX));
    } catch {
      return;
    }
    const wire = toWireMessage(parsed);
    if (wire === null) {
      this.options.log('wake-up bus: dropped a malformed message');
      return;
    }
    const frame = new PushFrame(wire);
    // A copy: the client may hand out views of a read buffer.
    this.last = { body: Buffer.from(message), frame };
    this.handler([mailboxId], frame);
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    if (!this.started) return;
    await Promise.allSettled([this.sub.close(), this.pub.close()]);
  }
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const B64U = /^[A-Za-z0-9_-]*$/;

function toWireMessage(v: unknown): WireMessage | null {
  if (typeof v !== 'object' || v === null) return null;
  const { id, kind, payload } = v as Record<string, unknown>;
  if (typeof id !== 'string' || !ID.test(id)) return null;
  if (kind !== 'group' && kind !== 'welcome') return null;
  if (typeof payload !== 'string' || !B64U.test(payload)) return null;
  return { id, kind, payload };
}

/** The bus a relay needs for its store: Redis pub/sub when relays share a Redis, else in-process. */
export function openWakeBus(
  config: { store: string; redisUrl: string; redisPrefix: string },
  log: (line: string) => void,
): WakeBus {
  return config.store === 'redis' ? new RedisBus({ url: config.redisUrl, prefix: config.redisPrefix, log }) : new LocalBus();
}
